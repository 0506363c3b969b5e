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
 * universal newlines, which split there (spec §7, fixture `tampered/lone-cr`).
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';

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
}

/** Options for {@link scanLines}. */
export interface ScanOptions {
  /** Longest line kept, in bytes (default {@link DEFAULT_MAX_LINE_BYTES}). */
  maxLineBytes?: number;
  /** Byte offset the stream starts at (for resumed reads); line numbers start at `firstLine`. */
  startOffset?: number;
  firstLine?: number;
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

  constructor(options: ScanOptions = {}) {
    this.max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.lineNo = options.firstLine ?? 1;
    this.offset = options.startOffset ?? 0;
  }

  /** Byte offset just after the last whole line handed out. */
  get position(): number {
    return this.offset;
  }

  /** Number the next line will get. */
  get nextLine(): number {
    return this.lineNo;
  }

  /** Bytes held of an unfinished line. */
  get pending(): number {
    return this.partLen;
  }

  /** Whole lines completed by `chunk`. */
  push(chunk: Buffer): RawLine[] {
    const out: RawLine[] = [];
    let pos = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, pos);
      if (nl === -1) {
        if (pos < chunk.length) {
          const rest = chunk.subarray(pos);
          this.partLen += rest.length;
          this.partLast = rest[rest.length - 1];
          if (!this.overflow && this.partLen > this.max + 1) {
            this.overflow = true; // stop keeping bytes; go on counting them
            this.parts = [];
          }
          if (!this.overflow) this.parts.push(rest);
        }
        return out;
      }
      out.push(this.emit(chunk.subarray(pos, nl), true));
      pos = nl + 1;
    }
  }

  /** The unfinished last line, if any (a final line without newline). */
  end(): RawLine | null {
    return this.partLen > 0 ? this.emit(EMPTY, false) : null;
  }

  /** Forgets any unfinished line and restarts at `offset` (after truncation or a file switch). */
  reset(offset = 0, firstLine = 1): void {
    this.parts = [];
    this.partLen = 0;
    this.partLast = -1;
    this.overflow = false;
    this.offset = offset;
    this.lineNo = firstLine;
  }

  private emit(seg: Buffer, terminated: boolean): RawLine {
    const total = this.partLen + seg.length;
    const lastByte = seg.length > 0 ? seg[seg.length - 1] : this.partLast;
    const crlf = terminated && lastByte === 0x0d;
    const length = crlf ? total - 1 : total;
    const tooLong = this.overflow || length > this.max;
    let bytes: Buffer = EMPTY;
    if (!tooLong) {
      bytes = this.parts.length === 0 ? seg : Buffer.concat([...this.parts, seg], total);
      if (crlf) bytes = bytes.subarray(0, length);
    }
    const rec: RawLine = { bytes, line: this.lineNo, offset: this.offset, length, terminated, tooLong, crlf };
    this.offset += total + (terminated ? 1 : 0);
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
  const splitter = new LineSplitter(options);
  for await (const chunk of stream) yield* splitter.push(chunk);
  const last = splitter.end();
  if (last) yield last;
}

const EMPTY: Buffer = Buffer.alloc(0);

/**
 * Opens an audit file as a byte stream, decompressing `.gz` transparently. `start`/`end` are
 * byte offsets of a plain file (`end` exclusive).
 * @throws NodeJS.ErrnoException from the stream (ENOENT, EACCES, EISDIR, Z_DATA_ERROR …) while iterating.
 */
export function openAuditFile(path: string, start = 0, end?: number): Readable {
  if (end !== undefined && end <= start) return Readable.from([]);
  const raw = createReadStream(path, { highWaterMark: 256 * 1024, start, end: end === undefined ? undefined : end - 1 });
  if (!path.endsWith('.gz')) return raw;
  const gunzip = createGunzip();
  raw.on('error', (err) => gunzip.destroy(err));
  return raw.pipe(gunzip);
}
