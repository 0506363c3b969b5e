import { AuditCommand, dirArg } from '../cli/base-command.js';
import { exitCodesHelp } from '../cli/exit-codes.js';
import { filterSpecFromFlags } from '../cli/filter-flags.js';
import { searchFlags } from '../cli/search-flags.js';
import { runSearch } from '../cli/search-run.js';

export default class Search extends AuditCommand {
  static override summary = 'Find entries by event, level, actor, outcome, fields, text and time.';

  static override description =
    `Filters combine with AND; a repeated flag (--event a --event b) means any ` +
    `of them. Globs: * and ?. Files outside the time window are never opened, and lines are rejected on ` +
    `their raw text before parsing where a filter allows it.

Output (-o): text (one line per entry, safe for terminals), json (one array), jsonl or raw (each entry's ` +
    `original bytes, so an unfiltered result still verifies). On a terminal through $LOKI_AUDIT_PAGER, ` +
    `$PAGER or less -FRX (--no-pager: not).

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

  static override flags = searchFlags;

  async run(): Promise<void> {
    const { flags, args } = await this.parse(Search);
    const dir = this.setup(flags, args);
    await runSearch(dir, filterSpecFromFlags(flags), flags, this.chalk);
  }
}
