/**
 * `forward`'s flags: what to send (the filter flags, --stream), where (Loki, syslog, Splunk HEC
 * and their options), and the run's state (positions, dead letters, metrics). The command
 * (src/commands/forward.ts) declares them; src/cli/forward-run.ts reads them.
 */
import { Flags } from '@oclif/core';
import { filterFlags } from './filter-flags.js';
import { durationFlag } from './duration-flag.js';
import { forwardCheckpointFlags } from './forward-checkpoints.js';
import { forwardMetricsFlags } from './forward-metrics.js';
import { SYSLOG_FORMATS } from './forward-targets.js';
import { pathFlag } from './paths.js';
import { streamFlag } from './stream-flag.js';

export const forwardFlags = {
  ...filterFlags,
  ...streamFlag,
  follow: Flags.boolean({
    char: 'f',
    summary: 'Keep forwarding new entries as they are written (rotation and midnight included).',
  }),
  'dry-run': Flags.boolean({ summary: 'Send nothing: show the streams, labels and messages that would be sent.' }),
  state: pathFlag({
    summary: "State file with each target's position (default: ~/.local/state/loki-audit/forward-<dir hash>.json).",
  }),
  'dead-letter': pathFlag({
    summary: 'Where refused entries go, as JSON Lines (default: next to the state file).',
  }),
  'replay-dead-letter': Flags.boolean({
    summary:
      "Send the dead-letter file's entries again to the targets that " +
      'refused them; remove those delivered (positions untouched).',
    exclusive: ['follow', 'dry-run', 'reset-state'],
  }),
  'reset-state': Flags.boolean({ summary: 'Forget saved positions and start again (see --start-at).' }),
  'start-at': Flags.option({
    options: ['beginning', 'end'] as const,
    default: 'beginning' as const,
    summary: 'Where a target without a saved position starts.',
  })(),
  'give-up-after': durationFlag({
    unit: 's',
    min: 1,
    summary: 'Failed retries before giving up on a target: seconds, or 5m, 1h (default: 300; never with --follow).',
  }),
  'batch-wait': durationFlag({
    unit: 'ms',
    min: 1,
    summary: 'Longest wait before a partial batch is sent: ms, or 2s (default 1000).',
  }),
  loki: Flags.string({ multiple: true, summary: 'Loki base URL (http://loki:3100); repeatable.', helpGroup: 'LOKI' }),
  tenant: Flags.string({ summary: 'Loki tenant (X-Scope-OrgID).', helpGroup: 'LOKI' }),
  label: Flags.string({
    multiple: true,
    summary: 'Extra static stream label NAME=VALUE (low cardinality only).',
    helpGroup: 'LOKI',
  }),
  'loki-username': Flags.string({
    summary: 'Basic auth user (password from LOKI_AUDIT_LOKI_PASSWORD or --loki-password-file).',
    helpGroup: 'LOKI',
  }),
  'loki-password-file': pathFlag({ summary: 'File holding the basic auth password.', helpGroup: 'LOKI' }),
  'loki-token-file': pathFlag({
    summary: 'File holding a bearer token (or LOKI_AUDIT_LOKI_TOKEN).',
    helpGroup: 'LOKI',
  }),
  timestamp: Flags.option({
    options: ['entry', 'ingest'] as const,
    summary:
      "Loki entry time: the entry's own (default), or now (for entries " +
      'older than Loki accepts; the event time stays in the line).',
    helpGroup: 'LOKI',
  })(),
  'batch-entries': Flags.integer({
    min: 1,
    summary: 'Largest batch in entries (Loki 10000, syslog 500).',
    helpGroup: 'LOKI',
  }),
  'batch-bytes': Flags.integer({
    min: 1024,
    summary: 'Largest Loki batch in bytes (default 1 MiB).',
    helpGroup: 'LOKI',
  }),
  timeout: durationFlag({ unit: 'ms', min: 100, summary: 'Request / connect timeout: ms, or 30s (default 10000).' }),
  syslog: Flags.string({
    multiple: true,
    summary:
      'Syslog target udp://HOST:PORT, tcp://HOST:PORT, tls://HOST:PORT, ' +
      'relp://HOST:PORT or relp+tls://HOST:PORT (RELP: acknowledged); repeatable.',
    helpGroup: 'SYSLOG',
  }),
  framing: Flags.option({
    options: ['octet-counting', 'lf'] as const,
    summary: 'TCP/TLS framing (RFC 6587; default octet-counting).',
    helpGroup: 'SYSLOG',
  })(),
  ca: pathFlag({
    summary: 'TLS (tls://, relp+tls://, Splunk HEC https://): CA certificate (PEM) to verify the server.',
    helpGroup: 'SYSLOG',
  }),
  cert: pathFlag({ summary: 'TLS: client certificate (PEM) for mutual TLS.', helpGroup: 'SYSLOG' }),
  key: pathFlag({ summary: 'TLS: client key (PEM) for mutual TLS.', helpGroup: 'SYSLOG' }),
  facility: Flags.string({ summary: 'Syslog facility (default local0).', helpGroup: 'SYSLOG' }),
  hostname: Flags.string({ summary: 'Syslog HOSTNAME (default: this host).', helpGroup: 'SYSLOG' }),
  'splunk-hec': Flags.string({
    summary:
      'Splunk HTTP Event Collector URL, http(s)://HOST:8088 (or LOKI_SPLUNK_HEC_URL); ' +
      'token from LOKI_SPLUNK_HEC_TOKEN or --splunk-hec-token-file.',
    helpGroup: 'SPLUNK HEC',
  }),
  'splunk-hec-token-file': pathFlag({
    summary: 'File holding the HEC token (or LOKI_SPLUNK_HEC_TOKEN).',
    helpGroup: 'SPLUNK HEC',
  }),
  'splunk-hec-index': Flags.string({
    summary: "Splunk index (or LOKI_SPLUNK_HEC_INDEX; default: the token's).",
    helpGroup: 'SPLUNK HEC',
  }),
  'splunk-hec-sourcetype': Flags.string({
    summary: 'Sourcetype (or LOKI_SPLUNK_HEC_SOURCETYPE; default loki:audit).',
    helpGroup: 'SPLUNK HEC',
  }),
  'splunk-hec-ack': Flags.boolean({
    summary: 'Require indexer acknowledgement: a batch counts only once Splunk says it is indexed.',
    helpGroup: 'SPLUNK HEC',
  }),
  'splunk-hec-channel': Flags.string({
    summary: 'Request channel, a GUID (default: a random one per run).',
    helpGroup: 'SPLUNK HEC',
  }),
  'syslog-format': Flags.option({
    options: SYSLOG_FORMATS,
    summary:
      'Syslog message format: rfc5424 (default; chain in STRUCTURED-DATA), ' +
      'rfc3164, or cef/leef records (with the chain) as MSG.',
    helpGroup: 'SYSLOG',
  })(),
  ...forwardMetricsFlags,
  ...forwardCheckpointFlags,
};
