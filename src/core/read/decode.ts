/**
 * Turning a raw line into text the way Loki Mode's verifier sees it (spec §7): strict UTF-8,
 * Python `str.strip()`, blank lines skipped but counted.
 */
import { isUtf8 } from 'node:buffer';
import type { RawLine } from './lines.js';
import { pyStrip } from '../pyjson/canonical.js';

/** A decoded, stripped, non-blank line. */
export interface TextLine {
  kind: 'text';
  text: string;
  /** The line began with a UTF-8 byte-order mark, left out of `text` (spec §10.24). */
  bom?: boolean;
}
/** A line that is empty after stripping. */
export interface BlankLine {
  kind: 'blank';
}
/** A line that cannot be decoded. */
export interface UndecodableLine {
  kind: 'undecodable';
  code: 'invalid-utf8' | 'too-long';
  message: string;
}
export type DecodedLine = TextLine | BlankLine | UndecodableLine;

/** Decodes one line. Never throws. */
export function decodeLine(raw: RawLine, maxLineBytes: number): DecodedLine {
  if (raw.tooLong) {
    return {
      kind: 'undecodable',
      code: 'too-long',
      message: `line of ${raw.length} bytes is longer than the limit of ${maxLineBytes} bytes (--max-line-bytes)`,
    };
  }
  // A byte-order mark (an editor's, never the writer's): not part of the entry.
  const bom = raw.bytes.length >= 3 && raw.bytes[0] === 0xef && raw.bytes[1] === 0xbb && raw.bytes[2] === 0xbf;
  const b = bom ? raw.bytes.subarray(3) : raw.bytes;
  if (!isUtf8(b)) {
    return {
      kind: 'undecodable',
      code: 'invalid-utf8',
      message: `invalid UTF-8 at byte ${firstInvalidUtf8(b) + 1 + (bom ? 3 : 0)} of the line`,
    };
  }
  const text = pyStrip(b.toString('utf8'));
  if (text.length === 0) return { kind: 'blank' };
  return bom ? { kind: 'text', text, bom } : { kind: 'text', text };
}

/** Index of the first byte that breaks UTF-8 (for the message only; slow path). */
export function firstInvalidUtf8(b: Buffer): number {
  for (let i = 0; i < b.length;) {
    const c = b[i];
    let n: number;
    if (c < 0x80) n = 0;
    else if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) n = 2;
    else if (c >= 0xf0 && c <= 0xf4) n = 3;
    else return i;
    for (let k = 1; k <= n; k++) if (i + k >= b.length || (b[i + k] & 0xc0) !== 0x80) return i;
    if (n > 0 && !isUtf8(b.subarray(i, i + n + 1))) return i;
    i += n + 1;
  }
  return 0;
}
