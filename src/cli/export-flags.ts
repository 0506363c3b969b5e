/**
 * `export`'s flags: the filter flags, --stream, the format (-o) and where it goes (--output-file,
 * the pager), paging of matches, and the syslog and HEC record options. Declared by
 * src/commands/export.ts, read by src/cli/export-run.ts.
 */
import { Flags } from '@oclif/core';
import { FACILITIES } from '../formats/syslog.js';
import { EXPORT_FORMATS } from '../output/export.js';
import { filterFlags } from './filter-flags.js';
import { matchListFlags, outputFileFlags, outputFlag } from './output-flags.js';
import { pagerFlag } from './pager-choice.js';
import { streamFlag } from './stream-flag.js';

export const exportFlags = {
  ...filterFlags,
  ...streamFlag,
  ...outputFlag(EXPORT_FORMATS, {
    default: 'jsonl',
    summary: 'Output format (-F/--format: its old name, deprecated).',
    legacyFormat: true,
  }),
  ...outputFileFlags,
  ...matchListFlags,
  ...pagerFlag,
  facility: Flags.option({
    options: Object.keys(FACILITIES),
    default: 'local0',
    summary: 'Syslog facility.',
    helpGroup: 'SYSLOG',
  })(),
  'max-message-bytes': Flags.integer({
    min: 256,
    summary:
      'Syslog: longest message; longer ones are shortened with a marker ' +
      "(default 1024 for syslog, logger's -S; 2048 for rfc5424/rfc3164).",
    helpGroup: 'SYSLOG',
  }),
  hostname: Flags.string({ summary: 'Syslog HOSTNAME (rfc5424/rfc3164). Default: this host.', helpGroup: 'SYSLOG' }),
  'app-name': Flags.string({
    default: 'loki-audit',
    summary: 'Syslog APP-NAME / TAG (rfc5424/rfc3164).',
    helpGroup: 'SYSLOG',
  }),
  'hec-index': Flags.string({
    summary: 'HEC: the index (default $LOKI_SPLUNK_HEC_INDEX; else none).',
    helpGroup: 'HEC',
  }),
  'hec-sourcetype': Flags.string({
    summary: 'HEC: the sourcetype (default $LOKI_SPLUNK_HEC_SOURCETYPE, else loki:audit).',
    helpGroup: 'HEC',
  }),
  'hec-source': Flags.string({ summary: 'HEC: the source (default loki-mode).', helpGroup: 'HEC' }),
};
