/**
 * `forward --replay-dead-letter`: the entries of the dead-letter file (dead-letter.ts) sent again
 * to the targets that refused them, once what made them refuse is fixed (`--timestamp ingest`
 * for Loki's "timestamp too old" / "entry too far behind", a raised limit).
 *
 * The file is read streaming (one record line at a time, a batch per target in memory). Each
 * record's entry goes, with its original file and line (labels and structured metadata as a
 * normal run gives them), to the configured target whose id the record names; records of a
 * target not configured now, and lines that are not records, are kept as they are. What the
 * target takes is removed; what it refuses again, or could not be sent (the target stopped or
 * was given up on), stays.
 *
 * The records that stay are written to a temporary file beside the dead-letter file (mode 600,
 * O_CREAT|O_EXCL|O_NOFOLLOW, safe-files.ts), which is fsync'ed and renamed over it at the end:
 * killed at any point, the file is the old one whole (a record may then be sent again by the
 * next replay, never dropped). Lines a forward run appends meanwhile are carried over: after the
 * last record is read, whatever the file grew by is copied as it is before the rename, and
 * anything that still reached the old file after the rename is appended to the new one. The
 * positions of the state file are not touched. A temporary file a killed replay left is removed
 * by the next one.
 */
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReadEntry } from '../read/entries.js';
import { parseLine } from '../read/entries.js';
import { LineSplitter, type RawLine } from '../read/lines.js';
import { appendAll, createTempFile, openForAppend, refuseUnsafeTarget, writeError } from '../runtime/safe-files.js';
import { deliverWithRetry, type RetryNotice, type RetryPolicy } from './delivery.js';
import type { ForwardTarget, TargetBatch, TargetRefusal } from './target.js';

/** One target's part of a replay. */
export interface TargetReplay {
  target: string;
  /** Whether the target acknowledges (Loki, RELP); if not, `replayed` entries were only sent. */
  acknowledges: boolean;
  /** Entries the target took: removed from the dead-letter file. */
  replayed: number;
  /** Entries it refused again, or that were not sent because it stopped or was given up on: kept. */
  stillRefused: number;
  /** Set when the target was given up on or stopped (the rest of its records are kept). */
  error: string | null;
  stopped: TargetRefusal | null;
}

/** The outcome of a replay. */
export interface ReplayReport {
  file: string;
  /** Whether there was a dead-letter file at all. */
  found: boolean;
  /** Record lines read (not counting lines copied over from a concurrent run). */
  records: number;
  replayed: number;
  stillRefused: number;
  /** Records of targets not configured now, kept: their ids and counts. */
  unconfigured: Record<string, number>;
  /** Lines that are not dead-letter records (or whose entry is not one), kept as they are. */
  invalid: number;
  /** Lines a forward run appended during the replay, kept as they are. */
  carriedOver: number;
  targets: TargetReplay[];
}

export interface ReplayOptions {
  deadLetterPath: string;
  maxLineBytes: number;
  retry: RetryPolicy;
  onRetry?: (target: string, n: RetryNotice) => void;
  /** Entries a target took (acknowledged, or sent without acknowledgement), as they go. */
  onReplayed?: (target: string, entries: number) => void;
}

/** A record waiting in a target's batch: its line, to keep if the target does not take it. */
interface Pending {
  line: Buffer;
}

/** A target's batch being filled with records. */
interface Filling {
  batch: TargetBatch;
  pending: Pending[];
  bytes: number;
}

const CHUNK_BYTES = 256 * 1024;

/**
 * Replays the dead-letter file at `options.deadLetterPath` to `targets` (matched by id).
 * @throws UnsafeFileError (the path is a link or not a regular file), DiskFullError (the file
 *   is as it was), NodeJS.ErrnoException on other I/O errors (the file is as it was).
 */
export async function replayDeadLetters(targets: ForwardTarget[], options: ReplayOptions): Promise<ReplayReport> {
  const path = options.deadLetterPath;
  const report = emptyReport(path, targets);
  refuseUnsafeTarget(path);
  removeLeftovers(path);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return report;
    throw writeError(err, path);
  }
  report.found = true;
  let at: number;
  try {
    at = await new Rewrite(fd, targets, report, options).run();
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  try {
    await takeLate(fd, at, path, report);
  } finally {
    closeSync(fd);
  }
  return report;
}

/** A report with nothing replayed yet, one part per target. */
function emptyReport(path: string, targets: ForwardTarget[]): ReplayReport {
  return {
    file: path,
    found: false,
    records: 0,
    replayed: 0,
    stillRefused: 0,
    unconfigured: {},
    invalid: 0,
    carriedOver: 0,
    targets: targets.map((t) => ({
      target: t.id,
      acknowledges: t.acknowledges,
      replayed: 0,
      stillRefused: 0,
      error: null,
      stopped: null,
    })),
  };
}

/**
 * One pass over the open dead-letter file `fd`: its records read, each sent in its target's
 * batch or kept, the lines that stay written to a temporary file that is renamed over it.
 */
class Rewrite {
  private readonly path: string;
  private readonly byId: Map<string, ForwardTarget>;
  private readonly filling = new Map<ForwardTarget, Filling>();
  private readonly tmp: { fd: number; path: string };
  /** The temporary file, until it is closed. */
  private out: number | null;
  /** Bytes of the dead-letter file read. */
  private at = 0;

  constructor(
    private readonly fd: number,
    targets: ForwardTarget[],
    private readonly report: ReplayReport,
    private readonly options: ReplayOptions,
  ) {
    this.path = options.deadLetterPath;
    this.byId = new Map(targets.map((t) => [t.id, t]));
    this.tmp = createTempFile(this.path);
    this.out = this.tmp.fd;
  }

  /** Rewrites the file; returns the bytes of the old file taken (the rest came after the rename). */
  async run(): Promise<number> {
    try {
      if (!fstatSync(this.fd).isFile()) refuseUnsafeTarget(this.path);
      await this.readRecords();
      for (const t of [...this.filling.keys()]) await this.flush(t);
      for (const r of this.report.targets) {
        this.report.replayed += r.replayed;
        this.report.stillRefused += r.stillRefused;
      }
      this.carryOver();
      this.commit();
      return this.at;
    } catch (err) {
      if (this.out !== null) closeSync(this.out);
      rmSync(this.tmp.path, { force: true });
      throw writeError(err, this.path);
    }
  }

  /** Reads the records up to the end as it is now; the splitter copies each line it hands out. */
  private async readRecords(): Promise<void> {
    const maxRecordBytes = this.options.maxLineBytes * 6 + 64 * 1024;
    const splitter = new LineSplitter({ maxLineBytes: maxRecordBytes, volatile: true });
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    for (;;) {
      const n = readSync(this.fd, buf, 0, CHUNK_BYTES, this.at);
      if (n === 0) break;
      this.at += n;
      for (const raw of splitter.push(buf.subarray(0, n))) await this.onLine(raw);
    }
    const last = splitter.end();
    if (last) await this.onLine(last);
  }

  /** One line of the file: a record for a configured target goes in its batch; anything else is kept. */
  private async onLine(raw: RawLine): Promise<void> {
    const report = this.report;
    if (raw.tooLong) {
      // Too long to be one of ours: kept as it is, copied from the file.
      report.invalid++;
      copyRange(this.fd, this.out as number, raw.offset, raw.length);
      writeAllSync(this.out as number, NEWLINE);
      return;
    }
    if (raw.bytes.length === 0) return;
    report.records++;
    const rec = recordOf(raw.bytes, this.options.maxLineBytes);
    if (!rec) {
      report.invalid++;
      return this.keep(raw.bytes);
    }
    const t = this.byId.get(rec.target);
    if (!t) {
      report.unconfigured[rec.target] = (report.unconfigured[rec.target] ?? 0) + 1;
      return this.keep(raw.bytes);
    }
    await this.add(t, raw.bytes, rec.entry);
  }

  /** A record of target `t`, into its batch (sent when full); kept if `t` stopped or the batch refuses it. */
  private async add(t: ForwardTarget, line: Buffer, entry: ReadEntry): Promise<void> {
    const r = this.reportOf(t);
    if (r.error) {
      // The target stopped or was given up on: the rest of its records stay.
      r.stillRefused++;
      return this.keep(line);
    }
    let f = this.filling.get(t);
    if (!f) this.filling.set(t, (f = { batch: t.batch(), pending: [], bytes: 0 }));
    if (f.batch.add(entry) !== null) {
      r.stillRefused++;
      return this.keep(line);
    }
    f.pending.push({ line });
    f.bytes += entry.bytes.length;
    if (f.pending.length >= t.maxBatchEntries || f.bytes >= t.maxBatchBytes) await this.flush(t);
  }

  private async flush(t: ForwardTarget): Promise<void> {
    const f = this.filling.get(t);
    this.filling.delete(t);
    if (f && f.pending.length) await sendBatch(t, f, this.reportOf(t), (l) => this.keep(l), this.options);
  }

  private reportOf(t: ForwardTarget): TargetReplay {
    return this.report.targets.find((r) => r.target === t.id) as TargetReplay;
  }

  /** A line that stays in the file. */
  private keep(line: Buffer): void {
    writeAllSync(this.out as number, line);
    writeAllSync(this.out as number, NEWLINE);
  }

  /** What a forward run appended while the records were sent: copied as it is. */
  private carryOver(): void {
    for (let size = fstatSync(this.fd).size; size > this.at; size = fstatSync(this.fd).size) {
      this.report.carriedOver += copyRange(this.fd, this.out as number, this.at, size - this.at);
      this.at = size;
    }
  }

  /** The temporary file, synced, renamed over the dead-letter file. */
  private commit(): void {
    const out = this.out as number;
    fsyncSync(out);
    closeSync(out);
    this.out = null;
    refuseUnsafeTarget(this.path);
    renameSync(this.tmp.path, this.path);
  }
}

/**
 * A forward run that opened the old file just before the rename writes its lines there: gives it
 * a moment to finish (its append is one synchronous open-write-fsync-close) and appends what the
 * old file `fd` holds past byte `at` to the new file at `path`.
 */
async function takeLate(fd: number, at: number, path: string, report: ReplayReport): Promise<void> {
  await sleep(50);
  const size = fstatSync(fd).size;
  if (size <= at) return;
  const late = Buffer.alloc(size - at);
  readSync(fd, late, 0, late.length, at);
  const afd = openForAppend(path);
  try {
    appendAll(afd, late, path);
  } finally {
    closeSync(afd);
  }
  report.carriedOver += countLines(late);
}

const NEWLINE = Buffer.from('\n');

/**
 * Removes the temporary files of a replay that was killed (`.NAME.<16 hex>.tmp` beside the
 * file, createTempFile's names): they hold only copies of records still in the file.
 */
function removeLeftovers(path: string): void {
  const name = basename(path);
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  for (const n of names)
    if (n.startsWith(`.${name}.`) && /^[0-9a-f]{16}\.tmp$/.test(n.slice(name.length + 2)))
      rmSync(join(dirname(path), n), { force: true });
}

/** A dead-letter record's target and entry (its file and line from the record), or null. */
function recordOf(line: Buffer, maxLineBytes: number): { target: string; entry: ReadEntry } | null {
  let rec: unknown;
  try {
    rec = JSON.parse(line.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof rec !== 'object' || rec === null) return null;
  const { target, entry, file, line: n } = rec as Record<string, unknown>;
  if (typeof target !== 'string' || typeof entry !== 'string' || typeof file !== 'string') return null;
  const bytes = Buffer.from(entry, 'utf8');
  const lineNo = Number.isInteger(n) ? (n as number) : 0;
  const item = parseLine(
    { bytes, line: lineNo, offset: 0, length: bytes.length, terminated: true, tooLong: false, crlf: false },
    file,
    maxLineBytes,
  );
  return item?.kind === 'entry' ? { target, entry: item } : null;
}

/**
 * Delivers a filled batch; a part the target refuses is sent again entry by entry (each alone:
 * what it takes goes, what it refuses stays). A stop or give-up keeps every record not taken.
 */
async function sendBatch(
  t: ForwardTarget,
  f: Filling,
  r: TargetReplay,
  keep: (line: Buffer) => void,
  options: ReplayOptions,
): Promise<void> {
  const onRetry = (n: RetryNotice) => options.onRetry?.(t.id, n);
  f.batch.seal();
  try {
    const whole = await deliverWithRetry(t, f.batch, options.retry, onRetry);
    if (whole.kind === 'delivered') return took(t, r, f.pending.length, options);
    // Refused as a whole (Loki counted every entry of it), or cannot be split: all stay.
    const all = whole.kind === 'refused' && (whole.refusedEntries ?? 0) >= f.pending.length;
    if (whole.kind !== 'refused' || all || f.pending.length === 1 || !t.slice) {
      if (whole.kind === 'stopped' || whole.kind === 'gave-up') {
        r.error = whole.error;
        if (whole.kind === 'stopped') r.stopped = whole.refusal;
      }
      for (const p of f.pending) keep(p.line);
      r.stillRefused += f.pending.length;
      return;
    }
    for (let i = 0; i < f.pending.length; i++) {
      if (r.error) {
        keep(f.pending[i].line);
        r.stillRefused++;
        continue;
      }
      const one = t.slice(f.batch, i, i + 1);
      try {
        const o = await deliverWithRetry(t, one, options.retry, onRetry, true);
        if (o.kind === 'delivered') {
          took(t, r, 1, options);
          continue;
        }
        if (o.kind === 'stopped' || o.kind === 'gave-up') {
          r.error = o.error;
          if (o.kind === 'stopped') r.stopped = o.refusal;
        }
        keep(f.pending[i].line);
        r.stillRefused++;
      } finally {
        t.dispose?.(one);
      }
    }
  } finally {
    t.dispose?.(f.batch);
  }
}

function took(t: ForwardTarget, r: TargetReplay, n: number, options: ReplayOptions): void {
  r.replayed += n;
  options.onReplayed?.(t.id, n);
}

function writeAllSync(fd: number, data: Uint8Array): void {
  for (let done = 0; done < data.length;) done += writeSync(fd, data, done, data.length - done);
}

/** Copies `length` bytes at `from` of file `src` to the end of `dst`; returns the lines copied. */
function copyRange(src: number, dst: number, from: number, length: number): number {
  const buf = Buffer.allocUnsafe(Math.min(length, CHUNK_BYTES));
  let lines = 0;
  for (let done = 0; done < length;) {
    const n = readSync(src, buf, 0, Math.min(buf.length, length - done), from + done);
    if (n === 0) break;
    writeAllSync(dst, buf.subarray(0, n));
    lines += countLines(buf.subarray(0, n));
    done += n;
  }
  return lines;
}

function countLines(b: Uint8Array): number {
  let n = 0;
  for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) n++;
  return n;
}
