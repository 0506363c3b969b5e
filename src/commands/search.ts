import { Flags } from '@oclif/core';
import { AuditCommand, dirArg } from '../cli/base-command.js';
import type { EntryFormat } from '../output/entries.js';
import { EntryPrinter } from '../output/entries.js';
import { BufferedWriter } from '../output/buffered-writer.js';
import { ProgressLine, progressWanted } from '../output/progress.js';
import { chosenTimeZone, filterFlags, filterHints, filterSpecFromFlags } from '../cli/filter-flags.js';
import { streamFlag } from '../cli/stream-flag.js';
import { matchListFlags, outputFlag } from '../cli/output-flags.js';
import { pagedStdout, pagerFlag } from '../cli/pager-choice.js';
import { Exit, exitCodesHelp } from '../cli/exit-codes.js';
import { searchEntryBatches } from '../core/query/search.js';
import { writeMatches } from '../output/matches.js';
import { constrainHeap } from '../core/runtime/heap.js';
import { safeText } from '../formats/escape.js';
import { lokiFailuresAsExit, lokiSourceFlags, lokiSourceFromFlags, logqlFromFlags } from '../cli/loki-source.js';
import { searchCopy } from '../core/query/remote.js';

export default class Search extends AuditCommand {
  static override summary = 'Find entries by event, level, actor, outcome, fields, text and time.';

  static override description = `Filters combine with AND; a repeated flag (--event a --event b) means any of them. Globs: * and ?. Files outside the time window are never opened, and lines are rejected on their raw text before parsing where a filter allows it.

Output (-o): text (one line per entry, safe for terminals), json (one array), jsonl or raw (each entry's original bytes, so an unfiltered result still verifies). On a terminal through $LOKI_AUDIT_PAGER, $PAGER or less -FRX (--no-pager: not).

${exitCodesHelp('search')}`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --event "auth.*" --outcome failure --since 24h',
    '<%= config.bin %> <%= command.id %> --level warning --actor "token:*" -o jsonl',
    '<%= config.bin %> <%= command.id %> --field details.path=/api/v1/projects/* --reverse --limit 20',
    '<%= config.bin %> <%= command.id %> --grep "quota exceeded" --since yesterday --until today',
    '<%= config.bin %> <%= command.id %> -c --event auth.login,auth.logout --since this-week',
    '<%= config.bin %> <%= command.id %> -q -i --grep "panic" --since recent && echo found',
    '<%= config.bin %> <%= command.id %> --from-loki http://loki:3100 --host web-1 --event "auth.*" --since 7d',
    '<%= config.bin %> <%= command.id %> --level error --field details.status>=500 --print-logql',
  ];

  static override args = dirArg;

  static override flags = {
    ...filterFlags,
    ...streamFlag,
    ...outputFlag(['text', 'json', 'jsonl', 'raw'] as const, { default: 'text' }),
    ...matchListFlags,
    count: Flags.boolean({
      char: 'c',
      summary: 'Print only the number of matches (like grep -c).',
      exclusive: ['quiet'],
      helpGroup: 'OUTPUT',
    }),
    quiet: Flags.boolean({
      char: 'q',
      summary: 'Print nothing; the exit code says whether anything matched (like grep -q).',
      helpGroup: 'OUTPUT',
    }),
    ...pagerFlag,
    ...lokiSourceFlags,
  };

  async run(): Promise<void> {
    const { flags, args } = await this.parse(Search);
    const dir = this.setup(flags, args);
    const spec = filterSpecFromFlags(flags);
    // --print-logql: the query for Grafana, nothing read; --from-loki: Loki instead of the directory.
    if (flags['print-logql']) return this.out((await logqlFromFlags(spec, flags)) + '\n');
    const loki = await lokiSourceFromFlags(spec, flags);
    if (loki && flags.reverse && flags.limit === undefined)
      this.fail('--reverse with --from-loki needs --limit N (the newest N are kept in memory)', Exit.usage);
    // Young generation at most 2 × 4 MB, old generation grown by half (src/core/runtime/heap.ts):
    // a selective search peaks lower at the same speed.
    const stopHeapWatch = constrainHeap();
    // On a terminal through $PAGER or less, as journalctl (src/cli/pager-choice.ts); not for
    // a count or nothing at all (-c, -q).
    const output = await pagedStdout({ pager: flags.pager && !flags.count && !flags.quiet });
    const out = new BufferedWriter(output.stream);
    const printer = new EntryPrinter(flags.output as EntryFormat, this.chalk, (c, tail) => out.write(c, tail), {
      terminal: process.stdout.isTTY === true,
      timeZone: chosenTimeZone(flags),
    });
    // Progress only when the results go to a file (`> out.jsonl`), never over them or into a pipe.
    const progress = progressWanted({}) && !flags.quiet ? new ProgressLine('searching') : null;
    try {
      const matches = loki
        ? lokiFailuresAsExit(
            searchCopy(loki.copy, {
              filter: spec,
              limit: flags.quiet ? Math.min(1, flags.limit ?? 1) : flags.limit,
              offset: flags.offset,
              reverse: flags.reverse,
              timestamp: loki.timestamp,
              maxLineBytes: flags['max-line-bytes'],
            }),
          )
        : searchEntryBatches(dir, {
            filter: spec,
            stream: flags.stream,
            // -q stops at the first match, as grep -q does.
            limit: flags.quiet ? Math.min(1, flags.limit ?? 1) : flags.limit,
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
}
