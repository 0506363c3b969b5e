/**
 * `--metrics-file PATH` of `verify`, `checkpoint` and `forward`: the run's metrics
 * (output/metrics.ts) written for node_exporter's textfile collector when the run ends, also
 * when it ends in an error, so the file never keeps claiming what an older run saw.
 */
import { pathFlag } from './paths.js';
import {
  previousSuccess,
  previousValues,
  writeMetricsFile,
  type MetricsCommand,
  type RunInfo,
} from '../output/metrics.js';
import type { MetricFamily } from '../formats/prometheus.js';
import { Exit } from './exit-codes.js';
import { writeError } from './usage-errors.js';

/** The flag, for a command's `static flags`. */
export const metricsFileFlag = {
  'metrics-file': pathFlag({
    summary:
      "Write the run's Prometheus metrics to FILE (node_exporter textfile collector: " +
      'a *.prom file in its directory), atomically, also when the run fails.',
    helpGroup: 'METRICS',
  }),
};

/** One command run's metrics file: where, since when, and whether it has been written. */
export class MetricsRun {
  readonly startedAt = Date.now();
  private written = false;
  /** What the previous run left in the file (for values that carry over). */
  readonly previous: Map<string, number>;

  constructor(
    readonly path: string,
    readonly command: MetricsCommand,
    /** The audit directory, absolute. */
    readonly dir: string,
  ) {
    this.previous = previousValues(path);
  }

  /** The run as metrics see it, ended now with `exitCode`; `dir`: one directory of a fleet run (default: the run's). */
  info(exitCode: number, dir = this.dir): RunInfo {
    return {
      command: this.command,
      dir,
      startedAt: this.startedAt,
      endedAt: Date.now(),
      exitCode,
      lastSuccess: previousSuccess(this.previous, this.command, dir),
    };
  }

  /**
   * Writes `families` (once per run: a later call, e.g. the error path's, does nothing).
   * @throws UnsafeFileError, DiskFullError, NodeJS.ErrnoException from the write.
   */
  write(families: readonly MetricFamily[]): void {
    if (this.written) return;
    this.written = true;
    writeMetricsFile(this.path, families);
  }

  /**
   * Rewrites the file while the run goes on (`forward --follow`); the final {@link write} still
   * follows. A failure is left for the final write to report.
   */
  writeInterim(families: readonly MetricFamily[]): void {
    if (this.written) return;
    try {
      writeMetricsFile(this.path, families);
    } catch {
      // Reported by the final write.
    }
  }

  /** Whether the file was written (or a write was tried) this run. */
  get done(): boolean {
    return this.written;
  }
}

/**
 * The exit code a command ends with after `err` (oclif's `finally` hook): the error's own
 * (`this.error(…, {exit})`, the ExitError of LokiCommand's `catch`), else the process's; an
 * unexpected error ends with 1.
 */
function exitCodeAfter(err: unknown): number {
  const oclif = (err as { oclif?: { exit?: number } } | undefined)?.oclif;
  if (typeof oclif?.exit === 'number') return oclif.exit;
  const code = Number(process.exitCode ?? 0);
  return err && code === 0 ? 1 : code;
}

/**
 * The error path (a command's `finally`): when the run ended before its metrics were written,
 * writes what `families` makes of its exit code, so the file says the run failed. A failure to
 * write is one line on stderr; the exit code stays the run's.
 */
export function writeMetricsAfterError(
  run: MetricsRun | null,
  err: unknown,
  families: (info: RunInfo) => MetricFamily[],
): void {
  if (!run || run.done) return;
  const exitCode = exitCodeAfter(err);
  try {
    run.write(families(run.info(exitCode)));
  } catch (e) {
    writeError(`cannot write the metrics file ${run.path}: ${(e as Error).message}`, []);
    if (!exitCode) process.exitCode = Exit.io;
  }
}
