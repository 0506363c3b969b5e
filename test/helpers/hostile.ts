/**
 * Hostile audit lines for the safety tests (docs/security.md): strings an attacker who can
 * write a field (a user name, an error, a detail) can put in the log.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseLine, type ReadEntry } from '../../src/core/read/entries.js';
import { DEFAULT_MAX_LINE_BYTES } from '../../src/core/read/lines.js';

/**
 * Characters a JSON string may hold raw (JSON only forbids raw C0 controls) that must never
 * reach a terminal raw: CSI (C1), a bidi override and isolate, a line separator, a soft hyphen,
 * a zero-width space, a BOM, and a tag character (invisible "ASCII smuggling").
 */
export const RAW_HOSTILE = '\u009b2J\u202eevil\u2066x\u2069\u2028\u00ad\u200b\ufeff\u{e0041}';

/** A character class of what must never be in terminal output (C0 but LF, DEL, C1, and the rest of RAW_HOSTILE). */
export const UNSAFE_ON_TTY =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u00ad\u200b\u2028\u202e\u2066\u2069\ufeff]|\u{e0041}/u;

/** A writer-schema entry (as Loki Mode's writer's keys) with `fields` over a plain one. */
export function writerEntry(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    timestamp: '2026-02-01T00:00:00+00:00',
    action: 'login',
    resource_type: 'auth',
    resource_id: null,
    user_id: 'alice',
    token_id: null,
    ip_address: null,
    user_agent: null,
    success: true,
    error: null,
    details: {},
    ...fields,
  };
}

/** Writes `lines` (JSON texts, one per line) as the day file audit-2026-02-01.jsonl in `dir`. */
export function writeDay(dir: string, lines: string[]): string {
  const path = join(dir, 'audit-2026-02-01.jsonl');
  writeFileSync(path, lines.map((l) => l + '\n').join(''));
  return path;
}

/** A line read as the reader reads it (parseLine), as an entry; throws when it is not one. */
export function readEntryOf(text: string | Buffer, file = 'audit-2026-02-01.jsonl', line = 1): ReadEntry {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const item = parseLine(
    { bytes, line, offset: 0, length: bytes.length, terminated: true, tooLong: false, crlf: false },
    file,
    DEFAULT_MAX_LINE_BYTES,
  );
  if (item?.kind !== 'entry') throw new Error(`not an entry: ${JSON.stringify(item)}`);
  return item;
}

/** `[[[…1.0…]]]`, `depth` arrays deep: JSON.parse reads it, JSON.stringify and recursion overflow. */
export const deepArray = (depth: number): string => '['.repeat(depth) + '1.0' + ']'.repeat(depth);

/** `{"a": {"a": … 1 …}}`, `depth` objects deep, with the writer's separators. */
export const deepObject = (depth: number): string => '{"a": '.repeat(depth) + '1' + '}'.repeat(depth);

/**
 * A writer-schema line as Loki Mode's writer prints it (`json.dumps`: `", "` and `": "`), with
 * `raw` members given as JSON text (numbers as written, NaN, deep values) over a plain entry.
 */
export function writerLine(raw: Record<string, string> = {}, fields: Record<string, unknown> = {}): string {
  const e = writerEntry(fields);
  const members = Object.entries(e).map(([k, v]) => [k, JSON.stringify(v)]);
  for (const [k, text] of Object.entries(raw)) {
    const at = members.findIndex(([key]) => key === k);
    if (at >= 0) members[at][1] = text;
    else members.push([k, text]);
  }
  return '{' + members.map(([k, v]) => `${JSON.stringify(k)}: ${v}`).join(', ') + '}';
}

/** Two lines nested `depth` deep: the first in `details`, the second in `user_id` (the actor). */
export function deepLines(depth: number): [string, string] {
  return [writerLine({ details: `{"a": ${deepArray(depth)}}` }), writerLine({ user_id: deepObject(depth) })];
}

/** Numbers JSON.parse changes (rounds, shortens, reads as null), as a line can hold them. */
export const EXACT_NUMBERS = {
  big: '18446744073709551617',
  huge: '123456789012345678901234567890',
  one: '1.0',
  negZero: '-0.0',
  exp: '1E5',
  tiny: '1e-05',
  nan: 'NaN',
  inf: 'Infinity',
  negInf: '-Infinity',
};

/** `{"big": 18446744073709551617, "one": 1.0, …}` as written. */
export const EXACT_DETAILS =
  '{' +
  Object.entries(EXACT_NUMBERS)
    .map(([k, v]) => `"${k}": ${v}`)
    .join(', ') +
  '}';

/** The same compacted (what text output and CSV show). */
export const EXACT_DETAILS_COMPACT = EXACT_DETAILS.replace(/": /g, '":').replace(/, /g, ',');
