/**
 * One `verify` run from its parsed flags: which of three runs (the chains of hosts stored in Loki,
 * `--host`/`--all-hosts`: src/cli/loki-hosts.ts; several directories: src/cli/verify-fleet.ts;
 * one directory or `--stdin`), and for one directory the chains it holds (src/core/read/streams.ts),
 * the anchors and witness (src/cli/verify-options.ts), freshness, progress, the verification
 * itself (src/core/chain/directory.ts), the metrics file (--metrics-file, also after an error)
 * and the exit code (src/cli/exit-codes.ts `judgeVerify`). What reaches stdout is one report
 * (src/output/verify.ts, src/output/fleet.ts, src/output/loki-hosts.ts), or nothing with --json:
 * the command prints the value returned.
 */
import { Errors } from '@oclif/core';
import type { ChalkInstance } from 'chalk';
import type { LokiHostsReport } from '../core/chain/anchors/host-chain.js';
import { verifyDirectory, verifyStream, type DirectoryReport, type VerifyProgress } from '../core/chain/directory.js';
import { VerifyStateError } from '../core/chain/incremental.js';
import { DurationError, parseDuration } from '../core/query/time.js';
import { CHAIN_STREAMS, resolveAuditSource, StreamChoiceError, type AuditSource } from '../core/read/streams.js';
import type { StreamKind } from '../core/read/streams.js';
import { formatLokiHosts } from '../output/loki-hosts.js';
import { fleetVerifyMetrics, verifyMetrics } from '../output/metrics.js';
import { ProgressLine, progressWanted } from '../output/progress.js';
import { makeChalk, type ColorMode } from '../output/text.js';
import { formatVerifyReport } from '../output/verify.js';
import { debugListener } from './debug.js';
import { Exit, judgeVerify, type Judged } from './exit-codes.js';
import { verifyLokiHosts, type LokiHostsFlags } from './loki-hosts.js';
import { MetricsRun, writeMetricsAfterError } from './metrics-flags.js';
import { noChainMessage } from './stream-flag.js';
import { fail } from './usage-errors.js';
import { fleetTargets, refuseOneDirectoryFlags, runFleetVerify, type FleetReport } from './verify-fleet.js';
import { verifyOptionsFromFlags, type VerifyFlags } from './verify-options.js';

/** The verify flags read here and by the modules the run calls. */
export interface VerifyRunFlags extends VerifyFlags, LokiHostsFlags {
  /** `--dir`, repeatable (several: a fleet run). */
  dir?: string[];
  'dirs-from'?: string;
  stream?: StreamKind;
  color: ColorMode;
  quiet: boolean;
  strict: boolean;
  state?: string;
  jobs?: number;
  stdin: boolean;
  'max-age'?: string;
  'max-checkpoint-age'?: string;
  'metrics-file'?: string;
}

/** What `verify --json` prints: one directory's judged report, a fleet's, or the hosts in Loki's. */
export type VerifyResult = Judged<DirectoryReport> | FleetReport | LokiHostsReport;

/** The run's surroundings: `--json`, and where stdout text goes. */
export interface VerifyRunContext {
  json: boolean;
  out: (text: string) => void;
}

/**
 * A verify run. {@link lokiHosts} and {@link run} verify, print (unless `--json`) and set
 * `process.exitCode`; {@link afterError} writes the metrics file of a run that ended in an error.
 */
export class VerifyRun {
  /** With --metrics-file: this run's file (written at the end, on success or error). */
  private metrics: MetricsRun | null = null;
  /** Several directories: their paths (for the error path's metrics). */
  private fleet: string[] | null = null;
  private readonly chalk: ChalkInstance;

  constructor(
    private readonly flags: VerifyRunFlags,
    private readonly context: VerifyRunContext,
  ) {
    this.chalk = makeChalk(flags.color);
  }

  /**
   * Verifies the directory `given` (resolved from `--dir`'s first value or the argument `arg`),
   * every directory of a fleet (`--dir` repeated, a glob, `--dirs-from`), or `--stdin`.
   * @throws CLIError: usage (2) for a bad duration or a flag a fleet cannot take; 14 for a stream
   *   without a chain; verifyState for a state file that cannot be used; and what
   *   {@link verifyOptionsFromFlags} throws.
   */
  async run(given: string, arg: string | undefined): Promise<VerifyResult> {
    const { flags } = this;
    const targets = fleetTargets({ dirs: flags.dir ?? [], arg, dirsFrom: flags['dirs-from'] });
    if (targets) this.fleet = targets.map((t) => t.dir);
    if (flags['metrics-file']) this.metrics = new MetricsRun(flags['metrics-file'], 'verify', given);
    if (targets) return this.runFleet(targets);
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
      fail(noChainMessage(source), Exit.streamUnsupported, [
        `search, summary, tail and export read it: loki-audit summary --stream ${source.streams[0]} --dir ${given}`,
      ]);
    const dir = source.home;
    const { witness, ...outside } = await verifyOptionsFromFlags(flags, dir);
    // Progress on a terminal only: files done, MB/s, ETA (never when piped, --quiet or --json).
    const progress = progressWanted({ quiet: flags.quiet, json: this.context.json, resultsAtEnd: true })
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
          if (err instanceof VerifyStateError) fail(err.message, Exit.verifyState);
          throw err;
        });
    progress?.clear();
    if (witness) report.witness = witness;
    const judged = judgeVerify(report);
    process.exitCode = judged.exitCode;
    this.metrics?.write(verifyMetrics(judged, this.metrics.info(judged.exitCode)));
    if (!this.context.json) this.context.out(formatVerifyReport(judged, this.chalk, { quiet: flags.quiet }));
    return judged;
  }

  /**
   * `--host H` / `--all-hosts`: the chains stored in Loki, one verdict per host (cli/loki-hosts.ts),
   * no local directory read. Throws what {@link verifyLokiHosts} throws.
   */
  async lokiHosts(): Promise<LokiHostsReport> {
    const { flags } = this;
    const report = await verifyLokiHosts(flags, durationFlag('--max-age', flags['max-age']));
    process.exitCode = report.exitCode;
    if (!this.context.json) {
      const text = formatLokiHosts(report, this.chalk, { quiet: flags.quiet });
      if (text) this.context.out(text);
    }
    return report;
  }

  /** A run that ended in an error still writes its metrics file: verdict `error`, its exit code. */
  afterError(err: Error | undefined): void {
    const { fleet, metrics } = this;
    writeMetricsAfterError(metrics, err, (info) =>
      fleet
        ? fleetVerifyMetrics(fleet.map((dir) => ({ report: null, run: metrics!.info(info.exitCode, dir) })))
        : verifyMetrics(null, info),
    );
  }

  /** Several directories (src/cli/verify-fleet.ts): one verdict line each and a summary line. */
  private async runFleet(targets: NonNullable<ReturnType<typeof fleetTargets>>): Promise<FleetReport> {
    const { flags } = this;
    refuseOneDirectoryFlags({ ...flags }, targets.length);
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
      json: this.context.json,
      chalk: this.chalk,
      metrics: this.metrics,
      out: this.context.out,
    });
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
