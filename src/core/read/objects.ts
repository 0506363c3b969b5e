/**
 * Reading JSON objects that span lines, leniently: Loki Mode's session audit (spec §5,
 * `run.sh audit_log`). With `jq` installed each entry is `jq -n` output without `-c`, a
 * pretty-printed object over several lines of a `.jsonl` file; without `jq` it is one compact
 * line built by `echo`, whose tabs (and newlines) inside strings are raw control characters —
 * not strict JSON. Both can be in one file.
 *
 * An object starts at a line whose first non-blank character is `{` and ends at the end of the
 * line where its braces balance (strings are tracked, so a brace inside a value does not count).
 * Its text comes out minified and strict: whitespace between tokens dropped, raw control
 * characters inside strings escaped (`\t`, `\n`, `\u0001`), so it is one line of valid JSON.
 *
 * Broken objects are reported with the line they start at, and reading goes on:
 * - a line starting with `{` at its first byte while an object is open starts a new object (jq
 *   indents everything inside one; a torn write leaves an object open), and the open one is
 *   reported as not closed;
 * - an object longer than the limit is reported as soon as it passes it and its bytes dropped,
 *   until the next line starting with `{`: a runaway unclosed brace never grows memory past the
 *   limit.
 */
import type { RawLine } from './lines.js';

/** One whole object: where it starts and its minified text. */
export interface AssembledObject {
  kind: 'object';
  /** Line and byte offset of its first line. */
  line: number;
  offset: number;
  /** The minified, strictly escaped text (valid JSON if the object was). */
  bytes: Buffer;
}

/** Lines that are not an object. */
export interface ObjectProblem {
  kind: 'problem';
  line: number;
  offset: number;
  code: 'too-long' | 'malformed-json' | 'torn-last-line';
  message: string;
}

export type AssembledItem = AssembledObject | ObjectProblem;

const OPEN_BRACE = 0x7b;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The JSON escape of a raw control character inside a string. */
function controlEscape(c: number): Buffer {
  const short: Record<number, string> = { 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0c: '\\f', 0x0d: '\\r' };
  return Buffer.from(short[c] ?? `\\u${c.toString(16).padStart(4, '0')}`, 'latin1');
}
const CONTROL_ESCAPES: Buffer[] = Array.from({ length: 0x20 }, (_, c) => controlEscape(c));

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;

/**
 * Turns raw lines into objects: feed each line in order with {@link push}, then call
 * {@link end} at the end of the file. Holds at most one object (up to `maxObjectBytes`).
 */
export class ObjectAssembler {
  private open: { line: number; offset: number; lastLine: number } | null = null;
  private parts: Buffer[] = [];
  /** Bytes of the open object's lines, as read (the limit counts these). */
  private size = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** After an over-long object: drop lines until the next one starting with `{`. */
  private skipping = false;
  /** Where the next line starts: the position to resume at when no object is open. */
  private next: { offset: number; line: number } = { offset: 0, line: 1 };

  constructor(private readonly maxObjectBytes: number) {}

  /**
   * Where a reader that stops now should start again so as to see the open object whole: its
   * first line, or the line after the last one pushed when no object is open.
   */
  get resumeAt(): { offset: number; line: number } {
    return this.open && !this.skipping ? { offset: this.open.offset, line: this.open.line } : this.next;
  }

  /** Bytes held of the open object (never more than the limit). */
  get held(): number {
    return this.parts.reduce((n, b) => n + b.length, 0);
  }

  /** Whether an object is open (its closing line not read yet). */
  get pending(): boolean {
    return this.open !== null && !this.skipping;
  }

  /** The objects and problems `raw` completes. */
  push(raw: RawLine): AssembledItem[] {
    const out: AssembledItem[] = [];
    this.next = { offset: raw.offset + raw.length + (raw.terminated ? (raw.crlf ? 2 : 1) : 0), line: raw.line + 1 };
    // A byte-order mark (an editor's) is not part of the first object.
    const bom = raw.line === 1 && raw.bytes[0] === 0xef && raw.bytes[1] === 0xbb && raw.bytes[2] === 0xbf;
    const b = bom ? raw.bytes.subarray(3) : raw.bytes;
    const startsObject = !raw.tooLong && b.length > 0 && b[0] === OPEN_BRACE;
    if (this.open && startsObject) {
      if (!this.skipping)
        out.push(
          this.problem(
            'malformed-json',
            `object starting at line ${this.open.line} is not closed before line ${raw.line} (a torn write?): skipped`,
          ),
        );
      this.reset();
    }
    if (this.skipping) return out;
    if (!this.open) {
      let i = 0;
      while (i < b.length && isSpace(b[i])) i++;
      if (raw.tooLong) {
        out.push({
          kind: 'problem',
          line: raw.line,
          offset: raw.offset,
          code: 'too-long',
          message:
            `line of ${raw.length} bytes is longer than the limit ` +
            `of ${this.maxObjectBytes} bytes (--max-line-bytes)`,
        });
        return out;
      }
      if (i === b.length) return out; // blank
      if (b[i] !== OPEN_BRACE) {
        out.push({
          kind: 'problem',
          line: raw.line,
          offset: raw.offset,
          code: 'malformed-json',
          message: 'malformed JSON: the line is neither inside an object nor the start of one',
        });
        return out;
      }
      this.open = { line: raw.line, offset: raw.offset, lastLine: raw.line };
    }
    const open = this.open;
    open.lastLine = raw.line;
    this.size += raw.length + 1;
    if (raw.tooLong || this.size > this.maxObjectBytes) {
      out.push(
        this.problem(
          'too-long',
          `object starting at line ${open.line} is longer than the limit of ${this.maxObjectBytes} bytes ` +
            `(--max-line-bytes) without closing (an unclosed brace?): skipped up to the next line starting with {`,
        ),
      );
      this.parts = [];
      this.skipping = true;
      return out;
    }
    this.scan(b);
    if (this.inString) {
      // A raw newline inside a string (echo of a value holding one): keep it, escaped.
      if (this.escaped) {
        this.escaped = false;
        this.parts.push(Buffer.from('n', 'latin1'));
      } else this.parts.push(CONTROL_ESCAPES[0x0a]);
    }
    if (this.depth <= 0 && !this.inString) {
      out.push({ kind: 'object', line: open.line, offset: open.offset, bytes: Buffer.concat(this.parts) });
      this.reset();
    }
    return out;
  }

  /** At the end of the file: an object still open is reported (`torn`: the last line had no newline). */
  end(torn: boolean): AssembledItem[] {
    if (!this.open || this.skipping) {
      this.reset();
      return [];
    }
    const p = torn
      ? this.problem(
          'torn-last-line',
          `object starting at line ${this.open.line} is incomplete (a write in progress or torn): skipped`,
        )
      : this.problem(
          'malformed-json',
          `object starting at line ${this.open.line} is not closed at the end of the file: skipped`,
        );
    this.reset();
    return [p];
  }

  /** Minifies one line of the open object into `parts`, tracking strings and depth. */
  private scan(b: Buffer): void {
    let seg = 0;
    for (let i = 0; i < b.length; i++) {
      const c = b[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) this.inString = false;
        else if (c < 0x20) {
          if (i > seg) this.parts.push(Buffer.from(b.subarray(seg, i)));
          this.parts.push(CONTROL_ESCAPES[c]);
          seg = i + 1;
        }
        continue;
      }
      if (c === QUOTE) this.inString = true;
      else if (c === OPEN_BRACE || c === 0x5b) this.depth++;
      else if (c === 0x7d || c === 0x5d) this.depth--;
      else if (isSpace(c)) {
        if (i > seg) this.parts.push(Buffer.from(b.subarray(seg, i)));
        seg = i + 1;
      }
    }
    if (b.length > seg) this.parts.push(Buffer.from(b.subarray(seg)));
  }

  private problem(code: ObjectProblem['code'], message: string): ObjectProblem {
    const open = this.open as { line: number; offset: number };
    return { kind: 'problem', line: open.line, offset: open.offset, code, message };
  }

  private reset(): void {
    this.open = null;
    this.parts = [];
    this.size = 0;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.skipping = false;
  }
}
