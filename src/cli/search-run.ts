/**
 * One `search` run: the matching entries of the directory (src/core/query/search.ts, streamed in
 * batches) or of the forwarded copy in Loki (`--from-loki`, src/core/query/remote.ts), printed
 * through the entry printer (src/output/entries.ts) to stdout or the pager, or only counted
 * (`-c`) or not printed at all (`-q`); `--print-logql` prints the query instead and reads
 * nothing. Exit codes: 0 for a match, 1 for none, 3 when a file could not be read (what could be
 * read is printed), Loki's failures as forward's (src/cli/exit-codes.ts).
 */
import type { ChalkInstance } from 'chalk';
import type { FilterSpec } from '../core/query/filters.js';
import { searchCopy } from '../core/query/remote.js';
import { searchEntryBatches } from '../core/query/search.js';
import type { StreamKind } from '../core/read/streams.js';
import { constrainHeap } from '../core/runtime/heap.js';
import { safeText } from '../formats/escape.js';
import { BufferedWriter } from '../output/buffered-writer.js';
import { EntryPrinter, type EntryFormat } from '../output/entries.js';
import { writeMatches } from '../output/matches.js';
import { ProgressLine, progressWanted } from '../output/progress.js';
import { Exit } from './exit-codes.js';
import { chosenTimeZone, filterHints, type FilterFlagValues } from './filter-flags.js';
import { lokiFailuresAsExit, lokiSourceFromFlags, logqlFromFlags, type LokiSourceFlags } from './loki-source.js';
import { pagedStdout } from './pager-choice.js';
import { fail } from './usage-errors.js';

/** The search flags read here (the filter flags for the hints and the time zone). */
export interface SearchRunFlags extends FilterFlagValues, LokiSourceFlags {
  stream?: StreamKind;
  output: EntryFormat;
  limit?: number;
  offset: number;
  reverse: boolean;
  count: boolean;
  quiet: boolean;
  pager: boolean;
  'max-line-bytes': number;
}

/**
 * Prints the entries of `dir` (or of Loki with `--from-loki`) matching `spec` and sets
 * `process.exitCode` (0 matched, 1 nothing matched, 3 a file could not be read). On a terminal,
 * after exit 1, one hint line on stderr per filter value that cannot match as written.
 * @throws CLIError (usage, exit 2) for --reverse with --from-loki without --limit, and what
 *   {@link lokiSourceFromFlags} throws.
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
  const printer = new EntryPrinter(flags.output, chalk, (c, tail) => out.write(c, tail), {
    terminal: process.stdout.isTTY === true,
    timeZone: chosenTimeZone(flags),
  });
  // Progress only when the results go to a file (`> out.jsonl`), never over them or into a pipe.
  const progress = progressWanted({}) && !flags.quiet ? new ProgressLine('searching') : null;
  // -q stops at the first match, as grep -q does.
  const limit = flags.quiet ? Math.min(1, flags.limit ?? 1) : flags.limit;
  try {
    const matches = loki
      ? lokiFailuresAsExit(
          searchCopy(loki.copy, {
            filter: spec,
            limit,
            offset: flags.offset,
            reverse: flags.reverse,
            timestamp: loki.timestamp,
            maxLineBytes: flags['max-line-bytes'],
          }),
        )
      : searchEntryBatches(dir, {
          filter: spec,
          stream: flags.stream,
          limit,
          offset: flags.offset,
          reverse: flags.reverse,
          maxLineBytes: flags['max-line-bytes'],
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
