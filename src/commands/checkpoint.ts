import { Flags } from '@oclif/core';
import { pathFlag } from '../cli/paths.js';
import { AuditCommand, dirArg } from '../cli/base-command.js';
import { CheckpointRun, type CheckpointResult } from '../cli/checkpoint-run.js';
import { storeFlag } from '../cli/checkpoint-store.js';
import { exitCodesHelp } from '../cli/exit-codes.js';
import { metricsFileFlag } from '../cli/metrics-flags.js';

export default class CheckpointCommand extends AuditCommand {
  static override summary = 'Sign the current chain head into a checkpoint store kept outside the audit directory.';

  static override description =
    `Verifies the directory, then writes a signed statement of its chain head ` +
    `(directory, head hash, file, line, byte offset, entries, time) to --store. Later, \`loki-audit verify ` +
    `--checkpoints STORE --public-key KEY.pub\` proves every checkpointed head is still in the chain, which ` +
    `catches removed newest entries, deleted newest files and recomputed rewrites that happened after the ` +
    `checkpoint.

Keys: Ed25519 (default; a public key alone verifies) from --key FILE or the PEM in ` +
    `LOKI_AUDIT_CHECKPOINT_KEY, or an HMAC-SHA256 shared secret from --hmac-key-file. Never from argv. ` +
    `--new-key PATH writes a new key pair (PATH and PATH.pub) and exits.

${exitCodesHelp('checkpoint')}`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --new-key /etc/loki-audit/checkpoint.key',
    '<%= config.bin %> <%= command.id %> --key /etc/loki-audit/checkpoint.key --store /mnt/worm/loki-audit-checkpoints',
    '<%= config.bin %> verify --checkpoints /mnt/worm/loki-audit-checkpoints ' +
      '--public-key /etc/loki-audit/checkpoint.key.pub',
    '<%= config.bin %> <%= command.id %> --key /etc/loki-audit/checkpoint.key --store loki://loki.example:3100',
  ];

  static override enableJsonFlag = true;

  static override args = dirArg;

  static override flags = {
    store: storeFlag({
      summary:
        'Checkpoint store: a directory (keep it off this host or ' +
        'write-once), or Loki as loki://HOST:PORT (loki+https:// for TLS).',
    }),
    tenant: Flags.string({
      summary:
        'With --store loki://…: tenant (X-Scope-OrgID). Credentials from ' +
        'LOKI_AUDIT_LOKI_TOKEN, or LOKI_AUDIT_LOKI_USERNAME/PASSWORD.',
    }),
    key: pathFlag({ summary: 'Ed25519 private key (PEM) file.' }),
    'hmac-key-file': pathFlag({ summary: 'Shared secret file for HMAC-SHA256 checkpoints.', exclusive: ['key'] }),
    'new-key': pathFlag({
      summary: 'Write a new Ed25519 key pair to PATH (mode 600) and PATH.pub, then exit; nothing if either exists.',
    }),
    ...metricsFileFlag,
  };

  /** The run, kept for its metrics file when the run ends in an error. */
  private session: CheckpointRun | null = null;

  async run(): Promise<CheckpointResult> {
    const { flags, args } = await this.parse(CheckpointCommand);
    const dir = this.setup(flags, args);
    this.session = new CheckpointRun(flags, { json: this.jsonEnabled(), chalk: this.chalk });
    return this.session.run(dir);
  }

  /** A run that ended in an error (nothing signed) still writes its metrics file, with its exit code. */
  protected override async finally(err: Error | undefined): Promise<unknown> {
    this.session?.afterError(err);
    return super.finally(err);
  }
}
