/**
 * Forwarding entries to targets (Loki, syslog) with no loss and no duplicates beyond the batch
 * in flight at a crash.
 *
 * Each target runs its own pipeline: read from the target's saved position (the files are the
 * queue: nothing waits in memory but one batch), filter, batch (by count, bytes and time, like
 * Promtail: 1 MiB or 1 s), deliver with retries (exponential backoff with jitter on retryable
 * errors), then save the position of the last entry of the batch. Entries the target refuses
 * for good (Loki 4xx, too old) go to a dead-letter file with the reason, and the run reports
 * them. Killed at any point, a restart re-sends at most the batch that was in flight.
 */
import type { EntryFilter } from '../query/filters.js';
import type { ReadProblem, ReadProgress } from '../read/entries.js';
import { parseLine } from '../read/entries.js';
import { discoverAuditFiles } from '../read/files.js';
import { DEFAULT_MAX_LINE_BYTES } from '../read/lines.js';
import { BatchJournal, DeadLetterFile, type Refused } from './dead-letter.js';
import { deliverWithRetry } from './delivery.js';
import { PositionSaver, StateWriter } from './position-saver.js';
import type { Position, StateFile } from './positions.js';
import { locate } from './positions.js';
import { detach, positionAfter, progressIn, source, type SourceLine } from './source.js';
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
  position: Position | null;
}

const TIMEOUT: unique symbol = Symbol('timeout');
const NO_RECORD: Record<string, unknown> = Object.freeze({});
const NO_BYTES = Buffer.alloc(0);

/**
 * Forwards to every target until the files end (or, with `follow`, until `signal` aborts).
 * @throws StateError when a saved position no longer matches the directory.
 * @throws AuditDirError when the directory is missing.
 */
export async function forward(targets: ForwardTarget[], options: ForwardOptions): Promise<TargetReport[]> {
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const found = await discoverAuditFiles(options.dir, !options.follow);
  const files = found.files;
  // Resolve every saved position first: a mismatch stops everything before anything is sent.
  const starts = new Map<string, { index: number; position: Position | null }>();
  for (const t of targets) {
    const saved = options.state.targets[t.id];
    if (saved) starts.set(t.id, await locate(files, saved));
    else if (options.startAt === 'end') starts.set(t.id, { index: files.length, position: null });
    else starts.set(t.id, { index: 0, position: null });
  }
  const readProgress = progressIn(files);
  const stateFile = new StateWriter(options.statePath, options.state);
  const deadLetters = new DeadLetterFile(options.deadLetterPath);

  const run = async (t: ForwardTarget): Promise<TargetReport> => {
    const report: TargetReport = {
      target: t.id,
      delivered: 0,
      deadLettered: 0,
      error: null,
      position: options.state.targets[t.id] ?? null,
    };
    const from = starts.get(t.id)!;
    const it = source({
      dir: options.dir,
      files,
      from,
      follow: options.follow === true,
      maxLineBytes,
      signal: options.signal,
      pollMs: options.pollMs,
    })[Symbol.asyncIterator]();
    // The batch being filled: the target's encoding, the original bytes of what it took (to
    // dead-letter them if the whole batch is refused) and what it refused.
    let batch: TargetBatch | null = null;
    let journal = new BatchJournal();
    let refused: Refused[] = [];
    let batchEntries = 0;
    let batchBytes = 0;
    let batchStarted = 0;
    let lastLine = null as SourceLine | null; // last line read, matching or not
    let savedLine = null as SourceLine | null;
    const waitMs = options.batchWaitMs ?? 1000;
    const backoff = options.backoffMs ?? { min: 500, max: 30_000 };
    const giveUp = options.giveUpAfterMs ?? (options.follow ? Infinity : 300_000);

    // The position after the last line read when a batch was closed is saved once that batch and
    // every one before it are acknowledged. It is made when the batch is closed: by the time it is
    // saved, the line's bytes (a view of a reused read buffer) hold other lines.
    const positions = new PositionSaver((p) => stateFile.save(t.id, p));

    const preview: TargetPreview = { target: t.id, entries: 0, streams: {}, sample: null, refused: {} };
    if (options.dryRun) options.previews?.push(preview);

    const refuse = (items: Refused[]) => {
      if (!items.length) return;
      deadLetters.write(t.id, items);
      report.deadLettered += items.length;
      options.onEvent?.({ kind: 'dead-letter', target: t.id, entries: items.length, reason: items[0].reason });
    };

    // Delivers one batch, retrying; false when the target was given up on.
    const deliver = async (sending: TargetBatch, sent: BatchJournal): Promise<boolean> => {
      const policy = { backoffMs: backoff, giveUpAfterMs: giveUp, signal: options.signal };
      const r = await deliverWithRetry(t, sending, policy, (n) =>
        options.onEvent?.({ kind: 'retry', target: t.id, ...n }),
      );
      if (r.kind === 'delivered') {
        report.delivered += sending.size;
        options.onEvent?.({ kind: 'delivered', target: t.id, entries: sending.size });
        return true;
      }
      if (r.kind === 'refused') {
        refuse(sent.entries(maxLineBytes).map((entry) => ({ entry, reason: r.error })));
        return true;
      }
      report.error = r.error;
      options.onEvent?.({ kind: 'gave-up', target: t.id, error: r.error });
      return false;
    };

    // Pipelined: a closed batch is delivered while the next one is read (and parsed); at most
    // one is in flight, batches go out in order and positions are saved in order, so a crash
    // still re-sends at most the batch in flight. Resolves false once the target is given up on.
    // Refusals are dead-lettered once the batch is acknowledged: a target given up on reads
    // them again on the next run, and they are written once.
    let inflight: Promise<boolean> = Promise.resolve(true);
    let closedLine: SourceLine | null = null;
    const flush = async (): Promise<boolean> => {
      const sending = batch;
      const sent = journal;
      const sentRefused = refused;
      const endLine = lastLine;
      batch = null;
      journal = new BatchJournal();
      refused = [];
      batchEntries = 0;
      batchBytes = 0;
      if (options.dryRun) return true;
      // Only a line not closed before (its bytes are still those of the chunk being read).
      const endPosition = endLine && endLine !== closedLine ? positionAfter(endLine) : null;
      closedLine = endLine;
      const slot = positions.reserve();
      if (endLine && options.onEvent) options.onEvent({ kind: 'read', target: t.id, progress: readProgress(endLine) });
      const before = inflight;
      // Encode the end and start compressing now, while the batch before is still with the target.
      sending?.seal();
      inflight = (async () => {
        try {
          if (!(await before)) return false;
          if (sending && sending.size > 0 && !(await deliver(sending, sent))) return false;
        } finally {
          sent.release();
          if (sending) t.dispose?.(sending);
        }
        refuse(sentRefused);
        const saved = await positions.acknowledge(slot, endPosition);
        if (saved) {
          savedLine = endLine;
          report.position = saved;
        }
        return true;
      })();
      return before;
    };

    // One timer per batch (not per line: a timer per line kept ~40 000 timers and their
    // promises alive at full speed); it wakes the wait below when the batch is due.
    let timer: NodeJS.Timeout | null = null;
    let wake: ((v: typeof TIMEOUT) => void) | null = null;
    const arm = () => {
      timer ??= setTimeout(
        () => {
          timer = null;
          wake?.(TIMEOUT);
        },
        Math.max(0, batchStarted + waitMs - Date.now()),
      );
    };
    const disarm = () => {
      if (timer) clearTimeout(timer);
      timer = null;
    };

    try {
      // No read-ahead: the next chunk is asked for once this one's lines are done with (they are
      // views of the read buffer); a wait that timed out keeps its request for the next turn.
      let pending: Promise<IteratorResult<SourceLine[]>> | null = null;
      for (;;) {
        const dirty: boolean = batchEntries > 0 || lastLine !== savedLine;
        let r: IteratorResult<SourceLine[]> | typeof TIMEOUT;
        pending ??= it.next();
        if (dirty) {
          arm();
          const next = pending;
          r = await new Promise<IteratorResult<SourceLine[]> | typeof TIMEOUT>((resolve, reject) => {
            wake = resolve;
            next.then(resolve, reject);
          });
          wake = null;
        } else r = await pending;
        if (r === TIMEOUT) {
          if (!(await flush())) return report;
          disarm();
          batchStarted = Date.now();
          continue;
        }
        pending = null;
        if (r.done) break;
        if (!dirty) batchStarted = Date.now();
        for (const s of r.value) {
          lastLine = s;
          const item = parseLine(s.raw, s.file, maxLineBytes);
          if (!item) continue;
          if (item.kind === 'problem') {
            options.onEvent?.({ kind: 'problem', problem: item });
            continue;
          }
          if (!options.filter.matches(item.view, item.record, item.text)) continue;
          batchEntries++;
          batchBytes += item.bytes.length;
          if (options.dryRun) {
            t.preview(item, preview);
            preview.entries++;
          } else {
            batch ??= t.batch();
            const reason = batch.add(item);
            if (reason === null) journal.add(item);
            // Kept as is (the parsed record and the raw bytes, a view of a whole read chunk, dropped):
            // refusals are rare.
            else refused.push({ entry: { ...item, record: NO_RECORD, bytes: NO_BYTES }, reason });
          }
          if (batchEntries >= t.maxBatchEntries || batchBytes >= t.maxBatchBytes) {
            if (!(await flush())) return report;
            disarm();
            batchStarted = Date.now();
          }
        }
        // The next read reuses the buffer: the last line, if not yet in a closed batch, keeps a
        // copy of its bytes for the position saved when it is.
        if (lastLine && lastLine !== closedLine) lastLine = detach(lastLine);
      }
      await flush();
      await inflight;
      return report;
    } finally {
      disarm();
      await inflight.catch(() => false);
      await it.return?.(undefined);
      await stateFile.settled();
      await t.close();
    }
  };

  return Promise.all(targets.map(run));
}
