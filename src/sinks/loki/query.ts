/**
 * Reading entries back from Grafana Loki: `GET /loki/api/v1/query_range` (Loki HTTP API docs,
 * "Query logs within a range of time"), under Loki's two query limits (pkg/validation/limits.go):
 *
 * - `max_query_length` (default 721h): the range is split into windows of at most
 *   {@link LokiQueryConfig.maxQueryLengthMs} (default 720h, an hour under Loki's default);
 * - `max_entries_limit_per_query` (default 5000): each window is read in pages of
 *   `limit` ≤ {@link LokiQueryConfig.pageSize} with `direction=forward`; the next page starts at
 *   the last entry's timestamp (inclusive: several entries can share a nanosecond), and the
 *   entries of that boundary timestamp already read are dropped by chain hash (only the
 *   boundary's hashes are kept). A full page all at one timestamp cannot move on: it is asked
 *   again with `limit` = {@link LokiQueryConfig.maxEntriesLimit}, and if still full, fails
 *   naming the limit.
 *
 * A 400 with Loki's own message for either limit ("the query time range exceeds the limit
 * (query length: …, limit: 30d1h)", "max entries limit per query exceeded, limit >
 * max_entries_limit_per_query (L > M)") lowers the window or the page to what Loki says and asks
 * again. The query is the stream selector alone (`{service_name="loki-audit"}` by default, what
 * `forward` labels); `X-Loki-Response-Encoding-Flags: categorize-labels` asks for structured
 * metadata apart (Loki ≥ 3.0), and without it the metadata is read from the stream's labels.
 * Implements the forwarded copy `verify --against-loki` compares with (core/chain/anchors/witness.ts).
 */
import type { CopyEntry, ForwardedCopy } from '../../core/chain/anchors/witness.js';
import { storedHash } from '../../core/chain/stored-hash.js';
import { checkLokiHeaders, lokiHeaders, type LokiAuth } from './client.js';
import { tlsTrustProblem } from '../tls-trust.js';

/**
 * What kept a query from Loki, as forward's refusals name them (core/forward/target.ts):
 * `unreachable` (no connection, a timeout, 429 or 5xx), `credentials` (401/403), `path`
 * (404/405: no Loki at that path), `tls-trust` (the certificate does not verify), `refused`
 * (another 4xx, a limit that cannot be met, an answer that is not Loki's).
 */
export type LokiQueryFailure = 'unreachable' | 'credentials' | 'path' | 'tls-trust' | 'refused';

/** Loki could not be queried (unreachable, an HTTP error, or a limit that cannot be met). */
export class LokiQueryError extends Error {
  /** @param status Loki's HTTP status, when it answered one (401/403: credentials, 404: path). */
  constructor(
    message: string,
    readonly failure: LokiQueryFailure = 'refused',
    readonly status?: number,
  ) {
    super(message);
    this.name = 'LokiQueryError';
  }
}

/** The failure an HTTP status of a query answer means (see {@link LokiQueryFailure}). */
export function statusFailure(status: number): LokiQueryFailure {
  if (status === 401 || status === 403) return 'credentials';
  if (status === 404 || status === 405) return 'path';
  if (status === 429 || status === 408 || status >= 500) return 'unreachable';
  return 'refused';
}

export interface LokiQueryConfig {
  /** Base URL, e.g. `http://loki:3100`. */
  url: string;
  /** `X-Scope-OrgID`. */
  tenant?: string;
  auth: LokiAuth;
  /**
   * LogQL log query: a stream selector (default `{service_name="loki-audit"}`, what `forward`
   * labels), or a selector and a pipeline (`search --from-loki`, core/query/logql.ts).
   */
  selector?: string;
  /** Request timeout, ms (default 30 000). */
  timeoutMs?: number;
  /** Entries per request (`limit`; default 5000, Loki's `max_entries_limit_per_query`). */
  pageSize?: number;
  /**
   * The largest `limit` to try for a page all at one timestamp (default 5000, Loki's default,
   * and at least `pageSize`); lowered to what Loki says when it refuses it.
   */
  maxEntriesLimit?: number;
  /** Longest window, ms (default 720h: Loki's `max_query_length` 721h less an hour). */
  maxQueryLengthMs?: number;
  /** Called with each request's range and limit (tests, `--debug`). */
  onRequest?: (r: { startNs: bigint; endNs: bigint; limit: number }) => void;
}

/** The stream selector of what `forward` sends (its `service_name` label). */
export const DEFAULT_SELECTOR = '{service_name="loki-audit"}';

/**
 * `selector` narrowed to one value of a label: `{a="b"}` and `host`, `web1` give
 * `{a="b", host="web1"}` (the value quoted as a LogQL double-quoted string).
 * @throws LokiQueryError when `selector` is not `{…}`.
 */
export function withLabel(selector: string, name: string, value: string): string {
  const s = selector.trim();
  if (!s.startsWith('{') || !s.endsWith('}')) throw new LokiQueryError(`not a LogQL stream selector: ${selector}`);
  const inner = s.slice(1, -1).trim();
  return `{${inner ? inner + ', ' : ''}${name}=${JSON.stringify(value)}}`;
}

/** Default of {@link LokiQueryConfig.maxQueryLengthMs}. */
const DEFAULT_WINDOW_MS = 720 * 3_600_000;

interface PageEntry extends CopyEntry {
  key: string;
  order: string;
}

/** A Prometheus duration as Loki prints one ("30d1h", "1h30m", "500ms"), in ms; null if not one. */
export function promDurationMs(text: string): number | null {
  const units: Record<string, number> = {
    y: 365 * 86_400_000,
    w: 7 * 86_400_000,
    d: 86_400_000,
    h: 3_600_000,
    m: 60_000,
    s: 1000,
    ms: 1,
  };
  if (!/^(\d+(ms|[ywdhms]))+$/.test(text)) return null;
  let ms = 0;
  for (const [, n, u] of text.matchAll(/(\d+)(ms|[ywdhms])/g)) ms += Number(n) * units[u];
  return ms;
}

/** The entries of one stream selector in Loki, oldest first, each once. */
export class LokiQueryClient implements ForwardedCopy {
  private pageSize: number;
  private maxLimit: number;
  private windowMs: number;

  /** @throws LokiConfigError for a tenant or credentials Loki's headers cannot carry ({@link checkLokiHeaders}). */
  constructor(private readonly config: LokiQueryConfig) {
    checkLokiHeaders(config.tenant, config.auth, { query: true });
    this.pageSize = config.pageSize ?? 5000;
    this.maxLimit = Math.max(config.maxEntriesLimit ?? 5000, this.pageSize);
    this.windowMs = config.maxQueryLengthMs ?? DEFAULT_WINDOW_MS;
  }

  /**
   * Entries with timestamps in `[startNs, endNs)` (nanoseconds), window by window and page by
   * page (see the header); memory: one page and the hashes of one boundary timestamp.
   * @throws LokiQueryError when Loki cannot be reached, answers with an error, or more entries
   * share one nanosecond than its entry limit lets one page hold.
   */
  async *entries(startNs: bigint, endNs: bigint): AsyncGenerator<CopyEntry> {
    let ws = startNs;
    while (ws < endNs) {
      const windowNs = BigInt(this.windowMs) * 1_000_000n;
      const we = endNs - ws > windowNs ? ws + windowNs : endNs;
      const done = yield* this.window(ws, we);
      if (done) ws = we;
    }
  }

  /** One window; false when Loki said the window is too long (it was shortened: ask again). */
  private async *window(ws: bigint, we: bigint): AsyncGenerator<CopyEntry, boolean> {
    let start = ws;
    let boundaryTs = -1n;
    let boundary = new Set<string>();
    let limit = this.pageSize;
    for (;;) {
      const page = await this.page(start, we, limit);
      if (page === 'window-too-long') {
        if (start !== ws) throw new LokiQueryError('Loki refused a window it took before (max_query_length)');
        return false;
      }
      if (page === 'limit-too-high') {
        // Loki's limit is known now: a raised page tries it, a normal one the lowered page size.
        limit = limit > this.pageSize ? this.maxLimit : this.pageSize;
        continue;
      }
      for (const e of page) {
        if (e.tsNs === boundaryTs && boundary.has(e.key)) continue;
        yield e;
      }
      if (page.length < limit) return true;
      const first = page[0].tsNs;
      const last = page[page.length - 1].tsNs;
      if (first === last) {
        // A whole page at one nanosecond: the next page cannot start later.
        if (boundaryTs !== last) boundary = new Set();
        for (const e of page) boundary.add(e.key);
        boundaryTs = last;
        if (limit < this.maxLimit) {
          limit = this.maxLimit;
          continue;
        }
        throw new LokiQueryError(
          `more than ${limit} entries in Loki share the timestamp ${last} ns: one ` +
            `page (limit ${limit}, Loki's max_entries_limit_per_query) cannot hold ` +
            `them; raise max_entries_limit_per_query in Loki and --loki-entry-limit`,
        );
      }
      boundary = new Set(page.filter((e) => e.tsNs === last).map((e) => e.key));
      boundaryTs = last;
      start = last;
      limit = this.pageSize;
    }
  }

  /**
   * The values of label `name` on streams of the selector with entries in `[startNs, endNs)`,
   * sorted: `GET /loki/api/v1/label/<name>/values` (Loki HTTP API, "Query label values"; `start`,
   * `end` in ns, `query` the selector), asked window by window like `query_range`, so a Loki
   * that checks max_query_length on label queries answers too. Memory: the values (a label of
   * low cardinality by design, such as `host`).
   * @throws LokiQueryError as {@link entries}.
   */
  async labelValues(name: string, startNs: bigint, endNs: bigint): Promise<string[]> {
    const o = this.config;
    const values = new Set<string>();
    let ws = startNs;
    while (ws < endNs) {
      const windowNs = BigInt(this.windowMs) * 1_000_000n;
      const we = endNs - ws > windowNs ? ws + windowNs : endNs;
      const u = new URL(
        `loki/api/v1/label/${encodeURIComponent(name)}/values`,
        o.url.endsWith('/') ? o.url : o.url + '/',
      );
      u.searchParams.set('start', ws.toString());
      u.searchParams.set('end', we.toString());
      u.searchParams.set('query', o.selector ?? DEFAULT_SELECTOR);
      let body: { status?: string; data?: unknown };
      try {
        const res = await this.get(u, lokiHeaders(o.tenant, o.auth));
        if (!res.ok) {
          const text = (await res.text()).slice(0, 300).trim();
          const long = /the query time range exceeds the limit \(query length: [^,]*, limit: ([0-9a-z]+)\)/.exec(text);
          const ms = long ? promDurationMs(long[1]) : null;
          if (res.status === 400 && ms !== null && ms > 0 && ms < this.windowMs) {
            this.windowMs = ms > 2 * 3_600_000 ? ms - 3_600_000 : Math.max(1, Math.floor(ms / 2));
            continue;
          }
          throw new LokiQueryError(`Loki answered HTTP ${res.status}: ${text}`, statusFailure(res.status), res.status);
        }
        body = (await res.json()) as typeof body;
      } catch (err) {
        if (err instanceof LokiQueryError) throw err;
        const e = err as Error & { cause?: { code?: string } };
        throw new LokiQueryError(`cannot query ${u.host}: ${e.cause?.code ?? e.message}`, 'unreachable');
      }
      if (!Array.isArray(body.data) || body.data.some((v) => typeof v !== 'string'))
        throw new LokiQueryError('Loki answered label values that are not a list of strings');
      for (const v of body.data as string[]) values.add(v);
      ws = we;
    }
    return [...values].sort();
  }

  /**
   * GET `u`; a connection reset or refused on a reused keep-alive socket (the server closed it
   * idle as the request went out) is tried again, up to 3 times in all: the query is idempotent.
   */
  private async get(u: URL, headers: Record<string, string>): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fetch(u, { headers, signal: AbortSignal.timeout(this.config.timeoutMs ?? 30_000) });
      } catch (err) {
        const code = (err as { cause?: { code?: string } }).cause?.code;
        if (attempt >= 3 || !(code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE')) throw err;
      }
    }
  }

  /**
   * One `query_range` request: the entries of every stream, merged in timestamp order (equal
   * timestamps by stream labels, as Loki orders them). A 400 naming a limit lowers it and
   * returns what to do.
   */
  private async page(
    start: bigint,
    end: bigint,
    limit: number,
  ): Promise<PageEntry[] | 'window-too-long' | 'limit-too-high'> {
    const o = this.config;
    const headers = { ...lokiHeaders(o.tenant, o.auth), 'X-Loki-Response-Encoding-Flags': 'categorize-labels' };
    const u = new URL('loki/api/v1/query_range', o.url.endsWith('/') ? o.url : o.url + '/');
    u.searchParams.set('query', o.selector ?? DEFAULT_SELECTOR);
    u.searchParams.set('start', start.toString());
    u.searchParams.set('end', end.toString());
    u.searchParams.set('limit', String(limit));
    u.searchParams.set('direction', 'forward');
    o.onRequest?.({ startNs: start, endNs: end, limit });
    type Body = {
      data?: {
        resultType?: string;
        result?: Array<{ stream?: Record<string, string>; values?: Array<[string, string, unknown?]> }>;
      };
    };
    let body: Body;
    try {
      const res = await this.get(u, headers);
      if (!res.ok) {
        const text = (await res.text()).slice(0, 300).trim();
        if (res.status === 400) {
          const long = /the query time range exceeds the limit \(query length: [^,]*, limit: ([0-9a-z]+)\)/.exec(text);
          const ms = long ? promDurationMs(long[1]) : null;
          if (ms !== null && ms > 0 && ms < this.windowMs) {
            // An hour under Loki's limit (as the default), or half of a limit under two hours.
            this.windowMs = ms > 2 * 3_600_000 ? ms - 3_600_000 : Math.max(1, Math.floor(ms / 2));
            return 'window-too-long';
          }
          const many =
            /max entries limit per query exceeded, limit > max_entries_limit(?:_per_query)? \((\d+) > (\d+)\)/.exec(
              text,
            );
          const most = many ? Number(many[2]) : 0;
          if (most > 0 && most < limit) {
            this.maxLimit = most;
            this.pageSize = Math.min(this.pageSize, most);
            return 'limit-too-high';
          }
        }
        throw new LokiQueryError(`Loki answered HTTP ${res.status}: ${text}`, statusFailure(res.status), res.status);
      }
      body = (await res.json()) as Body;
    } catch (err) {
      if (err instanceof LokiQueryError) throw err;
      const e = err as Error & { cause?: { code?: string } };
      const trust = tlsTrustProblem(e.cause?.code);
      if (trust)
        throw new LokiQueryError(
          `TLS: ${u.host} is not trusted: ${trust} (${e.cause?.code}); give its CA with NODE_EXTRA_CA_CERTS=FILE`,
          'tls-trust',
        );
      throw new LokiQueryError(`cannot query ${u.host}: ${e.cause?.code ?? e.message}`, 'unreachable');
    }
    if (body.data?.resultType !== undefined && body.data.resultType !== 'streams')
      throw new LokiQueryError(`Loki answered resultType ${body.data.resultType}, not streams`);
    const out: PageEntry[] = [];
    for (const s of body.data?.result ?? []) {
      const labels = s.stream ?? {};
      const order = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      for (const v of s.values ?? []) {
        const [ts, line, extra] = v;
        if (typeof ts !== 'string' || !/^\d+$/.test(ts) || typeof line !== 'string')
          throw new LokiQueryError('Loki answered an entry that is not ["<ns>", "<line>"]');
        const sm = (extra as { structuredMetadata?: Record<string, string> } | undefined)?.structuredMetadata;
        const metadata = sm ?? labels;
        const hash = metadata.chain_hash || storedHash(line);
        out.push({ tsNs: BigInt(ts), line, metadata, key: hash ?? 'line:' + line, order });
      }
    }
    // Streams come one after the other: merge them (stable, so one stream's order is kept).
    out.sort((a, b) =>
      a.tsNs !== b.tsNs ? (a.tsNs < b.tsNs ? -1 : 1) : a.order < b.order ? -1 : a.order > b.order ? 1 : 0,
    );
    return out;
  }
}
