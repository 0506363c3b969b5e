/**
 * The original text of JSON values inside a line that has already been parsed (JSON.parse or
 * the Python-compatible parser accepted it), for output that must show values exactly as
 * written: integers beyond 2^53, `1.0`, `-0.0`, `1e5`, `NaN`, `Infinity` (which JSON.parse
 * rounds, shortens or turns into null), at any nesting depth (JSON.stringify and recursive
 * helpers overflow the stack at a few thousand levels; JSON.parse does not).
 *
 * Everything here is iterative and linear in the text: a scan that skips strings and counts
 * brackets, with no stack and no parse of numbers. The text must be valid (Python-flavoured)
 * JSON; on anything else the results are unspecified, but the scan never throws or loops.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function skipWhitespace(text: string, i: number): number {
  while (i < text.length && isWhitespace(text.charCodeAt(i))) i++;
  return i;
}

/** End (exclusive) of the string literal that starts at `i` (a `"`). */
function stringEnd(text: string, i: number): number {
  let from = i + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q < 0) return text.length;
    // A quote ends the string unless an odd run of backslashes precedes it.
    let b = q - 1;
    while (b > i && text.charCodeAt(b) === BACKSLASH) b--;
    if ((q - 1 - b) % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/** End (exclusive) of the value that starts at `i` (not whitespace). */
export function valueEnd(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === QUOTE) return stringEnd(text, i);
  if (c === 0x7b || c === 0x5b) {
    // `{` or `[`: brackets balance in valid JSON, so one counter does for both kinds.
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const d = text.charCodeAt(j);
      if (d === QUOTE) j = stringEnd(text, j) - 1;
      else if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        if (--depth === 0) return j + 1;
      }
    }
    return text.length;
  }
  // A number or a literal (true, false, null, NaN, Infinity, -Infinity): up to a delimiter.
  let j = i;
  while (j < text.length) {
    const d = text.charCodeAt(j);
    if (d === 0x2c || d === 0x7d || d === 0x5d || isWhitespace(d)) break;
    j++;
  }
  return j;
}

/** A member of an object: its key (decoded) and where its value's text is. */
export interface MemberSpan {
  key: string;
  start: number;
  end: number;
}

/** The key a string literal stands for (most keys have no escape: no parse needed). */
function keyOf(literal: string): string {
  return literal.indexOf('\\') < 0 ? literal.slice(1, -1) : reencoded(literal, false);
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

/**
 * The members of the object whose `{` is at `start`, in text order (duplicates included).
 */
export function objectMembers(text: string, start = skipWhitespace(text, 0)): MemberSpan[] {
  const out: MemberSpan[] = [];
  if (text.charCodeAt(start) !== 0x7b) return out;
  let i = skipWhitespace(text, start + 1);
  while (i < text.length && text.charCodeAt(i) === QUOTE) {
    const keyEnd = stringEnd(text, i);
    const key = keyOf(text.slice(i, keyEnd));
    i = skipWhitespace(text, keyEnd);
    if (text.charCodeAt(i) !== 0x3a) break; // `:`
    const vStart = skipWhitespace(text, i + 1);
    const vEnd = valueEnd(text, vStart);
    out.push({ key, start: vStart, end: vEnd });
    i = skipWhitespace(text, vEnd);
    if (text.charCodeAt(i) !== 0x2c) break; // `,`
    i = skipWhitespace(text, i + 1);
  }
  return out;
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
  let end = valueEnd(text, start);
  for (const key of path) {
    const c = text.charCodeAt(start);
    if (c === 0x7b) {
      let found: MemberSpan | undefined;
      for (const s of objectMembers(text, start)) if (s.key === key) found = s;
      if (!found) return undefined;
      ({ start, end } = found);
    } else if (c === 0x5b && /^(?:0|[1-9]\d*)$/.test(key)) {
      const index = Number(key);
      let i = skipWhitespace(text, start + 1);
      let n = 0;
      let hit = false;
      while (i < end && text.charCodeAt(i) !== 0x5d) {
        const e = valueEnd(text, i);
        if (n++ === index) {
          [start, end, hit] = [i, e, true];
          break;
        }
        i = skipWhitespace(text, e);
        if (text.charCodeAt(i) === 0x2c) i = skipWhitespace(text, i + 1);
      }
      if (!hit) return undefined;
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
  let out = '';
  let from = 0; // start of the pending run to copy
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(raw, i);
      const literal = raw.slice(i, end);
      if (literal.indexOf('\\') >= 0) {
        out += raw.slice(from, i) + reencoded(literal, true);
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
