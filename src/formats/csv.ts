/**
 * CSV export (RFC 4180: comma-separated, CRLF-free here: one row per line, fields with `,` or
 * `"` quoted, `"` doubled). Safe for spreadsheets and line-oriented tools:
 * - a cell starting with `=`, `+`, `-`, `@`, tab or CR gets a leading `'` so that a spreadsheet
 *   does not run it as a formula (OWASP CSV injection), also after leading whitespace (spreadsheets
 *   trim it) and in the fullwidth and small forms an East Asian IME types (`＝` U+FF1D, `＋`
 *   U+FF0B, `－` U+FF0D, `＠` U+FF20, `﹦` U+FE66, `﹢` U+FE62, `﹣` U+FE63, `﹫` U+FE6B), which
 *   spreadsheets normalise to the ASCII sign;
 * - CR, LF and other control characters inside a value are written as `\r`, `\n`, `\x..`, so a
 *   value can never start a new row, even for tools that ignore quoting; JSON cells stay valid
 *   JSON (`\uXXXX` escapes).
 * Fixed columns first, then `details` and every other field (`extra`) as JSON: nothing is lost.
 */
import type { ReadEntry } from '../core/read/entries.js';
import { safeJson, safeText } from './escape.js';

export const CSV_COLUMNS = [
  'timestamp',
  'event',
  'level',
  'actor',
  'outcome',
  'action',
  'resource_type',
  'resource_id',
  'user_id',
  'token_id',
  'ip_address',
  'user_agent',
  'success',
  'error',
  'details',
  'extra',
  'chain_hash',
  'file',
  'line',
] as const;

const RAW_COLUMNS = new Set([
  'timestamp',
  'action',
  'resource_type',
  'resource_id',
  'user_id',
  'token_id',
  'ip_address',
  'user_agent',
  'success',
  'error',
  'details',
  '_integrity_hash',
  'chain_hash',
  'event',
  'level',
  'actor',
]);

// \s: Unicode white space (NBSP, U+3000 …), as a spreadsheet trims it before parsing.
const FORMULA_START = /^\s*[=+\-@\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b]/;
const NEEDS_QUOTES = /[",]/;

/** One CSV cell. */
export function csvCell(value: unknown): string {
  let s: string;
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') s = safeText(value);
  else s = safeJson(JSON.stringify(value) ?? ''); // still valid JSON
  if (FORMULA_START.test(s)) s = "'" + s;
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The header row. */
export function csvHeader(): string {
  return CSV_COLUMNS.join(',') + '\n';
}

/** One row for an entry. */
export function csvRow(e: ReadEntry): string {
  const r = e.record;
  const v = e.view;
  const extra: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(r)) if (!RAW_COLUMNS.has(k)) extra[k] = val;
  const cells: unknown[] = [
    v.timestamp,
    v.event,
    v.level,
    v.actor,
    v.outcome,
    r.action,
    r.resource_type,
    r.resource_id,
    r.user_id,
    r.token_id,
    r.ip_address,
    r.user_agent,
    r.success,
    r.error ?? v.error,
    r.details,
    Object.keys(extra).length ? extra : null,
    v.hash,
    e.file,
    e.line,
  ];
  return cells.map(csvCell).join(',') + '\n';
}
