import { Flags } from '@oclif/core';
import { AuditCommand, dirArg } from '../cli/base-command.js';
import { exitCodesHelp } from '../cli/exit-codes.js';
import { chosenTimeZone, filterFlags, filterSpecFromFlags } from '../cli/filter-flags.js';
import { streamFlag } from '../cli/stream-flag.js';
import { outputFlag } from '../cli/output-flags.js';
import { pagerFlag } from '../cli/pager-choice.js';
import { runTail } from '../cli/tail-run.js';
import type { EntryFormat } from '../output/entries.js';

export default class Tail extends AuditCommand {
  static override summary = 'Show the last entries, and with --follow every new one as it is written.';

  static override description =
    `The last -n entries (default 20, as Loki Mode) across all files, with the ` +
    `same filters as search. --follow keeps printing new entries within a fraction of a second, across ` +
    `midnight (a new day's file), size rotation, truncation and re-creation, never printing an entry twice ` +
    `or half. --verify checks the chain of every new entry as it arrives and reports a break at once on ` +
    `stderr. Ctrl-C ends it. Without --follow, on a terminal, the entries go through $LOKI_AUDIT_PAGER, ` +
    `$PAGER or less -FRX (--no-pager: not).

${exitCodesHelp('tail')}`;

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> -n 50 --level warning',
    '<%= config.bin %> <%= command.id %> -f --verify',
    '<%= config.bin %> <%= command.id %> -f -n 0 --event "auth.*" -o jsonl | my-alerting',
  ];

  static override args = dirArg;

  static override flags = {
    ...filterFlags,
    ...streamFlag,
    lines: Flags.integer({
      char: 'n',
      min: 0,
      default: 20,
      summary: 'How many entries to show first.',
      helpGroup: 'OUTPUT',
    }),
    follow: Flags.boolean({ char: 'f', summary: 'Keep printing new entries as they are written.' }),
    verify: Flags.boolean({
      summary: 'With --follow: check the chain of each new entry and report a break at once.',
      dependsOn: ['follow'],
    }),
    ...outputFlag(['text', 'jsonl', 'raw', 'json'] as const, {
      default: 'text',
      summary: 'Output format (json is one array: not with --follow).',
    }),
    ...pagerFlag,
    'poll-ms': Flags.integer({
      min: 10,
      default: 250,
      summary: 'With --follow: poll interval where file watching does not work.',
      hidden: true,
    }),
  };

  async run(): Promise<void> {
    const { flags, args } = await this.parse(Tail);
    const dir = this.setup(flags, args);
    await runTail(
      dir,
      {
        ...flags,
        output: flags.output as EntryFormat,
        spec: filterSpecFromFlags(flags),
        timeZone: chosenTimeZone(flags),
      },
      this.chalk,
    );
  }
}
