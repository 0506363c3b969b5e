/**
 * `summary`'s flags: --stream, the format (-o), its own window (--since default 24h, --until,
 * --all) and zone, search's entry filters, --by, the table sizes, --no-chain and the Loki source
 * (--from-loki, --print-logql). Declared by src/commands/summary.ts, read by
 * src/cli/summary-run.ts.
 */
import { Flags } from '@oclif/core';
import { filterFlags, timeZoneFlags } from './filter-flags.js';
import { lokiSourceFlags } from './loki-source.js';
import { reportOutputFlag } from './output-flags.js';
import { streamFlag } from './stream-flag.js';

// The entry filters of search (its --since/--until/--utc/--timezone are summary's own, below).
const { since: _since, until: _until, utc: _utc, timezone: _timezone, ...entryFilterFlags } = filterFlags;

export const summaryFlags = {
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
      'Counts per time bucket of this width (15m, 1h, 1d, 1w), aligned in ' +
      'the zone, per event family; 1h,event or 1h,actor: per event or actor.',
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
