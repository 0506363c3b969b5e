import { AuditCommand, dirArg } from '../cli/base-command.js';
import { exitCodesHelp } from '../cli/exit-codes.js';
import { summaryFlags } from '../cli/summary-flags.js';
import { runSummary, type SummaryResult } from '../cli/summary-run.js';

export default class Summary extends AuditCommand {
  static override summary = 'What happened in a time window: counts by event, level and actor, failures, chain status.';

  static override description =
    `Reads only the files whose date falls in the window (files are cut at UTC ` +
    `midnight). Times: ISO 8601 (2026-02-01T12:00:00Z), dates (2026-02-01; as --until, the end of that ` +
    `day), times of day (14:30, "today 09:00", "yesterday 18:00"), durations back from now (30m, 24h, ` +
    `1h30m, 2d12h), @EPOCH seconds, now, recent (10 minutes), today, yesterday, this-week, this-month.

--by 15m|1h|1d (a duration that divides a day, or whole days): counts per time bucket instead (total, ` +
    `failures, per event family), buckets aligned on the wall clock of the zone (--utc/--timezone/$TZ; a ` +
    `day across a DST change is 23 or 25 h), empty buckets between the first and the last included: a bar ` +
    `chart on a terminal, a header and tab-separated lines when piped, an array with -o json.

Filters (--event, --level, --actor, --outcome, --field, --grep …) are search's and narrow every count.

A table on a terminal; tab-separated "section<TAB>key<TAB>value" lines when piped; -o json (or --json) for ` +
    `one object. A file that cannot be read is reported and the summary of the rest still printed, with exit 3.

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

  static override flags = summaryFlags;

  async run(): Promise<SummaryResult> {
    const { flags, args } = await this.parse(Summary);
    const dir = this.setup(flags, args);
    return runSummary(dir, flags, { json: this.jsonEnabled(), out: (text) => this.out(text), chalk: this.chalk });
  }
}
