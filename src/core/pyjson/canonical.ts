/**
 * CPython `json` compatibility: parse a line the way `json.loads` does and print it the way
 * `json.dumps(obj, sort_keys=True, default=str)` does, in one pass, without building objects.
 *
 * This is the hash input of Loki Mode's audit chain (spec §3.1). JavaScript's
 * `JSON.parse` + `JSON.stringify` gets many of these bytes wrong (big integers, `1.0`,
 * exponent form, key order by code point, `\uXXXX` escapes, NaN), which would report untouched
 * entries as tampered, so the canonical text is produced straight from the source text:
 * numbers keep their literal (re-formatted as Python would), strings are re-escaped with
 * `ensure_ascii=True`, object members are sorted by Unicode code point at every depth.
 *
 * Sources: CPython 3.11 `Lib/json/encoder.py` (`ESCAPE_ASCII`, `floatstr`),
 * `Lib/json/scanner.py` (`NUMBER_RE`), `Objects/floatobject.c` (`float_repr`, 'r' mode with
 * `Py_DTSF_ADD_DOT_0`), `sys.int_info.default_max_str_digits` = 4300.
 */

/** Why a text is not something Python's `json.loads` accepts (or would crash on). */
export type PyJsonErrorCode =
  /** JSON syntax error, as `json.JSONDecodeError`. */
  | 'malformed'
  /** Integer literal longer than 4300 digits: Python raises `ValueError`. */
  | 'int-too-long'
  /** Nesting deeper than Python's recursion limit: `RecursionError`. */
  | 'too-deep';

/** A text that Python's `json.loads` rejects; `position` is a UTF-16 index into the text. */
export class PyJsonError extends Error {
  readonly code: PyJsonErrorCode;
  readonly position: number;

  constructor(code: PyJsonErrorCode, message: string, position: number) {
    // No stack trace: this error is an answer about the input, always caught, and a file of
    // garbage throws one per line (capturing the stack was most of the time spent on it).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = 'PyJsonError';
    this.code = code;
    this.position = position;
  }
}

/** Python's default recursion limit is 1000; the C scanner gives up at about that depth. */
export const MAX_DEPTH = 990;
/** `sys.int_info.default_max_str_digits` (Python >= 3.11, patched 3.7-3.10). */
export const MAX_INT_DIGITS = 4300;

/** Python `str.strip()` whitespace (Unicode White_Space plus the separators \x1c-\x1f), by code point. */
export function isPyWhitespace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
  if (c < 0x85) return false;
  return (
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/**
 * Python's `str.strip()`: removes Unicode whitespace at both ends (not U+FEFF, which
 * JavaScript's `trim()` would remove and Python keeps). Loki Mode's verifier strips every line.
 */
export function pyStrip(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isPyWhitespace(s.charCodeAt(a))) a++;
  while (b > a && isPyWhitespace(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

const HEX = '0123456789abcdef';
// Characters json.dumps(ensure_ascii=True) passes through unchanged: U+0020-U+007E except " and \.
const NEEDS_ESCAPE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/;

/**
 * A JavaScript string (UTF-16, may hold lone surrogates) as Python's
 * `json.dumps(ensure_ascii=True)` prints it: every code unit outside U+0020-U+007E as a
 * lowercase `\uXXXX` (astral characters thereby as their surrogate pair), `\n \r \t \b \f`
 * short, `"` and `\` backslashed, `/` never escaped.
 */
export function pyQuote(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) continue;
    if (i > start) out += s.slice(start, i);
    start = i + 1;
    switch (c) {
      case 0x22:
        out += '\\"';
        break;
      case 0x5c:
        out += '\\\\';
        break;
      case 0x0a:
        out += '\\n';
        break;
      case 0x0d:
        out += '\\r';
        break;
      case 0x09:
        out += '\\t';
        break;
      case 0x08:
        out += '\\b';
        break;
      case 0x0c:
        out += '\\f';
        break;
      default:
        out += '\\u' + HEX[(c >> 12) & 15] + HEX[(c >> 8) & 15] + HEX[(c >> 4) & 15] + HEX[c & 15];
    }
  }
  if (start < s.length) out += s.slice(start);
  return out + '"';
}

/**
 * Compares two strings by Unicode code point, as Python compares `str` (so `"\uffff"` sorts
 * before `"\U0001F600"`, unlike JavaScript's UTF-16 order). Lone surrogates compare as
 * their own code point, as in Python. Returns <0, 0 or >0.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === n) return a.length - b.length;
  const ca = a.charCodeAt(i);
  const cb = b.charCodeAt(i);
  // Below the surrogate range both are whole code points, and UTF-16 order is code point order.
  if (ca < 0xd800 && cb < 0xd800) return ca - cb;
  // Back up onto a shared high surrogate so that codePointAt sees whole pairs.
  let j = i;
  if (j > 0) {
    const prev = a.charCodeAt(j - 1);
    if (prev >= 0xd800 && prev <= 0xdbff) j--;
  }
  return (a.codePointAt(j) as number) - (b.codePointAt(j) as number);
}

/**
 * Python's `repr(float)` for a double: shortest round-trip digits, exponent form iff the
 * decimal exponent is < -4 or >= 16 (`1e-05`, `1e+16`), else fixed with at least `.0`.
 * Non-finite values print as `json.dumps` prints them: `NaN`, `Infinity`, `-Infinity`.
 */
export function pyFloatRepr(x: number): string {
  if (x !== x) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // JavaScript's Number#toString gives the same shortest, correctly rounded digits as
  // Python's repr; only the layout differs. Decompose into digits and decimal exponent.
  let s = String(x);
  let sign = '';
  if (s.charCodeAt(0) === 0x2d) {
    sign = '-';
    s = s.slice(1);
  }
  let digits: string;
  const e = s.indexOf('e');
  let mant = e >= 0 ? s.slice(0, e) : s;
  const expPart = e >= 0 ? Number(s.slice(e + 1)) : 0;
  const dot = mant.indexOf('.');
  let intLen = dot >= 0 ? dot : mant.length;
  if (dot >= 0) mant = mant.slice(0, dot) + mant.slice(dot + 1);
  let lead = 0;
  while (lead < mant.length - 1 && mant.charCodeAt(lead) === 0x30) lead++;
  digits = mant.slice(lead);
  intLen -= lead;
  let end = digits.length;
  while (end > 1 && digits.charCodeAt(end - 1) === 0x30) end--;
  digits = digits.slice(0, end);
  // value = 0.d1d2d3... * 10^exp  (Python's "decpt")
  const exp = intLen + expPart;
  if (exp - 1 < -4 || exp - 1 >= 16) {
    const e10 = exp - 1;
    const mantissa = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits;
    const abs = Math.abs(e10);
    return sign + mantissa + 'e' + (e10 < 0 ? '-' : '+') + (abs < 10 ? '0' + abs : String(abs));
  }
  if (exp <= 0) return sign + '0.' + '0'.repeat(-exp) + digits;
  if (exp >= digits.length) return sign + digits + '0'.repeat(exp - digits.length) + '.0';
  return sign + digits.slice(0, exp) + '.' + digits.slice(exp);
}

/** Options for one canonicalization pass. */
export interface CanonicalOptions {
  /**
   * Top-level keys to pull out of the canonical text (the chain hash field). The first one
   * present, in this order, is removed and its value returned as `hashValue`.
   */
  hashKeys?: readonly string[];
  /**
   * For the `index`-th object (in the order objects close) whose keys all read as Python's
   * string form of a number or bool (`"10"`, `"-1"`, `"2.5"`, `"1e+16"`, `"true"`): whether to
   * sort it by value, as Loki Mode's writer does when a dict had non-string keys, which it sorts
   * before `json.dumps` turns them into strings (spec §10.3, §10.18). Only used to diagnose a
   * mismatch.
   */
  numberKeysByValue?: (index: number) => boolean;
  /**
   * Accept what Python's `json.loads` refuses for its own limits, not for syntax: integers of
   * more than 4300 digits and nesting past its recursion limit (used to check whether such a
   * line's stored hash verifies, never to call it readable). Deep nesting may still throw a
   * RangeError (this canonicalizer recurses).
   */
  lenient?: boolean;
}

/** The kind of an object whose keys all look like numbers: `int` when all are integers (or bools). */
export type NumberKeyKind = 'int' | 'number';

/** What {@link canonicalizeEntry} found at the top level. */
export interface CanonicalResult {
  /** `json.dumps(value_without_hash_key, sort_keys=True)` */
  canonical: string;
  /** Whether the top-level value is a JSON object. */
  isObject: boolean;
  /** Which of `hashKeys` was present (and removed), or null. */
  hashKey: string | null;
  /** The hash field's value if it was a string, `null` if JSON null, undefined if absent or another type. */
  hashValue: string | null | undefined;
  /**
   * The objects (with two or more members) whose keys all look like numbers or bools, in the
   * order they close: the ones `numberKeysByValue` can sort otherwise.
   */
  numberKeyObjects: NumberKeyKind[];
  /** Whether some object held the same key twice (the last value was kept, as `json.loads` does). */
  duplicateKeys: boolean;
}

interface Member {
  key: string;
  text: string; // `"key": value` canonical
}

/** A one-pass scanner over one JSON text (a line, already decoded and stripped). */
class Canonicalizer {
  pos = 0;
  readonly numberKeyObjects: NumberKeyKind[] = [];
  duplicateKeys = false;
  constructor(
    private readonly src: string,
    private readonly numberKeysByValue: ((index: number) => boolean) | null,
    private readonly maxDepth = MAX_DEPTH,
    private readonly maxIntDigits = MAX_INT_DIGITS,
  ) {}

  fail(code: PyJsonErrorCode, what: string): never {
    throw new PyJsonError(code, `${what} at column ${this.pos + 1}`, this.pos);
  }

  ws(): void {
    const s = this.src;
    let p = this.pos;
    for (;;) {
      const c = s.charCodeAt(p);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.pos = p;
  }

  value(depth: number): string {
    const s = this.src;
    const c = s.charCodeAt(this.pos);
    switch (c) {
      case 0x7b: // {
        return this.object(depth + 1, null).text;
      case 0x5b: // [
        return this.array(depth + 1);
      case 0x22: // "
        return pyQuote(this.string());
      case 0x74: // t
        return this.literal('true', 'true');
      case 0x66: // f
        return this.literal('false', 'false');
      case 0x6e: // n
        return this.literal('null', 'null');
      case 0x4e: // N
        return this.literal('NaN', 'NaN');
      case 0x49: // I
        return this.literal('Infinity', 'Infinity');
      default:
        if (c === 0x2d && s.startsWith('-Infinity', this.pos)) {
          this.pos += 9;
          return '-Infinity';
        }
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
        return this.fail('malformed', 'Expecting value');
    }
  }

  literal(word: string, out: string): string {
    if (!this.src.startsWith(word, this.pos)) this.fail('malformed', 'Expecting value');
    this.pos += word.length;
    return out;
  }

  /** Python's NUMBER_RE: `(-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?`; kind from the text. */
  number(): string {
    const s = this.src;
    const start = this.pos;
    let p = start;
    if (s.charCodeAt(p) === 0x2d) p++;
    const intStart = p;
    let c = s.charCodeAt(p);
    if (c === 0x30) p++;
    else if (c >= 0x31 && c <= 0x39) {
      do p++;
      while ((c = s.charCodeAt(p)) >= 0x30 && c <= 0x39);
    } else {
      this.pos = start;
      return this.fail('malformed', 'Expecting value');
    }
    const intEnd = p;
    let isFloat = false;
    if (s.charCodeAt(p) === 0x2e) {
      const q = p + 1;
      let r = q;
      while ((c = s.charCodeAt(r)) >= 0x30 && c <= 0x39) r++;
      if (r > q) {
        isFloat = true;
        p = r;
      }
    }
    c = s.charCodeAt(p);
    if (c === 0x65 || c === 0x45) {
      let q = p + 1;
      const sc = s.charCodeAt(q);
      if (sc === 0x2b || sc === 0x2d) q++;
      let r = q;
      while ((c = s.charCodeAt(r)) >= 0x30 && c <= 0x39) r++;
      if (r > q) {
        isFloat = true;
        p = r;
      }
    }
    this.pos = p;
    if (isFloat) return pyFloatRepr(Number(s.slice(start, p)));
    if (intEnd - intStart > this.maxIntDigits) {
      this.pos = start;
      this.fail(
        'int-too-long',
        `Integer literal of ${intEnd - intStart} digits exceeds Python's limit of ${MAX_INT_DIGITS}`,
      );
    }
    // Python int(): "-0" is 0; JSON forbids other leading zeros, so the text is otherwise exact.
    if (intEnd - intStart === 1 && s.charCodeAt(intStart) === 0x30) return '0';
    return s.slice(start, p);
  }

  string(): string {
    const s = this.src;
    let p = this.pos + 1;
    const start = p;
    // Fast path: no escapes, no control characters.
    for (;;) {
      const c = s.charCodeAt(p);
      if (c === 0x22) {
        this.pos = p + 1;
        return s.slice(start, p);
      }
      if (c === 0x5c || c < 0x20 || p >= s.length) break;
      p++;
    }
    let out = s.slice(start, p);
    for (;;) {
      if (p >= s.length) {
        this.pos = start - 1;
        this.fail('malformed', 'Unterminated string starting');
      }
      const c = s.charCodeAt(p);
      if (c === 0x22) {
        this.pos = p + 1;
        return out;
      }
      if (c < 0x20) {
        this.pos = p;
        this.fail('malformed', 'Invalid control character');
      }
      if (c !== 0x5c) {
        let q = p + 1;
        while (q < s.length) {
          const d = s.charCodeAt(q);
          if (d === 0x22 || d === 0x5c || d < 0x20) break;
          q++;
        }
        out += s.slice(p, q);
        p = q;
        continue;
      }
      const e = s.charCodeAt(p + 1);
      switch (e) {
        case 0x22:
          out += '"';
          break;
        case 0x5c:
          out += '\\';
          break;
        case 0x2f:
          out += '/';
          break;
        case 0x62:
          out += '\b';
          break;
        case 0x66:
          out += '\f';
          break;
        case 0x6e:
          out += '\n';
          break;
        case 0x72:
          out += '\r';
          break;
        case 0x74:
          out += '\t';
          break;
        case 0x75: {
          const hex = s.slice(p + 2, p + 6);
          if (hex.length !== 4 || !/^[0-9a-fA-F]{4}$/.test(hex)) {
            this.pos = p;
            this.fail('malformed', 'Invalid \\uXXXX escape');
          }
          // Surrogate escapes become UTF-16 code units as they are; pairs and lone
          // surrogates alike round-trip to the same escapes Python prints.
          out += String.fromCharCode(parseInt(hex, 16));
          p += 6;
          continue;
        }
        default:
          this.pos = p;
          this.fail('malformed', 'Invalid \\escape');
      }
      p += 2;
    }
  }

  array(depth: number): string {
    if (depth > this.maxDepth) this.fail('too-deep', 'Nesting too deep');
    this.pos++; // [
    this.ws();
    if (this.src.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return '[]';
    }
    let out = '[';
    for (;;) {
      out += this.value(depth);
      this.ws();
      const c = this.src.charCodeAt(this.pos);
      if (c === 0x5d) {
        this.pos++;
        return out + ']';
      }
      if (c !== 0x2c) this.fail('malformed', "Expecting ',' delimiter");
      this.pos++;
      this.ws();
      out += ', ';
    }
  }

  /**
   * Parses an object; with `pull` (top level only), removes the first of those keys present
   * and reports its value.
   */
  object(
    depth: number,
    pull: readonly string[] | null,
  ): { text: string; pulledKey: string | null; pulledValue: string | null | undefined } {
    if (depth > this.maxDepth) this.fail('too-deep', 'Nesting too deep');
    const s = this.src;
    this.pos++; // {
    this.ws();
    const members: Member[] = [];
    let pulledKey: string | null = null;
    let pulledValue: string | null | undefined;
    let pulledRank = Infinity;
    let pulledText = '';
    if (s.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return { text: '{}', pulledKey, pulledValue };
    }
    for (;;) {
      if (s.charCodeAt(this.pos) !== 0x22) this.fail('malformed', 'Expecting property name enclosed in double quotes');
      const key = this.string();
      this.ws();
      if (s.charCodeAt(this.pos) !== 0x3a) this.fail('malformed', "Expecting ':' delimiter");
      this.pos++;
      this.ws();
      const rank = pull ? pull.indexOf(key) : -1;
      if (rank >= 0) {
        // The hash field: keep its value aside, out of the canonical text.
        const vStart = this.pos;
        const text = this.value(depth);
        const v = s.charCodeAt(vStart) === 0x22 ? (JSON.parse(text) as string) : text === 'null' ? null : undefined;
        if (rank <= pulledRank) {
          // A lower-ranked key found earlier goes back into the body.
          if (pulledKey !== null && pulledKey !== key)
            members.push({ key: pulledKey, text: pyQuote(pulledKey) + ': ' + pulledText });
          pulledKey = key;
          pulledValue = v;
          pulledRank = rank;
          pulledText = text;
        } else {
          members.push({ key, text: pyQuote(key) + ': ' + text });
        }
      } else {
        members.push({ key, text: pyQuote(key) + ': ' + this.value(depth) });
      }
      this.ws();
      const c = s.charCodeAt(this.pos);
      if (c === 0x7d) {
        this.pos++;
        break;
      }
      if (c !== 0x2c) this.fail('malformed', "Expecting ',' delimiter");
      this.pos++;
      this.ws();
    }
    return { text: this.joinMembers(members), pulledKey, pulledValue };
  }

  joinMembers(members: Member[]): string {
    if (members.length > 1) {
      const kind = numberKeyKind(members);
      let byValue = false;
      if (kind) {
        byValue = this.numberKeysByValue?.(this.numberKeyObjects.length) ?? false;
        this.numberKeyObjects.push(kind);
      }
      // A stable sort keeps duplicate keys in input order, next to each other.
      if (byValue) members.sort((a, b) => compareNumberKeys(a.key, b.key));
      else members.sort((a, b) => compareCodePoints(a.key, b.key));
      // Duplicate keys: the last value wins (dict assignment).
      for (let i = members.length - 1; i > 0; i--) {
        if (members[i].key === members[i - 1].key) {
          members.splice(i - 1, 1);
          this.duplicateKeys = true;
        }
      }
    }
    let out = '{';
    for (let i = 0; i < members.length; i++) out += (i ? ', ' : '') + members[i].text;
    return out + '}';
  }
}
const INT_KEY = /^-?(?:0|[1-9][0-9]*)$/;
// Python's repr of a finite float: `2.5`, `-10.0`, `1e+16`, `1.5e-07`.
const FLOAT_KEY = /^-?(?:(?:0|[1-9][0-9]*)\.[0-9]+(?:e[+-][0-9]{2,})?|[1-9](?:\.[0-9]+)?e[+-][0-9]{2,})$/;

/**
 * Whether every key reads as the string form of an int, a float or a bool (and which): the objects
 * that {@link CanonicalOptions.numberKeysByValue} may sort by value.
 */
export function numberKeyKind(members: readonly { key: string }[]): NumberKeyKind | null {
  let kind: NumberKeyKind = 'int';
  for (const { key } of members) {
    const c = key.charCodeAt(0);
    if (c === 0x74 || c === 0x66) {
      if (key !== 'true' && key !== 'false') return null;
    } else if (!((c >= 0x30 && c <= 0x39) || c === 0x2d)) return null;
    else if (!INT_KEY.test(key)) {
      if (!FLOAT_KEY.test(key)) return null;
      kind = 'number';
    }
  }
  return kind;
}

/** Python's order of the numbers (and bools: False is 0, True is 1) whose string forms are `a` and `b`. */
export function compareNumberKeys(a: string, b: string): number {
  const x = numberKeyValue(a);
  const y = numberKeyValue(b);
  if (typeof x === 'bigint' && typeof y === 'bigint') return x < y ? -1 : x > y ? 1 : 0;
  const nx = Number(x);
  const ny = Number(y);
  return nx < ny ? -1 : nx > ny ? 1 : 0;
}

function numberKeyValue(key: string): bigint | number {
  if (key === 'true') return 1n;
  if (key === 'false') return 0n;
  return INT_KEY.test(key) ? BigInt(key) : Number(key);
}

/**
 * `json.dumps(json.loads(text), sort_keys=True, default=str)` for any JSON text.
 * @throws PyJsonError when Python's `json.loads` would reject (or crash on) the text.
 */
export function canonicalize(text: string): string {
  const c = new Canonicalizer(text, null);
  c.ws();
  const out = c.value(0);
  c.ws();
  if (c.pos !== text.length) c.fail('malformed', 'Extra data');
  return out;
}

/**
 * Canonical text of one audit line with its chain hash field removed (spec §3): the input of
 * `sha256(prev_hash + canonical)`. The text must already be stripped (see {@link pyStrip}).
 * @throws PyJsonError when Python's `json.loads` would reject (or crash on) the text.
 */
export function canonicalizeEntry(text: string, options: CanonicalOptions = {}): CanonicalResult {
  const c = options.lenient
    ? new Canonicalizer(text, options.numberKeysByValue ?? null, Infinity, Infinity)
    : new Canonicalizer(text, options.numberKeysByValue ?? null);
  c.ws();
  let result: CanonicalResult;
  const rest = { numberKeyObjects: c.numberKeyObjects, duplicateKeys: false };
  if (text.charCodeAt(c.pos) === 0x7b) {
    const o = c.object(1, options.hashKeys ?? null);
    result = { canonical: o.text, isObject: true, hashKey: o.pulledKey, hashValue: o.pulledValue, ...rest };
  } else {
    result = { canonical: c.value(0), isObject: false, hashKey: null, hashValue: undefined, ...rest };
  }
  c.ws();
  if (c.pos !== text.length) c.fail('malformed', 'Extra data');
  result.duplicateKeys = c.duplicateKeys;
  return result;
}
