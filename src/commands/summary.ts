import { Flags } from '@oclif/core';
import { AuditCommand, dirArg } from '../cli/base-command.js';
import type { Summary as SummaryResult } from '../core/query/summary.js';
import type { ReadItem } from '../core/read/entries.js';
import { summarize } from '../core/query/summary.js';
import { Exit, exitCodesHelp } from '../cli/exit-codes.js';
import { debugListener } from '../cli/debug.js';
import {
  chosenTimeZone,
  filterFlags,
  filterSpecFromFlags,
  summaryWindowFromFlags,
  timeZoneFlags,
} from '../cli/filter-flags.js';
import { streamFlag } from '../cli/stream-flag.js';
import { reportOutputFlag } from '../cli/output-flags.js';
import { formatSummaryPlain, formatSummaryTable, writeSummaryWarnings } from '../output/summary.js';
import { ProgressLine, progressWanted } from '../output/progress.js';
import { summarizeByTime } from '../core/query/summary-by.js';
import type { BucketJson } from '../output/summary-by.js';
import { formatSummaryByPlain, formatSummaryByTable, summaryByJson } from '../output/summary-by.js';
import { LineWarnings } from '../output/warnings.js';

// The entry filters of search (its --since/--until/--utc/--timezone are summary's own, below).
const { since: _since, until: _until, utc: _utc, timezone: _timezone, ...entryFilterFlags } = filterFlags;
import { lokiFailuresAsExit, lokiSourceFlags, lokiSourceFromFlags, logqlFromFlags } from '../cli/loki-source.js';

export default class Summary extends AuditCommand {
  static override summary = 'What happened in a time window: counts by event, level and actor, failures, chain status.';

  static override description = `Reads only the files whose date falls in the window (files are cut at UTC midnight). Times: ISO 8601 (2026-02-01T12:00:00Z), dates (2026-02-01; as --until, the end of that day), times of day (14:30, "today 09:00", "yesterday 18:00"), durations back from now (30m, 24h, 1h30m, 2d12h), @EPOCH seconds, now, recent (10 minutes), today, yesterday, this-week, this-month.

--by 15m|1h|1d (a duration that divides a day, or whole days): counts per time bucket instead (total, failures, per event family), buckets aligned on the wall clock of the zone (--utc/--timezone/$TZ; a day across a DST change is 23 or 25 h), empty buckets between the first and the last included: a bar chart on a terminal, a header and tab-separated lines when piped, an array with -o json.

Filters (--event, --level, --actor, --outcome, --field, --grep …) are search's and narrow every count.

A table on a terminal; tab-separated "section<TAB>key<TAB>value" lines when piped; -o json (or --json) for one object. A file that cannot be read is reported and the summary of the rest still printed, with exit 3.

${exitCodesHelp('summary')}`;

  static override examples = [
    '<%= config.bin %> <%= command.id %>                     # last 24 hours',
    '<%= config.bin %> <%= command.id %> --since 7d --top 5',
    '<%= config.bin %> <%= command.id %> --from 2026-02-01 --to 2026-02-03 -o json',
    '<%= config.bin %> <%= command.id %> --since 7d --by 1d --timezone Europe/Berlin',
    '<%= config.bin %> <%= command.id %> --since 6h --by 15m --event "auth.*" --outcome failure',
    '<%= config.bin %> <%= command.id %> --from-loki http://loki:3100 --host web-1 --since 7d',
  ];

  static override enableJsonFlag = true;

  static override args = dirArg;

  static override flags = {
    ...streamFlag,
    ...reportOutputFlag,
    since: Flags.string({
      char: 'S',
      aliases: ['from'],
      summary: 'Start of the window (inclusive). Default: 24h ago.',
      default: '24h',
      helpGroup: 'WINDOW',
    }),
    until: Flags.string({
      char: 'U',
      aliases: ['to'],
      summary: 'End of the window (exclusive). Default: now.',
      helpGroup: 'WINDOW',
    }),
    all: Flags.boolean({
      summary: 'Whole history: no time window.',
      exclusive: ['since', 'until'],
      helpGroup: 'WINDOW',
    }),
    ...timeZoneFlags,
    ...entryFilterFlags,
    by: Flags.string({
      summary:
        'Counts per time bucket of this width (15m, 1h, 1d, 1w), aligned in the zone, per event family; 1h,event or 1h,actor: per event or actor.',
      helpGroup: 'OUTPUT',
    }),
    top: Flags.integer({
      summary: 'Rows per table (events, actors); with --by, event families shown.',
      default: 10,
      min: 1,
    }),
    failures: Flags.integer({ summary: 'How many recent failures to list.', default: 5, min: 0 }),
    'no-chain': Flags.boolean({ summary: 'Skip the chain check of the files covered.' }),
    ...lokiSourceFlags,
  };

  async run(): Promise<SummaryResult | BucketJson[] | { logql: string }> {
    const { flags, args } = await this.parse(Summary);
    const dir = this.setup(flags, args);
    const window = flags.all ? { since: null, until: null } : summaryWindowFromFlags(flags);
    const filter = { ...filterSpecFromFlags({ ...flags, since: undefined, until: undefined }), window };
    // --print-logql: the query for Grafana; --from-loki: the forwarded copy instead of the directory.
    if (flags['print-logql']) {
      const logql = await logqlFromFlags(filter, flags);
      if (!this.jsonEnabled()) this.out(logql + '\n');
      return { logql };
    }
    const loki = await lokiSourceFromFlags(filter, flags);
    if (flags.by !== undefined) {
      if (loki) this.fail('--by counts a local directory; it cannot be combined with --from-loki', Exit.usage);
      const warnings = new LineWarnings();
      const byTime = await summarizeByTime(dir, {
        by: flags.by,
        zone: chosenTimeZone(flags) ?? 'UTC',
        filter,
        top: flags.top,
        stream: flags.stream,
        maxLineBytes: flags['max-line-bytes'],
        onProblem: (p) => warnings.add(p),
      });
      warnings.finish();
      if (!this.jsonEnabled())
        this.out(
          process.stdout.isTTY
            ? formatSummaryByTable(byTime, this.chalk, process.stdout.columns)
            : formatSummaryByPlain(byTime),
        );
      if (byTime.unreadableFiles > 0) process.exitCode = Exit.io;
      return summaryByJson(byTime);
    }
    const progress = progressWanted({ json: this.jsonEnabled(), resultsAtEnd: true })
      ? { reading: new ProgressLine('reading'), chain: new ProgressLine('checking chain') }
      : null;
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
    progress?.reading.clear();
    progress?.chain.clear();
    writeSummaryWarnings(summary);
    if (!this.jsonEnabled())
      this.out(
        process.stdout.isTTY
          ? formatSummaryTable(summary, this.chalk, chosenTimeZone(flags))
          : formatSummaryPlain(summary),
      );
    // A file that could not be read leaves the summary incomplete: say so in the exit code.
    if (summary.unreadableFiles > 0) process.exitCode = Exit.io;
    return summary;
  }
}

/** The forwarded copy's entries of `window`, one at a time, Loki's failures as forward's exit codes. */
async function lokiEntries(
  loki: NonNullable<Awaited<ReturnType<typeof lokiSourceFromFlags>>>,
  window: { since: number | null; until: number | null },
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
