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
 * The last two, `verified` (`true`, `false`; empty for a stream without a chain) and
 * `unverified` (why not), are loki-audit's, never the entry's: its own fields are in `extra`.
 * Values that are not strings come from the line's text (compacted), never re-serialized: any
 * nesting depth, and numbers exactly as written.
 */
import type { ReadEntry } from '../core/read/entries.js';
import { compactJson, memberText, memberTexts } from '../core/read/json-text.js';
import { safeJson, safeText } from './escape.js';

const CSV_COLUMNS = [
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
  'verified',
  'unverified',
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

/** A cell's text neutralised and quoted. */
function finish(s: string): string {
  // Only a cell starting with white space, a sign or a non-ASCII character can be a formula.
  const c = s.charCodeAt(0);
  const maybe =
    c >= 0xa0 || c === 0x20 || c === 0x2b || c === 0x2d || c === 0x3d || c === 0x40 || (c >= 0x09 && c <= 0x0d);
  if (maybe && FORMULA_START.test(s)) s = "'" + s;
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV cell of a value (objects as JSON.stringify writes them; {@link csvRow} uses the line's text). */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return finish(safeText(value));
  return finish(safeJson(JSON.stringify(value) ?? '')); // still valid JSON
}

// A JSON number as written, or Python's non-finite tokens: a value, never a formula (a
// spreadsheet reads `-0.0` as a number; `-Infinity` at worst as an unknown name, #NAME?).
const NUMBER = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|NaN|-?Infinity)$/;

/**
 * One CSV cell of a JSON value's original text: compacted, escaped, `null` empty. A number is
 * written exactly as the line holds it (`18446744073709551617`, `1.0`, `-0.0`, `NaN`), without
 * the formula guard's `'`.
 */
function csvJsonCell(raw: string | undefined): string {
  if (raw === undefined || raw === 'null') return '';
  if (NUMBER.test(raw)) return raw;
  return finish(safeJson(compactJson(raw)));
}

/** The header row. */
export function csvHeader(): string {
  return CSV_COLUMNS.join(',') + '\n';
}

/** One row for an entry. */
export function csvRow(e: ReadEntry): string {
  const r = e.record;
  const v = e.view;
  // Every member's text only when there are members beyond the columns (rare); else one scan per
  // member that needs its text (usually only `details`).
  let others = false;
  for (const k in r) if (!RAW_COLUMNS.has(k)) others = true;
  const members = others ? memberTexts(e.text) : null;
  // A member as a cell: strings and booleans from the parse, anything else from the text (a null
  // in a line that is not strict JSON may have been NaN).
  const member = (key: string): string => {
    const val = r[key];
    if (typeof val === 'string' || typeof val === 'boolean' || val === undefined) return csvCell(val);
    if (val === null && e.strictJson) return '';
    return csvJsonCell(members ? members.get(key) : memberText(e.text, key));
  };
  const extra: string[] = [];
  if (members) for (const [k, raw] of members) if (!RAW_COLUMNS.has(k)) extra.push(`${JSON.stringify(k)}:${raw}`);
  const error = r.error === null || r.error === undefined ? csvCell(v.error) : member('error');
  const cells: string[] = [
    csvCell(v.timestamp),
    csvCell(v.event),
    csvCell(v.level),
    csvCell(v.actor),
    csvCell(v.outcome),
    member('action'),
    member('resource_type'),
    member('resource_id'),
    member('user_id'),
    member('token_id'),
    member('ip_address'),
    member('user_agent'),
    member('success'),
    error,
    member('details'),
    extra.length ? csvJsonCell(`{${extra.join(',')}}`) : '',
    csvCell(v.hash),
    csvCell(e.file),
    String(e.line),
    // Whether the chain covers the entry (coverage.ts): empty for a stream without a chain.
    e.unverified === undefined ? '' : e.unverified === null ? 'true' : 'false',
    e.unverified ?? '',
  ];
  return cells.join(',') + '\n';
}
