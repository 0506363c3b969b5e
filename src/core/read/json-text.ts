/**
 * The original text of JSON values inside a line that has already been parsed (JSON.parse or
 * the Python-compatible parser accepted it), for output that must show values exactly as
 * written: integers beyond 2^53, `1.0`, `-0.0`, `1e5`, `NaN`, `Infinity` (which JSON.parse
 * rounds, shortens or turns into null), at any nesting depth (JSON.stringify and recursive
 * helpers overflow the stack at a few thousand levels; JSON.parse does not).
 *
 * Everything here is iterative and linear in the text: a scan that jumps over strings and
 * counts brackets, with no stack and no parse of numbers. A member is looked up from the end
 * of its object (the last of duplicate keys is the one JSON.parse keeps, and Loki Mode's writer
 * puts `details` last but one). The text must be valid (Python-flavoured) JSON; on anything
 * else the results are unspecified, but the scan never throws or loops.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function skipWhitespace(text: string, i: number): number {
  while (i < text.length && isWhitespace(text.charCodeAt(i))) i++;
  return i;
}

/** The last index at or before `i` that is not whitespace (-1 when none). */
function skipWhitespaceBack(text: string, i: number): number {
  while (i >= 0 && isWhitespace(text.charCodeAt(i))) i--;
  return i;
}

/** Whether the quote at `q` is escaped: an odd run of backslashes before it. */
function escapedQuote(text: string, q: number): boolean {
  let b = q - 1;
  while (b >= 0 && text.charCodeAt(b) === BACKSLASH) b--;
  return (q - 1 - b) % 2 === 1;
}

/** End (exclusive) of the string literal that starts at `i` (a `"`). */
function stringEnd(text: string, i: number): number {
  for (let from = i + 1; ;) {
    const q = text.indexOf('"', from);
    if (q < 0) return text.length;
    if (!escapedQuote(text, q)) return q + 1;
    from = q + 1;
  }
}

/**
 * Start of the string literal whose closing quote is at `q`. Outside strings JSON has no
 * backslash, so the first unescaped quote before `q` opens it.
 */
function stringStart(text: string, q: number): number {
  for (let from = q - 1; ;) {
    const p = text.lastIndexOf('"', from);
    if (p < 0) return 0;
    if (!escapedQuote(text, p)) return p;
    from = p - 1;
  }
}

/** Whether `text` has a backslash in [from, to) (a string literal's escapes; never past `to`). */
function hasBackslash(text: string, from: number, to: number): boolean {
  for (let j = from; j < to; j++) if (text.charCodeAt(j) === BACKSLASH) return true;
  return false;
}

/** End (exclusive) of the value that starts at `i` (not whitespace). */
export function valueEnd(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === QUOTE) return stringEnd(text, i);
  if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
    // Brackets balance in valid JSON, so one counter does for both kinds.
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const d = text.charCodeAt(j);
      if (d === QUOTE) j = stringEnd(text, j) - 1;
      else if (d === OPEN_OBJECT || d === OPEN_ARRAY) depth++;
      else if ((d === CLOSE_OBJECT || d === CLOSE_ARRAY) && --depth === 0) return j + 1;
    }
    return text.length;
  }
  // A number or a literal (true, false, null, NaN, Infinity, -Infinity): up to a delimiter.
  let j = i;
  while (j < text.length) {
    const d = text.charCodeAt(j);
    if (d === COMMA || d === CLOSE_OBJECT || d === CLOSE_ARRAY || isWhitespace(d)) break;
    j++;
  }
  return j;
}

/** Start of the value whose last character is at `j` (not whitespace). */
function valueStart(text: string, j: number): number {
  const c = text.charCodeAt(j);
  if (c === QUOTE) return stringStart(text, j);
  if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
    let depth = 0;
    for (let k = j; k >= 0; k--) {
      const d = text.charCodeAt(k);
      if (d === QUOTE) k = stringStart(text, k);
      else if (d === CLOSE_OBJECT || d === CLOSE_ARRAY) depth++;
      else if ((d === OPEN_OBJECT || d === OPEN_ARRAY) && --depth === 0) return k;
    }
    return 0;
  }
  let k = j;
  while (k > 0) {
    const d = text.charCodeAt(k - 1);
    if (d === COMMA || d === COLON || d === OPEN_ARRAY || isWhitespace(d)) break;
    k--;
  }
  return k;
}

/** A member of an object: its key (decoded) and where its value's text is. */
export interface MemberSpan {
  key: string;
  start: number;
  end: number;
}

/** A string literal decoded (`json`: false) or re-encoded as JSON.stringify writes it; as is if invalid. */
function reencoded(literal: string, json: boolean): string {
  try {
    const s = JSON.parse(literal) as string;
    return json ? JSON.stringify(s) : s;
  } catch {
    return json ? literal : literal.slice(1, -1);
  }
}

/** The key a string literal stands for (most keys have no escape: no parse needed). */
function keyOf(literal: string): string {
  return hasBackslash(literal, 1, literal.length - 1) ? reencoded(literal, false) : literal.slice(1, -1);
}

/** The members of the object whose `{` is at `start`, in text order (duplicates included). */
export function objectMembers(text: string, start = skipWhitespace(text, 0)): MemberSpan[] {
  const out: MemberSpan[] = [];
  if (text.charCodeAt(start) !== OPEN_OBJECT) return out;
  let i = skipWhitespace(text, start + 1);
  while (i < text.length && text.charCodeAt(i) === QUOTE) {
    const keyEnd = stringEnd(text, i);
    const key = keyOf(text.slice(i, keyEnd));
    i = skipWhitespace(text, keyEnd);
    if (text.charCodeAt(i) !== COLON) break;
    const vStart = skipWhitespace(text, i + 1);
    const vEnd = valueEnd(text, vStart);
    out.push({ key, start: vStart, end: vEnd });
    i = skipWhitespace(text, vEnd);
    if (text.charCodeAt(i) !== COMMA) break;
    i = skipWhitespace(text, i + 1);
  }
  return out;
}

/**
 * Where the value of member `key` is in the object whose `}` is at `close`: the last such
 * member, found by walking the members back from the end (what JSON.parse keeps of duplicate
 * keys; the writer's `details` is found after two steps). Null when there is none.
 */
function findMember(text: string, close: number, key: string): { start: number; end: number } | null {
  if (text.charCodeAt(close) !== CLOSE_OBJECT) return null;
  // A key JSON writes without escapes is compared in place; any literal with a backslash is decoded.
  // eslint-disable-next-line no-control-regex
  const literal = /["\\\u0000-\u001f]/.test(key) ? null : '"' + key + '"';
  let j = skipWhitespaceBack(text, close - 1);
  while (j > 0 && text.charCodeAt(j) !== OPEN_OBJECT) {
    const vStart = valueStart(text, j);
    const vEnd = j + 1;
    const colon = skipWhitespaceBack(text, vStart - 1);
    if (text.charCodeAt(colon) !== COLON) return null;
    const keyClose = skipWhitespaceBack(text, colon - 1);
    const keyStart = stringStart(text, keyClose);
    const hit = hasBackslash(text, keyStart + 1, keyClose)
      ? keyOf(text.slice(keyStart, keyClose + 1)) === key
      : literal !== null && keyClose + 1 - keyStart === literal.length && text.startsWith(literal, keyStart);
    if (hit) return { start: vStart, end: vEnd };
    const before = skipWhitespaceBack(text, keyStart - 1);
    if (text.charCodeAt(before) !== COMMA) return null;
    j = skipWhitespaceBack(text, before - 1);
  }
  return null;
}

/**
 * The original text of the top-level member `key` of the object `text` (the last one, when the
 * key is there more than once, as JSON.parse keeps), or undefined.
 */
export function memberText(text: string, key: string): string | undefined {
  const m = findMember(text, skipWhitespaceBack(text, text.length - 1), key);
  return m ? text.slice(m.start, m.end) : undefined;
}

/**
 * The original text of each top-level member of the object `text`, by key; a duplicate key
 * keeps its first position and its last value, as JSON.parse (and Python's json) do.
 */
export function memberTexts(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const s of objectMembers(text)) m.set(s.key, text.slice(s.start, s.end));
  return m;
}

/**
 * The original text of the value at `path` (object keys; array indexes as decimal strings) in
 * the JSON value `text`, or undefined when there is none. The last of duplicate keys counts.
 */
export function valueTextAt(text: string, path: readonly string[]): string | undefined {
  let start = skipWhitespace(text, 0);
  let end = skipWhitespaceBack(text, text.length - 1) + 1;
  for (const key of path) {
    const c = text.charCodeAt(start);
    if (c === OPEN_OBJECT) {
      const found = findMember(text, end - 1, key);
      if (!found) return undefined;
      ({ start, end } = found);
    } else if (c === OPEN_ARRAY && /^(?:0|[1-9]\d*)$/.test(key)) {
      const index = Number(key);
      let i = skipWhitespace(text, start + 1);
      for (let n = 0; n < index; n++) {
        if (i >= end || text.charCodeAt(i) === CLOSE_ARRAY) return undefined;
        i = skipWhitespace(text, valueEnd(text, i));
        if (text.charCodeAt(i) !== COMMA) return undefined; // the array ended before `index`
        i = skipWhitespace(text, i + 1);
      }
      if (i >= end || text.charCodeAt(i) === CLOSE_ARRAY) return undefined;
      start = i;
      end = valueEnd(text, i);
    } else return undefined;
  }
  return text.slice(start, end);
}

/**
 * A JSON value's text without whitespace between tokens, strings as JSON.stringify writes them
 * (`"\u00e9"` becomes `"é"`, `\/` becomes `/`), every number and `NaN`/`Infinity` exactly as
 * written. Iterative: any depth.
 */
export function compactJson(raw: string): string {
  // Without a backslash a string ends at the next quote (the common case: only the writer's
  // `", "` and `": "` to drop).
  const plain = raw.indexOf('\\') < 0;
  let out = '';
  let from = 0; // start of the pending run to copy
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === QUOTE) {
      if (plain) {
        i = raw.indexOf('"', i + 1);
        if (i < 0) break;
        continue;
      }
      const end = stringEnd(raw, i);
      if (hasBackslash(raw, i + 1, end - 1)) {
        out += raw.slice(from, i) + reencoded(raw.slice(i, end), true);
        from = end;
      }
      i = end - 1;
    } else if (isWhitespace(c)) {
      out += raw.slice(from, i);
      i = skipWhitespace(raw, i) - 1;
      from = i + 1;
    }
  }
  return from === 0 ? raw : out + raw.slice(from);
}
