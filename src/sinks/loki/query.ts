/**
 * Reading entries back from Grafana Loki: `GET /loki/api/v1/query_range` (Loki HTTP API docs),
 * a stream selector, forward direction, paged by time. It is the forwarded copy that
 * `verify --against-loki` compares with the local files (core/chain/anchors/witness.ts).
 */
import type { ForwardedCopy } from '../../core/chain/anchors/witness.js';
import { lokiHeaders, type LokiAuth } from './client.js';

/** Loki could not be queried (unreachable, or an HTTP error). */
export class LokiQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LokiQueryError';
  }
}

export interface LokiQueryConfig {
  /** Base URL, e.g. `http://loki:3100`. */
  url: string;
  /** `X-Scope-OrgID`. */
  tenant?: string;
  auth: LokiAuth;
  /** LogQL stream selector (default `{service_name="loki-audit"}`, what `forward` labels). */
  selector?: string;
  /** Request timeout, ms (default 30 000). */
  timeoutMs?: number;
  /** Entries per request (`limit`; default 5000, Loki's `max_entries_limit_per_query`). */
  pageSize?: number;
}

/** The lines of one stream selector in Loki, oldest first. */
export class LokiQueryClient implements ForwardedCopy {
  constructor(private readonly config: LokiQueryConfig) {}

  /**
   * Lines with timestamps in `[startNs, endNs]` (nanoseconds), page by page.
   * @throws LokiQueryError when Loki cannot be reached or answers with an error.
   */
  async *lines(startNs: bigint, endNs: bigint): AsyncGenerator<{ tsNs: bigint; line: string }> {
    const o = this.config;
    const headers = lokiHeaders(o.tenant, o.auth);
    const limit = o.pageSize ?? 5000;
    let start = startNs;
    for (let page = 0; page < 100_000; page++) {
      const u = new URL('loki/api/v1/query_range', o.url.endsWith('/') ? o.url : o.url + '/');
      u.searchParams.set('query', o.selector ?? '{service_name="loki-audit"}');
      u.searchParams.set('start', start.toString());
      u.searchParams.set('end', endNs.toString());
      u.searchParams.set('limit', String(limit));
      u.searchParams.set('direction', 'forward');
      let body: { data?: { result?: Array<{ values?: Array<[string, string]> }> } };
      try {
        const res = await fetch(u, { headers, signal: AbortSignal.timeout(o.timeoutMs ?? 30_000) });
        if (!res.ok)
          throw new LokiQueryError(`Loki answered HTTP ${res.status}: ${(await res.text()).slice(0, 300).trim()}`);
        body = (await res.json()) as typeof body;
      } catch (err) {
        if (err instanceof LokiQueryError) throw err;
        const e = err as Error & { cause?: { code?: string } };
        throw new LokiQueryError(`cannot query ${u.host}: ${e.cause?.code ?? e.message}`);
      }
      let count = 0;
      let last = start;
      for (const s of body.data?.result ?? []) {
        for (const [ts, line] of s.values ?? []) {
          count++;
          const t = BigInt(ts);
          if (t > last) last = t;
          yield { tsNs: t, line };
        }
      }
      if (count < limit) break;
      // Next page: after the newest timestamp seen (entries sharing it were all in this page
      // unless more than `limit` share one nanosecond, which audit entries do not).
      start = last + 1n;
    }
  }
}
