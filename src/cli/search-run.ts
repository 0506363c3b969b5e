/**
 * One `search` run: the entries of a directory (src/core/query/search.ts, streamed in batches)
 * or of Loki (`--from-loki`, src/core/query/remote.ts) matching the filters, printed in the
 * chosen format (src/output/entries.ts) to stdout or the pager, or only counted (-c) or tested
 * (-q). `--print-logql` prints the filters as LogQL and reads nothing.
 * Exit codes (src/cli/exit-codes.ts): 0 a match, 1 none, 2 usage (--reverse --from-loki
 * without --limit), 3 a file could not be read (what could be read is printed), the Loki
 * target codes for --from-loki.
 */
import type { ChalkInstance } from 'chalk';
import type { Interfaces } from '@oclif/core';
import type { FilterSpec } from '../core/query/filters.js';
import { searchCopy } from '../core/query/remote.js';
import { searchEntryBatches } from '../core/query/search.js';
import { constrainHeap } from '../core/runtime/heap.js';
import { safeText } from '../formats/escape.js';
import { BufferedWriter } from '../output/buffered-writer.js';
import type { EntryFormat } from '../output/entries.js';
import { EntryPrinter } from '../output/entries.js';
import { writeMatches } from '../output/matches.js';
import { ProgressLine, progressWanted } from '../output/progress.js';
import { Exit } from './exit-codes.js';
import { chosenTimeZone, filterHints } from './filter-flags.js';
import { lokiFailuresAsExit, lokiSourceFromFlags, logqlFromFlags } from './loki-source.js';
import { pagedStdout } from './pager-choice.js';
import type { searchFlags } from './search-flags.js';
import { fail } from './usage-errors.js';

/** `search`'s parsed flags, with the audit commands' `--max-line-bytes`. */
export type SearchRunFlags = Interfaces.InferredFlags<typeof searchFlags> & { 'max-line-bytes': number };

/**
 * Searches `dir` (or Loki with --from-loki) for entries matching `spec` and prints them. Sets
 * `process.exitCode` (0 a match, 1 none, 3 unreadable file); throws a CLIError (exit 2) for
 * --reverse with --from-loki and no --limit, and the Loki source's errors (exit 9, 15–18, 20).
 */
export async function runSearch(
  dir: string,
  spec: FilterSpec,
  flags: SearchRunFlags,
  chalk: ChalkInstance,
): Promise<void> {
  // --print-logql: the query for Grafana, nothing read; --from-loki: Loki instead of the directory.
  if (flags['print-logql']) {
    process.stdout.write((await logqlFromFlags(spec, flags)) + '\n');
    return;
  }
  const loki = await lokiSourceFromFlags(spec, flags);
  if (loki && flags.reverse && flags.limit === undefined)
    fail('--reverse with --from-loki needs --limit N (the newest N are kept in memory)', Exit.usage);
  // Young generation at most 2 × 4 MB, old generation grown by half (src/core/runtime/heap.ts):
  // a selective search peaks lower at the same speed.
  const stopHeapWatch = constrainHeap();
  // On a terminal through $PAGER or less, as journalctl (src/cli/pager-choice.ts); not for
  // a count or nothing at all (-c, -q).
  const output = await pagedStdout({ pager: flags.pager && !flags.count && !flags.quiet });
  const out = new BufferedWriter(output.stream);
  const printer = new EntryPrinter(flags.output as EntryFormat, chalk, (c, tail) => out.write(c, tail), {
    terminal: process.stdout.isTTY === true,
    timeZone: chosenTimeZone(flags),
  });
  // Progress only when the results go to a file (`> out.jsonl`), never over them or into a pipe.
  const progress = progressWanted({}) && !flags.quiet ? new ProgressLine('searching') : null;
  // What both sources take; -q stops at the first match, as grep -q does.
  const paging = {
    filter: spec,
    limit: flags.quiet ? Math.min(1, flags.limit ?? 1) : flags.limit,
    offset: flags.offset,
    reverse: flags.reverse,
    maxLineBytes: flags['max-line-bytes'],
  };
  try {
    const matches = loki
      ? lokiFailuresAsExit(searchCopy(loki.copy, { ...paging, timestamp: loki.timestamp }))
      : searchEntryBatches(dir, {
          ...paging,
          stream: flags.stream,
          onProgress: progress?.listener(),
          transientBytes: true,
        });
    const silent = flags.count || flags.quiet;
    const { entries: printed, unreadableFiles } = await writeMatches(
      matches,
      silent ? () => {} : (e) => printer.entry(e),
      progress,
      { quiet: flags.quiet },
    );
    if (flags.count) out.write(`${printed}\n`);
    else if (!flags.quiet) await printer.end();
    await out.flush();
    // A file that could not be read: the results may lack matches (after printing what was found).
    process.exitCode = unreadableFiles > 0 ? Exit.io : printed > 0 ? Exit.ok : Exit.noMatch;
  } finally {
    stopHeapWatch();
    // Until the user quits the pager.
    await output.close();
  }
  // Nothing matched: on a terminal, say which value cannot match as written (never in a script).
  if (process.exitCode === Exit.noMatch && !flags.quiet && process.stderr.isTTY)
    for (const hint of filterHints(flags)) process.stderr.write(`loki-audit: hint: ${safeText(hint)}\n`);
}
