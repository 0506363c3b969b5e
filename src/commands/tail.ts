import { Flags } from '@oclif/core';
import { AuditCommand, dirArg } from '../cli/base-command.js';
import { Exit, exitCodesHelp } from '../cli/exit-codes.js';
import { chosenTimeZone, filterFlags, filterSpecFromFlags } from '../cli/filter-flags.js';
import { streamFlag, streamTitle } from '../cli/stream-flag.js';
import { outputFlag } from '../cli/output-flags.js';
import { pagedStdout, pagerFlag } from '../cli/pager-choice.js';
import { followEntries } from '../core/follow/live-tail.js';
import { tailEntries } from '../core/query/tail.js';
import { BufferedWriter } from '../output/buffered-writer.js';
import type { EntryFormat } from '../output/entries.js';
import { EntryPrinter } from '../output/entries.js';
import { writeLiveTailEvent } from '../output/tail.js';
import { LineWarnings } from '../output/warnings.js';

export default class Tail extends AuditCommand {
  static override summary = 'Show the last entries, and with --follow every new one as it is written.';

  static override description = `The last -n entries (default 20, as Loki Mode) across all files, with the same filters as search. --follow keeps printing new entries within a fraction of a second, across midnight (a new day's file), size rotation, truncation and re-creation, never printing an entry twice or half. --verify checks the chain of every new entry as it arrives and reports a break at once on stderr. Ctrl-C ends it. Without --follow, on a terminal, the entries go through $LOKI_AUDIT_PAGER, $PAGER or less -FRX (--no-pager: not).

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
    if (flags.follow && flags.output === 'json')
      this.fail('-o json is one array and cannot be followed', Exit.usage, ['use -o jsonl']);
    if (flags.follow && flags.until) this.fail('--until cannot be combined with --follow', Exit.usage);
    const spec = filterSpecFromFlags(flags);
    const history = await tailEntries(dir, spec, {
      lines: flags.lines,
      maxLineBytes: flags['max-line-bytes'],
      requireFiles: !flags.follow,
      stream: flags.stream,
    });
    const followed = history.source.streams[0];
    // The live checker knows the dashboard chain's rule only (verify checks the JS AuditLog's).
    if (flags.verify && followed !== 'dashboard')
      this.fail(
        `--verify checks the dashboard chain as it is written; ${streamTitle(followed)} ${followed === 'js' ? 'is checked by `loki-audit verify --stream js`' : 'carries no hash chain'}`,
        Exit.streamUnsupported,
        ['follow without --verify'],
      );
    // Without --follow, on a terminal: through $PAGER or less, as journalctl (src/cli/pager-choice.ts).
    const output = await pagedStdout({ pager: flags.pager, follow: flags.follow });
    const out = new BufferedWriter(output.stream);
    const printer = new EntryPrinter(flags.output as EntryFormat, this.chalk, (c, tail) => out.write(c, tail), {
      terminal: process.stdout.isTTY === true,
      timeZone: chosenTimeZone(flags),
    });
    const warnings = new LineWarnings();
    for (const p of history.problems) warnings.add(p);
    warnings.countMore(history.problemCount - history.problems.length);
    if (!flags.follow) {
      try {
        for (const e of history.entries) await printer.entry(e);
        warnings.finish();
        if (warnings.unreadableFiles > 0) process.exitCode = Exit.io;
        await printer.end();
        await out.flush();
      } finally {
        await output.close();
      }
      return;
    }
    for (const e of history.entries) await printer.entry(e);
    await out.flush();

    const abort = new AbortController();
    const stop = () => abort.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const events = followEntries({
      dir,
      source: history.source,
      spec,
      start: history.followFrom ?? undefined,
      verify: flags.verify ? { chainHead: history.chainHead } : undefined,
      chainHead: history.chainHead,
      pollMs: flags['poll-ms'],
      maxLineBytes: flags['max-line-bytes'],
      signal: abort.signal,
    });
    for await (const ev of events) {
      if (ev.kind === 'chain-break') process.exitCode = Exit.chainBreak;
      if (ev.kind !== 'entry') {
        writeLiveTailEvent(ev, warnings);
        continue;
      }
      await printer.entry(ev.entry);
      await out.flush();
    }
    await out.flush();
    warnings.finish();
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
}
