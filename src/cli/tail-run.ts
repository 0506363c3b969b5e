/**
 * One `tail` run: the last entries (src/core/query/tail.ts), then with --follow every new one as
 * it is written (src/core/follow/live-tail.ts), with --verify the live chain check, printed
 * through the entry printer (src/output/entries.ts) to stdout or the pager, and warnings and
 * live notices (rotation, a chain break) on stderr (src/output/tail.ts). Exit codes: 3 for an
 * unreadable file, 6 for a chain break seen live (src/cli/exit-codes.ts).
 */
import type { ChalkInstance } from 'chalk';
import { followEntries } from '../core/follow/live-tail.js';
import type { FilterSpec } from '../core/query/filters.js';
import { tailEntries, type TailResult } from '../core/query/tail.js';
import type { StreamKind } from '../core/read/streams.js';
import { BufferedWriter } from '../output/buffered-writer.js';
import { EntryPrinter, type EntryFormat } from '../output/entries.js';
import { writeLiveTailEvent } from '../output/tail.js';
import { LineWarnings } from '../output/warnings.js';
import { Exit } from './exit-codes.js';
import { pagedStdout } from './pager-choice.js';
import { abortOnSignals } from './signals.js';
import { streamTitle } from './stream-flag.js';
import { fail } from './usage-errors.js';

/** What a tail run is given: the parsed flags it reads, the filter from them, and the time zone. */
export interface TailRunOptions {
  lines: number;
  follow: boolean;
  verify: boolean;
  output: EntryFormat;
  pager: boolean;
  until?: string;
  stream?: StreamKind;
  'poll-ms': number;
  'max-line-bytes': number;
  spec: FilterSpec;
  timeZone: string | undefined;
}

/**
 * Prints the last `lines` entries of `dir` matching the filter, then with `follow` every new one
 * until SIGINT/SIGTERM. Throws a CLIError (exit 2) for flags that cannot be followed and (exit
 * 14) for --verify on a stream without the dashboard chain.
 */
export async function runTail(dir: string, options: TailRunOptions, chalk: ChalkInstance): Promise<void> {
  if (options.follow && options.output === 'json')
    fail('-o json is one array and cannot be followed', Exit.usage, ['use -o jsonl']);
  if (options.follow && options.until) fail('--until cannot be combined with --follow', Exit.usage);
  const history = await tailEntries(dir, options.spec, {
    lines: options.lines,
    maxLineBytes: options['max-line-bytes'],
    requireFiles: !options.follow,
    stream: options.stream,
  });
  const followed = history.source.streams[0];
  // The live checker knows the dashboard chain's rule only (verify checks the JS AuditLog's).
  if (options.verify && followed !== 'dashboard')
    fail(
      `--verify checks the dashboard chain as it is written; ${streamTitle(followed)} ` +
        `${followed === 'js' ? 'is checked by `loki-audit verify --stream js`' : 'carries no hash chain'}`,
      Exit.streamUnsupported,
      ['follow without --verify'],
    );
  // Without --follow, on a terminal: through $PAGER or less, as journalctl (src/cli/pager-choice.ts).
  const output = await pagedStdout({ pager: options.pager, follow: options.follow });
  const out = new BufferedWriter(output.stream);
  const printer = new EntryPrinter(options.output, chalk, (c, tail) => out.write(c, tail), {
    terminal: process.stdout.isTTY === true,
    timeZone: options.timeZone,
  });
  const warnings = new LineWarnings();
  for (const p of history.problems) warnings.add(p);
  warnings.countMore(history.problemCount - history.problems.length);
  if (!options.follow) {
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
  // Ctrl-C is a clean end of a follow from here on, also while the history is being printed.
  const stop = abortOnSignals();
  try {
    for (const e of history.entries) await printer.entry(e);
    await out.flush();
    await followAndPrint(dir, history, options, { printer, out, warnings, signal: stop.signal });
  } finally {
    stop.release();
  }
}

/** The --follow part: new entries printed as they are written, until `signal` aborts. */
async function followAndPrint(
  dir: string,
  history: TailResult,
  options: TailRunOptions,
  sink: { printer: EntryPrinter; out: BufferedWriter; warnings: LineWarnings; signal: AbortSignal },
): Promise<void> {
  const { printer, out, warnings } = sink;
  const events = followEntries({
    dir,
    source: history.source,
    spec: options.spec,
    start: history.followFrom ?? undefined,
    verify: options.verify ? { chainHead: history.chainHead } : undefined,
    chainHead: history.chainHead,
    pollMs: options['poll-ms'],
    maxLineBytes: options['max-line-bytes'],
    signal: sink.signal,
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
}
