import { Flags } from '@oclif/core';
import { pathFlag } from '../cli/paths.js';
import { AuditCommand, dirArg, shellQuote } from '../cli/base-command.js';
import { AuditDirError } from '../core/read/files.js';
import { exitCodesHelp } from '../cli/exit-codes.js';
import { storeFlag } from '../cli/checkpoint-store.js';
import { streamFlag } from '../cli/stream-flag.js';
import { reportOutputFlag } from '../cli/output-flags.js';
import { metricsFileFlag } from '../cli/metrics-flags.js';
import { VerifyRun, type VerifyResult } from '../cli/verify-run.js';

export default class Verify extends AuditCommand {
  static override summary = 'Verify the hash chain of every audit file and say what any break means.';

  static override description =
    `Recomputes every entry's chain hash exactly as Loki Mode's writer does ` +
    `(CPython json.dumps with sort_keys), across days and size-rotated pieces in name order, and classifies ` +
    `each break: tampered, unreadable line, unreadable file, history starting mid-chain, writer fork, ` +
    `incomplete last line, writer quirk.

With --checkpoints (signed heads from \`loki-audit checkpoint\`) or --expect-head, heads recorded outside ` +
    `the log must still be in the chain: this catches removed newest entries, deleted newest files and ` +
    `rewrites that recompute every later hash, which no chain alone can see.

${exitCodesHelp('verify')}`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --dir ~/.loki/dashboard/audit',
    '<%= config.bin %> <%= command.id %> --quiet        # cron: silent when intact',
    '<%= config.bin %> <%= command.id %> --strict -o json',
    '<%= config.bin %> <%= command.id %> --stdin < exported.jsonl',
    "<%= config.bin %> <%= command.id %> '/srv/fleet/*/audit' --quiet   # a fleet: one line per directory",
    '<%= config.bin %> <%= command.id %> --dirs-from /etc/loki-audit/fleet.list ' +
      '--metrics-file /var/lib/node_exporter/textfile/loki-audit.prom',
  ];

  static override enableJsonFlag = true;

  static override args = dirArg;

  static override flags = {
    dir: Flags.string({
      char: 'd',
      multiple: true,
      summary:
        'Audit directory (default: $LOKI_AUDIT_DIR, else ~/.loki/dashboard/audit); ' +
        'repeat it, or give a glob (quoted), to verify several.',
      helpGroup: 'GLOBAL',
    }),
    'dirs-from': Flags.string({
      summary:
        'Verify every directory listed in FILE (- for standard input): ' +
        'one path or glob per line; blank lines and # comments skipped.',
      helpGroup: 'FLEET',
    }),
    ...streamFlag,
    ...reportOutputFlag,
    quiet: Flags.boolean({ char: 'q', summary: 'Print nothing when the chain is intact; only problems otherwise.' }),
    strict: Flags.boolean({
      summary:
        'Fail (exit 1) on anything not intact: warnings, missing ' +
        'days, pre-integrity entries, foreign or rewritten files.',
    }),
    'retention-files': Flags.integer({
      min: 1,
      summary:
        "Loki Mode's LOKI_AUDIT_MAX_FILES (default: that variable): oldest " +
        'files gone while at most N+1 remain is retention, a note, not an alarm.',
    }),
    state: pathFlag({
      summary:
        'Incremental (cron): remember what was verified in FILE; next ' +
        'time check the remembered tails and verify only new entries.',
    }),
    checkpoints: storeFlag({
      summary:
        'Checkpoint store (from `loki-audit checkpoint`), a directory or ' +
        'loki://HOST:PORT: every checkpointed head must still be in the chain.',
      helpGroup: 'ANCHORS',
    }),
    'public-key': pathFlag({
      summary: 'Ed25519 public key (PEM) that signed the checkpoints.',
      helpGroup: 'ANCHORS',
    }),
    'hmac-key-file': pathFlag({
      summary: 'Shared secret file, for checkpoints signed with HMAC-SHA256.',
      helpGroup: 'ANCHORS',
    }),
    'expect-head': Flags.string({
      multiple: true,
      summary: 'A head hash recorded elsewhere (a ticket, a Loki query, another host) that must be in the chain.',
      helpGroup: 'ANCHORS',
    }),
    'against-loki': Flags.string({
      summary:
        'Loki base URL holding the entries forwarded by `loki-audit ' +
        'forward`: entries there but not here were removed or changed here.',
      helpGroup: 'ANCHORS',
    }),
    tenant: Flags.string({
      summary:
        'With --against-loki: tenant (X-Scope-OrgID). Credentials from ' +
        'LOKI_AUDIT_LOKI_TOKEN, or LOKI_AUDIT_LOKI_USERNAME/PASSWORD.',
      helpGroup: 'ANCHORS',
    }),
    'loki-selector': Flags.string({
      summary: 'With --against-loki: stream selector (default {service_name="loki-audit"}).',
      helpGroup: 'ANCHORS',
    }),
    since: Flags.string({
      summary:
        'With --against-loki: compare only entries from this time (inclusive): ISO 8601, date, 1h30m, 7d, @EPOCH …',
      helpGroup: 'ANCHORS',
    }),
    until: Flags.string({
      summary: 'With --against-loki: compare only entries before this time (exclusive).',
      helpGroup: 'ANCHORS',
    }),
    host: Flags.string({
      summary:
        "With --against-loki: check host H's chain as stored in Loki " +
        '(its host label), no local files needed; --since defaults to 90d.',
      exclusive: ['all-hosts', 'stdin', 'state', 'checkpoints', 'expect-head'],
      helpGroup: 'FLEET',
    }),
    'all-hosts': Flags.boolean({
      summary:
        'With --against-loki: check every host that forwarded to Loki, one verdict each, the most severe exit code.',
      exclusive: ['stdin', 'state', 'checkpoints', 'expect-head'],
      helpGroup: 'FLEET',
    }),
    'loki-timestamp': Flags.option({
      options: ['entry', 'ingest'] as const,
      summary:
        'With --against-loki: how forward stamped the entries (its --timestamp): ' +
        "entry (default) or ingest (Loki's time is the delivery time).",
      helpGroup: 'ANCHORS',
    })(),
    'loki-entry-limit': Flags.integer({
      min: 1,
      summary: "With --against-loki: entries per query (Loki's max_entries_limit_per_query, default 5000).",
      helpGroup: 'ANCHORS',
    }),
    'loki-max-query-length': Flags.string({
      summary:
        'With --against-loki: longest time range per query, e.g. ' +
        "720h (Loki's max_query_length, default 721h; default 720h).",
      helpGroup: 'ANCHORS',
    }),
    jobs: Flags.integer({
      min: 1,
      max: 64,
      summary:
        'Threads that verify files in parallel (default: the cores, at most 4; 1 = ' +
        'this thread only); several directories: threads in all (default: the cores).',
    }),
    stdin: Flags.boolean({
      summary: 'Verify one chain read from standard input (e.g. search -o raw, zcat FILE) instead of a directory.',
    }),
    'start-hash': Flags.string({
      summary: 'With --stdin: the hash the first entry chains from (default: the genesis hash).',
      dependsOn: ['stdin'],
    }),
    'max-age': Flags.string({
      summary:
        'Freshness: a chain head older than DURATION (30m, 26h, 1h30m, 2d) is its own ' +
        'verdict, exit 21: the writer went silent, or the newest entries were removed.',
      exclusive: ['stdin'],
      helpGroup: 'FRESHNESS',
    }),
    'max-checkpoint-age': Flags.string({
      summary:
        'Freshness: a newest signed checkpoint older than DURATION, or none in the store, is its own verdict, exit 22.',
      dependsOn: ['checkpoints'],
      helpGroup: 'FRESHNESS',
    }),
    ...metricsFileFlag,
  };

  /** The run, kept for its metrics file when the run ends in an error. */
  private session: VerifyRun | null = null;

  /** A file given as the directory: that one file's chain is what --stdin verifies. */
  protected override inputErrorHints(err: Error): string[] | undefined {
    const hints = super.inputErrorHints(err);
    if (!hints || !(err instanceof AuditDirError)) return hints;
    const file = shellQuote(err.dir);
    const stdin = err.dir.endsWith('.gz')
      ? `zcat ${file} | ${this.config.bin} verify --stdin`
      : `${this.config.bin} verify --stdin < ${file}`;
    return [`to verify this one file: ${stdin}`, ...hints];
  }

  async run(): Promise<VerifyResult> {
    const { flags, args } = await this.parse(Verify);
    this.session = new VerifyRun(flags, { json: this.jsonEnabled(), out: (text) => this.out(text) });
    // The chains stored in Loki read no local directory.
    if (flags.host !== undefined || flags['all-hosts']) return this.session.lokiHosts();
    return this.session.run(this.setup({ ...flags, dir: flags.dir?.[0] }, args), args.dir);
  }

  /** A run that ended in an error still writes its metrics file: verdict `error`, its exit code. */
  protected override async finally(err: Error | undefined): Promise<unknown> {
    this.session?.afterError(err);
    return super.finally(err);
  }
}
