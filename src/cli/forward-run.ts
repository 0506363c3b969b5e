/**
 * One `forward` run from its parsed flags (src/cli/forward-flags.ts): which chain is sent (the
 * dashboard chain only), the setup (targets, filter, state and dead-letter paths:
 * src/cli/forward-setup.ts), the metrics (--metrics-file, --metrics-listen), the signals that
 * stop a --follow run, the pipeline itself (src/core/forward/pipeline.ts) or the dead-letter
 * replay (src/core/forward/replay.ts), and the exit code (src/cli/exit-codes.ts
 * `forwardExitCode`). What reaches stdout is one report (src/output/forward.ts); notes, hints and
 * progress go to stderr.
 */
import type { Interfaces } from '@oclif/core';
import type { CheckpointReport } from '../core/forward/checkpoints.js';
import type { ForwardEvent, TargetReport } from '../core/forward/pipeline.js';
import { forward } from '../core/forward/pipeline.js';
import { StateError } from '../core/forward/positions.js';
import { replayDeadLetters, type ReplayReport } from '../core/forward/replay.js';
import type { ForwardTarget, TargetPreview } from '../core/forward/target.js';
import { DEFAULT_MAX_LINE_BYTES } from '../core/read/lines.js';
import { resolveAuditSource } from '../core/read/streams.js';
import { constrainHeap } from '../core/runtime/heap.js';
import { safeText } from '../formats/escape.js';
import {
  deadLetterNote,
  formatCheckpointReport,
  formatForwardPreview,
  formatForwardReports,
  formatReplayReport,
  forwardEventPrinter,
  refusalHint,
} from '../output/forward.js';
import { forwardMetrics } from '../output/metrics.js';
import { ProgressLine, progressWanted } from '../output/progress.js';
import { Exit, forwardExitCode } from './exit-codes.js';
import type { forwardFlags } from './forward-flags.js';
import { forwardCheckpoints } from './forward-checkpoints.js';
import { ForwardMetrics } from './forward-metrics.js';
import { replayCommand } from './forward-replay.js';
import { forwardSetup } from './forward-setup.js';
import type { ConfigFile } from './forward-targets.js';
import { MetricsRun, writeMetricsAfterError } from './metrics-flags.js';
import { abortOnSignals } from './signals.js';
import { streamTitle } from './stream-flag.js';
import { fail } from './usage-errors.js';

/** What `forward --json` prints. */
export interface ForwardResult {
  dir: string;
  state: string;
  targets: TargetReport[];
  preview?: TargetPreview[];
  /** With --replay-dead-letter: what was sent again and what stays in the file (`targets` is empty). */
  replay?: ReplayReport;
  /** With --checkpoint-every: the checkpoints signed and pushed, and where the chain broke. */
  checkpoints?: CheckpointReport;
}

/** `forward`'s parsed flags, with the audit commands' `--max-line-bytes`. */
export type ForwardRunFlags = Interfaces.InferredFlags<typeof forwardFlags> & { 'max-line-bytes': number };

/** The run's surroundings: the CLI's version (HEC/Loki user agent), `--json`, and where stdout text goes. */
export interface ForwardRunContext {
  version: string;
  /** The merged config files' forward part (config.ts `forwardConfig`). */
  config: ConfigFile;
  json: boolean;
  out: (text: string) => void;
}

/**
 * A forward run. {@link run} sends (or previews, or replays) and sets `process.exitCode`;
 * {@link afterError} writes the metrics file of a run that ended in an error.
 */
export class ForwardRun {
  /** With --metrics-file or --metrics-listen: this run's counts; the file written at the end, also on error. */
  private metrics: ForwardMetrics | null = null;
  private metricsFile: MetricsRun | null = null;

  constructor(
    private readonly flags: ForwardRunFlags,
    private readonly context: ForwardRunContext,
  ) {}

  /**
   * Forwards the audit directory `given` (as the user named it) to the configured targets.
   * Throws a CLIError for a stream forward does not send (exit 14) and for a state file that no
   * longer matches the directory (exit 10).
   */
  async run(given: string): Promise<ForwardResult> {
    const { flags } = this;
    if (flags['metrics-file'] && !flags['dry-run'])
      this.metricsFile = new MetricsRun(flags['metrics-file'], 'forward', given);
    const dir = await this.dashboardChain(given);
    const { targets, filter, state, statePath, deadLetterPath } = await forwardSetup(
      { ...flags, version: this.context.version },
      dir,
      this.context.config,
    );
    if (flags['replay-dead-letter']) return this.replay(dir, statePath, deadLetterPath, targets);
    const checkpoints = flags['dry-run'] ? undefined : forwardCheckpoints(flags, targets, dir, state);
    if ((this.metricsFile || flags['metrics-listen']) && !flags['dry-run']) {
      const ids = targets.map((t) => t.id);
      this.metrics = new ForwardMetrics(
        dir,
        ids,
        state,
        deadLetterPath,
        this.metricsFile,
        flags['metrics-listen'],
        checkpoints?.report ?? null,
      );
      await this.metrics.start();
    }
    // A long run at full speed: young generation at most 2 × 4 MB, old generation grown by half
    // (src/core/runtime/heap.ts).
    const stopHeapWatch = constrainHeap();
    const stopSignals = abortOnSignals();
    const quiet = this.context.json;
    // Progress of a bounded run on a terminal (files, MB, MB/s, ETA of the first target's read).
    const progress =
      !flags.follow && !flags['dry-run'] && progressWanted({ json: quiet, resultsAtEnd: true })
        ? new ProgressLine('forwarding')
        : null;
    const previews: TargetPreview[] = [];
    const printEvent = forwardEventPrinter(targets[0].id, deadLetterPath, progress);
    // Loki refused entries for their age: the replay command then carries --timestamp ingest.
    let tooOld = false;
    const onEvent = (e: ForwardEvent) => {
      if (e.kind === 'dead-letter' && /too old|too far behind/i.test(e.reason)) tooOld = true;
      printEvent(e);
    };
    let reports: TargetReport[];
    try {
      reports = await forward(targets, {
        dir,
        filter,
        state,
        statePath,
        follow: flags.follow,
        startAt: flags['start-at'],
        batchWaitMs: flags['batch-wait'],
        giveUpAfterMs: flags['give-up-after'] !== undefined ? flags['give-up-after'] * 1000 : undefined,
        deadLetterPath,
        maxLineBytes: flags['max-line-bytes'],
        signal: stopSignals.signal,
        onEvent: withMetrics(this.metrics, onEvent),
        dryRun: flags['dry-run'],
        previews,
        checkpoints,
      });
    } catch (err) {
      if (err instanceof StateError)
        fail(err.message, Exit.stateMismatch, [
          `check the directory: loki-audit verify --dir ${dir}`,
          'then forward from the start: add --reset-state',
        ]);
      throw err;
    } finally {
      stopHeapWatch();
      stopSignals.release();
      progress?.clear();
    }
    const cp = checkpoints?.report;
    if (!quiet)
      this.context.out(
        flags['dry-run']
          ? formatForwardPreview(previews)
          : formatForwardReports(reports) + (cp ? formatCheckpointReport(cp) : ''),
      );
    const deadLettered = reports.reduce((n, r) => n + r.deadLettered, 0);
    if (deadLettered)
      process.stderr.write(
        deadLetterNote(deadLettered, deadLetterPath, replayCommand(flags, dir, deadLetterPath, tooOld)),
      );
    // A checkpoint left unpushed ends the run as a target given up on (it is pushed by the next run).
    const unpushed = cp?.pending && cp.error ? [{ error: cp.error, stopped: cp.stopped, deadLettered: 0 }] : [];
    const exitCode = forwardExitCode([...reports, ...unpushed]);
    process.exitCode = exitCode;
    await this.metrics?.finish(exitCode);
    return {
      dir,
      state: statePath,
      targets: reports,
      ...(flags['dry-run'] ? { preview: previews } : {}),
      ...(cp ? { checkpoints: cp } : {}),
    };
  }

  /** A run that ended in an error still writes its metrics file, with its exit code. */
  afterError(err: Error | undefined): void {
    writeMetricsAfterError(
      this.metricsFile,
      err,
      (info) => this.metrics?.fileFamilies(info) ?? forwardMetrics([], info),
    );
  }

  /**
   * The directory whose dashboard chain is sent. Positions, follow and the Loki witness are built
   * on the dashboard chain's files: forward sends that chain only (exit 14 for a directory of
   * another stream; a note for the other streams beside it).
   */
  private async dashboardChain(given: string): Promise<string> {
    const { flags } = this;
    const source = await resolveAuditSource(given, { stream: flags.stream, requireFiles: !flags.follow });
    const other = source.streams.find((s) => s !== 'dashboard');
    if (!source.streams.includes('dashboard'))
      fail(
        `forward sends the dashboard audit chain only; ${streamTitle(other ?? source.streams[0])} is not forwarded`,
        Exit.streamUnsupported,
        [`send it as a one-off export: loki-audit export --stream ${other} --dir ${given} -o rfc5424`],
      );
    if (other)
      process.stderr.write(
        `loki-audit: note: ${source.files
          .filter((f) => f.chain !== 'dashboard')
          .map((f) => f.name)
          .join(', ')} (${streamTitle(other)}) is not forwarded: forward sends the dashboard audit chain only\n`,
      );
    return source.home;
  }

  /** `--replay-dead-letter`: the dead-letter file's entries sent again; its report, and exit 11 while some stay. */
  private async replay(
    dir: string,
    statePath: string,
    deadLetterPath: string,
    targets: ForwardTarget[],
  ): Promise<ForwardResult> {
    const { flags } = this;
    const stopSignals = abortOnSignals();
    let report: ReplayReport;
    try {
      report = await replayDeadLetters(targets, {
        deadLetterPath,
        maxLineBytes: flags['max-line-bytes'] ?? DEFAULT_MAX_LINE_BYTES,
        retry: {
          backoffMs: { min: 500, max: 30_000 },
          giveUpAfterMs: (flags['give-up-after'] ?? 300) * 1000,
          signal: stopSignals.signal,
        },
        onRetry: (target, n) => {
          if (n.attempt === 1 || n.attempt % 10 === 0)
            process.stderr.write(
              `loki-audit: ${target}: ${safeText(n.error)}; retrying (attempt ${n.attempt}, next in ${n.delayMs} ms)\n`,
            );
        },
      });
    } finally {
      stopSignals.release();
      await Promise.all(targets.map((t) => t.close()));
    }
    if (!this.context.json) this.context.out(formatReplayReport(report));
    for (const t of report.targets)
      if (t.stopped) process.stderr.write(`loki-audit: hint: ${refusalHint(t.target, t.stopped, t.error ?? '')}\n`);
    const kept = Object.values(report.unconfigured).reduce((a, b) => a + b, report.invalid);
    process.exitCode = forwardExitCode([
      ...report.targets.map((t) => ({ error: t.error, stopped: t.stopped, deadLettered: t.stillRefused })),
      { error: null, deadLettered: kept },
    ]);
    return { dir, state: statePath, targets: [], replay: report };
  }
}

/** The event hook, with the metrics counting first. */
function withMetrics(metrics: ForwardMetrics | null, print: (e: ForwardEvent) => void): (e: ForwardEvent) => void {
  return metrics ? (e) => (metrics.onEvent(e), print(e)) : print;
}
