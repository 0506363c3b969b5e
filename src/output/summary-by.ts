/**
 * `summary --by` output: on a terminal one line per bucket with a bar of unicode blocks
 * (eighths, as spark and hl draw them), failures in red where colour is on; piped, tab-separated
 * lines under a header; `--json`, an array of buckets.
 */
import type { ChalkInstance } from 'chalk';
import type { SummaryBy } from '../core/query/summary-by.js';
import { formatInZone } from '../core/query/time.js';
import { safeText } from '../formats/escape.js';
import { tsv } from './text.js';

/** One bucket of `summary --by --json`. */
export interface BucketJson {
  /** ISO 8601 in the zone of the buckets, with its offset; end exclusive. */
  start: string;
  end: string;
  count: number;
  failures: number;
  /** Entries per event family shown (the `--top` most frequent), by family (`--by W`, `--by W,family`). */
  families?: Record<string, number>;
  /** With `--by W,event`: entries per event shown, by event. */
  events?: Record<string, number>;
  /** With `--by W,actor`: entries per actor shown, by actor. */
  actors?: Record<string, number>;
  /** Entries of the other groups. */
  other: number;
}

/** Each grouping's plural: its `--json` key, and its name on the terminal. */
const GROUP_PLURAL = { family: 'families', event: 'events', actor: 'actors' } as const;

/** The buckets as `--json` prints them. */
export function summaryByJson(s: SummaryBy): BucketJson[] {
  return s.buckets.map((b) => ({
    start: formatInZone(b.start, s.zone),
    end: formatInZone(b.end, s.zone),
    count: b.count,
    failures: b.failures,
    [GROUP_PLURAL[s.group]]: Object.fromEntries(s.families.map((f, i) => [f, b.families[i]])),
    other: b.other,
  }));
}

/**
 * Piped: a header `start end count failures family:NAME… [other]` (`event:NAME` with `--by
 * W,event`, `actor:NAME` with `--by W,actor`), then one line per bucket,
 * times ISO 8601 with the zone's offset. Family names from the log are escaped (tsv()).
 */
export function formatSummaryByPlain(s: SummaryBy): string {
  const header = ['start', 'end', 'count', 'failures', ...s.families.map((f) => `${s.group}:${f}`)];
  if (s.hasOther) header.push('other');
  const lines = [tsv(header)];
  for (const b of s.buckets) {
    const row: Array<string | number> = [
      formatInZone(b.start, s.zone),
      formatInZone(b.end, s.zone),
      b.count,
      b.failures,
      ...b.families,
    ];
    if (s.hasOther) row.push(b.other);
    lines.push(tsv(row));
  }
  return lines.join('\n') + '\n';
}

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** A bar of `cells` character cells for `value` out of `max`, in eighths of a cell. */
function bar(value: number, max: number, cells: number): string {
  if (max <= 0 || value <= 0) return '';
  const eighths = Math.max(1, Math.round((value / max) * cells * 8));
  return '█'.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8];
}

/** `2026-10-25 01:00+02:00`: the bucket's wall-clock start and offset, 22 columns. */
function label(ms: number, zone: string): string {
  const iso = formatInZone(ms, zone);
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}${iso.slice(-6)}`;
}

/**
 * Terminal: `start  count  failures  bar`, the bar scaled to the largest bucket and to
 * `columns` (at least 10 cells; 80 columns leave 42 with counts up to 5 digits); the failures' share of it in red.
 */
export function formatSummaryByTable(s: SummaryBy, c: ChalkInstance, columns?: number): string {
  const max = s.buckets.reduce((m, b) => Math.max(m, b.count), 0);
  const countWidth = Math.max(5, String(max).length);
  const cells = Math.max(10, (columns || 80) - 22 - 2 * (countWidth + 2) - 2);
  const lines = [
    c.bold(
      `${'bucket'.padEnd(22)}  ${'count'.padStart(countWidth)}  ${'fail'.padStart(countWidth)}  ` +
        safeText(`per ${s.by}, ${s.zone}`),
    ),
  ];
  for (const b of s.buckets) {
    const whole = bar(b.count, max, cells);
    // The failures' share in whole cells (at least one), red, at the start of the bar.
    const red = b.failures ? Math.min(whole.length, Math.max(1, Math.round((b.failures / max) * cells))) : 0;
    const shown = c.red(whole.slice(0, red)) + whole.slice(red);
    lines.push(
      `${label(b.start, s.zone)}  ${String(b.count).padStart(countWidth)}  ` +
        `${String(b.failures).padStart(countWidth)}  ${shown}`,
    );
  }
  const parts = [`${s.total} entries in ${s.buckets.length} buckets`];
  if (s.untimed) parts.push(`${s.untimed} without a readable time (not in a bucket)`);
  if (s.families.length)
    parts.push(
      `${GROUP_PLURAL[s.group]}: ` +
        `${s.families.map(safeText).join(', ')}${s.hasOther ? ', other' : ''} (piped or --json)`,
    );
  lines.push(c.dim(parts.join('; ')));
  return lines.join('\n') + '\n';
}
