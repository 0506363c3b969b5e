/**
 * Byte-exact line scanning of audit files.
 *
 * Why not split2 here: the chain reader needs what a text splitter throws away — each line's
 * exact bytes (for `-o raw`, jsonl export and re-hashing), its byte offset (for resumable
 * positions and incremental verify), whether it ended with a newline (a torn last write), and
 * invalid UTF-8 reported rather than replaced by U+FFFD. split2 decodes with a lenient
 * StringDecoder, so it is used for text streams that need none of this (e.g. stdin JSON).
 *
 * Line rule: a line ends at `\n`; a `\r` right before it is part of the terminator (CRLF).
 * A bare `\r` inside a line is kept as data (JSON whitespace between tokens), unlike Python's
 * universal newlines, which split there (spec §7, fixture `tampered/lone-cr`). Except in a file
 * whose first line ends with a lone `\r` followed by the next entry (`}\r{`: classic-Mac line
 * endings, which Python's universal newlines read as one entry per line, spec §10.24): there
 * `\r`, `\n` and `\r\n` all end a line, as in Python.
 */
import { closeSync, createReadStream, readSync } from 'node:fs';
import { checkRegularFile, openRegularFile } from './open.js';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { needleFinder, needlesFor, type Needle, type NeedleChoices } from './needles.js';

/** Default longest line accepted, in bytes; longer lines are reported, never buffered whole. */
export const DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024;

/** One physical line of a file. */
export interface RawLine {
  /** The line's bytes without its terminator (`\n` or `\r\n`). Empty for an over-long line. */
  bytes: Buffer;
  /** 1-based line number in the (decompressed) file; blank lines count. */
  line: number;
  /** Byte offset of the line's first byte in the (decompressed) file. */
  offset: number;
  /** Length in bytes of the line without terminator (also for over-long lines). */
  length: number;
  /** False for a final line with no `\n` after it (a write in progress, or torn by a crash). */
  terminated: boolean;
  /** True when the line was longer than the limit; `bytes` then holds nothing. */
  tooLong: boolean;
  /** True when the line ended with `\r\n`. */
  crlf: boolean;
  /** True when the line ended with a lone `\r` (a file with classic-Mac line endings, read as Python reads it). */
  cr?: boolean;
  /**
   * What the lines a needle search skipped right before this one hold of the chain (only with
   * {@link ScanOptions.classifySkipped}, and only when lines were skipped).
   */
  skippedBefore?: SkippedGap;
}

/** How a line handed out by the splitter ends: a `\n` after it, a lone `\r` in it, or not at all. */
type LineEnd = 'lf' | 'cr' | 'none';

/** What a line holds of its chain, for marking entries verified (core/chain/coverage.ts). */
export type LineChainKind =
  { kind: 'hashed'; hash: string } | { kind: 'unhashed' } | { kind: 'unreadable' } | { kind: 'blank' };

/**
 * What a run of lines holds of the chain: the stored hash of its last hashed entry (null when
 * none), and whether an unreadable line follows that entry (or, without one, is in the run).
 */
export interface SkippedGap {
  hash: string | null;
  broken: boolean;
}

/** The gap of `older` followed by `newer`. */
export function joinGaps(older: SkippedGap | null | undefined, newer: SkippedGap): SkippedGap {
  if (newer.hash !== null || !older) return newer;
  return { hash: older.hash, broken: older.broken || newer.broken };
}

/**
 * The gap of the lines of `chunk[start, end)` (`end` at a line end, `start` at a line start),
 * read from the last line back to the first hashed one: only the lines after it are classified.
 */
export function gapOfBytes(
  chunk: Buffer,
  start: number,
  end: number,
  classify: (line: Buffer) => LineChainKind,
): SkippedGap {
  let broken = false;
  let stop = end; // the line is chunk[from, stop)
  while (stop > start) {
    const nl = stop - 1 > start ? chunk.lastIndexOf(0x0a, stop - 2) : -1;
    const from = nl >= start ? nl + 1 : start;
    const k = classify(chunk.subarray(from, stop - (chunk[stop - 1] === 0x0a ? 1 : 0)));
    if (k.kind === 'hashed') return { hash: k.hash, broken };
    if (k.kind === 'unreadable') broken = true;
    stop = from;
  }
  return { hash: null, broken };
}

/** Options for {@link scanLines}. */
export interface ScanOptions {
  /** Longest line kept, in bytes (default {@link DEFAULT_MAX_LINE_BYTES}). */
  maxLineBytes?: number;
  /** Byte offset the stream starts at (for resumed reads); line numbers start at `firstLine`. */
  startOffset?: number;
  firstLine?: number;
  /**
   * Hand out only lines containing one of these byte strings (plus lines crossing a chunk
   * boundary, over-long lines and a final unterminated line, which always come out); or sets
   * of such byte strings, of which the rarest on the first chunk is searched (`chooseNeedles`).
   */
  needles?: readonly Needle[] | NeedleChoices;
  /**
   * The stream reuses its chunk buffer (see {@link readChunks}): bytes kept past a `push` are
   * copied (the lines handed out, a partial line). `'parts'`: only a partial line is copied; the
   * lines handed out are views of the chunk, for a reader done with them before it asks for
   * the next lines.
   */
  volatile?: boolean | 'parts';
  /**
   * Count empty lines (nothing, or a lone `\r`, before the `\n`) instead of handing them out:
   * a file of millions of them (a gzip of newlines) is then counted at the speed of a byte search.
   * {@link LineSplitter.emptyLines} says how many.
   */
  skipEmptyLines?: boolean;
  /**
   * Says what a line a needle search skips holds of the chain; then each line handed out after
   * skipped ones carries their {@link RawLine.skippedBefore} (the previous entry's stored hash
   * survives the skip). Only the skipped lines after the last hashed one are classified.
   */
  classifySkipped?: (line: Buffer) => LineChainKind;
}

/**
 * Incremental line splitter: feed chunks, get whole lines. Holds at most one line (up to the
 * limit) between calls. Used by {@link scanLines} and by `tail --follow`, which must never
 * hand out half a line (a line counts only once its newline is written).
 */
export class LineSplitter {
  private readonly max: number;
  private lineNo: number;
  private offset: number; // offset of the current line's first byte
  private parts: Buffer[] = []; // pieces of the current line from earlier chunks
  private partLen = 0; // bytes of the current line in earlier chunks (counted even when not kept)
  private partLast = -1; // last byte of those pieces, for CRLF across a chunk boundary
  private overflow = false;
  /**
   * Line endings: `detect` until the file's first line end is seen, then `lf` (`\n`, `\r\n`)
   * or `universal` (also a lone `\r`). Reads that start mid-file are `lf`.
   */
  private mode: 'detect' | 'lf' | 'universal';
  /** The pending line ends with a `\r` whose next byte is not read yet (`\r\n` or a lone `\r`). */
  private crPending = false;
  /** Empty lines counted, not handed out (with `skipEmptyLines`). */
  emptyLines = 0;
  private readonly skipEmpty: boolean;
  /** Copy a partial line kept past a push / copy the lines handed out. */
  private readonly copyParts: boolean;
  private readonly copyLines: boolean;
  private readonly classify: ((line: Buffer) => LineChainKind) | undefined;
  /** What the lines skipped since the last line handed out hold of the chain. */
  private gap: SkippedGap | null = null;

  constructor(options: ScanOptions = {}) {
    this.classify = options.classifySkipped;
    this.max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.copyParts = options.volatile === true || options.volatile === 'parts';
    this.copyLines = options.volatile === true;
    this.skipEmpty = options.skipEmptyLines === true;
    this.lineNo = options.firstLine ?? 1;
    this.offset = options.startOffset ?? 0;
    this.mode = this.offset > 0 ? 'lf' : 'detect';
  }

  /** Whether this file's lines end with lone CRs (read with universal newlines). */
  get universalNewlines(): boolean {
    return this.mode === 'universal';
  }

  /** Byte offset just after the last whole line handed out. */
  get position(): number {
    return this.offset;
  }

  /** Number the next line will get. */
  get nextLine(): number {
    return this.lineNo;
  }

  /**
   * What the lines skipped after the last line handed out hold of the chain (null when none
   * were skipped or no classifier was given); forgotten once asked for.
   */
  takeSkippedGap(): SkippedGap | null {
    const g = this.gap;
    this.gap = null;
    return g;
  }

  /** Bytes held of an unfinished line. */
  get pending(): number {
    return this.partLen;
  }

  /** Whole lines completed by `chunk`. */
  push(chunk: Buffer): RawLine[] {
    if (this.mode === 'detect') this.detectLineEndings(chunk);
    if (this.mode === 'universal') return this.pushUniversal(chunk);
    const out: RawLine[] = [];
    let pos = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, pos);
      if (nl === -1) {
        if (pos < chunk.length) this.hold(chunk.subarray(pos));
        return out;
      }
      if (this.skipEmpty && this.partLen === 0 && (nl === pos || (nl === pos + 1 && chunk[pos] === 0x0d))) {
        let end = nl + 1;
        // A run of empty lines (a gzip of newlines): compared a block at a time.
        while (end + NEWLINES.length <= chunk.length && NEWLINES.equals(chunk.subarray(end, end + NEWLINES.length)))
          end += NEWLINES.length;
        const n = 1 + end - (nl + 1);
        this.offset += end - pos;
        this.lineNo += n;
        this.emptyLines += n;
        pos = end;
        continue;
      }
      out.push(this.emit(chunk.subarray(pos, nl), 'lf'));
      pos = nl + 1;
    }
  }

  /**
   * Like {@link push}, but hands out only the lines that contain one of `needles` (found with
   * one native search per needle over the whole chunk, not per line), plus every line that is
   * not wholly inside this chunk and every over-long line; the others are counted and skipped
   * without an object per line. This is grep's trick: search the buffer, not the lines.
   * `choices`: one set of needles, or sets of which the rarest is searched (`chooseNeedles`).
   */
  pushSelected(chunk: Buffer, choices: readonly Needle[] | NeedleChoices): RawLine[] {
    if (this.mode === 'detect') this.detectLineEndings(chunk);
    if (this.mode === 'universal') return this.pushUniversal(chunk);
    const needles = needlesFor(choices, chunk);
    const out: RawLine[] = [];
    let pos = 0;
    let skippedFrom = -1; // start of the run of lines skipped before `pos`, if any
    const classify = this.classify;
    const find = needleFinder(needles, chunk);
    const hits = needles.map((_, i) => find(i, 0));
    // A line that began in an earlier chunk is always handed out (at most one per chunk).
    if (this.partLen > 0) {
      const nl = chunk.indexOf(0x0a, 0);
      if (nl === -1) return this.push(chunk);
      out.push(this.emit(chunk.subarray(0, nl), 'lf'));
      pos = nl + 1;
    }
    const max = this.max;
    for (;;) {
      // The first needle hit at or after `pos` (-1: none in the rest of the chunk).
      let next = -1;
      for (let i = 0; i < hits.length; i++) {
        let h = hits[i];
        if (h >= 0 && h < pos) h = hits[i] = find(i, pos);
        if (h >= 0 && (next < 0 || h < next)) next = h;
      }
      // The lines up to the one holding `next` are skipped (but over-long ones), one native
      // newline search each and no per-needle work: counted in locals, booked when a line is
      // taken or the chunk ends.
      const skipStart = pos;
      let skippedLines = 0;
      let nl: number;
      for (;;) {
        nl = chunk.indexOf(0x0a, pos);
        if (nl === -1 || (next >= 0 && next < nl) || nl - pos > max) break;
        skippedLines++;
        pos = nl + 1;
      }
      if (skippedLines > 0) {
        if (skippedFrom < 0) skippedFrom = skipStart;
        this.offset += pos - skipStart;
        this.lineNo += skippedLines;
      }
      if (nl === -1) {
        if (classify && skippedFrom >= 0) this.gap = joinGaps(this.gap, gapOfBytes(chunk, skippedFrom, pos, classify));
        out.push(...this.push(chunk.subarray(pos)));
        return out;
      }
      // A hit before `pos` (one starting at a newline, which no line holds): search again.
      if (next >= 0 && next < pos && nl - pos <= max) continue;
      // A line holding a hit (one that starts before its newline), or an over-long one.
      if (classify && skippedFrom >= 0) {
        this.gap = joinGaps(this.gap, gapOfBytes(chunk, skippedFrom, pos, classify));
        skippedFrom = -1;
      }
      out.push(this.emit(chunk.subarray(pos, nl), 'lf'));
      pos = nl + 1;
    }
  }

  /** The unfinished last line, if any (a final line without newline). */
  end(): RawLine | null {
    if (this.partLen === 0) return null;
    // A last line ending with a lone CR is a whole line to universal newlines.
    if (this.crPending || (this.mode === 'detect' && this.partLast === 0x0d && this.endsEntry())) {
      this.crPending = false;
      return this.emit(EMPTY, 'cr');
    }
    return this.emit(EMPTY, 'none');
  }

  /**
   * Decides the file's line endings from its first line end: a lone `\r` between the end of
   * one entry and the start of the next (`}\r{`, which whitespace inside an entry cannot be)
   * means universal newlines; a `\n` (or `\r\n`) first means `\n` line ends.
   */
  private detectLineEndings(chunk: Buffer): void {
    if (this.partLast === 0x0d && chunk.length > 0) {
      // The first line end is the `\r` held at the end of the last chunk.
      this.mode = chunk[0] === 0x7b && this.endsEntry() ? 'universal' : 'lf';
      this.crPending = this.mode === 'universal';
      return;
    }
    const nl = chunk.indexOf(0x0a);
    const cr = chunk.indexOf(0x0d);
    if (cr >= 0 && (nl < 0 || cr < nl)) {
      if (cr + 1 >= chunk.length) return; // decided by the next chunk
      const before = cr > 0 ? chunk[cr - 1] : this.partLast;
      this.mode = before === 0x7d && chunk[cr + 1] === 0x7b ? 'universal' : 'lf';
    } else if (nl >= 0) this.mode = 'lf';
  }

  /** Whether the bytes held so far end with `}` before a final `\r`. */
  private endsEntry(): boolean {
    const parts = this.parts;
    const last = parts[parts.length - 1];
    if (!last) return false;
    const before =
      last.length >= 2 ? last[last.length - 2] : parts[parts.length - 2]?.[parts[parts.length - 2].length - 1];
    return before === 0x7d;
  }

  /** `push` with universal newlines: `\n`, `\r\n` and a lone `\r` each end a line. */
  private pushUniversal(chunk: Buffer): RawLine[] {
    const out: RawLine[] = [];
    let pos = 0;
    if (this.crPending && chunk.length > 0) {
      this.crPending = false;
      if (chunk[0] === 0x0a) {
        out.push(this.emit(chunk.subarray(0, 0), 'lf')); // the held `\r` and this `\n`
        pos = 1;
      } else out.push(this.emit(EMPTY, 'cr'));
    }
    let nl = chunk.indexOf(0x0a, pos);
    let cr = chunk.indexOf(0x0d, pos);
    for (;;) {
      if (nl >= 0 && nl < pos) nl = chunk.indexOf(0x0a, pos);
      if (cr >= 0 && cr < pos) cr = chunk.indexOf(0x0d, pos);
      const t = cr < 0 ? nl : nl < 0 ? cr : Math.min(cr, nl);
      if (t < 0) {
        if (pos < chunk.length) this.hold(chunk.subarray(pos));
        return out;
      }
      if (chunk[t] === 0x0a) {
        out.push(this.emit(chunk.subarray(pos, t), 'lf'));
        pos = t + 1;
      } else if (t + 1 >= chunk.length) {
        this.hold(chunk.subarray(pos)); // `\r` at the end: the next byte decides
        this.crPending = true;
        return out;
      } else if (chunk[t + 1] === 0x0a) {
        out.push(this.emit(chunk.subarray(pos, t + 1), 'lf')); // `\r\n`
        pos = t + 2;
      } else {
        out.push(this.emit(chunk.subarray(pos, t + 1), 'cr'));
        pos = t + 1;
      }
    }
  }

  /** Keeps the start of a line that continues in the next chunk. */
  private hold(rest: Buffer): void {
    this.partLen += rest.length;
    this.partLast = rest[rest.length - 1];
    if (!this.overflow && this.partLen > this.max + 1) {
      this.overflow = true; // stop keeping bytes; go on counting them
      this.parts = [];
    }
    if (!this.overflow) this.parts.push(this.copyParts ? Buffer.from(rest) : rest);
  }

  /** Forgets any unfinished line and restarts at `offset` (after truncation or a file switch). */
  reset(offset = 0, firstLine = 1): void {
    this.parts = [];
    this.partLen = 0;
    this.partLast = -1;
    this.overflow = false;
    this.crPending = false;
    this.gap = null;
    this.offset = offset;
    this.lineNo = firstLine;
    if (offset === 0 && this.mode !== 'universal') this.mode = 'detect';
  }

  /**
   * A line of the pieces held and `seg`, by how it ends (see {@link LineEnd}): `'cr'`, with a lone
   * `\r`, the last byte held or of `seg`; `'lf'`, a `\n` follows `seg` (a `\r` before it makes
   * CRLF); `'none'`, the unterminated last line of the input.
   */
  private emit(seg: Buffer, end: LineEnd): RawLine {
    const terminated = end !== 'none';
    const cr = end === 'cr';
    const total = this.partLen + seg.length;
    const lastByte = seg.length > 0 ? seg[seg.length - 1] : this.partLast;
    const crlf = terminated && !cr && lastByte === 0x0d;
    const length = crlf || cr ? total - 1 : total;
    const tooLong = this.overflow || length > this.max;
    let bytes: Buffer = EMPTY;
    if (!tooLong) {
      bytes =
        this.parts.length === 0
          ? this.copyLines
            ? Buffer.from(seg)
            : seg
          : Buffer.concat([...this.parts, seg], total);
      if (crlf || cr) bytes = bytes.subarray(0, length);
    }
    const rec: RawLine = { bytes, line: this.lineNo, offset: this.offset, length, terminated, tooLong, crlf };
    if (cr) rec.cr = true;
    if (this.gap) {
      rec.skippedBefore = this.gap;
      this.gap = null;
    }
    this.offset += total + (terminated && !cr ? 1 : 0);
    this.lineNo++;
    this.parts = [];
    this.partLen = 0;
    this.partLast = -1;
    this.overflow = false;
    return rec;
  }
}

/**
 * Splits a byte stream into lines, streaming: memory holds at most one line (up to the limit)
 * plus one chunk, whatever the file size.
 */
export async function* scanLines(stream: AsyncIterable<Buffer>, options: ScanOptions = {}): AsyncGenerator<RawLine> {
  for await (const batch of scanLineBatches(stream, options)) yield* batch;
}

/**
 * {@link scanLines} a chunk at a time: the lines each chunk completes, as one array (one
 * asynchronous step per chunk instead of per line, for the hot loops of search and summary).
 */
export async function* scanLineBatches(
  stream: AsyncIterable<Buffer>,
  options: ScanOptions = {},
): AsyncGenerator<RawLine[]> {
  yield* lineBatches(stream, new LineSplitter(options), options.needles);
}

/**
 * {@link scanLineBatches} with a splitter of the caller's, which can then be asked what it
 * counted ({@link LineSplitter.emptyLines}, {@link LineSplitter.position}).
 */
export async function* lineBatches(
  stream: AsyncIterable<Buffer>,
  splitter: LineSplitter,
  needles?: readonly Needle[] | NeedleChoices,
): AsyncGenerator<RawLine[]> {
  for await (const chunk of stream) {
    const lines = needles ? splitter.pushSelected(chunk, needles) : splitter.push(chunk);
    if (lines.length) yield lines;
  }
  const last = splitter.end();
  if (last) yield [last];
}

const EMPTY: Buffer = Buffer.alloc(0);

/** A stream that fails with `err` once read: errors come while iterating, as from a stream that failed to open. */
function failedStream(err: Error): Readable {
  const failed = new Readable({ read() {} });
  process.nextTick(() => failed.destroy(err));
  return failed;
}
const NEWLINES: Buffer = Buffer.alloc(512, 0x0a);

/**
 * Read buffers of finished {@link readChunks} calls, by size, for the next ones: a fresh buffer
 * per file is fresh memory, and the kernel faults its pages in during the first read (4 KiB at
 * a time). Measured on 44 files of 9.3 MB: reading and searching them took 0.43 s with a new
 * 1 MiB buffer per file, 0.24 s with one buffer (13,900 -> 2,800 page faults).
 */
const idleReadBuffers: Buffer[] = [];
/** Idle buffers kept at most: readers that run at once (a merge of sources) each hold their own. */
const MAX_IDLE_READ_BUFFERS = 4;

/**
 * Reads a plain file in chunks into one reused buffer: no fresh memory per chunk (no page
 * faults, flat RSS). Each chunk is only valid until the next one is requested; scan it with
 * `volatile` set. The buffer is handed to the next call once this one has read to its end
 * (not when its reader stopped early: that one may still hold views of the last chunk); calls
 * that run at the same time have buffers of their own.
 * @param size bytes per read
 * @throws NodeJS.ErrnoException (ENOENT, EACCES …) or NotRegularFileError (open.ts) while iterating.
 */
export async function* readChunks(path: string, start = 0, end = Infinity, size = 1024 * 1024): AsyncGenerator<Buffer> {
  // Synchronous reads: from the page cache they take microseconds, and an asynchronous read
  // per chunk left the thread idle much of the time.
  const fd = openRegularFile(path);
  const at = idleReadBuffers.findIndex((b) => b.length === size);
  const buf = at >= 0 ? idleReadBuffers.splice(at, 1)[0] : Buffer.allocUnsafe(size);
  let readToEnd = false;
  try {
    let pos = start;
    while (pos < end) {
      const n = readSync(fd, buf, 0, Math.min(size, end - pos), pos);
      if (n === 0) break;
      pos += n;
      yield buf.subarray(0, n);
    }
    readToEnd = true;
  } finally {
    closeSync(fd);
    // Only after its reader asked for more than the last chunk: one stopped early (a limit
    // reached, an abort) may still hold views of it.
    if (readToEnd) {
      idleReadBuffers.push(buf);
      if (idleReadBuffers.length > MAX_IDLE_READ_BUFFERS) idleReadBuffers.shift();
    }
  }
}

/**
 * Opens an audit file as a byte stream, decompressing `.gz` transparently. `start`/`end` are
 * byte offsets of a plain file (`end` exclusive). `chunkBytes`: size of the reads.
 * Only a regular file inside its directory is opened (open.ts).
 * @throws NodeJS.ErrnoException from the stream (ENOENT, EACCES, Z_DATA_ERROR …) or
 *   NotRegularFileError (a FIFO, device, directory, a symlink out of the directory) while iterating.
 */
export function openAuditFile(path: string, start = 0, end?: number, chunkBytes = 64 * 1024): Readable {
  if (end !== undefined && end <= start) {
    // Nothing to read, but a path that is not a regular file is still reported.
    try {
      checkRegularFile(path);
    } catch (err) {
      return failedStream(err as Error);
    }
    return Readable.from([]);
  }
  // 64 KiB reads by default: larger chunks (lines keep views of them) raised the peak memory of
  // summary and search for little more speed.
  let fd: number;
  try {
    fd = openRegularFile(path);
  } catch (err) {
    return failedStream(err as Error);
  }
  const raw = createReadStream('', {
    fd,
    highWaterMark: chunkBytes,
    start,
    end: end === undefined ? undefined : end - 1,
  });
  if (!path.endsWith('.gz')) return raw;
  const gunzip = createGunzip();
  raw.on('error', (err) => gunzip.destroy(err));
  return raw.pipe(gunzip);
}
