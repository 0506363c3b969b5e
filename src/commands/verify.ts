import { Errors, Flags, type Interfaces } from '@oclif/core';
import { pathFlag } from '../cli/paths.js';
import { AuditCommand, dirArg, shellQuote } from '../cli/base-command.js';
import { AuditDirError } from '../core/read/files.js';
import { Exit, judgeVerify, type Judged, exitCodesHelp } from '../cli/exit-codes.js';
import { debugListener } from '../cli/debug.js';
import { verifyOptionsFromFlags } from '../cli/verify-options.js';
import { verifyLokiHosts, type LokiHostsFlags } from '../cli/loki-hosts.js';
import { storeFlag } from '../cli/checkpoint-store.js';
import type { LokiHostsReport } from '../core/chain/anchors/host-chain.js';
import { formatLokiHosts } from '../output/loki-hosts.js';
import { makeChalk, type ColorMode } from '../output/text.js';
import { VerifyStateError } from '../core/chain/incremental.js';
import { verifyDirectory, verifyStream, type DirectoryReport, type VerifyProgress } from '../core/chain/directory.js';
import { formatVerifyReport } from '../output/verify.js';
import { noChainMessage, streamFlag } from '../cli/stream-flag.js';
import { reportOutputFlag } from '../cli/output-flags.js';
import { CHAIN_STREAMS, resolveAuditSource, StreamChoiceError, type AuditSource } from '../core/read/streams.js';
import { ProgressLine, progressWanted } from '../output/progress.js';
import { metricsFileFlag, MetricsRun, writeMetricsAfterError } from '../cli/metrics-flags.js';
import { fleetVerifyMetrics, verifyMetrics } from '../output/metrics.js';
import { fleetTargets, refuseOneDirectoryFlags, runFleetVerify, type FleetReport } from '../cli/verify-fleet.js';
import { DurationError, parseDuration } from '../core/query/time.js';

export default class Verify extends AuditCommand {
  static override summary = 'Verify the hash chain of every audit file and say what any break means.';

  static override description = `Recomputes every entry's chain hash exactly as Loki Mode's writer does (CPython json.dumps with sort_keys), across days and size-rotated pieces in name order, and classifies each break: tampered, unreadable line, unreadable file, history starting mid-chain, writer fork, incomplete last line, writer quirk.

With --checkpoints (signed heads from \`loki-audit checkpoint\`) or --expect-head, heads recorded outside the log must still be in the chain: this catches removed newest entries, deleted newest files and rewrites that recompute every later hash, which no chain alone can see.

${exitCodesHelp('verify')}`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --dir ~/.loki/dashboard/audit',
    '<%= config.bin %> <%= command.id %> --quiet        # cron: silent when intact',
    '<%= config.bin %> <%= command.id %> --strict -o json',
    '<%= config.bin %> <%= command.id %> --stdin < exported.jsonl',
    "<%= config.bin %> <%= command.id %> '/srv/fleet/*/audit' --quiet   # a fleet: one line per directory",
    '<%= config.bin %> <%= command.id %> --dirs-from /etc/loki-audit/fleet.list --metrics-file /var/lib/node_exporter/textfile/loki-audit.prom',
  ];

  static override enableJsonFlag = true;

  static override args = dirArg;

  static override flags = {
    dir: Flags.string({
      char: 'd',
      multiple: true,
      summary:
        'Audit directory (default: $LOKI_AUDIT_DIR, else ~/.loki/dashboard/audit); repeat it, or give a glob (quoted), to verify several.',
      helpGroup: 'GLOBAL',
    }),
    'dirs-from': Flags.string({
      summary:
        'Verify every directory listed in FILE (- for standard input): one path or glob per line; blank lines and # comments skipped.',
      helpGroup: 'FLEET',
    }),
    ...streamFlag,
    ...reportOutputFlag,
    quiet: Flags.boolean({ char: 'q', summary: 'Print nothing when the chain is intact; only problems otherwise.' }),
    strict: Flags.boolean({
      summary:
        'Fail (exit 1) on anything not intact: warnings, missing days, pre-integrity entries, foreign or rewritten files.',
    }),
    'retention-files': Flags.integer({
      min: 1,
      summary:
        "Loki Mode's LOKI_AUDIT_MAX_FILES (default: that variable): oldest files gone while at most N+1 remain is retention, a note, not an alarm.",
    }),
    state: pathFlag({
      summary:
        'Incremental (cron): remember what was verified in FILE; next time check the remembered tails and verify only new entries.',
    }),
    checkpoints: storeFlag({
      summary:
        'Checkpoint store (from `loki-audit checkpoint`), a directory or loki://HOST:PORT: every checkpointed head must still be in the chain.',
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
        'Loki base URL holding the entries forwarded by `loki-audit forward`: entries there but not here were removed or changed here.',
      helpGroup: 'ANCHORS',
    }),
    tenant: Flags.string({
      summary:
        'With --against-loki: tenant (X-Scope-OrgID). Credentials from LOKI_AUDIT_LOKI_TOKEN, or LOKI_AUDIT_LOKI_USERNAME/PASSWORD.',
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
        "With --against-loki: check host H's chain as stored in Loki (its host label), no local files needed; --since defaults to 90d.",
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
        "With --against-loki: how forward stamped the entries (its --timestamp): entry (default) or ingest (Loki's time is the delivery time).",
      helpGroup: 'ANCHORS',
    })(),
    'loki-entry-limit': Flags.integer({
      min: 1,
      summary: "With --against-loki: entries per query (Loki's max_entries_limit_per_query, default 5000).",
      helpGroup: 'ANCHORS',
    }),
    'loki-max-query-length': Flags.string({
      summary:
        "With --against-loki: longest time range per query, e.g. 720h (Loki's max_query_length, default 721h; default 720h).",
      helpGroup: 'ANCHORS',
    }),
    jobs: Flags.integer({
      min: 1,
      max: 64,
      summary:
        'Threads that verify files in parallel (default: the cores, at most 4; 1 = this thread only); several directories: threads in all (default: the cores).',
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
        'Freshness: a chain head older than DURATION (30m, 26h, 1h30m, 2d) is its own verdict, exit 21: the writer went silent, or the newest entries were removed.',
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

  /** With --metrics-file: this run's file (written at the end, on success or error). */
  private metrics: MetricsRun | null = null;

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

  /** Several directories: their paths (for the error path's metrics). */
  private fleet: string[] | null = null;

  async run(): Promise<Judged<DirectoryReport> | FleetReport | LokiHostsReport> {
    const { flags, args } = await this.parse(Verify);
    if (flags.host !== undefined || flags['all-hosts']) return this.lokiHosts(flags);
    const given = this.setup({ ...flags, dir: flags.dir?.[0] }, args);
    const targets = fleetTargets({ dirs: flags.dir ?? [], arg: args.dir, dirsFrom: flags['dirs-from'] });
    if (targets) this.fleet = targets.map((t) => t.dir);
    if (flags['metrics-file']) this.metrics = new MetricsRun(flags['metrics-file'], 'verify', given);
    if (targets) return this.runFleet(targets, flags);
    const maxAgeMs = durationFlag('--max-age', flags['max-age']);
    const maxCheckpointAgeMs = durationFlag('--max-checkpoint-age', flags['max-checkpoint-age']);
    // The chains of what --dir holds (or of --stream); a stream without one has nothing to verify.
    const source: Pick<AuditSource, 'dir' | 'streams' | 'home'> = flags.stdin
      ? { dir: given, streams: ['dashboard'], home: given }
      : await resolveAuditSource(given, { stream: flags.stream }).catch((err: unknown) => {
          if (err instanceof StreamChoiceError) return { dir: given, streams: err.available, home: given };
          throw err;
        });
    const chains = source.streams.filter((s): s is 'dashboard' | 'js' => CHAIN_STREAMS.has(s));
    if (chains.length === 0)
      this.fail(noChainMessage(source), Exit.streamUnsupported, [
        `search, summary, tail and export read it: loki-audit summary --stream ${source.streams[0]} --dir ${given}`,
      ]);
    const dir = source.home;
    const { witness, ...outside } = await verifyOptionsFromFlags(flags, dir);
    // Progress on a terminal only: files done, MB/s, ETA (never when piped, --quiet or --json).
    const progress = progressWanted({ quiet: flags.quiet, json: this.jsonEnabled(), resultsAtEnd: true })
      ? new ProgressLine('verifying')
      : null;
    const options = {
      ...outside,
      onProgress: progress ? (p: VerifyProgress) => progress.update(p, true) : undefined,
      strict: flags.strict,
      maxLineBytes: flags['max-line-bytes'],
      statePath: flags.state,
      jobs: flags.jobs,
      chains: flags.stream ? chains : undefined,
      onFastPathGaveUp: debugListener('verify fast path gave up'),
      readHeadTime: this.metrics !== null,
      freshness:
        maxAgeMs !== undefined || maxCheckpointAgeMs !== undefined
          ? { maxAgeMs, maxCheckpointAgeMs, now: Date.now() }
          : undefined,
    };
    const report = flags.stdin
      ? await verifyStream(process.stdin, '<stdin>', options)
      : await verifyDirectory(dir, options).catch((err: unknown) => {
          if (err instanceof VerifyStateError) this.fail(err.message, Exit.verifyState);
          throw err;
        });
    progress?.clear();
    if (witness) report.witness = witness;
    const judged = judgeVerify(report);
    process.exitCode = judged.exitCode;
    this.metrics?.write(verifyMetrics(judged, this.metrics.info(judged.exitCode)));
    if (!this.jsonEnabled()) this.out(formatVerifyReport(judged, this.chalk, { quiet: flags.quiet }));
    return judged;
  }

  /** Several directories (src/cli/verify-fleet.ts): one verdict line each and a summary line. */
  private async runFleet(
    targets: NonNullable<ReturnType<typeof fleetTargets>>,
    flags: Interfaces.InferredFlags<typeof Verify.flags & Omit<typeof AuditCommand.baseFlags, 'dir'>>,
  ): Promise<FleetReport> {
    refuseOneDirectoryFlags(flags, targets.length);
    const maxAgeMs = durationFlag('--max-age', flags['max-age']);
    const { retentionFiles } = await verifyOptionsFromFlags(flags, targets[0].dir);
    return runFleetVerify(targets, {
      verify: {
        strict: flags.strict,
        maxLineBytes: flags['max-line-bytes'],
        retentionFiles,
        readHeadTime: this.metrics !== null,
        freshness: maxAgeMs !== undefined ? { maxAgeMs, now: Date.now() } : undefined,
      },
      stream: flags.stream,
      threads: flags.jobs,
      quiet: flags.quiet,
      json: this.jsonEnabled(),
      chalk: this.chalk,
      metrics: this.metrics,
      out: (text) => this.out(text),
    });
  }

  /** `--host H` / `--all-hosts`: the chains stored in Loki, one verdict per host (cli/loki-hosts.ts). */
  private async lokiHosts(
    flags: LokiHostsFlags & { color: ColorMode; quiet?: boolean; 'max-age'?: string },
  ): Promise<LokiHostsReport> {
    this.chalk = makeChalk(flags.color);
    const report = await verifyLokiHosts(flags, durationFlag('--max-age', flags['max-age']));
    process.exitCode = report.exitCode;
    if (!this.jsonEnabled()) {
      const text = formatLokiHosts(report, this.chalk, { quiet: flags.quiet });
      if (text) this.out(text);
    }
    return report;
  }

  /** A run that ended in an error still writes its metrics file: verdict `error`, its exit code. */
  protected override async finally(err: Error | undefined): Promise<unknown> {
    const fleet = this.fleet;
    writeMetricsAfterError(this.metrics, err, (info) =>
      fleet
        ? fleetVerifyMetrics(fleet.map((dir) => ({ report: null, run: this.metrics!.info(info.exitCode, dir) })))
        : verifyMetrics(null, info),
    );
    return super.finally(err);
  }
}

/**
 * A duration flag in milliseconds (the time grammar's durations), or undefined when not given.
 * @throws CLIError (usage, exit 2) for a value that is no duration.
 */
function durationFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseDuration(value);
  } catch (err) {
    if (err instanceof DurationError) throw new Errors.CLIError(`${name}: ${err.message}`, { exit: Exit.usage });
    throw err;
  }
}
