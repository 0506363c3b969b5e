/**
 * Worker thread of fleet verification (fleet.ts): receives a {@link FleetJob}, finds the
 * directory's chains as a single-directory `verify` does (resolveAuditSource: a project's
 * `.loki/audit`, `--stream`), verifies them with verifyDirectory, and answers with the report
 * or the error as a {@link FleetAnswer} (`NoChainError`: the directory holds no hash chain).
 */
import { parentPort } from 'node:worker_threads';
import { verifyDirectory } from './directory.js';
import type { FleetAnswer, FleetJob } from './fleet.js';
import { CHAIN_STREAMS, resolveAuditSource, StreamChoiceError } from '../read/streams.js';

async function verifyJob(job: FleetJob): Promise<FleetAnswer> {
  const source = await resolveAuditSource(job.dir, { stream: job.stream }).catch((err: unknown) => {
    if (err instanceof StreamChoiceError) return { home: job.dir, streams: err.available };
    throw err;
  });
  const chains = source.streams.filter((s): s is 'dashboard' | 'js' => CHAIN_STREAMS.has(s));
  if (chains.length === 0)
    return {
      ok: false,
      error: {
        name: 'NoChainError',
        message: `holds no hash chain (${source.streams.join(', ') || 'no audit stream'}): there is nothing to verify`,
      },
    };
  const report = await verifyDirectory(source.home, { ...job.options, chains: job.stream ? chains : undefined });
  return { ok: true, report };
}

parentPort?.on('message', (job: FleetJob) => {
  void verifyJob(job)
    .catch((err: Error & { code?: unknown }): FleetAnswer => ({
      ok: false,
      error: {
        name: String(err?.name ?? 'Error'),
        code: typeof err?.code === 'string' ? err.code : undefined,
        message: String(err?.message ?? err),
      },
    }))
    .then((answer) => parentPort?.postMessage(answer));
});
