/**
 * `forward --metrics-file` and `--metrics-listen`: per target, the entries it took (counted from
 * the run's events), the entries it has not taken yet (lines after its position in the state,
 * recounted at most once a second) and its dead letters (the file counted once at the start,
 * then the run's events added: never re-read).
 */
import { Errors, Flags } from '@oclif/core';
import type { Server } from 'node:http';
import type { CheckpointReport } from '../core/forward/checkpoints.js';
import type { ForwardEvent } from '../core/forward/pipeline.js';
import type { StateFile } from '../core/forward/positions.js';
import { deadLettersByTarget, entriesAfter } from '../core/forward/lag.js';
import { discoverAuditFiles } from '../core/read/files.js';
import { formatExposition } from '../formats/prometheus.js';
import { forwardMetrics, previousDelivered, type ForwardTargetMetrics, type RunInfo } from '../output/metrics.js';
import { ListenAddressError, parseListenAddress, serveMetrics } from '../output/metrics-server.js';
import { Exit } from './exit-codes.js';
import { metricsFileFlag, MetricsRun } from './metrics-flags.js';

/** forward's metrics flags. */
export const forwardMetricsFlags = {
  ...metricsFileFlag,
  'metrics-listen': Flags.string({
    summary:
      'With --follow: serve the metrics at http://ADDR/metrics ' +
      '(PORT, HOST:PORT or [IPv6]:PORT; a bare port is 127.0.0.1).',
    dependsOn: ['follow'],
    helpGroup: 'METRICS',
  }),
};

/** Shortest time between two recounts of the lag (and rewrites of the file while following), ms. */
const UPDATE_MS = 1000;

/** One forward run's metrics: counted from its events, written to the file, served. */
export class ForwardMetrics {
  private readonly delivered = new Map<string, number>();
  private readonly deadLetters = new Map<string, number>();
  private readonly lag = new Map<string, number | null>();
  private server: Server | null = null;
  private timer: NodeJS.Timeout | null = null;
  private updating: Promise<void> | null = null;
  private lastUpdate = 0;

  constructor(
    private readonly dir: string,
    private readonly targets: readonly string[],
    private readonly state: StateFile,
    private readonly deadLetterPath: string,
    readonly file: MetricsRun | null,
    private readonly listen: string | undefined,
    /** With --checkpoint-every: the run's checkpoints (read when the metrics are written). */
    private readonly checkpoints: CheckpointReport | null = null,
  ) {}

  /**
   * Counts the dead-letter file and the lag, and starts the endpoint.
   * @throws CLIError (usage, exit 2) for a bad address; (io, exit 3) when it cannot listen.
   */
  async start(): Promise<void> {
    const address = this.listen === undefined ? null : listenAddress(this.listen);
    const counted = await deadLettersByTarget(this.deadLetterPath).catch(() => new Map<string, number>());
    for (const t of this.targets) this.deadLetters.set(t, counted.get(t) ?? 0);
    await this.refreshLag();
    if (address)
      this.server = await serveMetrics(address, () => this.text()).catch((err: Error) => {
        throw new Errors.CLIError(`--metrics-listen ${this.listen}: cannot listen: ${err.message}`, { exit: Exit.io });
      });
  }

  /** The run's event hook: counts deliveries and dead letters, schedules a recount. */
  onEvent(e: ForwardEvent): void {
    if (e.kind === 'delivered' || e.kind === 'sent') {
      this.delivered.set(e.target, (this.delivered.get(e.target) ?? 0) + e.entries);
      const lag = this.lag.get(e.target);
      if (lag) this.lag.set(e.target, Math.max(0, lag - e.entries));
    } else if (e.kind === 'dead-letter')
      this.deadLetters.set(e.target, (this.deadLetters.get(e.target) ?? 0) + e.entries);
    else if (e.kind !== 'checkpoint' && e.kind !== 'checkpoint-failed' && e.kind !== 'chain-break') return;
    this.schedule();
  }

  /** Recounts at most once per {@link UPDATE_MS}; while following, rewrites the file too. */
  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.lastUpdate + UPDATE_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.updating = this.refreshLag().then(() => {
        if (this.file) this.file.writeInterim(this.families(null, true));
      });
      this.updating.catch(() => undefined);
    }, wait);
    this.timer.unref();
  }

  private async refreshLag(): Promise<void> {
    this.lastUpdate = Date.now();
    try {
      const files = (await discoverAuditFiles(this.dir, { requireFiles: false })).files;
      for (const t of this.targets) this.lag.set(t, await entriesAfter(files, this.state.targets[t] ?? null));
    } catch {
      for (const t of this.targets) this.lag.set(t, null);
    }
  }

  private perTarget(fileTotals: boolean): ForwardTargetMetrics[] {
    return this.targets.map((target) => ({
      target,
      lag: this.lag.get(target) ?? null,
      // The file's counter goes on from the previous run's; the endpoint's counts this process.
      deliveredTotal:
        (this.delivered.get(target) ?? 0) +
        (fileTotals && this.file ? previousDelivered(this.file.previous, this.dir, target) : 0),
      deadLetters: this.deadLetters.get(target) ?? 0,
    }));
  }

  private families(run: RunInfo | null, fileTotals: boolean) {
    const c = this.checkpoints;
    return forwardMetrics(
      this.perTarget(fileTotals).map((t) => ({ ...t, dir: this.dir })),
      run,
      c && {
        dir: this.dir,
        store: c.store,
        pending: !!this.state.pendingCheckpoint,
        broken: c.brokenAt !== null,
        entries: c.last?.entries ?? null,
      },
    );
  }

  /** The file's families for a run that ended (also in an error) with `info`'s exit code. */
  fileFamilies(info: RunInfo) {
    return this.families(info, true);
  }

  /** What the endpoint serves. */
  text(): string {
    return formatExposition(this.families(null, false));
  }

  /**
   * The run is over: the final lag, the file written with the exit code, the endpoint closed.
   * @throws UnsafeFileError, DiskFullError, NodeJS.ErrnoException from writing the file.
   */
  async finish(exitCode: number): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.updating?.catch(() => undefined);
    this.server?.close();
    this.server = null;
    if (!this.file || this.file.done) return;
    await this.refreshLag();
    this.file.write(this.families(this.file.info(exitCode), true));
  }
}

/** `--metrics-listen`'s address, or a usage error. */
function listenAddress(input: string) {
  try {
    return parseListenAddress(input);
  } catch (err) {
    if (err instanceof ListenAddressError) throw new Errors.CLIError(err.message, { exit: Exit.usage });
    throw err;
  }
}
