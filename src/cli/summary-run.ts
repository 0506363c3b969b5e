/**
 * One `summary` run from its parsed flags (src/cli/summary-flags.ts): the window (--since,
 * --until, --all) and search's filters, then one of three: `--print-logql` (the filters as LogQL,
 * nothing read), `--by` (counts per time bucket of a directory: src/core/query/summary-by.ts,
 * src/output/summary-by.ts) or the summary of a directory or of Loki with `--from-loki`
 * (src/core/query/summary.ts, src/output/summary.ts): a table on a terminal, tab-separated lines
 * when piped, nothing with --json (the command prints the value returned). Unreadable lines and
 * files are reported on stderr. Exit codes (src/cli/exit-codes.ts): 0, 2 usage (--by with
 * --from-loki, a bad window or filter), 3 a file could not be read (the rest is summarized),
 * the Loki source's codes for --from-loki.
 */
import type { Interfaces } from '@oclif/core';
import type { ChalkInstance } from 'chalk';
import type { FilterSpec } from '../core/query/filters.js';
import type { Summary } from '../core/query/summary.js';
import { summarize } from '../core/query/summary.js';
import { summarizeByTime } from '../core/query/summary-by.js';
import type { TimeWindow } from '../core/query/time.js';
import type { ReadItem } from '../core/read/entries.js';
import { constrainHeap } from '../core/runtime/heap.js';
import { ProgressLine, progressWanted } from '../output/progress.js';
import { formatSummaryPlain, formatSummaryTable, writeSummaryWarnings } from '../output/summary.js';
import type { BucketJson } from '../output/summary-by.js';
import { formatSummaryByPlain, formatSummaryByTable, summaryByJson } from '../output/summary-by.js';
import { LineWarnings } from '../output/warnings.js';
import { debugListener } from './debug.js';
import { Exit } from './exit-codes.js';
import { chosenTimeZone, filterSpecFromFlags, summaryWindowFromFlags } from './filter-flags.js';
import { lokiFailuresAsExit, lokiSourceFromFlags, logqlFromFlags, type LokiSource } from './loki-source.js';
import type { summaryFlags } from './summary-flags.js';
import { fail } from './usage-errors.js';

/** `summary`'s parsed flags, with the audit commands' `--max-line-bytes`. */
export type SummaryRunFlags = Interfaces.InferredFlags<typeof summaryFlags> & { 'max-line-bytes': number };

/** What `summary --json` prints: the summary, the buckets of `--by`, or the query of `--print-logql`. */
export type SummaryResult = Summary | BucketJson[] | { logql: string };

/** The run's surroundings: `--json` (then nothing is printed here), where stdout text goes, the colours. */
export interface SummaryRunContext {
  json: boolean;
  out: (text: string) => void;
  chalk: ChalkInstance;
}

/**
 * Summarizes `dir` (or Loki with --from-loki) over the window of the flags and prints it unless
 * `--json`. Sets `process.exitCode` 3 when a file could not be read. Throws a CLIError: usage
 * (2) for --by with --from-loki, a window or filter that cannot be read; the Loki source's
 * errors (exit 9, 15–18, 20).
 */
export async function runSummary(
  dir: string,
  flags: SummaryRunFlags,
  context: SummaryRunContext,
): Promise<SummaryResult> {
  const window: TimeWindow = flags.all ? { since: null, until: null } : summaryWindowFromFlags(flags);
  const filter = { ...filterSpecFromFlags({ ...flags, since: undefined, until: undefined }), window };
  // --print-logql: the query for Grafana; --from-loki: the forwarded copy instead of the directory.
  if (flags['print-logql']) {
    const logql = await logqlFromFlags(filter, flags);
    if (!context.json) context.out(logql + '\n');
    return { logql };
  }
  const loki = await lokiSourceFromFlags(filter, flags);
  if (flags.by !== undefined) {
    if (loki) fail('--by counts a local directory; it cannot be combined with --from-loki', Exit.usage);
    return summaryBy(dir, flags.by, flags, filter, context);
  }
  const progress = progressWanted({ json: context.json, resultsAtEnd: true })
    ? { reading: new ProgressLine('reading'), chain: new ProgressLine('checking chain') }
    : null;
  // Young generation at most 2 × 4 MB, old generation grown by half (src/core/runtime/heap.ts):
  // the counting pass and the chain check's workers peak at the same time.
  const stopHeapWatch = constrainHeap();
  const summary = await summarize(loki?.url ?? dir, {
    entries: loki ? await lokiEntries(loki, window, flags['max-line-bytes']) : undefined,
    window,
    filter,
    stream: flags.stream,
    top: flags.top,
    recentFailures: flags.failures,
    verifyChain: !flags['no-chain'],
    maxLineBytes: flags['max-line-bytes'],
    onFastPathGaveUp: debugListener('summary chain check: fast path gave up'),
    onProgress: progress ? (p, phase) => progress[phase].update(p, p.filesDone === p.files) : undefined,
  });
  stopHeapWatch();
  progress?.reading.clear();
  progress?.chain.clear();
  writeSummaryWarnings(summary);
  if (!context.json)
    context.out(
      process.stdout.isTTY
        ? formatSummaryTable(summary, context.chalk, chosenTimeZone(flags))
        : formatSummaryPlain(summary),
    );
  // A file that could not be read leaves the summary incomplete: say so in the exit code.
  if (summary.unreadableFiles > 0) process.exitCode = Exit.io;
  return summary;
}

/** `--by`: counts per time bucket of `dir`, a bar chart on a terminal, a header and lines when piped. */
async function summaryBy(
  dir: string,
  by: string,
  flags: SummaryRunFlags,
  filter: FilterSpec,
  context: SummaryRunContext,
): Promise<BucketJson[]> {
  const warnings = new LineWarnings();
  const byTime = await summarizeByTime(dir, {
    by,
    zone: chosenTimeZone(flags) ?? 'UTC',
    filter,
    top: flags.top,
    stream: flags.stream,
    maxLineBytes: flags['max-line-bytes'],
    onProblem: (p) => warnings.add(p),
  });
  warnings.finish();
  if (!context.json)
    context.out(
      process.stdout.isTTY
        ? formatSummaryByTable(byTime, context.chalk, process.stdout.columns)
        : formatSummaryByPlain(byTime),
    );
  if (byTime.unreadableFiles > 0) process.exitCode = Exit.io;
  return summaryByJson(byTime);
}

/** The forwarded copy's entries of `window`, one at a time, Loki's failures as forward's exit codes. */
async function lokiEntries(
  loki: LokiSource,
  window: TimeWindow,
  maxLineBytes: number,
): Promise<AsyncIterable<ReadItem>> {
  const { copyItems, copyRange } = await import('../core/query/remote.js');
  const batches = lokiFailuresAsExit(
    copyItems(loki.copy, copyRange({ window }, { timestamp: loki.timestamp }), maxLineBytes),
  );
  return (async function* () {
    for await (const batch of batches) yield* batch;
  })();
}
