/**
 * Time arguments as operators type them (journalctl, logcli, ausearch): ISO 8601 timestamps,
 * dates, times of day (`14:30`, `today 09:00`, `yesterday 18:00`), durations back from now
 * (`30m`, `24h`, `1h30m`, `2d12h`, optionally `-24h` or `24h ago`), `@EPOCH` seconds, `now`,
 * `recent` (10 minutes, as ausearch), `today`, `yesterday`, `this-week`, `this-month`.
 *
 * Anything written without an offset (dates, times of day, the keywords' midnights) is wall
 * time in `zone`: UTC unless the caller passes another (an IANA name or an offset, see
 * {@link checkTimeZone}). Audit files are cut at UTC midnight (spec §1); instants are UTC.
 */
import { TZDate, tzOffset } from '@date-fns/tz';
// Per-function modules: the package root loads all of date-fns into every command's memory.
import { isValid } from 'date-fns/isValid';
import { parseISO } from 'date-fns/parseISO';

/** A time argument that cannot be understood. */
export class TimeSpecError extends Error {
  constructor(readonly input: string) {
    super(
      `cannot read time "${input}": use e.g. 2026-02-01T12:00:00Z, 2026-02-01, 14:30, "today 09:00", ` +
        `"yesterday 18:00", 30m, 1h30m, 7d, @1767225600, now, recent, today, yesterday, this-week, this-month`,
    );
    this.name = 'TimeSpecError';
  }
}

/** A time zone that is neither an IANA name nor an offset. */
export class TimeZoneError extends Error {
  constructor(readonly zone: string) {
    super(
      `unknown time zone "${zone}": use an IANA name (Europe/Berlin, America/New_York), UTC, or an offset (+05:30)`,
    );
    this.name = 'TimeZoneError';
  }
}

/** Options for {@link parseTimeSpec}. */
export interface TimeSpecOptions {
  /** An `--until`: a bare date, `today`, `this-week` … mean the end of that period. */
  end?: boolean;
  /** Zone for input without an offset (IANA name or `+HH:MM`); default UTC. */
  zone?: string;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const UNIT = String.raw`(?:s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?)`;
const DURATION_PART = new RegExp(String.raw`(\d+)\s*(${UNIT})`, 'gi');
const DURATION = new RegExp(String.raw`^-?\s*((?:\d+\s*${UNIT}\s*)+?)(\s*ago)?$`, 'i');
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const CLOCK = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/;
const DAY_CLOCK = /^(today|yesterday|tomorrow)\s+(.+)$/i;
const EPOCH = /^@(-?\d+)(?:\.(\d+))?$/;
const PERIOD = /^this[-_ ]?(week|month)$/i;
const HAS_OFFSET = /(Z|[+-]\d{2}(:?\d{2})?)$/i;
const ISO_LIKE =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
/** ausearch's `recent`: ten minutes ago. */
const RECENT_MS = 10 * 60_000;

/**
 * Throws {@link TimeZoneError} unless `zone` is an IANA zone name or a UTC offset that
 * `@date-fns/tz` understands; returns it unchanged.
 */
export function checkTimeZone(zone: string): string {
  if (zone === '' || Number.isNaN(tzOffset(zone, new Date(0)))) throw new TimeZoneError(zone);
  return zone;
}

/** The wall-clock date of `ms` in `zone`: year, month (0-11), day, weekday (0 = Sunday). */
function wallDate(ms: number, zone: string): { y: number; mo: number; d: number; wd: number } {
  const t = new TZDate(ms, zone);
  return { y: t.getFullYear(), mo: t.getMonth(), d: t.getDate(), wd: t.getDay() };
}

/**
 * The instant of a wall-clock time in `zone` (fields overflow as in `Date`: day 0 is the last
 * of the month before). A time in a DST gap moves forward by the gap, an ambiguous time in
 * the overlap is its first occurrence (JavaScript's `Date` rules, which `@date-fns/tz` keeps).
 */
function wallTime(zone: string, y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number {
  return +TZDate.tz(zone, y, mo, d, h, mi, s, ms);
}

/** Milliseconds of a fraction of a second written with up to 9 digits. */
const fractionMs = (digits: string | undefined): number => (digits ? Math.floor(Number(`0.${digits}`) * 1000) : 0);

/** `HH:MM[:SS[.fff]]` → [h, m, s, ms], or null when it is no valid time of day. */
function clock(s: string): [number, number, number, number] | null {
  const m = CLOCK.exec(s);
  if (!m) return null;
  const [h, mi, sec] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  if (h > 23 || mi > 59 || sec > 59) return null;
  return [h, mi, sec, fractionMs(m[4])];
}

/** A duration argument that cannot be understood. */
export class DurationError extends Error {
  constructor(readonly input: string) {
    super(`cannot read duration "${input}": use e.g. 90s, 30m, 26h, 1h30m, 2d12h, 1w`);
    this.name = 'DurationError';
  }
}

const DURATION_ONLY = new RegExp(String.raw`^\s*((?:\d+\s*${UNIT}\s*)+)$`, 'i');

/**
 * A length of time as the time grammar writes it (`90s`, `30m`, `1h30m`, `2d12h`, `1w`; units
 * s, m, h, d, w and their long forms, a day being 24 h), in milliseconds; no sign, no `ago`.
 * @throws DurationError for anything else, or a duration of zero.
 */
export function parseDuration(input: string): number {
  const m = DURATION_ONLY.exec(input);
  if (!m) throw new DurationError(input);
  let total = 0;
  for (const [, n, unit] of m[1].matchAll(DURATION_PART)) total += Number(n) * UNIT_MS[unit[0].toLowerCase()];
  if (!(total > 0) || !Number.isSafeInteger(total)) throw new DurationError(input);
  return total;
}

/**
 * Parses one time argument.
 * @param now The current instant (the caller's clock; tests pass a fixed one).
 * @param options.end When true (an `--until`), a bare date, `today`, `yesterday`, `this-week` or
 *   `this-month` means the end of that period (the next midnight in the zone).
 * @param options.zone Zone of input without an offset; default UTC.
 * @returns the instant (ms precision).
 * @throws TimeSpecError for anything else; TimeZoneError for a bad zone.
 */
export function parseTimeSpec(
  input: string,
  now: Date = new Date(),
  { end = false, zone = 'UTC' }: TimeSpecOptions = {},
): Date {
  checkTimeZone(zone);
  const s = input.trim();
  const lower = s.toLowerCase();
  const nowMs = now.getTime();
  const today = wallDate(nowMs, zone);
  const midnight = (days: number) => new Date(wallTime(zone, today.y, today.mo, today.d + days));
  if (lower === 'now') return now;
  if (lower === 'recent') return new Date(nowMs - RECENT_MS);
  if (lower === 'today') return midnight(end ? 1 : 0);
  if (lower === 'yesterday') return midnight(end ? 0 : -1);
  if (lower === 'tomorrow') return midnight(end ? 2 : 1);
  const period = PERIOD.exec(s);
  if (period) {
    if (period[1].toLowerCase() === 'week') {
      // ISO 8601 weeks start on Monday.
      const monday = today.d - ((today.wd + 6) % 7);
      return new Date(wallTime(zone, today.y, today.mo, monday + (end ? 7 : 0)));
    }
    return new Date(wallTime(zone, today.y, today.mo + (end ? 1 : 0), 1));
  }
  const time = clock(s);
  if (time) return new Date(wallTime(zone, today.y, today.mo, today.d, ...time));
  const dayClock = DAY_CLOCK.exec(s);
  if (dayClock) {
    const t = clock(dayClock[2].trim());
    if (!t) throw new TimeSpecError(input);
    const shift = { today: 0, yesterday: -1, tomorrow: 1 }[dayClock[1].toLowerCase() as 'today'];
    return new Date(wallTime(zone, today.y, today.mo, today.d + shift, ...t));
  }
  const epoch = EPOCH.exec(s);
  if (epoch) {
    const sec = Number(epoch[1]);
    const ms = sec * 1000 + (epoch[1].startsWith('-') ? -1 : 1) * fractionMs(epoch[2]);
    if (Number.isSafeInteger(ms) && Math.abs(ms) <= 8.64e15) return new Date(ms);
    throw new TimeSpecError(input);
  }
  const dur = DURATION.exec(s);
  if (dur) {
    // Units are fixed lengths (a day is 24 h), like journalctl's and logcli's relative times.
    let total = 0;
    for (const [, n, unit] of dur[1].matchAll(DURATION_PART)) total += Number(n) * UNIT_MS[unit[0].toLowerCase()];
    return new Date(nowMs - total);
  }
  const date = DATE_ONLY.exec(s);
  if (date) {
    const [y, mo, d] = [Number(date[1]), Number(date[2]) - 1, Number(date[3])];
    if (mo > 11 || d < 1 || d > new Date(Date.UTC(y, mo + 1, 0)).getUTCDate()) throw new TimeSpecError(input);
    return new Date(wallTime(zone, y, mo, d + (end ? 1 : 0)));
  }
  const iso = ISO_LIKE.exec(s);
  if (iso) {
    const [y, mo, d, h, mi, sec] = [1, 2, 3, 4, 5, 6].map((i) => Number(iso[i] ?? 0));
    const ms = fractionMs(iso[7]);
    const maxDay = new Date(Date.UTC(y, mo, 0)).getUTCDate();
    if (mo < 1 || mo > 12 || d < 1 || d > maxDay || h > 23 || mi > 59 || sec > 59) throw new TimeSpecError(input);
    const offset = iso[8];
    // An offset written in the input wins over the zone.
    const z = offset === undefined ? zone : offset.toUpperCase() === 'Z' ? 'UTC' : offset;
    const t = wallTime(z, y, mo - 1, d, h, mi, sec, ms);
    if (!Number.isNaN(t)) return new Date(t);
  } else if (/^\d{4}-\d{2}-\d{2}[T ]/.test(s)) {
    // Other ISO 8601 forms (`2026-02-01T12Z`, basic `T120000+0200`) as date-fns reads them.
    const text = s.replace(' ', 'T');
    const hasOffset = HAS_OFFSET.test(text);
    if (hasOffset || zone === 'UTC') {
      const d = parseISO(hasOffset ? text : text + 'Z');
      if (isValid(d)) return d;
    }
  }
  throw new TimeSpecError(input);
}

/**
 * An instant as ISO 8601 wall time in `zone` with its offset (`2026-02-01T13:00:00+01:00`);
 * `fraction` (digits, e.g. the microseconds an entry was written with) replaces the
 * milliseconds, so a displayed time keeps the precision of the log.
 */
export function formatInZone(ms: number, zone: string, fraction?: string): string {
  const t = new TZDate(ms, zone);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const off = tzOffset(zone, new Date(ms));
  const sign = off < 0 ? '-' : '+';
  const frac =
    fraction !== undefined
      ? fraction
        ? `.${fraction}`
        : ''
      : t.getMilliseconds()
        ? `.${pad(t.getMilliseconds(), 3)}`
        : '';
  return (
    `${pad(t.getFullYear(), 4)}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}` +
    `T${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}` +
    `${frac}${sign}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`
  );
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
