/**
 * Filling a target's batches from its lines, like Promtail: a batch closes when it holds the
 * target's most entries or bytes, or `waitMs` after it started, whichever comes first. A batch
 * holds bytes, not entries: each entry is encoded by the target as it is added, and its original
 * bytes go to the batch's journal (dead-letter.ts), both outside the heap.
 *
 * No read-ahead: the next chunk of lines is asked for only once this one's are done with (they
 * are views of the read buffer, see source.ts), and the last line read keeps a copy of its bytes
 * when the buffer is about to be reused, for the position saved after its batch.
 */
import type { EntryFilter } from '../query/filters.js';
import type { PredecessorTracker } from '../chain/predecessors.js';
import { BatchChainMarks, type ForwardChain } from './checkpoints.js';
import type { ReadEntry, ReadItem, ReadProblem } from '../read/entries.js';
import { parseLine, WriterFormEntry } from '../read/entries.js';
import { BatchJournal, type Refused } from './dead-letter.js';
import type { Position } from './positions.js';
import { EventLoopTurns } from '../runtime/turns.js';
import { detach, positionAfter, type SourceLine } from './source.js';
import type { ForwardTarget, TargetBatch } from './target.js';

/**
 * How long filling a batch goes on before the event loop gets a turn (ms). 1M writer entries to
 * the loopback receiver, 2 cores: the main thread waited 5.8–7.3 s for the batch in flight
 * without it, 1.8 s with 2 ms, 2.7 s with 5 ms, 4.2 s with 10 ms.
 */
const YIELD_EVERY_MS = 2;
/** What a wait for lines gives when the batch is due first. */
const DUE: unique symbol = Symbol('due');
const NO_RECORD: Record<string, unknown> = Object.freeze({});
const NO_BYTES = Buffer.alloc(0);

/** A batch closed for sending. */
export interface ClosedBatch {
  /** The target's batch; null when no entry was added (only the position moved). */
  batch: TargetBatch | null;
  /** The original bytes of the entries the batch took, to dead-letter them if it is refused whole. */
  journal: BatchJournal;
  /** Entries the target refused as they were added. */
  refused: Refused[];
  /** The last line read when the batch closed, matching or not; null when nothing was read. */
  end: SourceLine | null;
  /** Where the target stands once the batch is acknowledged; null when `end` closed a batch before. */
  position: Position | null;
  /** Bytes of the entries added (refused ones too), as in their files. */
  bytes: number;
  /** With a chain check (the counting target of checkpoints): where its entries stand in the chain. */
  marks: BatchChainMarks | null;
}

export interface BatcherOptions {
  filter: EntryFilter;
  /** Gives every entry read its chain predecessor, before the filter (targets whose records carry it). */
  tracker?: PredecessorTracker;
  /**
   * The checkpoints' chain check (checkpoints.ts): sees every line read, before the filter, and
   * each closed batch carries its {@link ClosedBatch.marks}.
   */
  chain?: ForwardChain;
  maxLineBytes: number;
  /** Longest wait before a batch is closed with what it has, ms. */
  waitMs: number;
  /**
   * The end line of the last batch whose position is saved: while a line read since is not, a
   * batch is due after `waitMs` even with no entry in it (filtered-out lines move the position).
   */
  savedLine: () => SourceLine | null;
  /** The largest batch in bytes, asked for at each entry (it shrinks after a 413); default the target's. */
  maxBatchBytes?: () => number;
  onProblem?: (p: ReadProblem) => void;
}

/**
 * The entry on `s`, if it is one and `filter` takes it; a line that is not an entry goes to
 * `onProblem`. `tracker` sees every entry, and `chain` every line, also those the filter drops.
 */
export function matchingEntry(
  s: SourceLine,
  filter: EntryFilter,
  maxLineBytes: number,
  onProblem?: (p: ReadProblem) => void,
  tracker?: PredecessorTracker,
  chain?: ForwardChain,
): ReadEntry | null {
  const raw = s.raw;
  // A line in the writer's exact form is read and filtered on its bytes (query/byte-facts.ts):
  // its text is its bytes (ASCII), its view is made from them, no parse (1M entries: JSON.parse
  // was 15% of forward's main thread); its record is parsed only if something asks for it.
  const verdict = raw.terminated && !raw.tooLong ? filter.matchesBytes(raw.bytes) : null;
  const item: ReadItem | null =
    verdict === null ? parseLine(raw, s.file, maxLineBytes) : new WriterFormEntry(raw, s.file, filter.bytesView());
  if (!item) return null;
  chain?.see(item);
  if (item.kind === 'problem') {
    onProblem?.(item);
    return null;
  }
  tracker?.see(item);
  if (verdict !== null) return verdict ? item : null;
  return filter.matches(item.view, item.record, item.text) ? item : null;
}

/**
 * The closed batches of `target` from `lines`, in order; the last one when `lines` ends. The
 * consumer is done with a batch's `end` line before it asks for the next batch.
 */
export async function* batches(
  lines: AsyncIterator<SourceLine[]>,
  target: ForwardTarget,
  o: BatcherOptions,
): AsyncGenerator<ClosedBatch, void, undefined> {
  const maxBytes = o.maxBatchBytes ?? (() => target.maxBatchBytes);
  let filling = new FillingBatch(target, maxBytes, o.chain);
  let last: SourceLine | null = null; // the last line read, matching or not
  let closed: SourceLine | null = null; // `last` when the batch before was closed
  const timer = new BatchTimer(o.waitMs);
  const close = (): ClosedBatch => {
    const { batch, journal, refused, bytes, marks } = filling;
    if (marks) marks.end = o.chain!.snapshot();
    filling = new FillingBatch(target, maxBytes, o.chain);
    // Only for a line not closed before: its bytes are still those of the chunk being read.
    const position = last && last !== closed ? positionAfter(last) : null;
    closed = last;
    return { batch, journal, refused, end: last, position, bytes, marks };
  };
  try {
    // A wait that timed out keeps its request for the next chunk for the next turn.
    let pending: Promise<IteratorResult<SourceLine[]>> | null = null;
    const turns = new EventLoopTurns(YIELD_EVERY_MS);
    for (;;) {
      const dirty: boolean = filling.entries > 0 || last !== o.savedLine();
      pending ??= lines.next();
      const r: IteratorResult<SourceLine[]> | typeof DUE = dirty ? await timer.race(pending) : await pending;
      if (r === DUE) {
        yield close();
        timer.restart();
        continue;
      }
      pending = null;
      if (r.done) break;
      if (!dirty) timer.start();
      for (const s of r.value) {
        last = s;
        const e = matchingEntry(s, o.filter, o.maxLineBytes, o.onProblem, o.tracker, o.chain);
        if (e && filling.add(e, s)) {
          yield close();
          timer.restart();
        }
      }
      // The next read reuses the buffer: the last line, if not in a closed batch yet, keeps a copy.
      if (last && last !== closed) last = detach(last);
      // Reads are synchronous and settle as microtasks: without a turn of the event loop now and
      // then, the batch in flight (its gzip on the thread pool, its request, its position save)
      // would wait until this one is full, and pipelining would be lost.
      const turn = turns.due();
      if (turn) await turn;
    }
    yield close();
  } finally {
    timer.stop();
  }
}

/** A batch being filled: the target's encoding of its entries, their original bytes, and refusals. */
class FillingBatch {
  batch: TargetBatch | null = null;
  readonly journal = new BatchJournal();
  readonly refused: Refused[] = [];
  /** With a chain check: the chain marks of the entries the target took. */
  readonly marks: BatchChainMarks | null;
  /** Entries added (refused ones too) and their bytes: what closes the batch. */
  entries = 0;
  bytes = 0;

  constructor(
    private readonly target: ForwardTarget,
    private readonly maxBytes: () => number,
    private readonly chain?: ForwardChain,
  ) {
    this.marks = chain ? new BatchChainMarks() : null;
  }

  /** Adds `e`, read from `s`; true when the batch is now full. */
  add(e: ReadEntry, s: SourceLine): boolean {
    this.entries++;
    this.bytes += e.bytes.length;
    this.batch ??= this.target.batch();
    const reason = this.batch.add(e);
    if (reason === null) {
      this.journal.add(e);
      this.marks?.add(s, this.chain!);
    }
    // Kept without the parsed record and the raw bytes (a view of a whole read chunk): refusals are rare.
    else this.refused.push({ entry: { ...e, record: NO_RECORD, bytes: NO_BYTES }, reason });
    return this.entries >= this.target.maxBatchEntries || this.bytes >= this.maxBytes();
  }
}

/**
 * When the batch being filled is due: one timer per batch, armed at the first wait for lines and
 * kept until the batch closes, not one per line (a timer per line kept tens of thousands of
 * timers and their promises alive at full speed).
 */
class BatchTimer {
  private timer: NodeJS.Timeout | null = null;
  private wake: ((v: typeof DUE) => void) | null = null;
  private startedAt = 0;

  constructor(private readonly waitMs: number) {}

  /** The batch starts now (its first line was read). */
  start(): void {
    this.startedAt = Date.now();
  }

  /** A batch was closed: the next one starts now, its timer not armed yet. */
  restart(): void {
    this.stop();
    this.start();
  }

  /** `next`, or DUE if the batch is due first. */
  async race<T>(next: Promise<T>): Promise<T | typeof DUE> {
    this.timer ??= setTimeout(
      () => {
        this.timer = null;
        this.wake?.(DUE);
      },
      Math.max(0, this.startedAt + this.waitMs - Date.now()),
    );
    try {
      return await new Promise<T | typeof DUE>((resolve, reject) => {
        this.wake = resolve;
        next.then(resolve, reject);
      });
    } finally {
      this.wake = null;
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
