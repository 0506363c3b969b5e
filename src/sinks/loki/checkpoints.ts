/**
 * Signed checkpoints kept in Loki (`checkpoint --store loki://…`, `forward --checkpoint-every`,
 * `verify --checkpoints loki://…`): each checkpoint is one entry, its line the checkpoint's JSON
 * (the same text a file store holds), in a stream of its own with low-cardinality labels only,
 * `{service_name="loki-audit-checkpoints", job="loki-audit-checkpoints", host="<host>"}`, apart
 * from the forwarded entries (`{service_name="loki-audit"}`), which the witness reads. Pushed with
 * the Loki push API (JSON), read back with `query_range`, windowed and paged (./query.ts). An
 * attacker on the host can push more checkpoints but not delete the ones Loki holds.
 */
import { hostname } from 'node:os';
import { gzipSync } from 'node:zlib';
import type { Checkpoint } from '../../core/chain/anchors/checkpoints.js';
import { BlockPool, ByteList } from '../../core/runtime/bytelist.js';
import { checkLokiHeaders, lokiHeaders, LokiPushClient, type LokiAuth, type PushResult } from './client.js';
import { LokiQueryClient, LokiQueryError, statusFailure, withLabel } from './query.js';

/** The checkpoint stream's `service_name` and `job`. */
export const CHECKPOINT_JOB = 'loki-audit-checkpoints';

/** This host's `host` label, as forward sets it (printable ASCII, at most 128 characters). */
export function checkpointHost(): string {
  return (
    hostname()
      .replace(/[^\x20-\x7e]/g, '_')
      .slice(0, 128) || 'unknown'
  );
}

export interface LokiCheckpointConfig {
  /** Base URL, e.g. `http://loki:3100`. */
  url: string;
  tenant?: string;
  auth: LokiAuth;
  /** The `host` label (default {@link checkpointHost}). */
  host?: string;
  timeoutMs?: number;
  /** Entries per query when reading (default 5000). */
  pageSize?: number;
}

const selectorOf = (host: string) => withLabel(`{service_name="${CHECKPOINT_JOB}"}`, 'host', host);

/**
 * Pushes one checkpoint, stamped with its statement's time (ns).
 * @throws LokiQueryError (with Loki's status) when Loki refuses it or cannot be reached;
 *   LokiConfigError for a tenant or credentials its headers cannot carry.
 */
export async function pushCheckpoint(config: LokiCheckpointConfig, c: Checkpoint): Promise<void> {
  checkLokiHeaders(config.tenant, config.auth);
  const body = checkpointBody(config, c);
  const u = new URL('loki/api/v1/push', config.url.endsWith('/') ? config.url : config.url + '/');
  let res: Response;
  try {
    res = await fetch(u, {
      method: 'POST',
      headers: { ...lokiHeaders(config.tenant, config.auth), 'Content-Type': 'application/json' },
      body,
      signal: AbortSignal.timeout(config.timeoutMs ?? 10_000),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    throw new LokiQueryError(`cannot push the checkpoint to ${u.host}: ${e.cause?.code ?? e.message}`, 'unreachable');
  }
  if (!res.ok) {
    const text = (await res.text()).slice(0, 300).trim();
    throw new LokiQueryError(
      `Loki refused the checkpoint: HTTP ${res.status}: ${text}`,
      statusFailure(res.status),
      res.status,
    );
  }
}

/** The push body (JSON) of one checkpoint: the same bytes for the same checkpoint, which Loki keeps once. */
function checkpointBody(config: LokiCheckpointConfig, c: Checkpoint): string {
  const host = config.host ?? checkpointHost();
  const ms = Date.parse(c.statement.time);
  const ts = (BigInt(Number.isFinite(ms) ? ms : Date.now()) * 1_000_000n).toString();
  return JSON.stringify({
    streams: [
      { stream: { service_name: CHECKPOINT_JOB, job: CHECKPOINT_JOB, host }, values: [[ts, JSON.stringify(c)]] },
    ],
  });
}

/**
 * Pushes checkpoints one after the other over a keep-alive connection (`forward
 * --checkpoint-every`): the forward's own push client (client.ts, node:http), not fetch, whose
 * undici costs a run 0.3 s of CPU and 35 MB to load. Answers as a push of entries does (2xx,
 * retryable 429/5xx/network, refusals); never throws.
 */
export class LokiCheckpointPusher {
  private readonly client: LokiPushClient;
  private readonly pool = new BlockPool();

  /** @throws LokiConfigError for a URL that is not http(s). */
  constructor(private readonly config: LokiCheckpointConfig) {
    this.client = new LokiPushClient({
      url: config.url,
      tenant: config.tenant,
      auth: config.auth,
      timeoutMs: config.timeoutMs,
    });
  }

  async push(c: Checkpoint): Promise<PushResult> {
    const body = new ByteList(this.pool);
    body.appendBytes(gzipSync(checkpointBody(this.config, c)));
    try {
      return await this.client.push(body);
    } finally {
      body.release();
    }
  }

  close(): void {
    this.client.close();
  }
}

/**
 * The checkpoint entries of one host in `[startNs, endNs)`, oldest first: their text and a name
 * for messages (`<url> checkpoint <ISO time>`). Memory: one page while reading, and the
 * checkpoints (a few hundred bytes each).
 * @throws LokiQueryError when Loki cannot be read.
 */
export async function readCheckpointEntries(
  config: LokiCheckpointConfig,
  startNs: bigint,
  endNs: bigint,
): Promise<Array<{ where: string; text: string }>> {
  const client = new LokiQueryClient({
    url: config.url,
    tenant: config.tenant,
    auth: config.auth,
    selector: selectorOf(config.host ?? checkpointHost()),
    timeoutMs: config.timeoutMs,
    pageSize: config.pageSize,
  });
  const out: Array<{ where: string; text: string }> = [];
  for await (const e of client.entries(startNs, endNs)) {
    const iso = new Date(Number(e.tsNs / 1_000_000n)).toISOString();
    out.push({ where: `${config.url} checkpoint ${iso}`, text: e.line });
  }
  return out;
}
