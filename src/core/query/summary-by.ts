/**
 * `summary --by DURATION[,event|actor]`: entries counted per time bucket (total, failures, per
 * event family, or per event or actor),
 * in one streaming pass over the files of the window; memory bounded by the number of buckets
 * (buckets.ts), never by the number of entries.
 */
import { filesInDateRange } from '../read/files.js';
import type { StreamKind } from '../read/streams.js';
import { resolveAuditSource } from '../read/streams.js';
import { readEntries } from '../read/entries.js';
import type { FilterSpec } from './filters.js';
import { compileFilter } from './filters.js';
import { windowDates } from './time.js';
import type { BucketTable } from './buckets.js';
import type { BucketGroup } from './buckets.js';
import { BucketClock, BucketCounter, eventFamily, parseBySpec } from './buckets.js';

/** Options for {@link summarizeByTime}. */
export interface SummaryByOptions {
  /** The `--by` text (`15m`, `1h`, `1d`, `1h,event`, `1d,actor`), see buckets.ts parseBySpec. */
  by: string;
  /** Zone the buckets align in (IANA name or offset, checked); default UTC. */
  zone?: string;
  /** Entry filters and the window (its `window` picks the files, as search does). */
  filter: FilterSpec;
  /** Groups (event families, events or actors) shown as columns (the most frequent); default 5. */
  top?: number;
  stream?: StreamKind;
  maxLineBytes?: number;
  /** Each line that is not an entry, as it is met (for warnings on stderr). */
  onProblem?: (p: { file: string; line: number; code: string; message: string }) => void;
}

/** What `summary --by` computes. */
export interface SummaryBy extends BucketTable {
  dir: string;
  by: string;
  /** Bucket width, ms (a day bucket across a DST change is still 23 or 25 h: see `end`). */
  widthMs: number;
  /** What the `families` columns are: event families, events or actors. */
  group: BucketGroup;
  zone: string;
  /** Entries counted; those without a readable time are not (they have no bucket). */
  total: number;
  /** Entries in the window without a readable time (not in any bucket). */
  untimed: number;
  /** Lines that are not entries (bad JSON, invalid UTF-8, too long, unreadable file). */
  problemCount: number;
  unreadableFiles: number;
}

/**
 * Counts the entries of `dir` that pass `options.filter` into `options.by` buckets.
 * @throws BucketSpecError for a bad width, BucketLimitError beyond MAX_BUCKETS buckets (both
 *   FilterErrors); AuditDirError / StreamChoiceError as summarize does.
 */
export async function summarizeByTime(dir: string, options: SummaryByOptions): Promise<SummaryBy> {
  const { widthMs, group } = parseBySpec(options.by);
  const zone = options.zone ?? 'UTC';
  const counter = new BucketCounter(new BucketClock(widthMs, zone), options.by);
  const groupOf =
    group === 'event'
      ? (v: { event: string }) => v.event
      : group === 'actor'
        ? (v: { actor: string }) => v.actor
        : (v: { event: string }) => eventFamily(v.event);
  const source = await resolveAuditSource(dir, { stream: options.stream });
  const { from, to } = windowDates(options.filter.window ?? { since: null, until: null });
  const files = filesInDateRange(source.files, from, to);
  const filter = compileFilter(options.filter);
  let total = 0;
  let untimed = 0;
  let problemCount = 0;
  let unreadableFiles = 0;
  for await (const item of readEntries(files, {
    maxLineBytes: options.maxLineBytes,
    needles: filter.needles,
    prefilter: (t) => filter.prefilterRest(t),
    prefilterBytes: (b) => filter.prefilterBytes(b),
  })) {
    if (item.kind === 'problem') {
      problemCount++;
      if (item.code === 'io-error') unreadableFiles++;
      options.onProblem?.({ file: item.file, line: item.line, code: item.code, message: item.message });
      continue;
    }
    const v = item.view;
    if (!filter.matches(v, item.record, item.text)) continue;
    if (Number.isNaN(v.time)) {
      untimed++;
      continue;
    }
    total++;
    counter.add(v.time, groupOf(v as { event: string; actor: string }), v.outcome === 'failure');
  }
  return {
    dir,
    by: options.by,
    widthMs,
    group,
    zone,
    total,
    untimed,
    problemCount,
    unreadableFiles,
    ...counter.table(options.top ?? 5),
  };
}
