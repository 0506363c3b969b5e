/**
 * `forward --checkpoint-every N`: a signed checkpoint of the chain head (anchors/checkpoints.ts)
 * after every N entries the counting target acknowledged, pushed to a store off the host (the
 * forward's own Loki, or `--checkpoint-store`), so the head is anchored without a second cron job.
 *
 * A checkpoint never anchors an entry that does not chain. The counting target's lines are
 * checked as they are read, before the filter, by the chain rule of coverage.ts (spec §3: one
 * canonicalization and one SHA-256 per entry, the byte canonicalizer's fast path), from the
 * genesis or from the chain state saved with the target's last position. The first line that is
 * not an entry chaining from the one before it — an edited entry (its hash kept or not), an
 * entry without a hash, a line that is no entry, a fork, an unreadable file — ends the signing:
 * no checkpoint is signed past it, in this run or later ones (the state keeps the break), and
 * forwarding goes on (forward's job is that no entry is lost; `verify` says what the break is).
 *
 * The count and the chain state are saved inside each position (positions.ts
 * `Position.checkpoints`), in the same write: a restart counts on from the saved position, and
 * a batch sent again after a crash is not counted twice. Checkpoints are pushed one at a time,
 * in order, off the batch path, with the pipeline's retry (delivery.ts `retryAttempts`); one
 * waiting while an older one is still being pushed is replaced by a newer one (a head commits to
 * every entry before it). The newest checkpoint not yet in the store is kept in the state file
 * (`StateFile.pendingCheckpoint`) and pushed first by the next run: the same bytes, which Loki
 * keeps once (the same stream, time and line) and a directory store finds already there.
 */
import { ChainCoverage } from '../chain/coverage.js';
import {
  signCheckpoint,
  type Checkpoint,
  type CheckpointKey,
  type CheckpointStatement,
} from '../chain/anchors/checkpoints.js';
import { storedHashOfRecord } from '../chain/stored-hash.js';
import type { ReadItem, ReadProblem } from '../read/entries.js';
import { parseLine } from '../read/entries.js';
import type { AuditFile } from '../read/files.js';
import type { BatchJournal } from './dead-letter.js';
import { retryAttempts, type RetryNotice, type RetryPolicy } from './delivery.js';
import type { StateWriter } from './position-saver.js';
import type { Position, StateFile } from './positions.js';
import { source, type SourceLine, type SourceOptions } from './source.js';
import type { DeliverResult, TargetRefusal } from './target.js';

/** The first line of the chain that did not chain: no checkpoint is signed past it. */
export interface ChainBreak {
  file: string;
  line: number;
  /** `does-not-chain`, `after-unreadable`, `no-hash` (coverage.ts), or a read problem's code. */
  reason: string;
}

/** The chain as checked up to a point. */
export interface ChainState {
  /** The stored hash of the last entry that chained (null: none yet, the genesis). */
  head: string | null;
  /** Entries that chained, from the genesis up to `head`. */
  entries: number;
  /** The first line that did not chain; null: none so far. */
  broken: ChainBreak | null;
}

/** What a position of the counting target holds of its checkpoints (saved with it). */
export interface PositionCheckpoints {
  /** Entries the target acknowledged, counted since checkpoints began, up to this position. */
  acknowledged: number;
  /** The chain as checked up to this position. */
  chain: ChainState;
  /** The newest checkpoint signed: its head and the count it was signed at; null: none yet. */
  signed: { head: string; acknowledged: number } | null;
}

/** Where checkpoints go (implemented at the edge: Loki, a directory). */
export interface CheckpointStore {
  /** The store, for messages (a URL and stream, or a directory). */
  readonly name: string;
  /**
   * Stores one checkpoint; one already there with the same bytes counts as stored. Never throws:
   * a passing failure is `retryable`, anything else a refusal (as a target's answer, target.ts).
   */
  push(c: Checkpoint): Promise<DeliverResult>;
  /** Lets go of its connections (the run is over). */
  close?(): void;
}

export interface ForwardCheckpointOptions {
  /** A checkpoint after every this many acknowledged entries (≥ 1). */
  every: number;
  key: CheckpointKey;
  store: CheckpointStore;
  /** The id of the target whose acknowledged entries are counted (it must acknowledge). */
  target: string;
  /** The audit directory, absolute (the statement's `dir`). */
  dir: string;
  /** The signing time (default: now). */
  now?: () => Date;
}

/** What a run's checkpoints came to (`forward --json`'s `checkpoints`). */
export interface CheckpointReport {
  store: string;
  every: number;
  target: string;
  /** Checkpoints signed in this run. */
  signed: number;
  /** Checkpoints that reached the store in this run (a previous run's pending one included). */
  pushed: number;
  /** Signed, then replaced by a newer one before they could be pushed (the newer covers them). */
  superseded: number;
  /** A signed checkpoint is not in the store at the end: kept in the state file for the next run. */
  pending: boolean;
  /** The last push failure (null: none); `stopped`: the store refused it (credentials, path, …). */
  error: string | null;
  stopped: TargetRefusal | null;
  /** The newest checkpoint that reached the store in this run. */
  last: CheckpointStatement | null;
  /** Where the chain broke (this run or before): nothing past it is signed. */
  brokenAt: ChainBreak | null;
}

/** What the checkpoints tell the run as they happen. */
export type CheckpointEvent =
  /** The chain breaks at `at`: no checkpoint past it (`resumed`: found by an earlier run). */
  | { kind: 'chain-break'; target: string; at: ChainBreak; resumed: boolean }
  /** A checkpoint reached the store. */
  | { kind: 'checkpoint'; store: string; statement: CheckpointStatement }
  | { kind: 'checkpoint-retry'; store: string; error: string; attempt: number; delayMs: number }
  /** A push was given up on (or refused): the checkpoint stays pending. */
  | { kind: 'checkpoint-failed'; store: string; error: string };

/**
 * The chain check of the lines one target reads, in chain order, before its filter: each entry
 * must chain from the one before it (coverage.ts's rule, the byte canonicalizer first). Stops
 * looking at the first line that does not: the break is sticky.
 */
export class ForwardChain {
  private readonly coverage: ChainCoverage;
  private state: ChainState;

  /**
   * @param from the chain state to go on from (the genesis: `{head: null, entries: 0, broken: null}`)
   * @param onBreak told once, at the first line that does not chain
   */
  constructor(
    from: ChainState,
    maxLineBytes: number,
    private readonly onBreak: (b: ChainBreak) => void,
  ) {
    this.state = { ...from };
    this.coverage = new ChainCoverage([], maxLineBytes);
    this.coverage.resume(from.head);
  }

  /** The chain as checked so far (a copy). */
  snapshot(): ChainState {
    return { ...this.state };
  }

  get broken(): boolean {
    return this.state.broken !== null;
  }

  get head(): string | null {
    return this.state.head;
  }

  get entries(): number {
    return this.state.entries;
  }

  /** One line read: an entry, or a line that is no entry (a problem). */
  see(item: ReadItem): void {
    if (this.state.broken) return;
    if (item.kind === 'problem') return this.problem(item);
    const before = item.unverified;
    this.coverage.item(item);
    const reason = item.unverified;
    // The mark is coverage's way of answering; the entry goes to the targets as it was read.
    item.unverified = before;
    if (reason === null) {
      this.state.head = storedHashOfRecord(item.record);
      this.state.entries++;
    } else this.breakAt({ file: item.file, line: item.line, reason: reason ?? 'unchecked' });
  }

  /** A line that is no entry, or a file that could not be read: what it held cannot be known. */
  problem(p: ReadProblem): void {
    if (!this.state.broken) this.breakAt({ file: p.file, line: p.line, reason: p.code });
  }

  private breakAt(b: ChainBreak): void {
    this.state.broken = b;
    this.onBreak(b);
  }
}

/**
 * Where each entry a batch of the counting target took stands in the chain, in the batch's
 * order (the indexes of the delivery's parts and of its journal), and the chain state when the
 * batch closed. Two numbers per entry in typed arrays, no object: a batch lives long enough for
 * what it holds to be promoted (bytelist.ts), and the entry itself is in the batch's journal.
 */
export class BatchChainMarks {
  /** Per entry: the entries that chained up to and including it; 0 when it is past a break. */
  private ordinals = new Float64Array(256);
  /** Per entry: the byte offset just past its line terminator. */
  private ends = new Float64Array(256);
  size = 0;
  /** The chain state when the batch closed (set by the batcher). */
  end: ChainState = { head: null, entries: 0, broken: null };

  /** Records the entry read from `s`, just seen by `chain`. */
  add(s: SourceLine, chain: ForwardChain): void {
    if (this.size === this.ordinals.length) {
      const grow = (a: Float64Array) => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.ordinals = grow(this.ordinals);
      this.ends = grow(this.ends);
    }
    this.ordinals[this.size] = chain.broken ? 0 : chain.entries;
    this.ends[this.size++] = s.raw.offset + s.raw.length + (s.raw.crlf ? 2 : 1);
  }

  /** Entries that chained up to entry `i`; 0 when it is past a break. */
  ordinal(i: number): number {
    return this.ordinals[i];
  }

  /** The byte offset just past entry `i`'s line. */
  endOf(i: number): number {
    return this.ends[i];
  }
}

/** What a run gives its checkpoints when it starts. */
export interface CheckpointRun {
  retry: RetryPolicy;
  stateFile: StateWriter;
  onEvent?: (e: CheckpointEvent) => void;
}

/**
 * One forward run's checkpoints: the counting target's chain check ({@link chainFor}), the
 * count at each of its acknowledgements ({@link acknowledged}), the signing and the pushes.
 */
export class ForwardCheckpoints {
  readonly report: CheckpointReport;
  private run: CheckpointRun | null = null;
  private acknowledgedCount = 0;
  private signed: PositionCheckpoints['signed'] = null;
  private inflight: Checkpoint | null = null;
  private waiting: Checkpoint | null = null;
  private draining: Promise<void> | null = null;
  /** The checkpoint a previous run left pending, pushed first by this one (its head is not signed again). */
  private carried: Checkpoint | null = null;

  constructor(
    private readonly options: ForwardCheckpointOptions,
    private readonly state: StateFile,
  ) {
    if (!Number.isInteger(options.every) || options.every < 1)
      throw new RangeError(`checkpoint interval must be a whole number ≥ 1, got ${options.every}`);
    this.report = {
      store: options.store.name,
      every: options.every,
      target: options.target,
      signed: 0,
      pushed: 0,
      superseded: 0,
      pending: false,
      error: null,
      stopped: null,
      last: null,
      brokenAt: null,
    };
  }

  /** The id of the target whose acknowledged entries are counted. */
  get target(): string {
    return this.options.target;
  }

  /** The run starts: a checkpoint a previous run left pending is pushed first. */
  start(run: CheckpointRun): void {
    this.run = run;
    const pending = this.state.pendingCheckpoint;
    if (pending && pending.statement?.dir === this.options.dir) {
      this.carried = pending;
      this.enqueue(pending);
    }
  }

  /**
   * The chain check of the counting target, from where it starts (`from`, as the pipeline
   * resolved it): the genesis at the start of the first file; else the chain state saved with
   * its position; else (a position saved without checkpoints, or `--start-at end`) the files
   * are checked from the genesis up to `from` first — once, by this run.
   */
  async chainFor(
    files: AuditFile[],
    from: SourceOptions['from'],
    o: { dir: string; maxLineBytes: number; signal?: AbortSignal },
  ): Promise<ForwardChain> {
    const onBreak = (b: ChainBreak, resumed = false) => {
      this.report.brokenAt = b;
      this.run?.onEvent?.({ kind: 'chain-break', target: this.options.target, at: b, resumed });
    };
    const saved = from.position?.checkpoints;
    if (saved) {
      this.acknowledgedCount = saved.acknowledged;
      this.signed = saved.signed;
      if (saved.chain.broken) onBreak(saved.chain.broken, true);
      return new ForwardChain(saved.chain, o.maxLineBytes, onBreak);
    }
    const chain = new ForwardChain({ head: null, entries: 0, broken: null }, o.maxLineBytes, onBreak);
    if (from.index > 0 || from.position) await checkUpTo(chain, files, from, o);
    return chain;
  }

  /**
   * A batch of the counting target was acknowledged: its entries but those at `refused` (batch
   * indexes, dead-lettered) are counted, a checkpoint is signed at each multiple of `every`
   * whose entry chains, and `position` gets the count and chain state to be saved with it.
   */
  acknowledged(
    marks: BatchChainMarks,
    journal: BatchJournal,
    refused: readonly number[],
    position: Position | null,
    maxLineBytes: number,
  ): Position | null {
    const every = this.options.every;
    const skip = refused.length ? new Set(refused) : null;
    for (let i = 0; i < marks.size; i++) {
      if (skip?.has(i)) continue;
      if (++this.acknowledgedCount % every === 0) this.due(marks, journal, i, maxLineBytes);
    }
    if (!position) return null;
    const checkpoints: PositionCheckpoints = {
      acknowledged: this.acknowledgedCount,
      chain: marks.end,
      signed: this.signed,
    };
    return { ...position, checkpoints };
  }

  /**
   * Resolves once the pushes are done: every checkpoint in the store, or given up on (kept
   * pending in the state file, written before this resolves).
   */
  async settle(): Promise<CheckpointReport> {
    await this.drained();
    this.options.store.close?.();
    this.report.pending = !!this.state.pendingCheckpoint;
    return this.report;
  }

  /**
   * Resolves once nothing waits to be pushed (each push's state-file write done). A checkpoint
   * signed while another waits supersedes it: what a caller that waits here never sees.
   */
  async drained(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** The entry at batch index `i` is the Nth acknowledged: its head is signed, if it chains. */
  private due(marks: BatchChainMarks, journal: BatchJournal, i: number, maxLineBytes: number): void {
    const entries = marks.ordinal(i);
    if (entries === 0) return; // past the break: never signed
    // The entry, read again from the batch's journal (once every N entries): it chained, so
    // its stored hash is the head.
    const e = journal.entryAt(i, maxLineBytes);
    const head = e ? storedHashOfRecord(e.record) : null;
    if (!e || !head) return;
    if (this.signed?.head === head) return; // signed already (a batch sent again after a crash)
    this.signed = { head, acknowledged: this.acknowledgedCount };
    // Signed by a run that died before its position was saved: that checkpoint, not another
    // (pushed again while it is pending; once pushed, nothing more).
    const earlier = [this.state.pendingCheckpoint, this.carried].find((p) => p?.statement.head === head);
    if (earlier) {
      if (earlier === this.state.pendingCheckpoint && earlier !== this.inflight && earlier !== this.waiting)
        this.enqueue(earlier);
      return;
    }
    this.report.signed++;
    this.enqueue(
      signCheckpoint(
        {
          format: 'loki-audit-checkpoint/1',
          dir: this.options.dir,
          head,
          file: e.file,
          line: e.line,
          offset: marks.endOf(i),
          entries,
          time: (this.options.now?.() ?? new Date()).toISOString(),
        },
        this.options.key,
      ),
    );
  }

  private enqueue(c: Checkpoint): void {
    if (this.waiting) this.report.superseded++;
    this.waiting = c;
    this.state.pendingCheckpoint = c;
    this.draining ??= this.drain().finally(() => (this.draining = null));
  }

  /** Pushes what waits, one at a time, until nothing does. */
  private async drain(): Promise<void> {
    const run = this.run;
    if (!run) throw new Error('ForwardCheckpoints.start was not called');
    const store = this.options.store;
    const onRetry = (n: RetryNotice) =>
      run.onEvent?.({
        kind: 'checkpoint-retry',
        store: store.name,
        error: n.error,
        attempt: n.attempt,
        delayMs: n.delayMs,
      });
    while (this.waiting) {
      const c = (this.inflight = this.waiting);
      this.waiting = null;
      const r = await retryAttempts(() => store.push(c), run.retry, onRetry, true);
      this.inflight = null;
      if (r.kind === 'delivered') {
        this.report.pushed++;
        this.report.last = c.statement;
        run.onEvent?.({ kind: 'checkpoint', store: store.name, statement: c.statement });
      } else {
        this.report.error = r.error;
        this.report.stopped = r.kind === 'stopped' ? r.refusal : null;
        run.onEvent?.({ kind: 'checkpoint-failed', store: store.name, error: r.error });
      }
      this.state.pendingCheckpoint = this.waiting ?? (r.kind === 'delivered' ? null : c);
      // The store has it (or not): said in the state file now, not at the next position saved.
      await run.stateFile.flush().catch(() => undefined);
    }
  }
}

/**
 * Checks the chain of `files` from the genesis up to `to` (whole lines that start before it):
 * for a target whose position was saved without checkpoints. Streams, like the forward itself.
 */
async function checkUpTo(
  chain: ForwardChain,
  files: AuditFile[],
  to: SourceOptions['from'],
  o: { dir: string; maxLineBytes: number; signal?: AbortSignal },
): Promise<void> {
  const index = new Map(files.map((f, i) => [f.name, i]));
  const end = to.position ? to.position.offset : 0;
  const lines = source({
    dir: o.dir,
    files: files.slice(0, to.index + 1),
    from: { index: 0, position: null },
    follow: false,
    maxLineBytes: o.maxLineBytes,
    signal: o.signal,
    onUnreadable: (p) => chain.problem(p),
  });
  for await (const chunk of lines) {
    for (const s of chunk) {
      const at = index.get(s.file) ?? 0;
      if (at > to.index || (at === to.index && s.raw.offset >= end)) return;
      const item = parseLine(s.raw, s.file, o.maxLineBytes);
      if (item) chain.see(item);
      if (chain.broken) return;
    }
  }
}
