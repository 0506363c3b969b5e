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

/** A writer-schema line (Python json.dumps spacing), `extra` JSON members text appended raw. */
export function pythonLine(ts: string, fields: Record<string, unknown>, raw = ''): string {
  const base = {
    timestamp: ts,
    action: 'request',
    resource_type: 'api',
    resource_id: null,
    user_id: null,
    token_id: null,
    ip_address: null,
    user_agent: null,
    success: true,
    error: null,
    ...fields,
  };
  const text = JSON.stringify(base).replace(/","/g, '", "').replace(/":/g, '": ');
  return raw ? text.slice(0, -1) + ', ' + raw + '}' : text;
}

/** Entries an attacker or an odd writer can leave, each a case the query must not lose. */
export function hostileDay(date: string): string[] {
  const t = (hms: string) => `${date}T${hms}.000001+00:00`;
  return [
    // Escaped ASCII hides "alice" and "login" from a substring search.
    pythonLine(t('08:00:00'), {}, '"details": {}')
      .replace('"action": "request"', '"action": "\\u006cogin"')
      .replace('"user_id": null', '"user_id": "\\u0061lice"')
      .replace('"resource_type": "api"', '"resource_type": "auth"'),
    // Three entries of one microsecond in three streams (levels): local order is file order.
    pythonLine(t('09:00:00'), { success: false, error: 'quota exceeded' }, '"details": {"status": 503}'),
    JSON.stringify({
      timestamp: `${date}T09:00:00.000001+00:00`,
      event: 'auth.logout',
      level: 'warning',
      actor: 'bob',
      details: {},
    }),
    pythonLine(t('09:00:00'), { user_id: 'carol' }, '"details": {"status": 200}'),
    // NaN: Loki's json parser cannot read the line.
    pythonLine(
      t('10:00:00'),
      { success: false, error: 'timeout after 30s' },
      '"details": {"status": 504, "ratio": NaN, "path": "/api/v1/projects/7"}',
    ),
    // null, an array, a number in a string.
    pythonLine(t('10:30:00'), {}, '"details": {"path": null, "tags": ["admin", "ops"], "status": "502"}'),
    // A newline and controls in values, raw hostile characters.
    pythonLine(
      t('11:00:00'),
      { user_id: 'dave' },
      `"details": {"note": "a\\nb quota", "ctl": "\\u001b[31m\\u009b", "raw": ${JSON.stringify(RAW_HOSTILE)}}`,
    ),
    // An event family of its own, and a dotted resource type.
    pythonLine(t('11:30:00'), { resource_type: 'zzz_custom', action: 'deploy', user_id: 'ci-bot' }, '"details": {}'),
    pythonLine(t('12:00:00'), { resource_type: 'a.b', action: 'c' }, '"details": {}'),
    // Capitals (for -i).
    pythonLine(t('12:30:00'), { user_id: 'ALICE', success: false, error: 'PERMISSION DENIED' }, '"details": {}'),
    // An object where a number is compared, a key that flattens like details.status.
    pythonLine(t('13:00:00'), {}, '"details": {"status": {"code": 500}}'),
    pythonLine(t('13:30:00'), {}, '"details_status": 100, "details": {"status": 505}'),
    // Escaped slashes, a big integer.
    pythonLine(
      t('14:00:00'),
      {},
      '"details": {"path": "\\/api\\/v1\\/projects\\/9", "status": 50000000000000000000001}',
    ),
    // Documented schema, a token actor, no fraction in the time.
    JSON.stringify({
      timestamp: `${date}T15:00:00+00:00`,
      event: 'auth.fail',
      level: 'error',
      actor: 'token:abc',
      details: { status: 401 },
    }),
  ];
}
