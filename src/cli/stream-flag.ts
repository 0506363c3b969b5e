/**
 * `--stream`: which of Loki Mode's audit streams a command reads (spec §5; src/core/read/streams.ts),
 * and what the commands that need a chain say about the streams that have none.
 */
import { Flags } from '@oclif/core';
import type { AuditSource, StreamKind } from '../core/read/streams.js';
import { STREAM_KINDS, STREAM_NAMES } from '../core/read/streams.js';

export const streamFlag = {
  stream: Flags.option({
    options: STREAM_KINDS,
    summary:
      'Loki Mode stream: dashboard (~/.loki/dashboard/audit), js (.loki/audit/audit.jsonl), ' +
      'agent (.loki/logs/agent-audit.jsonl), session (.loki/logs/audit-YYYYMMDD.jsonl). Default: ' +
      "what --dir holds (a project's js, agent or session without --dir: the current directory).",
    helpGroup: 'GLOBAL',
  })(),
};

/** `the agent audit (.loki/logs/agent-audit.jsonl)`. */
export function streamTitle(stream: StreamKind): string {
  return `the ${STREAM_NAMES[stream].title} (${STREAM_NAMES[stream].where})`;
}

/** Why a stream without a chain cannot be verified, in one line. */
export function noChainMessage(source: Pick<AuditSource, 'dir' | 'streams'>): string {
  const titles = source.streams.map(streamTitle);
  return (
    `${source.dir}: ${titles.join(' and ')} ${titles.length > 1 ? 'carry' : 'carries'} ` +
    `no hash chain: there is nothing to verify`
  );
}
