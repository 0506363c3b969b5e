/**
 * `search`'s flags: the filter flags, --stream, the format (-o), paging of matches, -c/-q, the
 * pager and the Loki source (--from-loki, --print-logql). Declared by src/commands/search.ts,
 * read by src/cli/search-run.ts.
 */
import { Flags } from '@oclif/core';
import { filterFlags } from './filter-flags.js';
import { lokiSourceFlags } from './loki-source.js';
import { matchListFlags, outputFlag } from './output-flags.js';
import { pagerFlag } from './pager-choice.js';
import { streamFlag } from './stream-flag.js';

export const searchFlags = {
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
