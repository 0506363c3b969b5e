/**
 * Time buckets for `summary --by DURATION`: counts per bucket in one pass, memory bounded by the
 * number of buckets (never by the number of entries).
 *
 * Buckets are aligned on the wall clock of a zone, as lnav's and angle-grinder's histograms are
 * on the terminal's: a width that divides a day (`15m`, `1h`, `6h`) starts at local multiples
 * of it from midnight; a width of whole days (`1d`, `7d`, `1w`) starts at local midnights,
 * counted from Monday 1970-01-05 (so `1w` starts on Mondays, ISO 8601 weeks). A boundary is the
 * instant the wall clock reaches or jumps past such a time: a `1d` bucket across a DST change is
 * 23 or 25 hours long; at a spring-forward the bucket of the skipped wall time starts when the
 * clock jumps; at a fall-back the repeated hour is its own `1h` bucket (two buckets labelled
 * 01:00, one per offset). Zone offsets come from `@date-fns/tz` (the IANA database of `Intl`).
 */
import { tzOffset } from '@date-fns/tz';
import { FilterError } from './filters.js';
import { DurationError, parseDuration } from './time.js';

const DAY_MS = 86_400_000;
/** Monday 1970-01-05 in local wall-clock milliseconds: the origin of whole-day buckets. */
const ORIGIN_MS = 4 * DAY_MS;

/**
 * The most buckets one `summary --by` keeps or prints (empty ones included): 100 000 (a year of
 * 15-minute buckets is 35 040). Beyond it {@link BucketLimitError} ends the run: a wider
 * `--by` or a narrower window is the answer, not a silently truncated chart.
 */
export const MAX_BUCKETS = 100_000;

/**
 * A `--by` argument that is no usable bucket width. A FilterError, so the CLI treats it as
 * the user's input (exit 2, one line).
 */
export class BucketSpecError extends FilterError {
  constructor(readonly input: string) {
    super(
      `cannot use "${input}" as --by: a duration that divides a day (1m, 5m, 15m, 30m, ` +
        `1h, 6h, 12h) or whole days (1d, 7d, 1w), optionally with event or actor (1h,actor)`,
    );
    this.name = 'BucketSpecError';
  }
}

/** More buckets than {@link MAX_BUCKETS} between the first and the last entry (or the window). */
export class BucketLimitError extends FilterError {
  constructor(
    readonly width: string,
    readonly buckets: number,
  ) {
    super(
      `--by ${width} needs more than ${MAX_BUCKETS} buckets ` +
        `here (${buckets > MAX_BUCKETS ? `at least ${buckets}` : buckets}): ` +
        `use a wider --by or a narrower --since/--until`,
    );
    this.name = 'BucketLimitError';
  }
}

/**
 * `15m`, `1h`, `1d`, `1w`, `1h30m` (the time grammar's durations, {@link parseDuration}) as a
 * bucket width in ms: a divisor of 24 h, or a whole number of days.
 * @throws BucketSpecError for anything else (also a width that does not divide a day, `7m`).
 */
export function parseBucketWidth(input: string): number {
  let ms: number;
  try {
    ms = parseDuration(input);
  } catch (err) {
    if (err instanceof DurationError) throw new BucketSpecError(input);
    throw err;
  }
  if (ms < DAY_MS ? DAY_MS % ms !== 0 : ms % DAY_MS !== 0) throw new BucketSpecError(input);
  return ms;
}

/** What the counts per bucket are split by besides time: event family (default), event or actor. */
export type BucketGroup = 'family' | 'event' | 'actor';

/** A parsed `--by`: the bucket width and the grouping (`--by 1h`, `--by 1h,actor`, `--by event,15m`). */
export interface BySpec {
  /** The width as typed (`1h`). */
  width: string;
  /** Bucket width, ms. */
  widthMs: number;
  group: BucketGroup;
}

/**
 * Parses `--by`: one width (see {@link parseBucketWidth}) and at most one of `family`, `event`,
 * `actor`, comma-separated in any order.
 * @throws BucketSpecError for anything else.
 */
export function parseBySpec(input: string): BySpec {
  let width: string | null = null;
  let group: BucketGroup | null = null;
  for (const part of input.split(',').map((p) => p.trim())) {
    if (part === 'family' || part === 'event' || part === 'actor') {
      if (group !== null) throw new BucketSpecError(input);
      group = part;
    } else {
      if (width !== null) throw new BucketSpecError(input);
      width = part;
    }
  }
  if (width === null) throw new BucketSpecError(input);
  return { width, widthMs: parseBucketWidth(width), group: group ?? 'family' };
}

/**
 * Bucket boundaries of one width in one zone. Pure arithmetic on instants (ms since the epoch,
 * UTC); caches the bucket last asked for, so entries in time order cost two comparisons each.
 */
export class BucketClock {
  private cacheStart = NaN;
  private cacheEnd = NaN;

  /**
   * @param width Bucket width in ms, as {@link parseBucketWidth} returns it.
   * @param zone IANA zone name or offset (`+05:30`), already checked (time.ts checkTimeZone).
   */
  constructor(
    readonly width: number,
    readonly zone: string,
  ) {}

  /** Wall-clock ms of instant `t` in the zone (the instant shifted by its UTC offset). */
  private wall(t: number): number {
    return t + tzOffset(this.zone, new Date(t)) * 60_000;
  }

  /** Position of wall time `l` on the grid: whole buckets since the origin, fractional. */
  private grid(l: number): number {
    return Math.floor((l - ORIGIN_MS) / this.width);
  }

  /**
   * The first instant in `(a, b]` whose offset is that of `b` (the offset changes once in
   * between: zones change at most a few times a year, buckets span at most weeks).
   */
  private transition(a: number, b: number): number {
    const target = this.wall(b) - b;
    let lo = a;
    let hi = b;
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (this.wall(mid) - mid === target) hi = mid;
      else lo = mid;
    }
    return hi;
  }

  /** Whether instant `t`, where the offset changes, is a boundary: the jump reached a grid time. */
  private jumpIsBoundary(t: number): boolean {
    const before = this.wall(t - 1);
    const after = this.wall(t);
    const onGrid = (after - ORIGIN_MS) % this.width === 0;
    return onGrid || (after > before && this.grid(after) > this.grid(before));
  }

  /** The start of the bucket holding instant `t` (ms): the last boundary at or before it. */
  start(t: number): number {
    if (t >= this.cacheStart && t < this.cacheEnd) return this.cacheStart;
    const s = this.startUncached(t);
    this.cacheStart = s;
    this.cacheEnd = this.next(s);
    return s;
  }

  private startUncached(t: number): number {
    const l = this.wall(t);
    const candidate = t - (l - ORIGIN_MS - this.grid(l) * this.width);
    if (this.wall(candidate) - candidate === l - t) return candidate;
    // The offset changed between the grid time and t: the change may itself be the boundary.
    const change = this.transition(candidate, t);
    if (this.jumpIsBoundary(change)) return change;
    return this.startUncached(change - 1);
  }

  /** The boundary after `start` (the end of its bucket, exclusive), ms. */
  next(start: number): number {
    const l = this.wall(start);
    const gridNext = ORIGIN_MS + (this.grid(l) + 1) * this.width;
    const candidate = start + (gridNext - l);
    if (this.wall(candidate) - candidate === l - start) return candidate;
    const change = this.transition(start, candidate);
    if (this.jumpIsBoundary(change)) return change;
    // The clock went back (or forward short of the grid): the next grid time under the new offset.
    const after = this.wall(change);
    return change + (ORIGIN_MS + (this.grid(after) + 1) * this.width - after);
  }
}

/** Counts of one bucket. */
export interface BucketCounts {
  count: number;
  failures: number;
  /** Per event family (the event up to its first `.`: `api.request` → `api`). */
  families: Map<string, number>;
}

/** One bucket as `summary --by` reports it. */
export interface Bucket {
  /** Start (inclusive) and end (exclusive), ms since the epoch. */
  start: number;
  end: number;
  count: number;
  failures: number;
  /** Counts per event family shown (see {@link BucketTable.families}), same order. */
  families: number[];
  /** Entries of the families not shown (more than `top` of them). */
  other: number;
}

/** What {@link BucketCounter.table} returns. */
export interface BucketTable {
  /** Families shown as columns: the `top` most frequent overall, ties by name. */
  families: string[];
  /** Whether some family was folded into `other`. */
  hasOther: boolean;
  /** Every bucket from the first entry's (or the window's start) to the last's, empty ones too. */
  buckets: Bucket[];
}

/** At most this many distinct families are told apart; later ones count as `other`. */
const MAX_FAMILIES = 256;
const OTHER = '\u0000other';

/** The event family of an event name: up to its first `.` (`auth.login` → `auth`). */
export function eventFamily(event: string): string {
  const dot = event.indexOf('.');
  return dot < 0 ? event : event.slice(0, dot);
}

/**
 * Counts entries into buckets as they stream by, in any order. Memory: one map entry per
 * non-empty bucket and family, at most {@link MAX_BUCKETS} buckets and {@link MAX_FAMILIES}
 * families.
 */
export class BucketCounter {
  private readonly buckets = new Map<number, BucketCounts>();
  private readonly familyTotals = new Map<string, number>();

  /**
   * @param clock The bucket boundaries.
   * @param label The `--by` text, for {@link BucketLimitError}.
   */
  constructor(
    readonly clock: BucketClock,
    readonly label: string,
  ) {}

  /**
   * Counts one entry at instant `t` (ms; a NaN time is not counted: it has no bucket) in its
   * `group`: its event family, event or actor (see {@link BySpec.group}).
   * @throws BucketLimitError when it would make more than MAX_BUCKETS non-empty buckets.
   */
  add(t: number, group: string, failure: boolean): void {
    if (Number.isNaN(t)) return;
    const start = this.clock.start(t);
    let b = this.buckets.get(start);
    if (!b) {
      if (this.buckets.size >= MAX_BUCKETS) throw new BucketLimitError(this.label, MAX_BUCKETS + 1);
      b = { count: 0, failures: 0, families: new Map() };
      this.buckets.set(start, b);
    }
    let family = group;
    if (!this.familyTotals.has(family) && this.familyTotals.size >= MAX_FAMILIES) family = OTHER;
    b.count++;
    if (failure) b.failures++;
    b.families.set(family, (b.families.get(family) ?? 0) + 1);
    this.familyTotals.set(family, (this.familyTotals.get(family) ?? 0) + 1);
  }

  /**
   * Every bucket from the first non-empty one through the last, empty ones between included,
   * the `top` families as columns.
   * @throws BucketLimitError when that span holds more than MAX_BUCKETS buckets.
   */
  table(top: number): BucketTable {
    const ranked = [...this.familyTotals.entries()]
      .filter(([f]) => f !== OTHER)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const families = ranked.slice(0, top).map(([f]) => f);
    const hasOther = this.familyTotals.size > families.length;
    const out: Bucket[] = [];
    let s = Infinity;
    let last = -Infinity;
    for (const start of this.buckets.keys()) {
      if (start < s) s = start;
      if (start > last) last = start;
    }
    while (s <= last) {
      if (out.length >= MAX_BUCKETS) throw new BucketLimitError(this.label, MAX_BUCKETS + 1);
      const end = this.clock.next(s);
      const b = this.buckets.get(s);
      const shown = families.map((f) => b?.families.get(f) ?? 0);
      const count = b?.count ?? 0;
      out.push({
        start: s,
        end,
        count,
        failures: b?.failures ?? 0,
        families: shown,
        other: count - shown.reduce((n, c) => n + c, 0),
      });
      s = end;
    }
    return { families, hasOther, buckets: out };
  }
}
