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
import { appendFileSync, mkdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { hashInLine } from './chain.js';
import type { AuditFile } from './files.js';
import { discoverAuditFiles } from './files.js';
import type { EntryFilter } from './filters.js';
import { followDirectory } from './follow.js';
import type { RawLine } from './lines.js';
import { DEFAULT_MAX_LINE_BYTES, openAuditFile, scanLines } from './lines.js';
import type { Position, StateFile } from './positions.js';
import { lineDigest, locate, saveState } from './positions.js';
import type { ReadEntry, ReadProblem, ReadProgress } from './reader.js';
import { readLine, sizeOf } from './reader.js';

/** What a target answered for a batch. */
export type DeliverResult =
  | { ok: true; rejected: Array<{ entry: ReadEntry; reason: string }> }
  | { ok: false; retryable: boolean; error: string };

/** A place entries go. */
export interface ForwardTarget {
  /** Stable identifier, the key of its position in the state file (no secrets in it). */
  readonly id: string;
  /** Largest batch, in entries and bytes. */
  readonly maxBatchEntries: number;
  readonly maxBatchBytes: number;
  /**
   * Delivers a batch. `prepared` is what {@link prepare} made of the same entries (the same
   * bytes are sent again on a retry).
   */
  deliver(entries: ReadEntry[], prepared?: unknown): Promise<DeliverResult>;
  /** Optional: the CPU work of a delivery (encoding, compression), started before the previous batch is acknowledged. */
  prepare?(entries: ReadEntry[]): unknown;
  /** What `deliver` would send, for `--dry-run`: streams/labels or a sample message, and refusals. */
  preview(entries: ReadEntry[], into: TargetPreview): void;
  close(): Promise<void>;
}

/** Accumulated `--dry-run` view of one target. */
export interface TargetPreview {
  target: string;
  entries: number;
  /** Loki: label set → entries. */
  streams: Record<string, number>;
  /** Syslog: the first message that would be sent. */
  sample: string | null;
  /** Entries the target would refuse, by reason. */
  refused: Record<string, number>;
}

/** A line read for forwarding, with where it ends. */
interface SourceLine {
  raw: RawLine;
  file: string;
  ino: number | null;
}

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

/** Lines from a position to the end of the files, then (with follow) as they are written. */
async function* source(dir: string, files: AuditFile[], from: { index: number; position: Position | null }, follow: boolean, maxLineBytes: number, signal?: AbortSignal, pollMs?: number): AsyncGenerator<SourceLine> {
  let last: { file: AuditFile; end: number; next: number } | null = null;
  for (let i = from.index; i < files.length; i++) {
    if (signal?.aborted) return;
    const f = files[i];
    const resume = i === from.index && from.position ? from.position : null;
    const ino = f.gz ? null : ((await stat(f.path).catch(() => null))?.ino ?? null);
    let start = 0;
    let firstLine = 1;
    let skipTo = 0;
    if (resume) {
      if (f.gz) skipTo = resume.offset;
      else start = resume.offset;
      firstLine = resume.line + 1;
    }
    let end = start;
    let next = firstLine;
    // 256 KiB reads: forward's memory is its batches; smaller reads cost a fifth of its speed (measured).
    for await (const raw of scanLines(openAuditFile(f.path, start, undefined, 256 * 1024), { maxLineBytes, startOffset: start, firstLine: f.gz && resume ? 1 : firstLine })) {
      if (raw.offset < skipTo) continue;
      if (!raw.terminated) break; // a write in progress: taken when whole (follow) or next run
      end = raw.offset + raw.length + (raw.crlf ? 2 : 1);
      next = raw.line + 1;
      yield { raw, file: f.name, ino };
      if (signal?.aborted) return;
    }
    last = { file: f, end, next };
  }
  if (!follow) return;
  const start = last && !last.file.gz ? { file: last.file.name, offset: last.end, line: last.next } : undefined;
  for await (const ev of followDirectory({ dir, start, maxLineBytes, signal, pollMs })) {
    if (ev.type === 'line') {
      const ino = (await stat(`${dir}/${ev.line.file}`).catch(() => null))?.ino ?? null;
      yield { raw: ev.line, file: ev.line.file, ino };
    }
  }
}

function positionOf(s: SourceLine): Position {
  const r = s.raw;
  const chainHash = hashInLine(r.bytes.toString('latin1'));
  return { file: s.file, ino: s.ino, entryOffset: r.offset, offset: r.offset + r.length + (r.crlf ? 2 : 1), line: r.line, lineSha256: lineDigest(r.bytes), chainHash, at: new Date().toISOString() };
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
  // Progress: files before the current one, plus the offset in it (capped: .gz offsets are decompressed).
  let sizes: number[] | null = null;
  const index = new Map(files.map((f, i) => [f.name, i]));
  const readProgress = (line: SourceLine): ReadProgress => {
    sizes ??= files.map((f) => sizeOf(f.path));
    const i = index.get(line.file) ?? 0;
    const before = sizes.slice(0, i).reduce((a, b) => a + b, 0);
    return { filesDone: i, files: files.length, bytesDone: before + Math.min(line.raw.offset + line.raw.length, sizes[i]), bytesTotal: sizes.reduce((a, b) => a + b, 0) };
  };
  let saving = Promise.resolve();
  const save = (id: string, p: Position) => {
    if (options.dryRun) return saving;
    options.state.targets[id] = p;
    saving = saving.then(() => saveState(options.statePath, options.state));
    return saving;
  };
  const deadLetter = (target: string, items: Array<{ entry: ReadEntry; reason: string }>) => {
    if (!items.length) return;
    mkdirSync(dirname(options.deadLetterPath), { recursive: true });
    const lines = items.map(({ entry, reason }) => JSON.stringify({ time: new Date().toISOString(), target, reason, file: entry.file, line: entry.line, chain_hash: entry.view.hash, entry: entry.text }) + '\n');
    appendFileSync(options.deadLetterPath, lines.join(''));
  };

  const run = async (t: ForwardTarget): Promise<TargetReport> => {
    const report: TargetReport = { target: t.id, delivered: 0, deadLettered: 0, error: null, position: options.state.targets[t.id] ?? null };
    const from = starts.get(t.id)!;
    const it = source(options.dir, files, from, options.follow === true, maxLineBytes, options.signal, options.pollMs)[Symbol.asyncIterator]();
    let batch: ReadEntry[] = [];
    let batchBytes = 0;
    let batchStarted = 0;
    let lastLine = null as SourceLine | null; // last line read, matching or not
    let savedLine = null as SourceLine | null;
    const waitMs = options.batchWaitMs ?? 1000;
    const backoff = options.backoffMs ?? { min: 500, max: 30_000 };
    const giveUp = options.giveUpAfterMs ?? (options.follow ? Infinity : 300_000);

    // The position after `line` (the last line read when a batch was closed), saved once
    // everything before it is acknowledged.
    const advance = async (line: SourceLine | null) => {
      if (!line || line === savedLine) return;
      const p = positionOf(line);
      await save(t.id, p);
      savedLine = line;
      report.position = p;
    };

    const preview: TargetPreview = { target: t.id, entries: 0, streams: {}, sample: null, refused: {} };
    if (options.dryRun) options.previews?.push(preview);

    // Delivers one batch, retrying; false when the target was given up on.
    const deliver = async (sending: ReadEntry[], prepared: unknown): Promise<boolean> => {
      const started = Date.now();
      for (let attempt = 1; ; attempt++) {
        const r = await t.deliver(sending, prepared);
        if (r.ok) {
          report.delivered += sending.length - r.rejected.length;
          if (r.rejected.length) {
            deadLetter(t.id, r.rejected);
            report.deadLettered += r.rejected.length;
            options.onEvent?.({ kind: 'dead-letter', target: t.id, entries: r.rejected.length, reason: r.rejected[0].reason });
          }
          options.onEvent?.({ kind: 'delivered', target: t.id, entries: sending.length - r.rejected.length });
          return true;
        }
        if (!r.retryable) {
          deadLetter(t.id, sending.map((entry) => ({ entry, reason: r.error })));
          report.deadLettered += sending.length;
          options.onEvent?.({ kind: 'dead-letter', target: t.id, entries: sending.length, reason: r.error });
          return true;
        }
        if (Date.now() - started >= giveUp || options.signal?.aborted) {
          report.error = r.error;
          options.onEvent?.({ kind: 'gave-up', target: t.id, error: r.error });
          return false;
        }
        const delayMs = Math.round(Math.min(backoff.max, backoff.min * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2));
        options.onEvent?.({ kind: 'retry', target: t.id, error: r.error, attempt, delayMs });
        await sleep(delayMs, undefined, { signal: options.signal }).catch(() => undefined);
      }
    };

    // Pipelined: a closed batch is delivered while the next one is read (and parsed); at most
    // one is in flight, batches go out in order and positions are saved in order, so a crash
    // still re-sends at most the batch in flight. Resolves false once the target is given up on.
    let inflight: Promise<boolean> = Promise.resolve(true);
    const flush = async (): Promise<boolean> => {
      if (options.dryRun) {
        t.preview(batch, preview);
        preview.entries += batch.length;
        batch = [];
        batchBytes = 0;
        return true;
      }
      const sending = batch;
      const endLine = lastLine;
      batch = [];
      batchBytes = 0;
      if (endLine && options.onEvent) options.onEvent({ kind: 'read', target: t.id, progress: readProgress(endLine) });
      const before = inflight;
      // Encode (and start compressing) now, while the batch before is still with the target.
      const prepared = sending.length > 0 ? t.prepare?.(sending) : undefined;
      inflight = (async () => {
        if (!(await before)) return false;
        if (sending.length > 0 && !(await deliver(sending, prepared))) return false;
        await advance(endLine);
        return true;
      })();
      return before;
    };

    // One timer per batch (not per line: a timer per line kept ~40 000 timers and their
    // promises alive at full speed); it wakes the wait below when the batch is due.
    let timer: NodeJS.Timeout | null = null;
    let wake: ((v: typeof TIMEOUT) => void) | null = null;
    const arm = () => {
      timer ??= setTimeout(() => {
        timer = null;
        wake?.(TIMEOUT);
      }, Math.max(0, batchStarted + waitMs - Date.now()));
    };
    const disarm = () => {
      if (timer) clearTimeout(timer);
      timer = null;
    };

    try {
      let pending = it.next();
      for (;;) {
        const dirty: boolean = batch.length > 0 || lastLine !== savedLine;
        let r: IteratorResult<SourceLine> | typeof TIMEOUT;
        if (dirty) {
          arm();
          const next = pending;
          r = await new Promise<IteratorResult<SourceLine> | typeof TIMEOUT>((resolve, reject) => {
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
        if (r.done) break;
        pending = it.next();
        const s: SourceLine = r.value;
        if (!dirty) batchStarted = Date.now();
        lastLine = s;
        const item = readLine(s.raw, s.file, maxLineBytes);
        if (!item) continue;
        if (item.kind === 'problem') {
          options.onEvent?.({ kind: 'problem', problem: item });
          continue;
        }
        if (!options.filter.matches(item.view, item.record, item.text)) continue;
        batchBytes += item.bytes.length;
        // Targets need the view, text, file and line only: the parsed record and the raw bytes
        // (a view of a whole read chunk) die young instead of living with the batch (memory).
        batch.push({ ...item, record: NO_RECORD, bytes: NO_BYTES });
        if (batch.length >= t.maxBatchEntries || batchBytes >= t.maxBatchBytes) {
          if (!(await flush())) return report;
          disarm();
          batchStarted = Date.now();
        }
      }
      await flush();
      await inflight;
      return report;
    } finally {
      disarm();
      await inflight.catch(() => false);
      await it.return?.(undefined);
      await saving;
      await t.close();
    }
  };

  return Promise.all(targets.map(run));
}
