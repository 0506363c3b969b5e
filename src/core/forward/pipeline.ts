/**
 * Forwarding entries to targets (Loki, syslog) with no loss and no duplicates beyond the batch
 * in flight at a crash: the wiring of one pipeline per target.
 *
 * Per target: its lines from its saved position on (source.ts; the files are the queue, nothing
 * waits in memory but two batches), filtered and filled into batches by count, bytes and time
 * like Promtail, 1 MiB or 1 s (batcher.ts), each delivered with retries (delivery.ts) while the
 * next one is read, then the position after it saved in order (position-saver.ts). Entries the
 * target refuses for good (Loki 400 naming an entry problem, too old) go to the dead-letter file
 * (dead-letter.ts), found by splitting the refused batch, and the run reports them; a refusal of
 * the target itself (credentials, URL path, body size) stops its run with the position kept.
 * Killed at any point, a restart re-sends at most the batch in flight. What a target
 * implements: target.ts. With `checkpoints`, one target's acknowledged entries are counted and
 * the chain it reads checked, and a signed checkpoint of the head is pushed after every N of
 * them (checkpoints.ts).
 */
import type { EntryFilter } from '../query/filters.js';
import type { ReadProblem, ReadProgress } from '../read/entries.js';
import { discoverAuditFiles, type AuditFile } from '../read/files.js';
import { DEFAULT_MAX_LINE_BYTES } from '../read/lines.js';
import { batches, matchingEntry, type ClosedBatch } from './batcher.js';
import { PredecessorTracker } from '../chain/predecessors.js';
import { storedHashBefore } from '../chain/stored-hash.js';
import type { CheckpointEvent, ForwardChain, ForwardCheckpoints } from './checkpoints.js';
import { DeadLetterFile, type Refused } from './dead-letter.js';
import { deliverWithRetry, type DeliveryOutcome, type RetryNotice, type RetryPolicy } from './delivery.js';
import { PositionSaver, StateWriter } from './position-saver.js';
import type { Position, StateFile } from './positions.js';
import { locate } from './positions.js';
import { positionAfter, progressIn, source, type SourceLine, type SourceOptions } from './source.js';
import type { ForwardTarget, TargetBatch, TargetPreview, TargetRefusal } from './target.js';

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
  /**
   * `--checkpoint-every`: counts the acknowledged entries of its target (`checkpoints.target`),
   * checks the chain that target reads, signs and pushes the checkpoints (not with `dryRun`).
   */
  checkpoints?: ForwardCheckpoints;
}

export type ForwardEvent =
  /** A batch's entries were acknowledged by a target that acknowledges (Loki, RELP). */
  | { kind: 'delivered'; target: string; entries: number }
  /** A batch's entries were sent to a target without acknowledgement (syslog over UDP, TCP, TLS). */
  | { kind: 'sent'; target: string; entries: number }
  | { kind: 'retry'; target: string; error: string; attempt: number; delayMs: number; refusal?: TargetRefusal }
  | { kind: 'dead-letter'; target: string; entries: number; reason: string }
  | { kind: 'problem'; problem: ReadProblem }
  /** A batch was closed: how far the target has read (progress display; bytes are sizes on disk). */
  | { kind: 'read'; target: string; progress: ReadProgress }
  | { kind: 'gave-up'; target: string; error: string }
  /** The target refused the batch itself (credentials, path, …): its run stops, its position kept. */
  | { kind: 'stopped'; target: string; refusal: TargetRefusal; error: string }
  /** The target refused a body as too large (HTTP 413): batches are at most `bytes` from now on. */
  | { kind: 'batch-bytes'; target: string; bytes: number; error: string }
  /** `--checkpoint-every`: a break of the chain, a checkpoint pushed, a push retried or given up on. */
  | CheckpointEvent;

/** The outcome for one target. */
export interface TargetReport {
  target: string;
  /** Whether the target acknowledges what it receives (Loki, RELP); if not, entries are only `sent`. */
  acknowledges: boolean;
  /** Entries the target took: acknowledged, or (without acknowledgement) written to it. */
  sent: number;
  /** Entries the target acknowledged (0 for a target that does not acknowledge). */
  delivered: number;
  deadLettered: number;
  /** Set when the target was given up on or stopped (its position stays at the last acknowledged entry). */
  error: string | null;
  /** Set when the target refused the batches themselves (credentials, path, …), not an outage. */
  stopped: TargetRefusal | null;
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
  const { starts, atEnd } = await startsOf(targets, files, options);
  const run: Run = {
    options,
    files,
    maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    retry: {
      backoffMs: options.backoffMs ?? { min: 500, max: 30_000 },
      giveUpAfterMs: options.giveUpAfterMs ?? (options.follow ? Infinity : 300_000),
      retryTargetRefusals: options.follow === true,
      signal: options.signal,
    },
    progress: progressIn(files),
    stateFile: new StateWriter(options.statePath, options.state),
    deadLetters: new DeadLetterFile(options.deadLetterPath),
  };
  // --start-at end: the end is this target's position from now on, saved before anything is
  // sent, so that the next run (cron) or a restart sends only what is written after it.
  if (!options.dryRun) for (const [id, position] of atEnd) await run.stateFile.save(id, position);
  const checkpoints = options.dryRun ? undefined : options.checkpoints;
  checkpoints?.start({ retry: run.retry, stateFile: run.stateFile, onEvent: options.onEvent });
  const each = options.dryRun ? previewTarget : forwardTarget;
  const reports = await Promise.all(targets.map((t) => each(t, run, starts.get(t.id)!)));
  // The checkpoints signed are pushed (or given up on, and kept for the next run) before the end.
  await checkpoints?.settle();
  return reports;
}

/**
 * Where each target starts: its saved position, found again in the files, else the beginning or
 * the end (`atEnd`: the positions of targets that start at the end, to be saved). Every position
 * is resolved first: a mismatch stops everything before anything is sent.
 */
async function startsOf(
  targets: ForwardTarget[],
  files: AuditFile[],
  options: ForwardOptions,
): Promise<{ starts: Map<string, SourceOptions['from']>; atEnd: Map<string, Position> }> {
  const starts = new Map<string, SourceOptions['from']>();
  const atEnd = new Map<string, Position>();
  let end: SourceOptions['from'] | undefined;
  for (const t of targets) {
    const saved = options.state.targets[t.id];
    if (saved) starts.set(t.id, await locate(files, saved));
    else if (options.startAt === 'end') {
      end ??= await endOf(files, options);
      starts.set(t.id, end);
      if (end.position) atEnd.set(t.id, end.position);
    } else starts.set(t.id, { index: 0, position: null });
  }
  return { starts, atEnd };
}

/**
 * The end of the files: the position after the last whole line of the newest file (a torn last
 * line is not passed: it is sent once whole). Reads the newest file once.
 */
async function endOf(files: AuditFile[], options: ForwardOptions): Promise<SourceOptions['from']> {
  if (files.length === 0) return { index: 0, position: null };
  const index = files.length - 1;
  let position: Position | null = null;
  for await (const batch of source({
    dir: options.dir,
    files,
    from: { index, position: null },
    follow: false,
    maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
  }))
    position = positionAfter(batch[batch.length - 1]);
  return { index, position };
}

/**
 * A target's lines, from where it starts, until the run's signal or `done` aborts (a target that
 * stops must end its own follow source: a generator waiting for new lines cannot be returned).
 */
function linesFrom(
  run: Run,
  from: SourceOptions['from'],
  report: TargetReport,
  done: AbortSignal,
  chain?: ForwardChain,
): AsyncIterator<SourceLine[]> {
  const { dir, follow, pollMs } = run.options;
  const signal = run.options.signal ? AbortSignal.any([run.options.signal, done]) : done;
  const onUnreadable = (problem: ReadProblem) => {
    chain?.problem(problem);
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
    acknowledges: t.acknowledges,
    sent: 0,
    delivered: 0,
    deadLettered: 0,
    error: null,
    stopped: null,
    unreadable: [],
    position: options.state.targets[t.id] ?? null,
  };
}

/** One target's run: its lines into batches, delivered pipelined, its position saved after each. */
async function forwardTarget(t: ForwardTarget, run: Run, from: SourceOptions['from']): Promise<TargetReport> {
  const { options } = run;
  const report = reportOf(t, options);
  const sending = new BatchSending(t, run, report);
  const done = new AbortController();
  const tracker = await trackerFor(t, run, from);
  const counted = options.checkpoints?.target === t.id ? options.checkpoints : undefined;
  const chain = await counted?.chainFor(run.files, from, {
    dir: options.dir,
    maxLineBytes: run.maxLineBytes,
    signal: options.signal,
  });
  const lines = linesFrom(run, from, report, done.signal, chain);
  const onProblem = (problem: ReadProblem) => options.onEvent?.({ kind: 'problem', problem });
  try {
    for await (const closed of batches(lines, t, {
      filter: options.filter,
      tracker,
      chain,
      maxLineBytes: run.maxLineBytes,
      waitMs: options.batchWaitMs ?? 1000,
      savedLine: () => sending.savedLine,
      maxBatchBytes: () => sending.maxBatchBytes,
      onProblem,
    })) {
      if (!(await sending.send(closed))) return report;
    }
    await sending.idle();
    return report;
  } finally {
    await sending.idle().catch(() => false);
    done.abort();
    await lines.return?.(undefined);
    await run.stateFile.settled();
    await t.close();
  }
}

/**
 * The predecessor tracker of a target whose records carry the chain (`t.predecessors`): it starts
 * from the last stored hash before where the target starts (read back in its files, spec §3.2).
 */
async function trackerFor(
  t: ForwardTarget,
  run: Run,
  from: SourceOptions['from'],
): Promise<PredecessorTracker | undefined> {
  if (!t.predecessors) return undefined;
  // The saved position's line is the last one before the start: its stored hash, when it has one, is it.
  if (from.position?.chainHash) return new PredecessorTracker(from.position.chainHash);
  const offset = from.position ? from.position.offset : 0;
  return new PredecessorTracker(await storedHashBefore(run.files, from.index, offset, run.maxLineBytes));
}

/** `--dry-run`: what would be sent to `t`, into its preview; nothing is sent or saved. */
async function previewTarget(t: ForwardTarget, run: Run, from: SourceOptions['from']): Promise<TargetReport> {
  const { options } = run;
  const preview: TargetPreview = { target: t.id, entries: 0, streams: {}, sample: null, wouldBeRefused: {} };
  options.previews?.push(preview);
  const onProblem = (problem: ReadProblem) => options.onEvent?.({ kind: 'problem', problem });
  const report = reportOf(t, options);
  const done = new AbortController();
  const tracker = await trackerFor(t, run, from);
  const lines = linesFrom(run, from, report, done.signal);
  try {
    for (let r = await lines.next(); !r.done; r = await lines.next()) {
      for (const s of r.value) {
        const e = matchingEntry(s, options.filter, run.maxLineBytes, onProblem, tracker);
        if (e && t.preview(e, preview)) preview.entries++;
      }
    }
    return report;
  } finally {
    done.abort();
    await lines.return?.(undefined);
    await t.close();
  }
}

/** The smallest batch, in bytes, that 413s can shrink batches to (the `--batch-bytes` minimum). */
const MIN_BATCH_BYTES = 1024;

/** Lone entries too large in a row, with nothing delivered between, after which a 413 is the target's. */
const LONE_TOO_LARGE_IN_A_ROW = 3;

/** Entries `from` to `to` (end excluded) of a closed batch, as a batch of the target's. */
interface Part {
  batch: TargetBatch;
  from: number;
  to: number;
  /** Made by slicing: disposed of once answered. */
  sliced: boolean;
  /** A lone entry found too large once: tried again last, when a 413 is the target's (it cannot get smaller). */
  again?: boolean;
}

/** The parts of one batch still to deliver, and what came of those answered. */
class BatchParts {
  /** A stack of parts, the first one on top: parts are delivered in the batch's order. */
  readonly todo: Part[];
  /**
   * Lone entries too large for the target, tried again once the rest of the batch is in: by
   * then the target has seen smaller bodies go through and can tell the entry's fault (it
   * refuses the entry) from its own (a 413 for anything: stop).
   */
  readonly lone: Part[] = [];
  /** Entries refused (by index in the batch), with the target's reason. */
  readonly refused: Array<{ index: number; reason: string }> = [];
  /**
   * Lone entries found too large since the last part went through: a few in a row, and the
   * limit is below any entry (or the 413 is not about size): the target's, not the entries'.
   */
  tooLargeInARow = 0;
  /** Entries delivered. */
  delivered = 0;

  constructor(batch: TargetBatch) {
    this.todo = [{ batch, from: 0, to: batch.size, sliced: false }];
  }

  /** The next part to deliver: the top of the stack, then the lone entries tried again. */
  next(): Part | undefined {
    return this.todo.pop() ?? this.lone.shift();
  }

  /** The parts not delivered (after a stop). */
  left(): Part[] {
    return [...this.todo, ...this.lone];
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
  /** The largest batch in bytes: the target's, halved after each 413 for the rest of the run. */
  maxBatchBytes: number;

  constructor(
    private readonly t: ForwardTarget,
    private readonly run: Run,
    private readonly report: TargetReport,
  ) {
    this.positions = new PositionSaver((p) => run.stateFile.save(t.id, p));
    this.maxBatchBytes = t.maxBatchBytes;
  }

  /**
   * Sends `closed` once the batch before it is done with. Resolves when that one is, with false
   * when the target was given up on.
   */
  send(closed: ClosedBatch): Promise<boolean> {
    const { batch, journal, refused, end, position } = closed;
    const slot = this.positions.reserve();
    const onEvent = this.run.options.onEvent;
    if (end && onEvent) onEvent({ kind: 'read', target: this.t.id, progress: this.run.progress(end) });
    const before = this.inflight;
    // Encode the end and start compressing now, while the batch before is still with the target.
    batch?.seal();
    this.inflight = (async () => {
      const deadLetters = refused;
      let refusedAt: number[] = [];
      let acked = position;
      try {
        if (!(await before)) return false;
        if (batch && batch.size > 0) {
          const found = await this.deliver(batch, closed);
          if (!found) return false;
          deadLetters.push(...found.refused);
          refusedAt = found.at;
        }
        // The counting target's position carries its checkpoint count, saved in the same write.
        const checkpoints = this.run.options.checkpoints;
        if (closed.marks && checkpoints)
          acked = checkpoints.acknowledged(closed.marks, journal, refusedAt, position, this.run.maxLineBytes);
      } finally {
        journal.release();
        if (batch) this.t.dispose?.(batch);
      }
      this.refuse(deadLetters);
      const saved = await this.positions.acknowledge(slot, acked);
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

  /**
   * Delivers one batch, retrying; splits it while the target refuses entries in it or finds it
   * too large (making later batches smaller too), until the refused entries are alone. Resolves
   * with the entries refused (to dead-letter once the batch is done with) and their indexes in
   * the batch, or null when the target was given up on or stopped (nothing of the batch is
   * dead-lettered then: the next run sends it again).
   */
  private async deliver(batch: TargetBatch, closed: ClosedBatch): Promise<{ refused: Refused[]; at: number[] } | null> {
    const t = this.t;
    const onEvent = this.run.options.onEvent;
    const onRetry = (n: RetryNotice) => onEvent?.({ kind: 'retry', target: t.id, ...n });
    const parts = new BatchParts(batch);
    try {
      for (let p = parts.next(); p; p = parts.next()) {
        let kept = false;
        try {
          const r = await deliverWithRetry(t, p.batch, this.run.retry, onRetry, p.again === true);
          const step = this.answered(p, r, parts, closed);
          if (step === 'stop') return null;
          kept = step === 'kept';
        } finally {
          // A slice's halves hold what they need: it can go once answered (and split).
          if (p.sliced && !kept) t.dispose?.(p.batch);
        }
      }
    } finally {
      for (const p of parts.left()) if (p.sliced) t.dispose?.(p.batch);
    }
    return { refused: this.delivered(parts, closed), at: parts.refused.map((r) => r.index) };
  }

  /**
   * What follows the target's answer `r` to part `p`: the next part (`p` delivered, dead-lettered
   * or split), `kept` (`p` is tried again later), or `stop` (the target was given up on).
   */
  private answered(p: Part, r: DeliveryOutcome, parts: BatchParts, closed: ClosedBatch): 'next' | 'kept' | 'stop' {
    const { t, report } = this;
    const n = p.to - p.from;
    if (r.kind === 'delivered') {
      parts.delivered += n;
      parts.tooLargeInARow = 0;
      return 'next';
    }
    if (r.kind === 'gave-up' || r.kind === 'stopped') {
      report.error = r.error;
      if (r.kind === 'stopped') report.stopped = r.refusal;
      this.run.options.onEvent?.(
        r.kind === 'stopped'
          ? { kind: 'stopped', target: t.id, refusal: r.refusal, error: r.error }
          : { kind: 'gave-up', target: t.id, error: r.error },
      );
      return 'stop';
    }
    // Once per batch (its parts' sizes say little: one big entry makes its halves too large).
    if (r.refusal === 'too-large' && !p.sliced && n > 1) this.shrink(closed.bytes, r.error);
    // Entries refused alone, or all of them, or the target cannot split: dead-lettered.
    if (r.refusal === 'entries' && (n === 1 || (r.refusedEntries ?? 0) >= n || !t.slice)) {
      for (let i = p.from; i < p.to; i++) parts.refused.push({ index: i, reason: r.error });
      return 'next';
    }
    if (n === 1) {
      // Tried again last, or now (a 413 then stops, or under --follow waits) after a few in a row.
      if (++parts.tooLargeInARow < LONE_TOO_LARGE_IN_A_ROW) parts.lone.push({ ...p, again: true });
      else parts.todo.push({ ...p, again: true });
      return 'kept';
    }
    if (!t.slice) {
      // Too large, and it cannot be made smaller: the target's refusal.
      report.error = r.error;
      report.stopped = 'too-large';
      this.run.options.onEvent?.({ kind: 'stopped', target: t.id, refusal: 'too-large', error: r.error });
      return 'stop';
    }
    const mid = Math.ceil(n / 2);
    const at = p.from;
    parts.todo.push(
      { batch: t.slice(p.batch, mid, n), from: at + mid, to: p.to, sliced: true },
      { batch: t.slice(p.batch, 0, mid), from: at, to: at + mid, sliced: true },
    );
    return 'next';
  }

  /** Counts what a batch's parts delivered; returns its refused entries, read back from its journal. */
  private delivered(parts: BatchParts, closed: ClosedBatch): Refused[] {
    const { t, report } = this;
    const { delivered, refused } = parts;
    report.sent += delivered;
    if (t.acknowledges) report.delivered += delivered;
    if (delivered)
      this.run.options.onEvent?.({ kind: t.acknowledges ? 'delivered' : 'sent', target: t.id, entries: delivered });
    if (!refused.length) return [];
    const entries = closed.journal.entries(this.run.maxLineBytes);
    return refused.map(({ index, reason }) => ({ entry: entries[index], reason }));
  }

  /** After a 413 for a batch of `bytes`: batches from now on at most half that. */
  private shrink(bytes: number, error: string): void {
    const next = Math.max(MIN_BATCH_BYTES, Math.floor(Math.min(this.maxBatchBytes, bytes) / 2));
    if (next >= this.maxBatchBytes) return;
    this.maxBatchBytes = next;
    this.run.options.onEvent?.({ kind: 'batch-bytes', target: this.t.id, bytes: next, error });
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
