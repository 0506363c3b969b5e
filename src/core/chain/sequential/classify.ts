/**
 * The sequential verifier's line classifier: what one physical line of an audit file is, the way
 * Loki Mode's verifier reads it (spec §7: strict UTF-8, `str.strip()`, `json.loads`), before any
 * chain rule is applied. Pure: one line in, one class out.
 */
import { isAscii } from 'node:buffer';
import { decodeLine } from '../../read/decode.js';
import type { RawLine } from '../../read/lines.js';
import { canonicalizeEntry, PyJsonError, type NumberKeyKind } from '../../pyjson/canonical.js';
import { HASH_KEYS } from '../rule.js';

/** Why a line cannot be read as an entry by Python's `json.loads` (it crashes or refuses). */
export type UnreadableReason = 'invalid-utf8' | 'too-long' | 'int-too-long' | 'too-deep' | 'not-an-object';

/** What a line is. */
export type LineClass =
  /** Empty after stripping: skipped, still counted as a line. */
  | { kind: 'blank' }
  /**
   * Not readable as an entry by Python; `hint` is a hash plainly written at its end, if any.
   * `lenient`: for an entry Python refuses only for its own limits (an integer over 4300 digits,
   * nesting past its recursion limit), its canonical text and stored hash read without them, to
   * check whether the chain continues through it.
   */
  | {
      kind: 'unreadable';
      reason: UnreadableReason;
      message: string;
      hint: string | null;
      lenient?: { canonical: string; stored: string };
    }
  /** Text that is not JSON Python accepts (a torn write, or an edit). */
  | { kind: 'malformed'; text: string; message: string; hint: string | null }
  /** An object without a usable hash field. */
  | { kind: 'unhashed'; how: 'absent' | 'null' | 'not-a-string'; schema: HashSchema | null }
  /** An object with a string hash: what the chain checks. */
  | {
      kind: 'entry';
      text: string;
      canonical: string;
      stored: string;
      /** Objects whose keys all look like numbers (see CanonicalResult). */
      numberKeyObjects: NumberKeyKind[];
      /** The same key twice in an object: never what `json.dumps` writes. */
      duplicateKeys: boolean;
      schema: HashSchema;
      /** A line too long to hold: its chain hash from a predecessor, by streaming it (long-line.ts). */
      hashFrom?: (prev: string) => string;
    };

/** Which hash field a line uses: the writer's `_integrity_hash` or the documented `chain_hash` (spec §2). */
export type HashSchema = 'writer' | 'documented';

/** Per-line facts that make a file "not as the writer wrote it" while its values are intact. */
export interface LineLayout {
  crlf: boolean;
  /** Ended by a lone CR (classic-Mac line endings, read as Python's universal newlines read them). */
  cr: boolean;
  /** Starts with a UTF-8 byte-order mark. */
  bom: boolean;
  nonAscii: boolean;
  /** A bare CR inside the line (Loki Mode's verifier would split the line there). */
  loneCr: boolean;
}

/** Classifies one line. Never throws for bad content. */
export function classifyLine(raw: RawLine, maxLineBytes: number): LineClass {
  const decoded = decodeLine(raw, maxLineBytes);
  if (decoded.kind === 'blank') return { kind: 'blank' };
  if (decoded.kind === 'undecodable')
    return { kind: 'unreadable', reason: decoded.code, message: decoded.message, hint: hashHint(raw.bytes) };
  const text = decoded.text;
  let parsed;
  try {
    parsed = canonicalizeEntry(text, { hashKeys: HASH_KEYS });
  } catch (err) {
    if (!(err instanceof PyJsonError)) throw err;
    if (err.code !== 'malformed')
      return {
        kind: 'unreadable',
        reason: err.code,
        message: err.message,
        hint: hashHint(raw.bytes),
        lenient: lenientEntry(text),
      };
    return { kind: 'malformed', text, message: `malformed JSON: ${err.message}`, hint: hashHint(raw.bytes) };
  }
  if (!parsed.isObject)
    return { kind: 'unreadable', reason: 'not-an-object', message: 'line is valid JSON but not an object', hint: null };
  const schema =
    parsed.hashKey === '_integrity_hash' ? 'writer' : parsed.hashKey === 'chain_hash' ? 'documented' : null;
  if (typeof parsed.hashValue !== 'string') {
    const how =
      parsed.hashKey !== null && parsed.hashValue === null ? 'null' : parsed.hashKey ? 'not-a-string' : 'absent';
    return { kind: 'unhashed', how, schema };
  }
  return {
    kind: 'entry',
    text,
    canonical: parsed.canonical,
    stored: parsed.hashValue,
    numberKeyObjects: parsed.numberKeyObjects,
    duplicateKeys: parsed.duplicateKeys,
    schema: schema as HashSchema,
  };
}

/** An entry read without Python's digit and depth limits, or undefined (another error, or too deep for this stack). */
function lenientEntry(text: string): { canonical: string; stored: string } | undefined {
  try {
    const r = canonicalizeEntry(text, { hashKeys: HASH_KEYS, lenient: true });
    return r.isObject && typeof r.hashValue === 'string' ? { canonical: r.canonical, stored: r.hashValue } : undefined;
  } catch {
    return undefined;
  }
}

/** The layout facts of a line (for the file's "rewritten" note). */
export function lineLayout(raw: RawLine): LineLayout {
  const b = raw.bytes;
  const bom = b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;
  return {
    crlf: raw.crlf,
    cr: raw.cr === true,
    bom,
    nonAscii: !isAscii(bom ? b.subarray(3) : b),
    loneCr: b.indexOf(0x0d) >= 0,
  };
}

/**
 * A malformed line whose tail is a whole entry: what a torn write leaves once the next append
 * lands on the same line (spec §10.8, §10.17). Returns the entry and where it starts, or null.
 */
export function entryAtEnd(text: string): { at: number; canonical: string; stored: string } | null {
  // What a torn write leaves before the next append: the start of an entry, or the NUL bytes a
  // power loss leaves where data had not reached the disk (spec §10.17).
  if (text.charCodeAt(0) !== 0x7b && text.charCodeAt(0) !== 0) return null;
  for (let at = text.lastIndexOf('{"'); at > 0; at = text.lastIndexOf('{"', at - 1)) {
    let parsed;
    try {
      parsed = canonicalizeEntry(text.slice(at), { hashKeys: HASH_KEYS });
    } catch {
      continue;
    }
    if (typeof parsed.hashValue !== 'string') continue;
    return { at, canonical: parsed.canonical, stored: parsed.hashValue };
  }
  return null;
}

/**
 * Whether `text` is what a torn write leaves once a writer has ended its line: the start of a JSON
 * object cut off before its end (every later piece of it could still follow), or the NUL bytes a
 * power loss leaves (spec §10.8, §10.17). loki-audit's `append` ends a torn last line with a
 * newline before it appends, so that the fragment stays a line of its own.
 */
export function tornFragment(text: string): boolean {
  return /^\0+$/.test(text) || objectPrefix(text);
}

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const NUMBER_START = /^-?(?:(?:0|[1-9]\d*)(?:\.\d*)?(?:[eE][+-]?\d*)?)?$/;
const WORDS = ['true', 'false', 'null', 'NaN', 'Infinity', '-Infinity'];
const TOKEN_CHAR = /[0-9A-Za-z+\-.]/;

/** Where the string starting at `s[at]` (a quote) ends (just after its closing quote); -1: cut off; -2: invalid. */
function stringEnd(s: string, at: number): number {
  for (let i = at + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c < 0x20) return -2;
    if (c !== 0x5c) continue;
    const e = s[i + 1];
    if (e === undefined) return -1;
    if (e === 'u') {
      const hex = s.slice(i + 2, i + 6);
      if (!/^[0-9a-fA-F]*$/.test(hex)) return -2;
      if (hex.length < 4) return -1;
      i += 5;
    } else if ('"\\/bfnrt'.includes(e)) i++;
    else return -2;
  }
  return -1;
}

/** Whether `s` is a JSON object (as Python's json.loads reads one) cut off before its end. */
function objectPrefix(s: string): boolean {
  if (s.charCodeAt(0) !== 0x7b) return false;
  const open: string[] = [];
  let expect: 'value' | 'key' | 'colon' | 'next' = 'value';
  let empty = false; // just after `{` or `[`: a close is allowed where a key or value is expected
  for (let i = 0; i < s.length;) {
    const c = s[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const close = (c === '}' && open.at(-1) === '{') || (c === ']' && open.at(-1) === '[');
    if (close && (expect === 'next' || empty)) {
      open.pop();
      if (open.length === 0) return false; // the object is whole
      i++;
      expect = 'next';
      empty = false;
      continue;
    }
    empty = false;
    if (expect === 'colon') {
      if (c !== ':') return false;
      i++;
      expect = 'value';
    } else if (expect === 'next') {
      if (c !== ',') return false;
      i++;
      expect = open.at(-1) === '{' ? 'key' : 'value';
    } else if (c === '"') {
      const end = stringEnd(s, i);
      if (end < 0) return end === -1;
      i = end;
      expect = expect === 'key' ? 'colon' : 'next';
    } else if (expect === 'key') {
      return false;
    } else if (c === '{' || c === '[') {
      open.push(c);
      i++;
      expect = c === '{' ? 'key' : 'value';
      empty = true;
    } else {
      let j = i;
      while (j < s.length && TOKEN_CHAR.test(s[j])) j++;
      const token = s.slice(i, j);
      if (j === s.length) return NUMBER_START.test(token) || WORDS.some((w) => w.startsWith(token) && token !== '');
      if (!NUMBER.test(token) && !WORDS.includes(token)) return false;
      i = j;
      expect = 'next';
    }
  }
  return open.length > 0;
}

const HASH_HINT = /"(?:_integrity_hash|chain_hash)"\s*:\s*"([0-9a-f]{64})"\s*}?\s*$/;

/**
 * The hash plainly written at the end of a line that cannot be parsed, if any: lets the chain
 * be followed through the bad line, so one damaged entry does not hide the rest.
 */
function hashHint(bytes: Buffer): string | null {
  if (bytes.length === 0) return null;
  const tail = bytes.subarray(Math.max(0, bytes.length - 200)).toString('latin1');
  return HASH_HINT.exec(tail)?.[1] ?? null;
}
