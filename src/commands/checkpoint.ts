import { Flags } from '@oclif/core';
import { pathFlag } from '../cli/paths.js';
import { AuditCommand, dirArg } from '../cli/base-command.js';
import { signingKeyFromFlags } from '../cli/checkpoint-keys.js';
import { lokiStoreUrl, pushLokiCheckpoint, storeFlag } from '../cli/checkpoint-store.js';
import { Exit, judgeVerify, exitCodesHelp } from '../cli/exit-codes.js';
import type { Checkpoint } from '../core/chain/anchors/checkpoints.js';
import { headStatement, signCheckpoint, storeCheckpoint, writeKeyPair } from '../core/chain/anchors/checkpoints.js';
import { verifyDirectory } from '../core/chain/directory.js';
import { DiskFullError } from '../core/runtime/safe-files.js';
import { verdictLine } from '../output/verify.js';
import { metricsFileFlag, MetricsRun, writeMetricsAfterError } from '../cli/metrics-flags.js';
import { checkpointMetrics } from '../output/metrics.js';

export default class CheckpointCommand extends AuditCommand {
  static override summary = 'Sign the current chain head into a checkpoint store kept outside the audit directory.';

  static override description = `Verifies the directory, then writes a signed statement of its chain head (directory, head hash, file, line, byte offset, entries, time) to --store. Later, \`loki-audit verify --checkpoints STORE --public-key KEY.pub\` proves every checkpointed head is still in the chain, which catches removed newest entries, deleted newest files and recomputed rewrites that happened after the checkpoint.

Keys: Ed25519 (default; a public key alone verifies) from --key FILE or the PEM in LOKI_AUDIT_CHECKPOINT_KEY, or an HMAC-SHA256 shared secret from --hmac-key-file. Never from argv. --new-key PATH writes a new key pair (PATH and PATH.pub) and exits.

${exitCodesHelp('checkpoint')}`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --new-key /etc/loki-audit/checkpoint.key',
    '<%= config.bin %> <%= command.id %> --key /etc/loki-audit/checkpoint.key --store /mnt/worm/loki-audit-checkpoints',
    '<%= config.bin %> verify --checkpoints /mnt/worm/loki-audit-checkpoints --public-key /etc/loki-audit/checkpoint.key.pub',
    '<%= config.bin %> <%= command.id %> --key /etc/loki-audit/checkpoint.key --store loki://loki.example:3100',
  ];

  static override enableJsonFlag = true;

  static override args = dirArg;

  static override flags = {
    store: storeFlag({
      summary:
        'Checkpoint store: a directory (keep it off this host or write-once), or Loki as loki://HOST:PORT (loki+https:// for TLS).',
    }),
    tenant: Flags.string({
      summary:
        'With --store loki://…: tenant (X-Scope-OrgID). Credentials from LOKI_AUDIT_LOKI_TOKEN, or LOKI_AUDIT_LOKI_USERNAME/PASSWORD.',
    }),
    key: pathFlag({ summary: 'Ed25519 private key (PEM) file.' }),
    'hmac-key-file': pathFlag({ summary: 'Shared secret file for HMAC-SHA256 checkpoints.', exclusive: ['key'] }),
    'new-key': pathFlag({
      summary: 'Write a new Ed25519 key pair to PATH (mode 600) and PATH.pub, then exit; nothing if either exists.',
    }),
    ...metricsFileFlag,
  };

  /** With --metrics-file: this run's file (written at the end, on success or error). */
  private metrics: MetricsRun | null = null;

  async run(): Promise<Checkpoint | { privateKey: string; publicKey: string }> {
    const { flags, args } = await this.parse(CheckpointCommand);
    const dir = this.setup(flags, args);
    if (flags['new-key']) {
      const pair = await writeKeyPair(flags['new-key']).catch((err: Error) =>
        this.fail(
          `cannot write the key pair: ${err.message}`,
          err instanceof DiskFullError ? Exit.diskFull : Exit.usage,
        ),
      );
      if (!this.jsonEnabled())
        process.stdout.write(
          `wrote ${pair.privateKey} (private, keep it secret) and ${pair.publicKey} (for verify --public-key)\n`,
        );
      return pair;
    }
    if (flags['metrics-file']) this.metrics = new MetricsRun(flags['metrics-file'], 'checkpoint', dir);
    if (!flags.store) this.fail('--store DIR is required', Exit.usage);
    const key = signingKeyFromFlags(flags);
    const report = await verifyDirectory(dir, { maxLineBytes: flags['max-line-bytes'] });
    const statement = report.verdict === 'intact' ? headStatement(report, new Date()) : null;
    if (!statement) {
      process.stderr.write(verdictLine(judgeVerify(report), this.chalk) + '\n');
      this.fail('the chain is not intact: nothing was signed', Exit.notIntact, [`run: loki-audit verify --dir ${dir}`]);
    }
    const checkpoint = signCheckpoint(statement, key);
    const path = lokiStoreUrl(flags.store)
      ? await pushLokiCheckpoint(flags.store, checkpoint, flags.tenant)
      : storeCheckpoint(flags.store, checkpoint);
    this.metrics?.write(
      checkpointMetrics(
        { store: flags.store, time: statement.time, entries: statement.entries },
        this.metrics.info(Exit.ok),
      ),
    );
    if (!this.jsonEnabled())
      process.stdout.write(
        `checkpoint ${path}: head ${statement.head} at ${statement.file}:${statement.line}, ${statement.entries} entries, signed ${checkpoint.signature.alg} key ${checkpoint.signature.keyId}\n`,
      );
    return checkpoint;
  }

  /** A run that ended in an error (nothing signed) still writes its metrics file, with its exit code. */
  protected override async finally(err: Error | undefined): Promise<unknown> {
    writeMetricsAfterError(this.metrics, err, (info) => checkpointMetrics(null, info));
    return super.finally(err);
  }
}
