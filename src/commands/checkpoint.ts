import { Flags } from '@oclif/core';
import { readFileSync, writeFileSync } from 'node:fs';
import { AuditCommand } from '../cli/base-command.js';
import type { Checkpoint } from '../core/chain/anchors/checkpoints.js';
import {
  CheckpointError,
  generateKeyPair,
  loadKey,
  signCheckpoint,
  storeCheckpoint,
} from '../core/chain/anchors/checkpoints.js';
import { verifyDirectory } from '../core/chain/directory.js';
import { verdictLine } from '../output/verify.js';

export default class CheckpointCommand extends AuditCommand {
  static override summary = 'Sign the current chain head into a checkpoint store kept outside the audit directory.';

  static override description = `Verifies the directory, then writes a signed statement of its chain head (directory, head hash, file, line, byte offset, entries, time) to --store. Later, \`loki-audit verify --checkpoints STORE --public-key KEY.pub\` proves every checkpointed head is still in the chain, which catches removed newest entries, deleted newest files and recomputed rewrites that happened after the checkpoint.

Keys: Ed25519 (default; a public key alone verifies) from --key FILE or the PEM in LOKI_AUDIT_CHECKPOINT_KEY, or an HMAC-SHA256 shared secret from --hmac-key-file. Never from argv. --new-key PATH writes a new key pair (PATH and PATH.pub) and exits.

Exit codes: 0 written, 1 the chain is not intact (nothing signed), 2 usage or key error, 3 directory missing or empty.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --new-key /etc/loki-audit/checkpoint.key',
    '<%= config.bin %> <%= command.id %> --key /etc/loki-audit/checkpoint.key --store /mnt/worm/loki-audit-checkpoints',
    '<%= config.bin %> verify --checkpoints /mnt/worm/loki-audit-checkpoints --public-key /etc/loki-audit/checkpoint.key.pub',
  ];

  static override enableJsonFlag = true;

  static override flags = {
    store: Flags.string({ summary: 'Checkpoint store directory (keep it off this host or write-once).' }),
    key: Flags.string({ summary: 'Ed25519 private key (PEM) file.' }),
    'hmac-key-file': Flags.string({ summary: 'Shared secret file for HMAC-SHA256 checkpoints.', exclusive: ['key'] }),
    'new-key': Flags.string({ summary: 'Write a new Ed25519 key pair to PATH (mode 600) and PATH.pub, then exit.' }),
  };

  async run(): Promise<Checkpoint | { privateKey: string; publicKey: string }> {
    const { flags } = await this.parse(CheckpointCommand);
    const dir = this.setup(flags);
    if (flags['new-key']) {
      const { privatePem, publicPem } = generateKeyPair();
      try {
        writeFileSync(flags['new-key'], privatePem, { mode: 0o600, flag: 'wx' });
        writeFileSync(flags['new-key'] + '.pub', publicPem, { flag: 'wx' });
      } catch (err) {
        this.fail(`cannot write the key pair: ${(err as Error).message}`, 2);
      }
      if (!this.jsonEnabled())
        process.stdout.write(
          `wrote ${flags['new-key']} (private, keep it secret) and ${flags['new-key']}.pub (for verify --public-key)\n`,
        );
      return { privateKey: flags['new-key'], publicKey: flags['new-key'] + '.pub' };
    }
    if (!flags.store) this.fail('--store DIR is required', 2);
    let key;
    try {
      if (flags['hmac-key-file']) key = loadKey(readFileSync(flags['hmac-key-file']), true, true);
      else if (flags.key) key = loadKey(readFileSync(flags.key), false, true);
      else if (process.env.LOKI_AUDIT_CHECKPOINT_KEY)
        key = loadKey(Buffer.from(process.env.LOKI_AUDIT_CHECKPOINT_KEY), false, true);
      else this.fail('a signing key is needed: --key FILE, --hmac-key-file FILE, or LOKI_AUDIT_CHECKPOINT_KEY', 2);
    } catch (err) {
      if (err instanceof CheckpointError || (err as NodeJS.ErrnoException).code) this.fail((err as Error).message, 2);
      throw err;
    }
    const report = await verifyDirectory(dir, { maxLineBytes: flags['max-line-bytes'] });
    if (report.verdict !== 'intact' || !report.chainHead) {
      process.stderr.write(verdictLine(report, this.chalk) + '\n');
      this.fail('the chain is not intact: nothing was signed (run loki-audit verify)', 1);
    }
    const head = report.chainHead;
    const file = report.files.find((f) => f.file === head.file);
    const statement = {
      format: 'loki-audit-checkpoint/1' as const,
      dir,
      head: head.hash,
      file: head.file,
      line: head.line,
      offset: file ? file.bytes : head.offset,
      entries: report.entriesVerified,
      time: new Date().toISOString(),
    };
    const checkpoint = signCheckpoint(statement, key);
    const path = storeCheckpoint(flags.store, checkpoint);
    if (!this.jsonEnabled())
      process.stdout.write(
        `checkpoint ${path}: head ${head.hash} at ${head.file}:${head.line}, ${report.entriesVerified} entries, signed ${checkpoint.signature.alg} key ${checkpoint.signature.keyId}\n`,
      );
    return checkpoint;
  }
}
