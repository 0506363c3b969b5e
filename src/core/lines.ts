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
import type { Readable } from 'node:stream';

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
 * Splits a byte stream into lines, streaming: memory holds at most one line (up to the limit)
 * plus one chunk, whatever the file size.
 */
export async function* scanLines(stream: AsyncIterable<Buffer>, options: ScanOptions = {}): AsyncGenerator<RawLine> {
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  let lineNo = options.firstLine ?? 1;
  let offset = options.startOffset ?? 0; // offset of the current line's first byte
  let parts: Buffer[] = []; // pieces of the current line from earlier chunks
  let partLen = 0; // bytes of the current line in earlier chunks (counted even when not kept)
  let partLast = -1; // last byte of those pieces, for CRLF across a chunk boundary
  let overflow = false;

  const emit = (seg: Buffer, terminated: boolean): RawLine => {
    const total = partLen + seg.length;
    const lastByte = seg.length > 0 ? seg[seg.length - 1] : partLast;
    const crlf = terminated && lastByte === 0x0d;
    const length = crlf ? total - 1 : total;
    const tooLong = overflow || length > max;
    let bytes: Buffer = EMPTY;
    if (!tooLong) {
      bytes = parts.length === 0 ? seg : Buffer.concat([...parts, seg], total);
      if (crlf) bytes = bytes.subarray(0, length);
    }
    const rec: RawLine = { bytes, line: lineNo, offset, length, terminated, tooLong, crlf };
    offset += total + (terminated ? 1 : 0);
    lineNo++;
    parts = [];
    partLen = 0;
    partLast = -1;
    overflow = false;
    return rec;
  };

  for await (const chunk of stream) {
    let pos = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, pos);
      if (nl === -1) {
        if (pos < chunk.length) {
          const rest = chunk.subarray(pos);
          partLen += rest.length;
          partLast = rest[rest.length - 1];
          if (!overflow && partLen > max + 1) {
            overflow = true; // stop keeping bytes; go on counting them
            parts = [];
          }
          if (!overflow) parts.push(rest);
        }
        break;
      }
      yield emit(chunk.subarray(pos, nl), true);
      pos = nl + 1;
    }
  }
  if (partLen > 0) yield emit(EMPTY, false);
}

const EMPTY: Buffer = Buffer.alloc(0);

/**
 * Opens an audit file as a byte stream, decompressing `.gz` transparently.
 * @throws NodeJS.ErrnoException from the stream (ENOENT, EACCES, EISDIR, Z_DATA_ERROR …) while iterating.
 */
export function openAuditFile(path: string, start = 0): Readable {
  const raw = createReadStream(path, { highWaterMark: 256 * 1024, start });
  if (!path.endsWith('.gz')) return raw;
  const gunzip = createGunzip();
  raw.on('error', (err) => gunzip.destroy(err));
  return raw.pipe(gunzip);
}
