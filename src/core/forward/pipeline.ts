/**
 * Forwarding entries to targets (Loki, syslog) with no loss and no duplicates beyond the batch
 * in flight at a crash: the wiring of one pipeline per target.
 *
 * Per target: its lines from its saved position on (source.ts; the files are the queue, nothing
 * waits in memory but two batches), filtered and filled into batches by count, bytes and time
 * like Promtail, 1 MiB or 1 s (batcher.ts), each delivered with retries (delivery.ts) while the
 * next one is read, then the position after it saved in order (position-saver.ts). Entries the
 * target refuses for good (Loki 4xx, too old) go to the dead-letter file (dead-letter.ts) and
 * the run reports them. Killed at any point, a restart re-sends at most the batch in flight.
 * What a target implements: target.ts.
 */
import type { EntryFilter } from '../query/filters.js';
import type { ReadProblem, ReadProgress } from '../read/entries.js';
import { discoverAuditFiles, type AuditFile } from '../read/files.js';
import { DEFAULT_MAX_LINE_BYTES } from '../read/lines.js';
import { batches, matchingEntry, type ClosedBatch } from './batcher.js';
import { DeadLetterFile, type BatchJournal, type Refused } from './dead-letter.js';
import { deliverWithRetry, type RetryPolicy } from './delivery.js';
import { PositionSaver, StateWriter } from './position-saver.js';
import type { Position, StateFile } from './positions.js';
import { locate } from './positions.js';
import { progressIn, source, type SourceLine, type SourceOptions } from './source.js';
import type { ForwardTarget, TargetBatch, TargetPreview } from './target.js';

export interface ForwardOptions {
  dir: string;
  filter: EntryFilter;
  state: StateFile;
  statePath: string;
  /** Keep going: follow new entries after catching up. */
  follow?: boolean;
  /** For targets without a saved position: start at the beginning (default) or the current end. */
  startAt?: 'beginning' | 'end';
  /** Longest wait before a partial batch is sent, ms (default 1000). */
  batchWaitMs?: number;
  /** Give up on a target that keeps failing after this long, ms (default: never with follow, 5 min without). */
  giveUpAfterMs?: number;
  /** Backoff: first delay and cap, ms. */
  backoffMs?: { min: number; max: number };
  deadLetterPath: string;
  maxLineBytes?: number;
  signal?: AbortSignal;
  /** Progress and problems, for the command to print. */
  onEvent?: (e: ForwardEvent) => void;
  pollMs?: number;
  /** Send nothing, save nothing: fill `previews` instead. */
  dryRun?: boolean;
  previews?: TargetPreview[];
}

export type ForwardEvent =
  | { kind: 'delivered'; target: string; entries: number }
  | { kind: 'retry'; target: string; error: string; attempt: number; delayMs: number }
  | { kind: 'dead-letter'; target: string; entries: number; reason: string }
  | { kind: 'problem'; problem: ReadProblem }
  /** A batch was closed: how far the target has read (progress display; bytes are sizes on disk). */
  | { kind: 'read'; target: string; progress: ReadProgress }
  | { kind: 'gave-up'; target: string; error: string };

/** The outcome for one target. */
export interface TargetReport {
  target: string;
  delivered: number;
  deadLettered: number;
  /** Set when the target was given up on (its position stays at the last acknowledged entry). */
  error: string | null;
  /** Files that could not be read (the files after them were forwarded). */
  unreadable: string[];
  position: Position | null;
}

/** What the targets of a run share. */
interface Run {
  options: ForwardOptions;
  files: AuditFile[];
  maxLineBytes: number;
  retry: RetryPolicy;
  progress: (line: SourceLine) => ReadProgress;
  stateFile: StateWriter;
  deadLetters: DeadLetterFile;
}

/**
 * Forwards to every target until the files end (or, with `follow`, until `signal` aborts).
 * @throws StateError when a saved position no longer matches the directory.
 * @throws AuditDirError when the directory is missing.
 */
export async function forward(targets: ForwardTarget[], options: ForwardOptions): Promise<TargetReport[]> {
  const files = (await discoverAuditFiles(options.dir, { requireFiles: !options.follow })).files;
  const starts = await startsOf(targets, files, options);
  const run: Run = {
    options,
    files,
    maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    retry: {
      backoffMs: options.backoffMs ?? { min: 500, max: 30_000 },
      giveUpAfterMs: options.giveUpAfterMs ?? (options.follow ? Infinity : 300_000),
      signal: options.signal,
    },
    progress: progressIn(files),
    stateFile: new StateWriter(options.statePath, options.state),
    deadLetters: new DeadLetterFile(options.deadLetterPath),
  };
  const each = options.dryRun ? previewTarget : forwardTarget;
  return Promise.all(targets.map((t) => each(t, run, starts.get(t.id)!)));
}

/**
 * Where each target starts: its saved position, found again in the files, else the beginning or
 * the end. Every position is resolved first: a mismatch stops everything before anything is sent.
 */
async function startsOf(
  targets: ForwardTarget[],
  files: AuditFile[],
  options: ForwardOptions,
): Promise<Map<string, SourceOptions['from']>> {
  const starts = new Map<string, SourceOptions['from']>();
  for (const t of targets) {
    const saved = options.state.targets[t.id];
    if (saved) starts.set(t.id, await locate(files, saved));
    else if (options.startAt === 'end') starts.set(t.id, { index: files.length, position: null });
    else starts.set(t.id, { index: 0, position: null });
  }
  return starts;
}

/** A target's lines, from where it starts. */
function linesFrom(run: Run, from: SourceOptions['from'], report: TargetReport): AsyncIterator<SourceLine[]> {
  const { dir, follow, signal, pollMs } = run.options;
  const onUnreadable = (problem: ReadProblem) => {
    report.unreadable.push(problem.file);
    run.options.onEvent?.({ kind: 'problem', problem });
  };
  const o = {
    dir,
    files: run.files,
    from,
    follow: follow === true,
    maxLineBytes: run.maxLineBytes,
    signal,
    pollMs,
    onUnreadable,
  };
  return source(o)[Symbol.asyncIterator]();
}

function reportOf(t: ForwardTarget, options: ForwardOptions): TargetReport {
  return {
    target: t.id,
    delivered: 0,
    deadLettered: 0,
    error: null,
    unreadable: [],
    position: options.state.targets[t.id] ?? null,
  };
}

/** One target's run: its lines into batches, delivered pipelined, its position saved after each. */
async function forwardTarget(t: ForwardTarget, run: Run, from: SourceOptions['from']): Promise<TargetReport> {
  const { options } = run;
  const report = reportOf(t, options);
  const sending = new BatchSending(t, run, report);
  const lines = linesFrom(run, from, report);
  const onProblem = (problem: ReadProblem) => options.onEvent?.({ kind: 'problem', problem });
  try {
    for await (const closed of batches(lines, t, {
      filter: options.filter,
      maxLineBytes: run.maxLineBytes,
      waitMs: options.batchWaitMs ?? 1000,
      savedLine: () => sending.savedLine,
      onProblem,
    })) {
      if (!(await sending.send(closed))) return report;
    }
    await sending.idle();
    return report;
  } finally {
    await sending.idle().catch(() => false);
    await lines.return?.(undefined);
    await run.stateFile.settled();
    await t.close();
  }
}

/** `--dry-run`: what would be sent to `t`, into its preview; nothing is sent or saved. */
async function previewTarget(t: ForwardTarget, run: Run, from: SourceOptions['from']): Promise<TargetReport> {
  const { options } = run;
  const preview: TargetPreview = { target: t.id, entries: 0, streams: {}, sample: null, refused: {} };
  options.previews?.push(preview);
  const onProblem = (problem: ReadProblem) => options.onEvent?.({ kind: 'problem', problem });
  const report = reportOf(t, options);
  const lines = linesFrom(run, from, report);
  try {
    for (let r = await lines.next(); !r.done; r = await lines.next()) {
      for (const s of r.value) {
        const e = matchingEntry(s, options.filter, run.maxLineBytes, onProblem);
        if (e) {
          t.preview(e, preview);
          preview.entries++;
        }
      }
    }
    return report;
  } finally {
    await lines.return?.(undefined);
    await t.close();
  }
}

/**
 * One target's closed batches on their way, pipelined: a batch is delivered while the next one
 * is read (and parsed); at most one is in flight, batches go out in order and positions are
 * saved in order, so a crash still re-sends at most the batch in flight. Refusals are
 * dead-lettered once their batch is acknowledged: a target given up on reads them again on the
 * next run, and they are written once.
 */
class BatchSending {
  private inflight: Promise<boolean> = Promise.resolve(true);
  private readonly positions: PositionSaver;
  /** The end line of the last batch whose position is saved. */
  savedLine: SourceLine | null = null;

  constructor(
    private readonly t: ForwardTarget,
    private readonly run: Run,
    private readonly report: TargetReport,
  ) {
    this.positions = new PositionSaver((p) => run.stateFile.save(t.id, p));
  }

  /**
   * Sends `closed` once the batch before it is done with. Resolves when that one is, with false
   * when the target was given up on.
   */
  send({ batch, journal, refused, end, position }: ClosedBatch): Promise<boolean> {
    const slot = this.positions.reserve();
    const onEvent = this.run.options.onEvent;
    if (end && onEvent) onEvent({ kind: 'read', target: this.t.id, progress: this.run.progress(end) });
    const before = this.inflight;
    // Encode the end and start compressing now, while the batch before is still with the target.
    batch?.seal();
    this.inflight = (async () => {
      try {
        if (!(await before)) return false;
        if (batch && batch.size > 0 && !(await this.deliver(batch, journal))) return false;
      } finally {
        journal.release();
        if (batch) this.t.dispose?.(batch);
      }
      this.refuse(refused);
      const saved = await this.positions.acknowledge(slot, position);
      if (saved) {
        this.savedLine = end;
        this.report.position = saved;
      }
      return true;
    })();
    return before;
  }

  /** Resolves once the batch in flight is done with: false when the target was given up on. */
  idle(): Promise<boolean> {
    return this.inflight;
  }

  /** Delivers one batch, retrying; false when the target was given up on. */
  private async deliver(batch: TargetBatch, journal: BatchJournal): Promise<boolean> {
    const { t, report } = this;
    const onEvent = this.run.options.onEvent;
    const r = await deliverWithRetry(t, batch, this.run.retry, (n) => onEvent?.({ kind: 'retry', target: t.id, ...n }));
    if (r.kind === 'delivered') {
      report.delivered += batch.size;
      onEvent?.({ kind: 'delivered', target: t.id, entries: batch.size });
      return true;
    }
    if (r.kind === 'refused') {
      this.refuse(journal.entries(this.run.maxLineBytes).map((entry) => ({ entry, reason: r.error })));
      return true;
    }
    report.error = r.error;
    onEvent?.({ kind: 'gave-up', target: t.id, error: r.error });
    return false;
  }

  private refuse(items: Refused[]): void {
    if (!items.length) return;
    this.run.deadLetters.write(this.t.id, items);
    this.report.deadLettered += items.length;
    this.run.options.onEvent?.({
      kind: 'dead-letter',
      target: this.t.id,
      entries: items.length,
      reason: items[0].reason,
    });
  }
}
