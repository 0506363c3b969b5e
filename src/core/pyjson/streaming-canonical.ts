/**
 * The chain hash of ONE audit line of any size, without holding the line in memory: the same
 * `sha256_hex(prev + json.dumps(entry_without_hash, sort_keys=True))` (spec §3, §3.1) that
 * {@link canonicalizeEntry} (canonical.ts) computes from a string, here read from a
 * random-access byte source and fed to a node:crypto `Hash` as it is produced.
 *
 * Loki Mode's writer has no line limit: an entry whose `details` hold 50 MB is one 50 MB line,
 * larger than its own 10 MiB rotation size (spec §1). This module lets such a line verify with
 * flat memory.
 *
 * How (two passes over the line's bytes, both in fixed-size reads):
 * 1. A validating pass that reads the line exactly as Loki Mode's verifier does (spec §7: strict
 *    UTF-8, a leading byte-order mark left out as decode.ts does, Python `str.strip()`
 *    whitespace at both ends, `json.loads` syntax, the 4300-digit integer limit, the nesting
 *    limit {@link MAX_DEPTH}). It keeps, for each object still open, its members' keys (decoded,
 *    small) and the byte offsets where each key and value start; when the object closes it sorts
 *    them as canonical.ts does (code point order, or by value with `numberKeysByValue`, the last
 *    of duplicate keys kept) and reports `numberKeyObjects` and `duplicateKeys`. The sorted order
 *    of a closed object is kept as a table of offsets (16 bytes a member) while a memory budget
 *    allows, preferring objects that are large for their number of members.
 * 2. An emitting pass that writes `{`, then each member in key order — re-reading its key and
 *    value from the source by offset — and `}`, recursively; arrays are copied in order, strings
 *    are transformed a chunk at a time (escapes re-written with `ensure_ascii`, UTF-8 decoded to
 *    `\uXXXX`), numbers are re-formatted as Python prints them. An object whose table was not
 *    kept is scanned again for its members' offsets (counted; see `rescanFactor`).
 *
 * Memory therefore grows with the number of members of the objects on the current path (and
 * with the kept tables, within their budget), never with the byte size of a string, number or
 * array. Time is two reads of the line plus the SHA-256 of the canonical text, for any entry
 * Loki Mode writes. Synchronous (`fs.readSync`-style reads): meant for the few lines too long for
 * the in-memory path, in a worker or where blocking the thread for a while is fine (its speed:
 * bench/results/decisions.md).
 */
import { isUtf8 } from 'node:buffer';
import { createHash, type Hash } from 'node:crypto';
import { readSync } from 'node:fs';
import {
  compareCodePoints,
  compareNumberKeys,
  isPyWhitespace,
  MAX_DEPTH,
  MAX_INT_DIGITS,
  numberKeyKind,
  pyFloatRepr,
  type NumberKeyKind,
  type PyJsonErrorCode,
} from './canonical.js';

/**
 * Random access to the bytes of a file (or anything that holds the line). Same contract as
 * `fs.readSync(fd, buffer, offset, length, position)`: copies up to `length` bytes starting at
 * file `position` into `buffer[offset…]` and returns how many it copied (fewer is fine, 0 only at
 * the end of the data).
 */
export interface ByteSource {
  read(buffer: Buffer, offset: number, length: number, position: number): number;
}

/** A {@link ByteSource} over an open file descriptor (`fs.readSync`). */
export function fdByteSource(fd: number): ByteSource {
  return { read: (buffer, offset, length, position) => readSync(fd, buffer, offset, length, position) };
}

/** Why a line has no chain hash: canonical.ts's codes, plus UTF-8 and this module's own bounds. */
export type StreamingErrorCode =
  | PyJsonErrorCode
  /** Not UTF-8: Python's text-mode read raises `UnicodeDecodeError` (spec §7). */
  | 'invalid-utf8'
  /**
   * Valid JSON that Python would read, but past one of {@link StreamingLimits}: not verified. Only
   * reported when the line has no UTF-8 or JSON error (those are reported instead).
   */
  | 'too-complex';

/**
 * A line that cannot be hashed. `code` has canonical.ts's meaning for the same line (`malformed`,
 * `int-too-long`, `too-deep`); `position` is a byte offset in the source (not a UTF-16 index).
 */
export class StreamingCanonicalError extends Error {
  constructor(
    readonly code: StreamingErrorCode,
    message: string,
    readonly position: number,
  ) {
    super(message);
    this.name = 'StreamingCanonicalError';
  }
}

/** Bounds on what one call holds in memory (all counts; bytes are bytes as written in the line). */
export interface StreamingLimits {
  /** Longest key, and longest string value of the top-level hash field, in bytes as written. */
  maxKeyBytes: number;
  /**
   * Most members held at once by the objects open on the current path; also the most objects
   * reported in `numberKeyObjects`.
   */
  maxMembers: number;
  /** Most UTF-16 code units in the keys of those members together. */
  maxPathKeyChars: number;
  /** Memory for the member tables kept from the first pass (an estimate, bytes). */
  tableCacheBytes: number;
  /**
   * Bytes the second pass may scan again (objects whose tables were not kept), as a multiple of the
   * line's length, plus 256 MiB. Only deep nests of many small objects come near it.
   */
  rescanFactor: number;
}

/** The bounds used when a call gives none: far above anything Loki Mode writes. */
const DEFAULT_STREAMING_LIMITS: Readonly<StreamingLimits> = Object.freeze({
  maxKeyBytes: 64 * 1024,
  maxMembers: 1_000_000,
  maxPathKeyChars: 16 * 1024 * 1024,
  tableCacheBytes: 32 * 1024 * 1024,
  rescanFactor: 16,
});

/** Options of {@link streamingChainHash}. */
export interface StreamingHashOptions {
  /**
   * Top-level keys that hold the chain hash, in order of preference (`['_integrity_hash',
   * 'chain_hash']`): the first present is left out of the canonical text and returned as `stored`,
   * with canonical.ts's rules (a less preferred one found first goes back into the body).
   */
  hashKeys: readonly string[];
  /** As {@link CanonicalOptions.numberKeysByValue} in canonical.ts (spec §10.3, §10.18). */
  numberKeysByValue?: (index: number) => boolean;
  /** More previous hashes to hash the same canonical text from in the same pass (e.g. the genesis). */
  alsoFrom?: readonly string[];
  limits?: Partial<StreamingLimits>;
  /** Size of each read from the source, bytes (default 64 KiB). */
  readBytes?: number;
}

/** What {@link streamingChainHash} found. */
export type StreamingHashResult =
  /** Empty after Python's `str.strip()` (and a byte-order mark): skipped, as decode.ts does. */
  | { kind: 'blank' }
  /** Valid JSON Python reads, but not an object (`[1, 2]`, `42`): Loki Mode's verifier crashes. */
  | { kind: 'not-an-object'; bom: boolean }
  | {
      kind: 'entry';
      /** Which of `hashKeys` was present (and left out of the canonical text), or null. */
      hashKey: string | null;
      /** Its value: the string, `null` for JSON null, undefined when absent or of another type. */
      stored: string | null | undefined;
      /** `sha256_hex(prevHash + canonical)`, lowercase. */
      computed: string;
      /** The same from each of `alsoFrom`, in order. */
      alsoComputed: string[];
      /** Length of the canonical text (pure ASCII), bytes. */
      canonicalBytes: number;
      /** As CanonicalResult.numberKeyObjects. */
      numberKeyObjects: NumberKeyKind[];
      /** As CanonicalResult.duplicateKeys. */
      duplicateKeys: boolean;
      /** The line began with a UTF-8 byte-order mark (left out, spec §10.24). */
      bom: boolean;
    };

/**
 * The chain hash of one line, streamed: `sha256_hex(prevHash + canonical)` where `canonical` is
 * exactly `canonicalizeEntry(pyStrip(utf8(line minus a leading BOM)), {hashKeys, numberKeysByValue})
 * .canonical` (spec §3, §3.1, §7), computed without holding the line in memory.
 *
 * @param source the file holding the line; `start` and `end` are byte offsets into it: the line is
 *   `[start, end)`, without its line terminator.
 * @param prevHash the previous entry's stored hash (or the genesis, 64 zeros); hashed as UTF-8 text.
 * @returns `blank`, `not-an-object`, or `entry` with the stored and computed hashes.
 * @throws StreamingCanonicalError when the line is not UTF-8 (`invalid-utf8`, which wins over JSON
 *   errors, as Python decodes before it parses), when Python's `json.loads` would reject it or
 *   crash (`malformed`, `int-too-long`, `too-deep`: the code canonicalizeEntry gives the same text),
 *   or when it passes a {@link StreamingLimits} bound (`too-complex`).
 * @throws Error when the source fails, ends before `end`, or changes between the two passes.
 */
export function streamingChainHash(
  source: ByteSource,
  start: number,
  end: number,
  prevHash: string,
  options: StreamingHashOptions,
): StreamingHashResult {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start)
    throw new RangeError(`not a byte range: [${start}, ${end})`);
  const limits: StreamingLimits = { ...DEFAULT_STREAMING_LIMITS, ...options.limits };
  const buf = Buffer.allocUnsafe(Math.max(16, options.readBytes ?? 64 * 1024));
  const cache = new TableCache(limits.tableCacheBytes);
  const utf8 = new Utf8Check();
  const first = new FirstPass(
    new Reader(source, start, end, buf, utf8),
    utf8,
    limits,
    options.hashKeys,
    options.numberKeysByValue ?? null,
    cache,
  );
  const kind = first.run();
  if (kind === 'blank') return { kind: 'blank' };
  if (kind === 'value') return { kind: 'not-an-object', bom: first.bom };
  const hashes = [prevHash, ...(options.alsoFrom ?? [])].map((p) => createHash('sha256').update(p));
  const out = new Out(hashes);
  const second = new SecondPass(
    new Reader(source, start, end, buf, null),
    out,
    cache,
    first.topStart,
    first.topTable as Float64Array,
    first.byValue,
    limits.rescanFactor * (end - start) + 256 * 1024 * 1024,
    limits.maxKeyBytes,
  );
  second.emitTop();
  out.flush();
  const [computed, ...alsoComputed] = hashes.map((h) => h.digest('hex'));
  return {
    kind: 'entry',
    hashKey: first.hashKey,
    stored: first.hashValue,
    computed,
    alsoComputed,
    canonicalBytes: out.total,
    numberKeyObjects: first.numberKeyObjects,
    duplicateKeys: first.duplicateKeys,
    bom: first.bom,
  };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const SPACE = 0x20;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const MINUS = 0x2d;
const HEX = Buffer.from('0123456789abcdef');
/** Objects smaller than this (bytes) are scanned again rather than kept: cheaper than a table. */
const MIN_KEPT_SPAN = 64;
/** Estimated bytes of a kept table besides its 16 bytes a member (typed array, map entry). */
const TABLE_OVERHEAD = 256;
/** Number literals up to this length are converted whole (every int fits: at most 4300 digits). */
const LITERAL_MAX = 4400;
/** Significant digits kept of a longer float literal (>= 768 decide any double's rounding). */
const SIGNIFICANT_MAX = 800;

/** Bytes `json.dumps(ensure_ascii=True)` prints as they are inside a string: U+0020-U+007E but `"` and `\`. */
const PLAIN = new Uint8Array(256);
for (let c = 0x20; c <= 0x7e; c++) PLAIN[c] = 1;
PLAIN[QUOTE] = 0;
PLAIN[BACKSLASH] = 0;
/** Bytes that a JSON string holds as they are: all but `"`, `\` and the controls U+0000-U+001F. */
const STRING_BODY = new Uint8Array(256).fill(1, 0x20);
STRING_BODY[QUOTE] = 0;
STRING_BODY[BACKSLASH] = 0;
/** Bytes of a number literal (digits, `-`, `+`, `.`, `e`, `E`). */
const NUMBER_BYTE = new Uint8Array(256);
for (const c of Buffer.from('0123456789-+.eE')) NUMBER_BYTE[c] = 1;
/** JSON escapes other than `\u`: `\" \\ \/ \b \f \n \r \t`. */
const SHORT_ESCAPE = new Uint8Array(256);
for (const c of Buffer.from('"\\/bfnrt')) SHORT_ESCAPE[c] = 1;
/** Hex digit values, -1 for others. */
const HEX_VALUE = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;
  HEX_VALUE['0123456789ABCDEF'.charCodeAt(i)] = i;
}
const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const NULL = Buffer.from('null');
const NAN = Buffer.from('NaN');
const INFINITY = Buffer.from('Infinity');

/**
 * The end of the run of bytes from `buf[i]` on that are in `set` (at most `n`). A function of its
 * own: small, so that V8 optimizes it within the first megabytes of a line.
 */
function runOf(set: Uint8Array, buf: Buffer, i: number, n: number): number {
  while (i < n && set[buf[i]] === 1) i++;
  return i;
}

/** A member of an object: its key and where its key (the opening quote) and value start. */
interface Member {
  key: string;
  keyStart: number;
  valueStart: number;
}

/** Canonical member order (canonical.ts `joinMembers`): sorted, stable, the last of equal keys kept. */
function sortMembers(members: Member[], byValue: boolean): { members: Member[]; duplicates: boolean } {
  if (byValue) members.sort((a, b) => compareNumberKeys(a.key, b.key));
  else members.sort((a, b) => compareCodePoints(a.key, b.key));
  let duplicates = false;
  for (let i = 1; i < members.length && !duplicates; i++) duplicates = members[i].key === members[i - 1].key;
  if (!duplicates) return { members, duplicates };
  const kept: Member[] = [];
  for (let i = 0; i < members.length; i++)
    if (i === members.length - 1 || members[i].key !== members[i + 1].key) kept.push(members[i]);
  return { members: kept, duplicates };
}

/** An object's members in output order: `[end, keyStart0, valueStart0, keyStart1, …]`. */
function toTable(end: number, members: readonly Member[]): Float64Array {
  const t = new Float64Array(1 + 2 * members.length);
  t[0] = end;
  for (let k = 0; k < members.length; k++) {
    t[1 + 2 * k] = members[k].keyStart;
    t[2 + 2 * k] = members[k].valueStart;
  }
  return t;
}

/**
 * Member tables of closed objects, by the object's start offset, within a byte budget. Keeps the
 * objects that cost most to scan again for the memory they take (span per table byte): when over
 * budget, it raises that threshold and drops the tables below it.
 */
class TableCache {
  private readonly tables = new Map<number, { table: Float64Array; worth: number; cost: number }>();
  private bytes = 0;
  private threshold = 0;
  constructor(private readonly budget: number) {}

  get(start: number): Float64Array | undefined {
    return this.tables.get(start)?.table;
  }

  offer(start: number, end: number, members: readonly Member[]): void {
    const span = end - start;
    if (span < MIN_KEPT_SPAN) return;
    const cost = 16 * members.length + TABLE_OVERHEAD;
    const worth = span / cost;
    if (worth < this.threshold || cost > this.budget) return;
    this.tables.set(start, { table: toTable(end, members), worth, cost });
    this.bytes += cost;
    while (this.bytes > this.budget) {
      this.threshold = this.threshold > 0 ? this.threshold * 2 : 1 / 64;
      for (const [at, t] of this.tables)
        if (t.worth < this.threshold) {
          this.tables.delete(at);
          this.bytes -= t.cost;
        }
    }
  }
}

/** Lead byte of a UTF-8 sequence: how many continuation bytes follow and the first one's range; null if invalid. */
function utf8Lead(c: number): { need: number; lo: number; hi: number } | null {
  if (c >= 0xc2 && c <= 0xdf) return { need: 1, lo: 0x80, hi: 0xbf };
  if (c >= 0xe0 && c <= 0xef) return { need: 2, lo: c === 0xe0 ? 0xa0 : 0x80, hi: c === 0xed ? 0x9f : 0xbf };
  if (c >= 0xf0 && c <= 0xf4) return { need: 3, lo: c === 0xf0 ? 0x90 : 0x80, hi: c === 0xf4 ? 0x8f : 0xbf };
  return null;
}

/** Index of the first byte in `buf[i, end)` that starts an invalid UTF-8 sequence (slow; for the message). */
function firstInvalidUtf8(buf: Buffer, i: number, end: number): number {
  while (i < end) {
    if (buf[i] < 0x80) {
      i++;
      continue;
    }
    const lead = utf8Lead(buf[i]);
    if (!lead) return i;
    let { lo, hi } = lead;
    for (let k = 1; k <= lead.need; k++) {
      if (i + k >= end || buf[i + k] < lo || buf[i + k] > hi) return i;
      lo = 0x80;
      hi = 0xbf;
    }
    i += lead.need + 1;
  }
  return end;
}

/** Strict UTF-8 validation (as Python's decoder and Buffer `isUtf8`) of bytes fed in pieces. */
class Utf8Check {
  /** Source offset of the first byte that breaks UTF-8, or -1. */
  bad = -1;
  private need = 0;
  private lo = 0x80;
  private hi = 0xbf;
  private seqStart = 0;

  /** Checks `buf[0, n)`, which holds source bytes from offset `at`. */
  feed(buf: Buffer, n: number, at: number): void {
    if (this.bad >= 0) return;
    let i = 0;
    for (; this.need > 0 && i < n; i++) if (!this.continuation(buf[i])) return;
    if (i === n) return;
    // Bytes from `cut` on start a sequence that this piece does not finish.
    let cut = n;
    for (let k = 1; k <= 3 && n - k >= i; k++) {
      const c = buf[n - k];
      if (c < 0x80) break;
      if (c >= 0xc0) {
        if ((c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2) > k) cut = n - k;
        break;
      }
    }
    if (!isUtf8(buf.subarray(i, cut))) {
      this.bad = at + firstInvalidUtf8(buf, i, cut);
      return;
    }
    if (cut === n) return;
    const lead = utf8Lead(buf[cut]);
    if (!lead) {
      this.bad = at + cut;
      return;
    }
    ({ need: this.need, lo: this.lo, hi: this.hi } = lead);
    this.seqStart = at + cut;
    for (let j = cut + 1; j < n; j++) if (!this.continuation(buf[j])) return;
  }

  private continuation(c: number): boolean {
    if (c < this.lo || c > this.hi) {
      this.bad = this.seqStart;
      return false;
    }
    this.lo = 0x80;
    this.hi = 0xbf;
    this.need--;
    return true;
  }

  /** The data ended: a sequence left open there is invalid. */
  finish(): void {
    if (this.bad < 0 && this.need > 0) this.bad = this.seqStart;
  }
}

/** Buffered reads of `[start, end)` from a source; `buf[i, n)` holds source bytes from `base + i`. */
class Reader {
  i = 0;
  n = 0;
  private base: number;
  constructor(
    private readonly src: ByteSource,
    start: number,
    private readonly end: number,
    readonly buf: Buffer,
    private readonly utf8: Utf8Check | null,
  ) {
    this.base = start;
  }

  /** Source offset of the next byte. */
  get pos(): number {
    return this.base + this.i;
  }

  /** Reads the next piece (call when `i === n`); false at the end of the line. */
  fill(): boolean {
    const at = this.base + this.n;
    this.base = at;
    this.i = 0;
    this.n = 0;
    if (at >= this.end) return false;
    const want = Math.min(this.buf.length, this.end - at);
    const got = this.src.read(this.buf, 0, want, at);
    if (!(got > 0)) throw new Error(`the source ended at byte ${at}, before the line's end at byte ${this.end}`);
    this.n = Math.min(got, want);
    this.utf8?.feed(this.buf, this.n, at);
    return true;
  }

  /** The next byte, not consumed; -1 at the end. */
  peek(): number {
    return this.i < this.n || this.fill() ? this.buf[this.i] : -1;
  }

  /** The next byte, consumed; -1 at the end. */
  next(): number {
    return this.i < this.n || this.fill() ? this.buf[this.i++] : -1;
  }

  /** Moves to source offset `pos` (no UTF-8 check: the second pass only). */
  seek(pos: number): void {
    if (pos >= this.base && pos < this.base + this.n) this.i = pos - this.base;
    else {
      this.base = pos;
      this.i = 0;
      this.n = 0;
    }
  }
}

/** What both passes share: JSON whitespace and collecting a key's bytes. */
abstract class Scanner {
  protected keyBuf = Buffer.allocUnsafe(256);
  protected keyLen = 0;
  protected keyEscaped = false;
  protected keyOver = false;
  constructor(
    readonly r: Reader,
    protected readonly maxKeyBytes: number,
  ) {}

  /** Skips JSON whitespace (space, tab, LF, CR), as canonical.ts's `ws()`. */
  protected ws(): void {
    const r = this.r;
    for (;;) {
      const buf = r.buf;
      const n = r.n;
      let i = r.i;
      while (i < n) {
        const c = buf[i];
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
        else break;
      }
      r.i = i;
      if (i < n || !r.fill()) return;
    }
  }

  protected startKey(): void {
    this.keyLen = 0;
    this.keyEscaped = false;
    this.keyOver = false;
  }

  /** Appends `src[a, b)` to the key being collected (past `maxKeyBytes` it is marked too long). */
  protected keep(src: Buffer, a: number, b: number): void {
    if (this.keyOver) return;
    const len = this.keyLen + (b - a);
    if (len > this.maxKeyBytes) {
      this.keyOver = true;
      return;
    }
    if (len > this.keyBuf.length) {
      const bigger = Buffer.allocUnsafe(Math.min(this.maxKeyBytes, Math.max(len, 2 * this.keyBuf.length)));
      this.keyBuf.copy(bigger, 0, 0, this.keyLen);
      this.keyBuf = bigger;
    }
    src.copy(this.keyBuf, this.keyLen, a, b);
    this.keyLen = len;
  }

  protected keepByte(c: number): void {
    if (this.keyOver) return;
    if (this.keyLen < this.keyBuf.length) this.keyBuf[this.keyLen++] = c;
    else this.keep(Buffer.of(c), 0, 1);
  }

  /** The collected key as Python reads it (escapes decoded), or null when it was too long. */
  protected key(): string | null {
    if (this.keyOver) return null;
    const raw = this.keyBuf.toString('utf8', 0, this.keyLen);
    // Validated JSON string content: JSON.parse decodes the same escapes as Python, lone surrogates included.
    return this.keyEscaped ? (JSON.parse('"' + raw + '"') as string) : raw;
  }
}

/** The validating first pass (see the module comment). Throws StreamingCanonicalError. */
class FirstPass extends Scanner {
  bom = false;
  topStart = -1;
  topTable: Float64Array | null = null;
  hashKey: string | null = null;
  hashValue: string | null | undefined = undefined;
  readonly numberKeyObjects: NumberKeyKind[] = [];
  duplicateKeys = false;
  /** Start offsets of the objects sorted by value (numberKeysByValue said so). */
  readonly byValue = new Set<number>();
  /** The first bound passed; from then on nothing more is recorded, only validated. */
  private complex: StreamingCanonicalError | null = null;
  private pathMembers = 0;
  private pathKeyChars = 0;

  constructor(
    r: Reader,
    private readonly utf8: Utf8Check,
    private readonly limits: StreamingLimits,
    private readonly hashKeys: readonly string[],
    private readonly numberKeysByValue: ((index: number) => boolean) | null,
    private readonly cache: TableCache,
  ) {
    super(r, limits.maxKeyBytes);
  }

  /** Reads the whole line; what it is, or throws (UTF-8 first, then JSON, then bounds). */
  run(): 'blank' | 'value' | 'object' {
    const r = this.r;
    let kind: 'blank' | 'value' | 'object' = 'blank';
    let error: StreamingCanonicalError | null = null;
    try {
      kind = this.line();
    } catch (err) {
      if (!(err instanceof StreamingCanonicalError)) throw err;
      error = err;
    }
    // Python decodes the whole text before it parses: the rest of the line must be UTF-8 too.
    r.i = r.n;
    while (r.fill()) r.i = r.n;
    this.utf8.finish();
    if (this.utf8.bad >= 0) {
      const at = this.utf8.bad;
      throw new StreamingCanonicalError('invalid-utf8', `invalid UTF-8 at byte ${at}`, at);
    }
    if (error) throw error;
    if (kind === 'object' && this.complex) throw this.complex;
    return kind;
  }

  private fail(code: PyJsonErrorCode, what: string, at = this.r.pos): never {
    throw new StreamingCanonicalError(code, `${what} at byte ${at}`, at);
  }

  private tooComplex(what: string, at = this.r.pos): void {
    this.complex ??= new StreamingCanonicalError('too-complex', `${what} at byte ${at}`, at);
  }

  private line(): 'blank' | 'value' | 'object' {
    const r = this.r;
    // A byte-order mark (decode.ts leaves it out); any other character from U+F000 can start no value.
    if (r.peek() === 0xef) {
      const at = r.pos;
      r.i++;
      if (r.next() !== 0xbb || r.next() !== 0xbf) this.fail('malformed', 'Expecting value', at);
      this.bom = true;
    }
    // Python's str.strip(): Unicode whitespace.
    for (;;) {
      const c = r.peek();
      if (c === -1) return 'blank';
      if (c < 0x80) {
        if (!isPyWhitespace(c)) break;
        r.i++;
        continue;
      }
      const at = r.pos;
      if (!isPyWhitespace(this.codePoint())) this.fail('malformed', 'Expecting value', at);
    }
    let kind: 'value' | 'object';
    if (r.peek() === LBRACE) {
      this.object(1, this.hashKeys, true);
      kind = 'object';
    } else {
      this.value(0);
      kind = 'value';
    }
    for (;;) {
      const c = r.peek();
      if (c === -1) return kind;
      const at = r.pos;
      if (c < 0x80) {
        if (!isPyWhitespace(c)) this.fail('malformed', 'Extra data', at);
        r.i++;
      } else if (!isPyWhitespace(this.codePoint())) this.fail('malformed', 'Extra data', at);
    }
  }

  /** Decodes one UTF-8 sequence (loosely: invalid bytes are reported by the UTF-8 check); -1 if cut short. */
  private codePoint(): number {
    const r = this.r;
    const c = r.next();
    const need = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
    let cp = c & (0x7f >> (need + 1));
    for (let k = 0; k < need; k++) {
      const d = r.next();
      if (d < 0 || (d & 0xc0) !== 0x80) return -1;
      cp = (cp << 6) | (d & 0x3f);
    }
    return cp;
  }

  private value(depth: number): void {
    const r = this.r;
    const c = r.peek();
    switch (c) {
      case LBRACE:
        this.object(depth + 1, null, false);
        return;
      case LBRACKET:
        this.array(depth + 1);
        return;
      case QUOTE:
        this.string(false);
        return;
      case 0x74:
        return this.literal(TRUE);
      case 0x66:
        return this.literal(FALSE);
      case 0x6e:
        return this.literal(NULL);
      case 0x4e:
        return this.literal(NAN);
      case 0x49:
        return this.literal(INFINITY);
      case MINUS: {
        const at = r.pos;
        r.i++;
        if (r.peek() === 0x49) return this.literal(INFINITY, at);
        return this.number(at);
      }
      default:
        if (c >= 0x30 && c <= 0x39) return this.number(r.pos);
        this.fail('malformed', 'Expecting value');
    }
  }

  private literal(word: Buffer, at = this.r.pos): void {
    for (const w of word) if (this.r.next() !== w) this.fail('malformed', 'Expecting value', at);
  }

  /** Consumes a run of ASCII digits; returns how many. */
  private digits(): number {
    const r = this.r;
    let count = 0;
    for (;;) {
      const buf = r.buf;
      const n = r.n;
      let i = r.i;
      while (i < n && buf[i] >= 0x30 && buf[i] <= 0x39) i++;
      count += i - r.i;
      r.i = i;
      if (i < n || !r.fill()) return count;
    }
  }

  /**
   * Python's NUMBER_RE `(-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?`, after the sign. A `.` or an
   * exponent without digits ends the number in canonical.ts, and the next token is then always an
   * error: reported here, after the integer check canonical.ts makes first.
   */
  private number(at: number): void {
    const r = this.r;
    let c = r.peek();
    let intDigits = 0;
    if (c === 0x30) {
      r.i++;
      intDigits = 1;
    } else if (c >= 0x31 && c <= 0x39) intDigits = this.digits();
    else this.fail('malformed', 'Expecting value', at);
    let isFloat = false;
    c = r.peek();
    if (c === 0x2e) {
      r.i++;
      if (this.digits() === 0) {
        this.checkInt(intDigits, at);
        this.fail('malformed', "Expecting ',' delimiter");
      }
      isFloat = true;
      c = r.peek();
    }
    if (c === 0x65 || c === 0x45) {
      r.i++;
      c = r.peek();
      if (c === 0x2b || c === MINUS) r.i++;
      if (this.digits() === 0) {
        if (!isFloat) this.checkInt(intDigits, at);
        this.fail('malformed', "Expecting ',' delimiter");
      }
      isFloat = true;
    }
    if (!isFloat) this.checkInt(intDigits, at);
  }

  private checkInt(digits: number, at: number): void {
    if (digits > MAX_INT_DIGITS)
      this.fail('int-too-long', `Integer literal of ${digits} digits exceeds Python's limit of ${MAX_INT_DIGITS}`, at);
  }

  /** Validates a string (at its opening quote); with `collect`, keeps its bytes as the key. */
  private string(collect: boolean): void {
    const r = this.r;
    const start = r.pos;
    r.i++;
    if (collect) this.startKey();
    for (;;) {
      const buf = r.buf;
      const n = r.n;
      let i = r.i;
      // Within this piece: plain bytes, and escapes that end inside it.
      for (;;) {
        const run = i;
        i = runOf(STRING_BODY, buf, i, n);
        if (collect && i > run) this.keep(buf, run, i);
        if (i >= n) break;
        const c = buf[i];
        if (c === QUOTE) {
          r.i = i + 1;
          return;
        }
        if (c !== BACKSLASH) this.fail('malformed', 'Invalid control character', r.pos + (i - r.i));
        if (i + 5 >= n) break;
        const e = buf[i + 1];
        let len: number;
        if (e === 0x75) {
          if ((HEX_VALUE[buf[i + 2]] | HEX_VALUE[buf[i + 3]] | HEX_VALUE[buf[i + 4]] | HEX_VALUE[buf[i + 5]]) < 0)
            break;
          len = 6;
        } else if (SHORT_ESCAPE[e] === 1) len = 2;
        else break;
        if (collect) {
          this.keep(buf, i, i + len);
          this.keyEscaped = true;
        }
        i += len;
      }
      r.i = i;
      if (i === n) {
        if (!r.fill()) this.fail('malformed', 'Unterminated string starting', start);
        continue;
      }
      // An escape that may cross into the next piece (or a bad one): byte by byte.
      const at = r.pos;
      r.i = i + 1;
      const e = r.next();
      if (e === 0x75) {
        if (collect) {
          this.keepByte(BACKSLASH);
          this.keepByte(e);
        }
        for (let k = 0; k < 4; k++) {
          const h = r.next();
          if (h < 0 || HEX_VALUE[h] < 0) this.fail('malformed', 'Invalid \\uXXXX escape', at);
          if (collect) this.keepByte(h);
        }
      } else if (e >= 0 && SHORT_ESCAPE[e]) {
        if (collect) {
          this.keepByte(BACKSLASH);
          this.keepByte(e);
        }
      } else this.fail('malformed', 'Invalid \\escape', at);
      if (collect) this.keyEscaped = true;
    }
  }

  private array(depth: number): void {
    if (depth > MAX_DEPTH) this.fail('too-deep', 'Nesting too deep');
    const r = this.r;
    r.i++;
    this.ws();
    if (r.peek() === RBRACKET) {
      r.i++;
      return;
    }
    for (;;) {
      this.value(depth);
      this.ws();
      const c = r.peek();
      if (c === RBRACKET) {
        r.i++;
        return;
      }
      if (c !== COMMA) this.fail('malformed', "Expecting ',' delimiter");
      r.i++;
      this.ws();
    }
  }

  /** An object; at the top level (`top`), the first of `pull` present is taken out (canonical.ts `object`). */
  private object(depth: number, pull: readonly string[] | null, top: boolean): void {
    if (depth > MAX_DEPTH) this.fail('too-deep', 'Nesting too deep');
    const r = this.r;
    const start = r.pos;
    if (top) this.topStart = start;
    r.i++;
    this.ws();
    const members: Member[] = [];
    if (r.peek() === RBRACE) {
      r.i++;
      if (top) this.topTable = toTable(r.pos, members);
      return;
    }
    let pulledKey: string | null = null;
    let pulledValue: string | null | undefined;
    let pulledRank = Infinity;
    let pulledKeyStart = -1;
    let pulledValueStart = -1;
    for (;;) {
      if (r.peek() !== QUOTE) this.fail('malformed', 'Expecting property name enclosed in double quotes');
      const keyStart = r.pos;
      this.string(true);
      const key = this.key();
      if (key === null) this.tooComplex(`a key longer than ${this.maxKeyBytes} bytes`, keyStart);
      this.ws();
      if (r.peek() !== COLON) this.fail('malformed', "Expecting ':' delimiter");
      r.i++;
      this.ws();
      const valueStart = r.pos;
      const rank = pull !== null && key !== null ? pull.indexOf(key) : -1;
      if (rank >= 0) {
        // The hash field: its value is kept aside, out of the canonical text.
        const c = r.peek();
        let v: string | null | undefined;
        if (c === QUOTE) {
          this.string(true);
          v = this.key() ?? undefined;
          if (v === undefined) this.tooComplex(`a hash value longer than ${this.maxKeyBytes} bytes`, valueStart);
        } else {
          this.value(depth);
          v = c === 0x6e ? null : undefined;
        }
        if (rank <= pulledRank) {
          // A less preferred key found earlier goes back into the body.
          if (pulledKey !== null && pulledKey !== key) this.add(members, pulledKey, pulledKeyStart, pulledValueStart);
          pulledKey = key;
          pulledValue = v;
          pulledRank = rank;
          pulledKeyStart = keyStart;
          pulledValueStart = valueStart;
        } else this.add(members, key as string, keyStart, valueStart);
      } else {
        this.value(depth);
        if (key !== null) this.add(members, key, keyStart, valueStart);
      }
      this.ws();
      const c = r.peek();
      if (c === RBRACE) {
        r.i++;
        break;
      }
      if (c !== COMMA) this.fail('malformed', "Expecting ',' delimiter");
      r.i++;
      this.ws();
    }
    if (top) {
      this.hashKey = pulledKey;
      this.hashValue = pulledValue;
    }
    this.close(start, r.pos, members, top);
  }

  private add(members: Member[], key: string, keyStart: number, valueStart: number): void {
    if (this.complex) return;
    this.pathMembers++;
    this.pathKeyChars += key.length;
    if (this.pathMembers > this.limits.maxMembers)
      return this.tooComplex(`more than ${this.limits.maxMembers} members in the open objects`, keyStart);
    if (this.pathKeyChars > this.limits.maxPathKeyChars)
      return this.tooComplex(`more than ${this.limits.maxPathKeyChars} key characters in the open objects`, keyStart);
    members.push({ key, keyStart, valueStart });
  }

  /** An object closed at `end`: its canonical member order (canonical.ts `joinMembers`), kept if worth it. */
  private close(start: number, end: number, members: Member[], top: boolean): void {
    if (this.complex) return;
    for (const m of members) this.pathKeyChars -= m.key.length;
    this.pathMembers -= members.length;
    let ordered = members;
    if (members.length > 1) {
      const kind = numberKeyKind(members);
      let byValue = false;
      if (kind) {
        if (this.numberKeyObjects.length >= this.limits.maxMembers)
          return this.tooComplex(`more than ${this.limits.maxMembers} objects with number-like keys`, start);
        byValue = this.numberKeysByValue?.(this.numberKeyObjects.length) ?? false;
        this.numberKeyObjects.push(kind);
        if (byValue) this.byValue.add(start);
      }
      const sorted = sortMembers(members, byValue);
      ordered = sorted.members;
      if (sorted.duplicates) this.duplicateKeys = true;
    }
    if (top) this.topTable = toTable(end, ordered);
    else this.cache.offer(start, end, ordered);
  }
}

/** Buffered output into the hashes. */
class Out {
  total = 0;
  private readonly buf = Buffer.allocUnsafe(64 * 1024);
  private n = 0;
  constructor(private readonly hashes: Hash[]) {}

  byte(c: number): void {
    if (this.n === this.buf.length) this.flush();
    this.buf[this.n++] = c;
  }

  two(a: number, b: number): void {
    if (this.n + 2 > this.buf.length) this.flush();
    this.buf[this.n++] = a;
    this.buf[this.n++] = b;
  }

  word(w: Buffer): void {
    if (this.n + w.length > this.buf.length) this.flush();
    w.copy(this.buf, this.n);
    this.n += w.length;
  }

  /** `\uXXXX`, lowercase hex. */
  escape(cu: number): void {
    if (this.n + 6 > this.buf.length) this.flush();
    const b = this.buf;
    const n = this.n;
    b[n] = BACKSLASH;
    b[n + 1] = 0x75;
    b[n + 2] = HEX[(cu >> 12) & 15];
    b[n + 3] = HEX[(cu >> 8) & 15];
    b[n + 4] = HEX[(cu >> 4) & 15];
    b[n + 5] = HEX[cu & 15];
    this.n = n + 6;
  }

  ascii(s: string): void {
    if (this.n + s.length > this.buf.length) this.flush();
    this.n += this.buf.write(s, this.n, 'latin1');
  }

  bytes(src: Buffer, a: number, b: number): void {
    const len = b - a;
    if (len >= 4096) {
      this.flush();
      const view = src.subarray(a, b);
      for (const h of this.hashes) h.update(view);
      this.total += len;
      return;
    }
    if (this.n + len > this.buf.length) this.flush();
    if (len < 32) {
      const out = this.buf;
      let o = this.n;
      for (let i = a; i < b; i++) out[o++] = src[i];
    } else src.copy(this.buf, this.n, a, b);
    this.n += len;
  }

  flush(): void {
    if (this.n === 0) return;
    const view = this.buf.subarray(0, this.n);
    for (const h of this.hashes) h.update(view);
    this.total += this.n;
    this.n = 0;
  }
}

/** A number literal read in pieces, printed as Python prints the value (canonical.ts `number`). */
class NumberText {
  private neg = false;
  private literal = '';
  private length = 0;
  private isFloat = false;
  private inExponent = false;
  private intPart = true;
  private intDigits = 0;
  private zeros = 0;
  private significant = '';
  private sticky = false;
  private expNeg = false;
  private exp = 0;

  reset(neg: boolean): void {
    this.neg = neg;
    this.literal = '';
    this.length = 0;
    this.isFloat = false;
    this.inExponent = false;
    this.intPart = true;
    this.intDigits = 0;
    this.zeros = 0;
    this.significant = '';
    this.sticky = false;
    this.expNeg = false;
    this.exp = 0;
  }

  feed(buf: Buffer, a: number, b: number): void {
    if (this.length < LITERAL_MAX)
      this.literal += buf.toString('latin1', a, Math.min(b, a + LITERAL_MAX - this.length));
    this.length += b - a;
    // The kind, and the digits in case the literal turns out longer than LITERAL_MAX (only a float can).
    for (let i = a; i < b; i++) {
      const c = buf[i];
      if (c >= 0x30 && c <= 0x39) {
        if (this.inExponent) this.exp = Math.min(this.exp * 10 + (c - 0x30), 1e15);
        else {
          if (this.intPart) this.intDigits++;
          if (this.significant.length === 0 && c === 0x30) this.zeros++;
          else if (this.significant.length < SIGNIFICANT_MAX) this.significant += String.fromCharCode(c);
          else if (c !== 0x30) this.sticky = true;
        }
      } else if (c === 0x2e) {
        this.intPart = false;
        this.isFloat = true;
      } else if (c === 0x65 || c === 0x45) {
        this.intPart = false;
        this.inExponent = true;
        this.isFloat = true;
      } else if (c === MINUS) this.expNeg = true;
    }
  }

  text(): string {
    const sign = this.neg ? '-' : '';
    if (!this.isFloat) return this.literal === '0' ? '0' : sign + this.literal; // Python int("-0") is 0
    if (this.length <= LITERAL_MAX) return pyFloatRepr(Number(sign + this.literal));
    // value = 0.<significant digits> * 10^e10: rounding is decided within the first 768 digits,
    // the rest only by whether it is zero (the sticky digit).
    if (this.significant.length === 0) return pyFloatRepr(this.neg ? -0 : 0);
    const e10 = this.intDigits - this.zeros + (this.expNeg ? -this.exp : this.exp);
    const clamped = Math.max(-1e9, Math.min(1e9, e10));
    return pyFloatRepr(Number(`${sign}0.${this.significant}${this.sticky ? '1' : ''}e${clamped}`));
  }
}

/** The emitting second pass (see the module comment), over a line the first pass validated. */
class SecondPass extends Scanner {
  private rescanned = 0;
  private readonly num = new NumberText();
  constructor(
    r: Reader,
    private readonly out: Out,
    private readonly cache: TableCache,
    private readonly topStart: number,
    private readonly topTable: Float64Array,
    private readonly byValue: ReadonlySet<number>,
    private readonly maxRescan: number,
    maxKeyBytes: number,
  ) {
    super(r, maxKeyBytes);
  }

  emitTop(): void {
    this.r.seek(this.topStart);
    this.object(this.topStart);
  }

  private changed(): never {
    throw new Error(`the line changed while it was read (at byte ${this.r.pos})`);
  }

  private value(): void {
    const r = this.r;
    const c = r.peek();
    switch (c) {
      case QUOTE:
        return this.string();
      case LBRACE:
        return this.object(r.pos);
      case LBRACKET:
        return this.array();
      case 0x74:
        return this.word(TRUE);
      case 0x66:
        return this.word(FALSE);
      case 0x6e:
        return this.word(NULL);
      case 0x4e:
        return this.word(NAN);
      case 0x49:
        return this.word(INFINITY);
      default:
        if (c === MINUS || (c >= 0x30 && c <= 0x39)) return this.number();
        this.changed();
    }
  }

  private word(w: Buffer): void {
    for (const b of w) if (this.r.next() !== b) this.changed();
    this.out.word(w);
  }

  private number(): void {
    const r = this.r;
    let neg = false;
    if (r.peek() === MINUS) {
      r.i++;
      if (r.peek() === 0x49) {
        this.out.byte(MINUS);
        return this.word(INFINITY);
      }
      neg = true;
    }
    const num = this.num;
    num.reset(neg);
    for (;;) {
      const buf = r.buf;
      const n = r.n;
      let i = r.i;
      while (i < n && NUMBER_BYTE[buf[i]]) i++;
      num.feed(buf, r.i, i);
      r.i = i;
      if (i < n || !r.fill()) break;
    }
    this.out.ascii(num.text());
  }

  /** A string re-escaped as `json.dumps(ensure_ascii=True)` prints it (canonical.ts `pyQuote`). */
  private string(): void {
    const r = this.r;
    const out = this.out;
    if (r.next() !== QUOTE) this.changed();
    out.byte(QUOTE);
    for (;;) {
      const buf = r.buf;
      const n = r.n;
      let i = r.i;
      // Within this piece: plain runs, and escapes and characters that end inside it.
      for (;;) {
        const run = i;
        i = runOf(PLAIN, buf, i, n);
        if (i > run) out.bytes(buf, run, i);
        if (i >= n) break;
        const c = buf[i];
        if (c === QUOTE) {
          out.byte(QUOTE);
          r.i = i + 1;
          return;
        }
        if (c === BACKSLASH) {
          if (i + 5 >= n) break;
          const e = buf[i + 1];
          if (e === 0x75) {
            const h = buf;
            this.codeUnit(
              (HEX_VALUE[h[i + 2]] << 12) |
                (HEX_VALUE[h[i + 3]] << 8) |
                (HEX_VALUE[h[i + 4]] << 4) |
                HEX_VALUE[h[i + 5]],
            );
            i += 6;
          } else {
            if (e === 0x2f) out.byte(e);
            else out.two(BACKSLASH, e);
            i += 2;
          }
        } else if (c >= 0x80) {
          const need = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
          if (i + need >= n) break;
          let cp = c & (0x7f >> (need + 1));
          for (let k = 1; k <= need; k++) cp = (cp << 6) | (buf[i + k] & 0x3f);
          this.codePoint(cp);
          i += need + 1;
        } else {
          out.escape(c); // DEL (the first pass refused controls)
          i++;
        }
      }
      r.i = i;
      if (i === n) {
        if (!r.fill()) this.changed();
        continue;
      }
      // An escape or a character that crosses into the next piece: byte by byte.
      const c = buf[i];
      r.i = i + 1;
      if (c === BACKSLASH) {
        const e = r.next();
        if (e === 0x75) {
          let cu = 0;
          for (let k = 0; k < 4; k++) {
            const h = r.next();
            if (h < 0 || HEX_VALUE[h] < 0) this.changed();
            cu = (cu << 4) | HEX_VALUE[h];
          }
          this.codeUnit(cu);
        } else if (e === 0x2f) out.byte(e);
        else if (e >= 0 && SHORT_ESCAPE[e]) out.two(BACKSLASH, e);
        else this.changed();
      } else {
        const need = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
        let cp = c & (0x7f >> (need + 1));
        for (let k = 0; k < need; k++) cp = (cp << 6) | (r.next() & 0x3f);
        this.codePoint(cp);
      }
    }
  }

  /** A non-ASCII character: `\uXXXX`, or a surrogate pair above U+FFFF. */
  private codePoint(cp: number): void {
    if (cp > 0xffff) {
      this.out.escape(0xd800 + ((cp - 0x10000) >> 10));
      this.out.escape(0xdc00 + ((cp - 0x10000) & 0x3ff));
    } else this.out.escape(cp);
  }

  /** One UTF-16 code unit from a `\uXXXX` escape, as pyQuote prints it. */
  private codeUnit(cu: number): void {
    const out = this.out;
    if (cu >= 0x20 && cu <= 0x7e) {
      if (cu === QUOTE || cu === BACKSLASH) out.two(BACKSLASH, cu);
      else out.byte(cu);
      return;
    }
    switch (cu) {
      case 0x0a:
        return out.two(BACKSLASH, 0x6e);
      case 0x0d:
        return out.two(BACKSLASH, 0x72);
      case 0x09:
        return out.two(BACKSLASH, 0x74);
      case 0x08:
        return out.two(BACKSLASH, 0x62);
      case 0x0c:
        return out.two(BACKSLASH, 0x66);
      default:
        out.escape(cu);
    }
  }

  private array(): void {
    const r = this.r;
    const out = this.out;
    r.i++;
    out.byte(LBRACKET);
    this.ws();
    if (r.peek() === RBRACKET) {
      r.i++;
      out.byte(RBRACKET);
      return;
    }
    for (;;) {
      this.value();
      this.ws();
      const c = r.next();
      if (c === RBRACKET) {
        out.byte(RBRACKET);
        return;
      }
      if (c !== COMMA) this.changed();
      out.two(COMMA, SPACE);
      this.ws();
    }
  }

  /** The object at `start`, members in key order, from its kept table or from a new scan. */
  private object(start: number): void {
    const r = this.r;
    const out = this.out;
    const t = start === this.topStart ? this.topTable : (this.cache.get(start) ?? this.members(start));
    out.byte(LBRACE);
    for (let k = 1; k < t.length; k += 2) {
      if (k > 1) out.two(COMMA, SPACE);
      r.seek(t[k]);
      this.string();
      out.two(COLON, SPACE);
      r.seek(t[k + 1]);
      this.value();
    }
    out.byte(RBRACE);
    r.seek(t[0]);
  }

  /** Scans the object at `start` again for its members (its table was not kept). */
  private members(start: number): Float64Array {
    const r = this.r;
    r.seek(start);
    if (r.next() !== LBRACE) this.changed();
    this.ws();
    const members: Member[] = [];
    if (r.peek() === RBRACE) r.i++;
    else
      for (;;) {
        const keyStart = r.pos;
        const key = this.readKey();
        this.ws();
        if (r.next() !== COLON) this.changed();
        this.ws();
        const valueStart = r.pos;
        this.skipValue();
        members.push({ key, keyStart, valueStart });
        this.ws();
        const c = r.next();
        if (c === RBRACE) break;
        if (c !== COMMA) this.changed();
        this.ws();
      }
    const end = r.pos;
    this.rescanned += end - start;
    if (this.rescanned > this.maxRescan)
      throw new StreamingCanonicalError(
        'too-complex',
        `more than ${this.maxRescan} bytes to scan again (deeply nested small objects) at byte ${start}`,
        start,
      );
    const ordered = members.length > 1 ? sortMembers(members, this.byValue.has(start)).members : members;
    return toTable(end, ordered);
  }

  /** A key (at its opening quote), decoded. */
  private readKey(): string {
    const r = this.r;
    if (r.next() !== QUOTE) this.changed();
    this.startKey();
    for (;;) {
      const buf = r.buf;
      const n = r.n;
      let i = r.i;
      const run = i;
      i = runOf(STRING_BODY, buf, i, n);
      if (i > run) this.keep(buf, run, i);
      r.i = i;
      if (i === n) {
        if (!r.fill()) this.changed();
        continue;
      }
      r.i = i + 1;
      if (buf[i] === QUOTE) break;
      this.keyEscaped = true;
      this.keepByte(BACKSLASH);
      const e = r.next();
      if (e < 0) this.changed();
      this.keepByte(e);
    }
    const key = this.key();
    if (key === null) this.changed();
    return key;
  }

  private skipString(): void {
    const r = this.r;
    r.i++;
    for (;;) {
      const buf = r.buf;
      const n = r.n;
      let i = r.i;
      i = runOf(STRING_BODY, buf, i, n);
      r.i = i;
      if (i === n) {
        if (!r.fill()) this.changed();
        continue;
      }
      r.i = i + 1;
      if (buf[i] === QUOTE) return;
      if (r.next() < 0) this.changed();
    }
  }

  private skipValue(): void {
    const r = this.r;
    const c = r.peek();
    if (c === QUOTE) return this.skipString();
    if (c === LBRACE || c === LBRACKET) {
      let depth = 0;
      for (;;) {
        const buf = r.buf;
        const n = r.n;
        let i = r.i;
        for (; i < n; i++) {
          const d = buf[i];
          if (d === QUOTE) break;
          if (d === LBRACE || d === LBRACKET) depth++;
          else if ((d === RBRACE || d === RBRACKET) && --depth === 0) {
            r.i = i + 1;
            return;
          }
        }
        r.i = i;
        if (i < n) this.skipString();
        else if (!r.fill()) this.changed();
      }
    }
    // A number or a literal: up to the next delimiter.
    for (;;) {
      const buf = r.buf;
      const n = r.n;
      let i = r.i;
      while (i < n) {
        const d = buf[i];
        if (d === COMMA || d === RBRACE || d === RBRACKET || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09)
          break;
        i++;
      }
      r.i = i;
      if (i < n || !r.fill()) return;
    }
  }
}
