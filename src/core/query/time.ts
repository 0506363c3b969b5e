/**
 * Time arguments as operators type them (journalctl, logcli): ISO 8601 timestamps, dates,
 * relative durations (`30m`, `24h`, `7d`, `2w`, optionally `-24h` or `24h ago`), `now`,
 * `today`, `yesterday`. Audit files are cut at UTC midnight (spec §1), so dates, `today`,
 * `yesterday` and timestamps without an offset are UTC.
 */
// Per-function modules: the package root loads all of date-fns into every command's memory.
import { isValid } from 'date-fns/isValid';
import { parseISO } from 'date-fns/parseISO';
import { subDays } from 'date-fns/subDays';
import { subHours } from 'date-fns/subHours';
import { subMinutes } from 'date-fns/subMinutes';
import { subSeconds } from 'date-fns/subSeconds';
import { subWeeks } from 'date-fns/subWeeks';

/** A time argument that cannot be understood. */
export class TimeSpecError extends Error {
  constructor(readonly input: string) {
    super(
      `cannot read time "${input}": use an ISO 8601 time (2026-02-01T12:00:00Z), a date (2026-02-01), a duration back from now (30m, 24h, 7d, 2w), now, today or yesterday`,
    );
    this.name = 'TimeSpecError';
  }
}

const RELATIVE = /^-?\s*(\d+)\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?|d|days?|w|weeks?)(\s+ago)?$/i;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const HAS_OFFSET = /(Z|[+-]\d{2}(:?\d{2})?)$/i;

function utcMidnight(d: Date): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
}

/**
 * Parses one time argument.
 * @param options.end When true (an `--until`), a bare date means the end of that day (next UTC midnight).
 * @returns the instant (ms precision).
 * @throws TimeSpecError for anything else.
 */
export function parseTimeSpec(input: string, now: Date = new Date(), { end = false }: { end?: boolean } = {}): Date {
  const s = input.trim();
  const lower = s.toLowerCase();
  if (lower === 'now') return now;
  if (lower === 'today') return end ? subDays(utcMidnight(now), -1) : utcMidnight(now);
  if (lower === 'yesterday') return end ? utcMidnight(now) : subDays(utcMidnight(now), 1);
  if (lower === 'tomorrow') return subDays(utcMidnight(now), end ? -2 : -1);
  const rel = RELATIVE.exec(s);
  if (rel) {
    const n = Number(rel[1]);
    const unit = rel[2].toLowerCase()[0];
    if (unit === 's') return subSeconds(now, n);
    if (unit === 'm') return subMinutes(now, n);
    if (unit === 'h') return subHours(now, n);
    if (unit === 'd') return subDays(now, n);
    return subWeeks(now, n);
  }
  const date = DATE_ONLY.exec(s);
  if (date) {
    const d = new Date(Date.UTC(Number(date[1]), Number(date[2]) - 1, Number(date[3])));
    if (!isValid(d) || d.getUTCDate() !== Number(date[3])) throw new TimeSpecError(input);
    return end ? subDays(d, -1) : d;
  }
  if (/^\d{4}-\d{2}-\d{2}[T ]/.test(s)) {
    const iso = s.replace(' ', 'T');
    const d = parseISO(HAS_OFFSET.test(iso) ? iso : iso + 'Z');
    if (isValid(d)) return d;
  }
  throw new TimeSpecError(input);
}

/** A half-open time window `[since, until)`, ms since the epoch; null means unbounded. */
export interface TimeWindow {
  since: number | null;
  until: number | null;
}

/** The UTC dates (`YYYY-MM-DD`) a window touches, for picking files by name. */
export function windowDates(w: TimeWindow): { from: string | null; to: string | null } {
  return {
    from: w.since === null ? null : new Date(w.since).toISOString().slice(0, 10),
    to: w.until === null ? null : new Date(w.until - 1).toISOString().slice(0, 10),
  };
}
