/**
 * The hot path of `verify`: the canonical hash input of an audit line (spec §3.1) produced
 * straight from the line's bytes, with no string and no object per line.
 *
 * Loki Mode's writer appends `json.dumps(entry)`: the same separators, escapes and number
 * forms as the canonical `json.dumps(entry, sort_keys=True)`, only with keys in insertion
 * order. So for a line as the writer wrote it, the canonical text is the line's own bytes with
 * the object members re-ordered and the hash member left out. This module does exactly that,
 * and **only** for lines that are provably in that form: every byte is validated to be what
 * CPython's encoder would print for the value it denotes (ASCII only, exact `", "` and `": "`
 * separators, `\uXXXX` in lowercase and only for characters Python escapes, integers without
 * `-0` or leading zeros, floats that are their own `repr`, no duplicate keys, keys without
 * escapes). Anything else returns -1 and the caller uses the general canonicalizer
 * ({@link canonicalizeEntry} in canonical.ts), so a crafted non-canonical line can never pass for
 * intact here while Loki Mode's verifier would call it tampered.
 */
import { MAX_INT_DIGITS, pyFloatRepr } from './canonical.js';

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
/** Nesting depth handled here; deeper lines go to the general canonicalizer. */
const MAX_FAST_DEPTH = 64;
const JSON_NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$/;
const INTEGRITY_KEY = Buffer.from('"_integrity_hash"');
const CHAIN_KEY = Buffer.from('"chain_hash"');

/** Which hash member the last canonicalized line had: 1 `_integrity_hash` (writer), 2 `chain_hash` (documented). */
export type HashKind = 0 | 1 | 2;

/**
 * Byte classes inside a string: 0 printed as is, 1 `"`, 2 `\\`, 3 never in canonical output (controls, DEL,
 * non-ASCII).
 */
const STRING_CLASS = new Uint8Array(256).fill(3);
for (let c = 0x20; c <= 0x7e; c++) STRING_CLASS[c] = 0;
STRING_CLASS[QUOTE] = 1;
STRING_CLASS[BACKSLASH] = 2;

/**
 * The member keys of a top-level object seen before, in line order, with the canonical order
 * of its members: lines with exactly these keys in this order (as a writer's lines are) are
 * canonicalized without scanning or sorting their keys again.
 */
interface Shape {
  /** `"key": ` of every member, in line order, one after another (keys validated: escape-free ASCII). */
  keys: Buffer;
  keysView: DataView;
  /** Where member i's `"key": ` starts in `keys`; one more entry: `keys.length`. */
  starts: Int32Array;
  /** The members (line order) in canonical order, the hash member left out. */
  order: Int32Array;
  /** Which member holds the hash, and which hash field it is. */
  hashIndex: number;
  hashKind: HashKind;
}

/** Shapes kept per canonicalizer (most recently matched first). */
const MAX_SHAPES = 4;

/**
 * Reusable byte canonicalizer. `entry()` writes the canonical text of one line into `out`
 * after a 64-byte slot reserved for the previous hash, so `out[0, end)` is the whole SHA-256
 * input of the chain rule.
 *
 * One validating pass records a tape of the line's containers (members: key span, value span,
 * nested container); a second pass writes the members of each object in key order. A line whose
 * top-level keys are, byte for byte and in order, those of one of the last few lines (every
 * line of a writer's file is) has its keys compared instead of scanned and its members written
 * in the order already sorted ({@link Shape}): 1.37 -> 0.99 µs per writer line (measured on
 * 195,000 bench lines), values still validated one by one.
 */
export class ByteCanonicalizer {
  /** Output: `[0, 64)` is the caller's previous hash (kept when the buffer grows), the canonical text follows. */
  out: Buffer;
  /** Byte range of the stored hash string (without quotes) in the source, after `entry()`. */
  hashStart = -1;
  hashEnd = -1;
  hashKind: HashKind = 0;
  /**
   * After a {@link scan}: the key sequence it recognised (an object that stays the same for every
   * line with these top-level keys in this order, whose members are then tape members 0…n-1 in
   * line order), or null when the line was read by the general scan.
   */
  scanShape: object | null = null;
  /** Whether the last line scanned held `NaN`, `Infinity` or `-Infinity` (which JSON.parse rejects). */
  nonFinite = false;
  private src: Buffer = Buffer.alloc(0);
  private srcView: DataView = new DataView(new ArrayBuffer(0));
  private outView: DataView;
  private o = 0;
  private end = 0;
  /** Members being scanned (a stack): keyStart, keyEnd, valueStart, valueEnd, child container (-1: none). */
  private stack: Int32Array = new Int32Array(5 * 256);
  private sp = 0;
  /** Members of finished containers, 5 ints each as on the stack. */
  private members: Int32Array = new Int32Array(5 * 1024);
  private nm = 0;
  /** Containers: first member, member count, kind (1 object, 0 array, 2 array of scalars copied as it is). */
  private nodes: Int32Array = new Int32Array(3 * 256);
  private nn = 0;
  /** Sort scratch: member numbers and their 4-byte key prefixes. */
  private order = new Int32Array(256);
  private prefix = new Float64Array(256);
  /** Key order of each object's members, by member number (each object has its own range). */
  private sorted = new Int32Array(1024);
  /** Top-level key sequences seen before by {@link entry} ({@link shaped}) and by {@link scan}. */
  private shapes: Shape[] = [];
  private scanShapes: Shape[] = [];
  /** Where the hash member was among the top-level members on the stack (the general scan). */
  private hashAt = -1;
  private hashKeyStart = -1;
  private hashKeyEnd = -1;
  /** Per top-level member of a shaped line: key start, value end, child container (-1: none). */
  private shapedKey = new Int32Array(64);
  private shapedEnd = new Int32Array(64);
  private shapedChild = new Int32Array(64);

  constructor(capacity = 64 * 1024) {
    this.out = Buffer.alloc(capacity);
    this.outView = new DataView(this.out.buffer, this.out.byteOffset, this.out.length);
  }

  /** Starts reading a line of `src` that ends at `end` (its newline): a fresh tape. */
  private begin(src: Buffer, end: number): void {
    if (src !== this.src) {
      this.src = src;
      this.srcView = new DataView(src.buffer, src.byteOffset, src.length);
    }
    this.end = end;
    this.clear();
  }

  /**
   * Forgets what a scan of the line recorded (the tape, the hash member, `nonFinite`): before a
   * scan, and after one that failed.
   */
  private clear(): void {
    this.sp = 0;
    this.nm = 0;
    this.nn = 0;
    this.hashKind = 0;
    this.hashStart = -1;
    this.hashAt = -1;
    this.nonFinite = false;
  }

  /**
   * Canonical text of the line `src[start, end)` without its hash member, written at
   * `out[64…]`. `src[end]` must be the line's newline (scans stop at it). Returns the end of
   * the output, or -1 when the line is not in the writer's exact form (use the general path).
   */
  entry(src: Buffer, start: number, end: number): number {
    if (this.out.length < end - start + 64) {
      // The first 64 bytes are the caller's (the previous hash): kept.
      const prefix = this.out.subarray(0, 64);
      this.out = Buffer.alloc(2 * (end - start + 64));
      prefix.copy(this.out);
      this.outView = new DataView(this.out.buffer, this.out.byteOffset, this.out.length);
    }
    this.begin(src, end);
    if (src[start] !== LBRACE) return -1;
    const shapes = this.shapes;
    for (let i = 0; i < shapes.length; i++) {
      const o = this.shaped(shapes[i], start, end);
      if (o >= 0) {
        if (i > 0) shapes.unshift(shapes.splice(i, 1)[0]);
        return o;
      }
      this.clear();
    }
    const q = this.container(start, 1, true);
    if (q !== end || this.hashKind === 0) return -1;
    this.o = 64;
    if (!this.emit(this.nn - 1)) return -1;
    this.learn(this.nn - 1);
    return this.o;
  }

  /**
   * {@link entry} for a line whose top-level keys are those of `shape`, in its order (see
   * {@link shapedScan}), its members written in the shape's canonical order. Returns the end of
   * the output, or -1 when the line does not have this shape or is not in the writer's form
   * (then the general scan decides).
   */
  private shaped(shape: Shape, start: number, end: number): number {
    if (shape.hashIndex < 0 || !this.shapedScan(shape, start, end, false)) return -1;
    const ks = this.shapedKey;
    const ve = this.shapedEnd;
    const ch = this.shapedChild;
    const starts = shape.starts;
    this.hashKind = shape.hashKind;
    this.hashEnd = ve[shape.hashIndex] - 1;
    const out = this.out;
    const order = shape.order;
    this.o = 64;
    out[this.o++] = LBRACE;
    for (let j = 0; j < order.length; j++) {
      const i = order[j];
      if (j > 0) {
        out[this.o++] = COMMA;
        out[this.o++] = SPACE;
      }
      if (!this.writeMember(ks[i], ks[i] + starts[i + 1] - starts[i], ve[i], ch[i])) return -1;
    }
    out[this.o++] = RBRACE;
    return this.o;
  }

  /**
   * Scans the top-level object of `src[start, end)` as {@link container} does, for a line whose
   * keys are those of `shape` in its order: each key is compared with the shape's bytes instead
   * of scanned, each value scanned (validated) as there. Records each member's key start, value
   * end and child container (shapedKey, shapedEnd, shapedChild); with `tape`, also puts the
   * members and the object on the tape as the general scan would ({@link scan}'s accessors).
   * False when the line does not have this shape or is not in the writer's form.
   */
  private shapedScan(shape: Shape, start: number, end: number, tape: boolean): boolean {
    const s = this.src;
    const v = this.srcView;
    const keys = shape.keys;
    const kv = shape.keysView;
    const starts = shape.starts;
    const n = starts.length - 1;
    const ks = this.shapedKey;
    const ve = this.shapedEnd;
    const ch = this.shapedChild;
    // The top-level members take the tape's first n slots; nested containers' go after them.
    if (tape) {
      while (n * 5 > this.members.length) this.members = grow(this.members);
      this.nm = n;
    }
    let q = start + 1;
    for (let i = 0; i < n; i++) {
      const a = starts[i];
      const len = starts[i + 1] - a;
      if (q + len > end) return false;
      let k = 0;
      for (; k + 4 <= len; k += 4) if (v.getUint32(q + k) !== kv.getUint32(a + k)) return false;
      for (; k < len; k++) if (s[q + k] !== keys[a + k]) return false;
      ks[i] = q;
      q += len;
      const vs = q;
      const c = s[q];
      if (i === shape.hashIndex) {
        if (c !== QUOTE) return false;
        this.hashStart = q + 1;
      }
      let child = -1;
      if (c === LBRACE || c === LBRACKET) {
        q = this.container(q, 2, false);
        child = this.nn - 1;
      } else q = this.scalar(q);
      if (q < 0) return false;
      ve[i] = q;
      ch[i] = child;
      if (tape) {
        // Re-read: a nested container may have grown the tape.
        const m = this.members;
        const r = i * 5;
        m[r] = ks[i];
        m[r + 1] = vs - 2;
        m[r + 2] = vs;
        m[r + 3] = q;
        m[r + 4] = child;
      }
      if (i < n - 1) {
        if (s[q] !== COMMA || s[q + 1] !== SPACE) return false;
        q += 2;
      }
    }
    if (s[q] !== RBRACE || q + 1 !== end) return false;
    if (tape) this.push(0, n, 1);
    return true;
  }

  /**
   * Keeps the key sequence of the line just canonicalized by the general scan (top-level node
   * `node`, its order in `sorted`, its hash member at `hashAt`) as a shape, most recent first.
   */
  private learn(node: number): void {
    const first = this.nodes[node * 3];
    const n = this.nodes[node * 3 + 1];
    const m = this.members;
    // Line order: the members on the tape, the hash member (not on it) at hashAt.
    const spans: number[] = [];
    for (let i = 0; i < n; i++) {
      if (i === this.hashAt) spans.push(this.hashKeyStart, this.hashKeyEnd);
      spans.push(m[(first + i) * 5], m[(first + i) * 5 + 1] + 2);
    }
    if (this.hashAt === n) spans.push(this.hashKeyStart, this.hashKeyEnd);
    const order = new Int32Array(n);
    for (let j = 0; j < n; j++) {
      const i = this.sorted[first + j] - first;
      order[j] = i >= this.hashAt ? i + 1 : i;
    }
    this.keep(this.shapes, spans, order, this.hashAt, this.hashKind);
  }

  /** Keeps the key sequence of the line just read by {@link scan} (top-level node `node`). */
  private learnKeys(node: number): void {
    const first = this.nodes[node * 3];
    const n = this.nodes[node * 3 + 1];
    const m = this.members;
    const spans: number[] = [];
    for (let i = first; i < first + n; i++) spans.push(m[i * 5], m[i * 5 + 1] + 2);
    this.keep(this.scanShapes, spans, new Int32Array(0), -1, 0);
  }

  /** Adds the shape of the `"key": ` spans `[start, end, …]` of the source to `list`, most recent first. */
  private keep(list: Shape[], spans: number[], order: Int32Array, hashIndex: number, hashKind: HashKind): void {
    const count = spans.length / 2;
    if (count > this.shapedKey.length) return;
    const starts = new Int32Array(count + 1);
    for (let i = 0; i < count; i++) starts[i + 1] = starts[i] + spans[2 * i + 1] - spans[2 * i];
    const keys = Buffer.alloc(starts[count]);
    for (let i = 0; i < count; i++) this.src.copy(keys, starts[i], spans[2 * i], spans[2 * i + 1]);
    list.unshift({
      keys,
      keysView: new DataView(keys.buffer, keys.byteOffset, keys.length),
      starts,
      order,
      hashIndex,
      hashKind,
    });
    if (list.length > MAX_SHAPES) list.pop();
  }

  /**
   * Validates the line `src[start, end)` as {@link entry} does (every byte as CPython's
   * `json.dumps` prints it, ASCII only, escape-free keys), without writing the canonical text and
   * without needing a hash member: a line of the writer's exact form, of either schema, hashed or
   * not. Then {@link root}, {@link member} and the member accessors read its tape; every member
   * is on it, the hash member too. `src[end]` must be the line's newline (scans stop at it).
   * Duplicate keys are not checked ({@link member} finds the last, as JSON.parse keeps).
   */
  scan(src: Buffer, start: number, end: number): boolean {
    this.begin(src, end);
    this.scanShape = null;
    if (src[start] !== LBRACE) return false;
    const shapes = this.scanShapes;
    for (let i = 0; i < shapes.length; i++) {
      if (this.shapedScan(shapes[i], start, end, true)) {
        this.scanShape = shapes[i];
        if (i > 0) shapes.unshift(shapes.splice(i, 1)[0]);
        return true;
      }
      this.clear();
    }
    if (this.container(start, 1, false) !== end) return false;
    this.learnKeys(this.nn - 1);
    return true;
  }

  /** The tape's node of the scanned line's top-level object (after a successful {@link scan}). */
  root(): number {
    return this.nn - 1;
  }

  /** The kind of tape node `node`: 1 object, 0 array, 2 array of scalars (no members on the tape). */
  nodeKind(node: number): number {
    return this.nodes[node * 3 + 2];
  }

  /**
   * The member of object node `node` whose key is `key` (the key's bytes without quotes), the
   * last one when there are several (as JSON.parse keeps); -1 when there is none.
   */
  member(node: number, key: Uint8Array): number {
    const nodes = this.nodes;
    const first = nodes[node * 3];
    const m = this.members;
    const s = this.src;
    const len = key.length;
    for (let i = first + nodes[node * 3 + 1] - 1; i >= first; i--) {
      const ks = m[i * 5] + 1;
      if (m[i * 5 + 1] - 1 - ks !== len) continue;
      let k = 0;
      while (k < len && s[ks + k] === key[k]) k++;
      if (k === len) return i;
    }
    return -1;
  }

  /** The first member of container node `node` (its members are numbered on from it). */
  firstMember(node: number): number {
    return this.nodes[node * 3];
  }

  /** How many members container node `node` has on the tape. */
  memberCount(node: number): number {
    return this.nodes[node * 3 + 1];
  }

  /** Where member `i`'s key starts in the source (its opening quote). */
  keyStart(i: number): number {
    return this.members[i * 5];
  }

  /** Where member `i`'s key ends in the source (after its closing quote). */
  keyEnd(i: number): number {
    return this.members[i * 5 + 1];
  }

  /** Where the value of member `i` starts in the source. */
  valueStart(i: number): number {
    return this.members[i * 5 + 2];
  }

  /** Where the value of member `i` ends (exclusive) in the source. */
  valueEnd(i: number): number {
    return this.members[i * 5 + 3];
  }

  /** The tape node of member `i`'s value when it is an object or array, else -1. */
  child(i: number): number {
    return this.members[i * 5 + 4];
  }

  /** Scans a string (validating it is as Python prints it); returns its end or -1. */
  private string(p: number): number {
    const s = this.src;
    let q = this.plainRun(p + 1);
    for (;;) {
      const k = STRING_CLASS[s[q]];
      if (k === 0) {
        q++;
        continue;
      }
      if (k === 1) return q + 1;
      if (k === 3) return -1;
      const n = s[q + 1];
      // Python's short escapes: \" \\ \n \r \t \b \f ("\/" is not one: Python prints "/").
      if (n === QUOTE || n === BACKSLASH || n === 0x6e || n === 0x72 || n === 0x74 || n === 0x62 || n === 0x66) {
        q += 2;
        continue;
      }
      if (n !== 0x75) return -1;
      let v = 0;
      for (let i = 2; i < 6; i++) {
        const h = s[q + i];
        const d = h >= 0x30 && h <= 0x39 ? h - 0x30 : h >= 0x61 && h <= 0x66 ? h - 0x57 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
      }
      // \uXXXX only for what ensure_ascii escapes that way: controls without a short form, DEL and above.
      if ((v >= 0x20 && v < 0x7f) || v === 0x08 || v === 0x09 || v === 0x0a || v === 0x0c || v === 0x0d) return -1;
      q += 6;
    }
  }

  /**
   * Skips whole 4-byte words of string bytes printed as they are (0x23-0x7E except `\\`),
   * tested all at once (SWAR, "Bit Twiddling Hacks": hasless/hasmore/haszero); the byte loop
   * takes over at the first word with anything else (a quote, an escape, a space). Stops
   * before `this.end`, the line's newline.
   */
  private plainRun(q: number): number {
    const v = this.srcView;
    const end = this.end;
    while (q + 4 <= end) {
      const x = v.getUint32(q);
      const bs = x ^ 0x5c5c5c5c;
      if (
        ((x - 0x23232323) & ~x & 0x80808080) |
        (((x + 0x01010101) | x) & 0x80808080) |
        ((bs - 0x01010101) & ~bs & 0x80808080)
      )
        break;
      q += 4;
    }
    return q;
  }

  private literal(p: number, word: Uint8Array): number {
    const s = this.src;
    for (let i = 0; i < word.length; i++) if (s[p + i] !== word[i]) return -1;
    return p + word.length;
  }

  private number(p: number): number {
    const s = this.src;
    let q = p;
    if (s[q] === MINUS) {
      q++;
      if (s[q] === 0x49) {
        this.nonFinite = true;
        return this.literal(q, INFINITY);
      }
    }
    const first = s[q];
    if (first === 0x30) q++;
    else if (first >= 0x31 && first <= 0x39) {
      while (s[q] >= 0x30 && s[q] <= 0x39) q++;
    } else return -1;
    const c = s[q];
    if (c === 0x2e || c === 0x65 || c === 0x45) return this.float(p, q);
    if (q - p > MAX_INT_DIGITS) return -1; // Python rejects it: the general path reports that
    if (first === 0x30 && q - p === 2) return -1; // "-0" prints as 0
    return q;
  }

  /**
   * A float literal `s[p, …)` whose integer part ends at `i`: canonical only if it is its own
   * Python repr. Plain decimals with at most 15 significant digits, no trailing zero and a
   * magnitude in repr's fixed range are (15 digits always round-trip, and a shorter string
   * would be another decimal of at most 15 digits, hence another double); others are checked
   * by formatting them.
   */
  private float(p: number, i: number): number {
    const s = this.src;
    let q = i;
    if (s[q] === 0x2e) {
      q++;
      const f = q;
      while (s[q] >= 0x30 && s[q] <= 0x39) q++;
      const c = s[q];
      if (q > f && c !== 0x65 && c !== 0x45) {
        const neg = s[p] === MINUS ? 1 : 0;
        const intDigits = i - p - neg;
        const zeroInt = intDigits === 1 && s[p + neg] === 0x30;
        let lead = 0;
        if (zeroInt) while (f + lead < q && s[f + lead] === 0x30) lead++;
        const sig = zeroInt ? q - f - lead : intDigits + (q - f);
        const fracIsZero = q - f === 1 && s[f] === 0x30;
        if (sig <= 15 && (fracIsZero || s[q - 1] !== 0x30) && (!zeroInt || lead <= 3 || fracIsZero)) return q;
      }
    }
    while (
      (s[q] >= 0x30 && s[q] <= 0x39) ||
      s[q] === 0x2e ||
      s[q] === 0x65 ||
      s[q] === 0x45 ||
      s[q] === 0x2b ||
      s[q] === MINUS
    )
      q++;
    const text = s.toString('latin1', p, q);
    if (!JSON_NUMBER.test(text) || pyFloatRepr(Number(text)) !== text) return -1;
    return q;
  }

  /** Scans a scalar value; returns its end or -1. */
  private scalar(p: number): number {
    const c = this.src[p];
    if (c === QUOTE) return this.string(p);
    if (c === 0x74) return this.literal(p, TRUE);
    if (c === 0x66) return this.literal(p, FALSE);
    if (c === 0x6e) return this.literal(p, NULL);
    if (c === 0x4e || c === 0x49) {
      this.nonFinite = true;
      return this.literal(p, c === 0x4e ? NAN : INFINITY);
    }
    return this.number(p);
  }

  private isKey(ks: number, ke: number, key: Uint8Array): boolean {
    return ke - ks === key.length && this.literal(ks, key) === ke;
  }

  /**
   * Scans an object or array at `p`, recording it on the tape (its members go to `members`,
   * the container to `nodes`, children before parents). Returns its end or -1.
   */
  private container(p: number, depth: number, top: boolean): number {
    if (depth > MAX_FAST_DEPTH) return -1;
    const s = this.src;
    const isObject = s[p] === LBRACE;
    const close = isObject ? RBRACE : RBRACKET;
    const base = this.sp;
    let q = p + 1;
    let containers = 0;
    if (s[q] !== close) {
      for (;;) {
        let ks = -1;
        let ke = -1;
        if (isObject) {
          if (s[q] !== QUOTE) return -1;
          ks = q;
          q = this.plainRun(q + 1);
          for (;;) {
            const k = STRING_CLASS[s[q]];
            if (k === 0) q++;
            else if (k === 1) break;
            else return -1; // keys with escapes: the general path (their order needs decoding)
          }
          q++;
          ke = q;
          if (s[q] !== COLON || s[q + 1] !== SPACE) return -1;
          q += 2;
        }
        const vs = q;
        const c = s[q];
        let child = -1;
        if (c === LBRACE || c === LBRACKET) {
          q = this.container(q, depth + 1, false);
          child = this.nn - 1;
          containers++;
        } else {
          q = this.scalar(q);
        }
        if (q < 0) return -1;
        const kind = top ? (this.isKey(ks, ke, INTEGRITY_KEY) ? 1 : this.isKey(ks, ke, CHAIN_KEY) ? 2 : 0) : 0;
        if (kind !== 0) {
          // The hash member: a string, once (two hash fields go to the general path). Its
          // value only has to equal the computed hex digest, so it needs no validation.
          if (this.hashKind !== 0 || c !== QUOTE) return -1;
          this.hashKind = kind;
          this.hashAt = this.sp - base;
          this.hashKeyStart = ks;
          this.hashKeyEnd = ke + 2;
          this.hashStart = vs + 1;
          this.hashEnd = q - 1;
        } else {
          let r = this.sp * 5;
          if (r + 5 > this.stack.length) this.stack = grow(this.stack);
          const st = this.stack;
          st[r++] = ks;
          st[r++] = ke;
          st[r++] = vs;
          st[r++] = q;
          st[r] = child;
          this.sp++;
        }
        if (s[q] === close) break;
        if (s[q] !== COMMA || s[q + 1] !== SPACE) return -1;
        q += 2;
      }
    }
    // An array of scalars is copied as it is; anything else becomes a node.
    const n = this.sp - base;
    if (!isObject && containers === 0) {
      this.sp = base;
      this.push(0, 0, 2);
      return q + 1;
    }
    while ((this.nm + n) * 5 > this.members.length) this.members = grow(this.members);
    const from = this.stack;
    const to = this.members;
    for (let i = base * 5, j = this.nm * 5, e = (base + n) * 5; i < e; i++, j++) to[j] = from[i];
    this.push(this.nm, n, isObject ? 1 : 0);
    this.nm += n;
    this.sp = base;
    return q + 1;
  }

  private push(first: number, count: number, kind: number): void {
    let r = this.nn * 3;
    if (r + 3 > this.nodes.length) this.nodes = grow(this.nodes);
    this.nodes[r++] = first;
    this.nodes[r++] = count;
    this.nodes[r] = kind;
    this.nn++;
  }

  /**
   * Copies `src[a, b)` to the output: 4 bytes at a time through DataViews (several times faster
   * than a byte loop), a native copy for long spans.
   */
  private copy(a: number, b: number): void {
    let o = this.o;
    if (b - a > 256) {
      this.src.copy(this.out, o, a, b);
      this.o = o + b - a;
      return;
    }
    const from = this.srcView;
    const to = this.outView;
    let i = a;
    for (; i + 4 <= b; i += 4, o += 4) to.setUint32(o, from.getUint32(i));
    const s = this.src;
    const out = this.out;
    for (; i < b; i++) out[o++] = s[i];
    this.o = o;
  }

  /** Writes container `node` (members of objects in key order); false on duplicate keys. */
  private emit(node: number): boolean {
    const nodes = this.nodes;
    const first = nodes[node * 3];
    const n = nodes[node * 3 + 1];
    const kind = nodes[node * 3 + 2];
    const m = this.members;
    const out = this.out;
    if (kind === 1) {
      if (this.order.length < n) {
        this.order = new Int32Array(2 * n);
        this.prefix = new Float64Array(2 * n);
      }
      const order = this.order;
      const prefix = this.prefix;
      const s = this.src;
      // Insertion sort by a 4-byte key prefix, then bytes (= code points: escape-free ASCII).
      // Keys have no NUL, so a shorter key padded with zeros sorts first, as it should.
      for (let i = 0; i < n; i++) {
        const r = (first + i) * 5;
        const ks = m[r] + 1;
        const kl = m[r + 1] - 1 - ks;
        const x =
          (kl > 0 ? s[ks] * 0x1000000 : 0) +
          (kl > 1 ? s[ks + 1] * 0x10000 : 0) +
          (kl > 2 ? s[ks + 2] * 0x100 : 0) +
          (kl > 3 ? s[ks + 3] : 0);
        let j = i;
        while (j > 0) {
          const y = prefix[j - 1];
          if (y < x) break;
          if (y === x) {
            const d = this.compareKeys(order[j - 1], first + i);
            if (d === 0) return false; // duplicate key: Python keeps the last; general path
            if (d < 0) break;
          }
          prefix[j] = y;
          order[j] = order[j - 1];
          j--;
        }
        prefix[j] = x;
        order[j] = first + i;
      }
      // Children are emitted recursively, so take this object's order out of the scratch first.
      if (this.sorted.length < this.members.length / 5) this.sorted = new Int32Array(this.members.length / 5);
      const sorted = this.sorted;
      for (let i = 0; i < n; i++) sorted[first + i] = order[i];
      out[this.o++] = LBRACE;
      for (let i = 0; i < n; i++) {
        const r = sorted[first + i] * 5;
        if (i > 0) {
          out[this.o++] = COMMA;
          out[this.o++] = SPACE;
        }
        if (!this.writeMember(m[r], m[r + 1] + 2, m[r + 3], m[r + 4])) return false;
      }
      out[this.o++] = RBRACE;
      return true;
    }
    out[this.o++] = LBRACKET;
    for (let i = 0; i < n; i++) {
      if (i > 0) {
        out[this.o++] = COMMA;
        out[this.o++] = SPACE;
      }
      if (!this.value((first + i) * 5)) return false;
    }
    out[this.o++] = RBRACKET;
    return true;
  }

  /**
   * Writes one object member found at `src[keyStart, valueEnd)`: a container value (but an
   * array of scalars) emitted after its `"key": ` (`src[keyStart, valueStart)`), anything else
   * copied as it is (contiguous and validated). False on a duplicate key inside it.
   */
  private writeMember(keyStart: number, valueStart: number, valueEnd: number, child: number): boolean {
    if (child >= 0 && this.nodes[child * 3 + 2] !== 2) {
      this.copy(keyStart, valueStart);
      return this.emit(child);
    }
    this.copy(keyStart, valueEnd);
    return true;
  }

  /** Writes the value of member record `r`. */
  private value(r: number): boolean {
    const m = this.members;
    const child = m[r + 4];
    if (child >= 0 && this.nodes[child * 3 + 2] !== 2) return this.emit(child);
    this.copy(m[r + 2], m[r + 3]);
    return true;
  }

  private compareKeys(a: number, b: number): number {
    const m = this.members;
    const s = this.src;
    const as = m[a * 5] + 1;
    const ae = m[a * 5 + 1] - 1;
    const bs = m[b * 5] + 1;
    const be = m[b * 5 + 1] - 1;
    const n = Math.min(ae - as, be - bs);
    for (let i = 0; i < n; i++) {
      const d = s[as + i] - s[bs + i];
      if (d !== 0) return d;
    }
    return ae - as - (be - bs);
  }
}

function grow(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const NULL = Buffer.from('null');
const NAN = Buffer.from('NaN');
const INFINITY = Buffer.from('Infinity');
