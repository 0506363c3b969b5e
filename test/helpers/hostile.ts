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
