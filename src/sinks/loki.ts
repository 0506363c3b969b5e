/**
 * Grafana Loki push client (HTTP push API, `POST /loki/api/v1/push`, JSON body, gzip).
 *
 * Streams are keyed by low-cardinality labels only (service_name, job, host, level, event
 * family, plus operator-given labels): actor, ids and details stay in the line, which is the
 * entry's original JSON. The chain hash, file and line travel as structured metadata (Loki
 * ≥ 2.9/3.0), so a receiver can drop duplicates and a query can find an entry by its hash.
 * Timestamps are nanosecond strings from the entry's own time (or the ingestion time, see
 * `timestampMode`).
 *
 * Before sending, entries Loki would reject are set aside with the reason (Loki's limits
 * defaults: `reject_old_samples_max_age` 168h, `creation_grace_period` 10m, `max_line_size`
 * 256 KiB, label name/value syntax and length). Responses: 2xx delivered; 429, 5xx and network
 * errors retryable; any other 4xx final (the batch goes to the dead-letter file with Loki's text).
 * Source: Loki HTTP API docs (push), pkg/validation/validate.go.
 */
import { createGzip, constants as zlibConstants } from 'node:zlib';
import { hostname } from 'node:os';
import type { DeliverResult, ForwardTarget, TargetPreview } from '../core/forward.js';
import type { ReadEntry } from '../core/reader.js';

/** Limits of Loki's `limits_config` defaults that make a push fail with 400. */
export const LOKI_DEFAULT_LIMITS = {
  rejectOldSamplesMaxAgeMs: 168 * 3600_000,
  creationGracePeriodMs: 10 * 60_000,
  maxLineSize: 256 * 1024,
  maxLabelNamesPerSeries: 15,
  maxLabelNameLength: 1024,
  maxLabelValueLength: 2048,
};

/** Prometheus label name syntax, which Loki enforces. */
export const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Authentication: basic or bearer, never both (an error to configure both). */
export type LokiAuth = { kind: 'none' } | { kind: 'basic'; username: string; password: string } | { kind: 'bearer'; token: string };

export interface LokiTargetConfig {
  /** Base URL, e.g. `http://loki:3100` (the push path is added). */
  url: string;
  /** `X-Scope-OrgID` for multi-tenant Loki. */
  tenant?: string;
  auth: LokiAuth;
  /** Extra static labels (low cardinality only). */
  labels?: Record<string, string>;
  /** Request timeout, ms (default 10 000). */
  timeoutMs?: number;
  /** `entry`: the entry's own time; `ingest`: now (for entries older than Loki accepts). */
  timestampMode?: 'entry' | 'ingest';
  limits?: Partial<typeof LOKI_DEFAULT_LIMITS>;
}

/** Result of one push. */
export type PushResult =
  | { ok: true; status: number }
  | { ok: false; retryable: boolean; status: number | null; error: string };

/** A configuration mistake (bad label, both auth kinds). */
export class LokiConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LokiConfigError';
  }
}

/** Request headers for Loki: tenant (`X-Scope-OrgID`) and basic or bearer authentication. */
export function lokiHeaders(tenant: string | undefined, auth: LokiAuth): Record<string, string> {
  const headers: Record<string, string> = { 'User-Agent': 'loki-audit' };
  if (tenant) headers['X-Scope-OrgID'] = tenant;
  if (auth.kind === 'basic') headers.Authorization = 'Basic ' + Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
  else if (auth.kind === 'bearer') headers.Authorization = `Bearer ${auth.token}`;
  return headers;
}

/** Nanoseconds since the epoch as a decimal string, from an RFC 3339 timestamp with up to 9 fraction digits. */
export function timestampNs(ts: string): string | null {
  const m = /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i.exec(ts);
  if (!m) return null;
  const ms = Date.parse(`${m[1].replace(' ', 'T')}${m[3]}`);
  if (Number.isNaN(ms)) return null;
  const frac = (m[2] ?? '').padEnd(9, '0');
  return (BigInt(ms) * 1_000_000n + BigInt(frac)).toString();
}

/** Checks labels against Loki's rules. @throws LokiConfigError */
export function validateLabels(labels: Record<string, string>, limits = LOKI_DEFAULT_LIMITS): void {
  const names = Object.keys(labels);
  if (names.length === 0) throw new LokiConfigError('a stream needs at least one label');
  if (names.length > limits.maxLabelNamesPerSeries) throw new LokiConfigError(`${names.length} labels; Loki accepts at most ${limits.maxLabelNamesPerSeries}`);
  for (const n of names) {
    if (!LABEL_NAME_RE.test(n) || n.startsWith('__')) throw new LokiConfigError(`invalid label name "${n}": use [a-zA-Z_][a-zA-Z0-9_]*, not starting with __`);
    if (n.length > limits.maxLabelNameLength) throw new LokiConfigError(`label name too long: ${n}`);
    if (labels[n].length > limits.maxLabelValueLength) throw new LokiConfigError(`label value too long for ${n}`);
  }
}

/** A label value that is safe and bounded (labels come partly from the log). */
function labelValue(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '_').slice(0, 128) || 'unknown';
}

/** One entry ready to push, or the reason Loki would refuse it. */
export interface PreparedEntry {
  entry: ReadEntry;
  labels: Record<string, string>;
  streamKey: string;
  ts: string;
  line: string;
  metadata: Record<string, string>;
}

export interface Rejected {
  entry: ReadEntry;
  reason: string;
}

/** Builds streams, validates and pushes batches to one Loki. */
export class LokiPushClient {
  private readonly pushUrl: string;
  private readonly limits: typeof LOKI_DEFAULT_LIMITS;
  private readonly base: Record<string, string>;
  private lastIngestNs = 0n;

  /** @throws LokiConfigError for bad labels or URL. */
  constructor(readonly config: LokiTargetConfig) {
    let u: URL;
    try {
      u = new URL(config.url);
    } catch {
      throw new LokiConfigError(`invalid Loki URL: ${config.url}`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new LokiConfigError(`Loki URL must be http(s): ${config.url}`);
    this.pushUrl = new URL('loki/api/v1/push', u.href.endsWith('/') ? u.href : u.href + '/').href;
    this.limits = { ...LOKI_DEFAULT_LIMITS, ...config.limits };
    this.base = { service_name: 'loki-audit', job: 'loki-audit', host: labelValue(hostname()), ...config.labels };
    validateLabels({ ...this.base, level: 'info', event_family: 'x' }, this.limits);
  }

  /** Label sets by level and event family: few, so each is built and serialized once. */
  private readonly streamsSeen = new Map<string, { labels: Record<string, string>; key: string }>();

  /** An entry's stream: static labels, level and event family (`auth` of `auth.login`). */
  private stream(e: ReadEntry): { labels: Record<string, string>; key: string } {
    const dot = e.view.event.indexOf('.');
    const family = dot < 0 ? e.view.event : e.view.event.slice(0, dot);
    const id = e.view.level + '\u0000' + family;
    let s = this.streamsSeen.get(id);
    if (!s) {
      const labels = { ...this.base, level: e.view.level, event_family: labelValue(family || 'unknown') };
      s = { labels, key: JSON.stringify(labels) };
      this.streamsSeen.set(id, s);
    }
    return s;
  }

  /**
   * Turns entries into push entries; those Loki would reject are returned apart with the reason.
   * @param now ms since the epoch (for the age checks)
   */
  prepare(entries: ReadEntry[], now = Date.now()): { ready: PreparedEntry[]; rejected: Rejected[] } {
    const ready: PreparedEntry[] = [];
    const rejected: Rejected[] = [];
    for (const e of entries) {
      const { labels, key: streamKey } = this.stream(e);
      const line = e.text;
      // UTF-8 takes at most 3 bytes per UTF-16 unit: measure only lines that could be too long.
      if (line.length * 3 > this.limits.maxLineSize && Buffer.byteLength(line) > this.limits.maxLineSize) {
        rejected.push({ entry: e, reason: `line of ${Buffer.byteLength(line)} bytes exceeds Loki's max_line_size ${this.limits.maxLineSize}` });
        continue;
      }
      let ts: string | null;
      if (this.config.timestampMode === 'ingest') {
        // Strictly increasing ingestion times keep entries distinct and in order.
        let ns = BigInt(now) * 1_000_000n;
        if (ns <= this.lastIngestNs) ns = this.lastIngestNs + 1n;
        this.lastIngestNs = ns;
        ts = ns.toString();
      } else {
        ts = timestampNs(e.view.timestamp);
        if (ts === null) {
          rejected.push({ entry: e, reason: `timestamp "${e.view.timestamp}" is not RFC 3339; use --timestamp ingest` });
          continue;
        }
        const ms = Number(BigInt(ts) / 1_000_000n);
        if (ms < now - this.limits.rejectOldSamplesMaxAgeMs) {
          rejected.push({ entry: e, reason: `timestamp too old for Loki (older than ${this.limits.rejectOldSamplesMaxAgeMs / 3600_000}h, reject_old_samples_max_age); use --timestamp ingest to send it with the ingestion time` });
          continue;
        }
        if (ms > now + this.limits.creationGracePeriodMs) {
          rejected.push({ entry: e, reason: `timestamp too new for Loki (more than ${this.limits.creationGracePeriodMs / 60_000}m ahead, creation_grace_period)` });
          continue;
        }
      }
      const metadata: Record<string, string> = { file: e.file, line: String(e.line) };
      if (e.view.hash) metadata.chain_hash = e.view.hash;
      ready.push({ entry: e, labels, streamKey, ts, line, metadata });
    }
    return { ready, rejected };
  }

  /**
   * The push body: streams with `[ts, line, structured metadata]` values (Loki push API, JSON),
   * written as text directly (each value serialized once, no tree of objects per batch), in
   * pieces of at most ~64 KiB (no megabyte strings: they go straight to the old generation).
   */
  bodyPieces(entries: PreparedEntry[]): string[] {
    const streams = new Map<string, string[]>();
    for (const p of entries) {
      let values = streams.get(p.streamKey);
      if (!values) streams.set(p.streamKey, (values = []));
      // ts is digits only; the metadata's keys are ours, its values are escaped.
      let md = '';
      for (const k in p.metadata) md += `${md ? ',' : ''}"${k}":${JSON.stringify(p.metadata[k])}`;
      values.push(`["${p.ts}",${JSON.stringify(p.line)},{${md}}]`);
    }
    const pieces: string[] = [];
    let piece = '{"streams":[';
    let firstStream = true;
    for (const [key, values] of streams) {
      piece += `${firstStream ? '' : ','}{"stream":${key},"values":[`;
      firstStream = false;
      for (let i = 0; i < values.length; i++) {
        piece += (i ? ',' : '') + values[i];
        if (piece.length > 65536) {
          pieces.push(piece);
          piece = '';
        }
      }
      piece += ']}';
    }
    pieces.push(piece + ']}');
    return pieces;
  }

  /** The gzip-compressed push body of `entries` (compressed on the libuv thread pool). */
  compress(entries: PreparedEntry[]): Promise<Buffer> {
    // Level 1: most of gzip's gain on JSON at a fraction of the CPU; streamed piece by piece.
    const gz = createGzip({ level: zlibConstants.Z_BEST_SPEED });
    const out: Buffer[] = [];
    const done = new Promise<Buffer>((resolve, reject) => {
      gz.on('data', (b: Buffer) => out.push(b));
      gz.on('end', () => resolve(Buffer.concat(out)));
      gz.on('error', reject);
    });
    for (const p of this.bodyPieces(entries)) gz.write(p);
    gz.end();
    return done;
  }

  /** POSTs one batch (or its body from {@link compress}); never throws. */
  async push(entries: PreparedEntry[], body?: Promise<Buffer>): Promise<PushResult> {
    const headers = { ...lokiHeaders(this.config.tenant, this.config.auth), 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' };
    // A timer cleared as soon as the answer is in: AbortSignal.timeout() would keep each
    // request (and its body) alive for the whole timeout, ~60 MB at full speed (measured).
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new DOMException('push timed out', 'TimeoutError')), this.config.timeoutMs ?? 10_000);
    try {
      const res = await fetch(this.pushUrl, {
        method: 'POST',
        headers,
        body: await (body ?? this.compress(entries)),
        signal: abort.signal,
      });
      const text = (await res.text().catch(() => '')).slice(0, 2000).trim();
      if (res.ok) return { ok: true, status: res.status };
      const retryable = res.status === 429 || res.status >= 500;
      return { ok: false, retryable, status: res.status, error: `HTTP ${res.status}${text ? ': ' + text : ''}` };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why = e.name === 'TimeoutError' ? `timed out after ${this.config.timeoutMs ?? 10_000} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
      return { ok: false, retryable: true, status: null, error: `cannot reach ${new URL(this.pushUrl).host}: ${why}` };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Where pushes go (no credentials in it). */
  get endpoint(): string {
    return this.pushUrl;
  }
}

/** Loki as a forward target: batches of up to 1 MiB (Promtail's batch size) or 10 000 entries. */
export class LokiTarget implements ForwardTarget {
  readonly id: string;
  readonly maxBatchEntries: number;
  readonly maxBatchBytes: number;
  readonly client: LokiPushClient;

  /** @throws LokiConfigError */
  constructor(config: LokiTargetConfig, batch: { entries?: number; bytes?: number } = {}) {
    this.client = new LokiPushClient(config);
    const u = new URL(config.url);
    this.id = `loki:${u.protocol}//${u.host}${u.pathname.replace(/\/$/, '')}${config.tenant ? `#${config.tenant}` : ''}`;
    this.maxBatchEntries = batch.entries ?? 10_000;
    this.maxBatchBytes = batch.bytes ?? 1024 * 1024;
  }

  /** Streams, refusals and the compressed body, made once per batch (a retry sends the same bytes, so Loki can drop the duplicate). */
  prepare(entries: ReadEntry[]): { ready: PreparedEntry[]; rejected: Rejected[]; body: Promise<Buffer> | null } {
    const { ready, rejected } = this.client.prepare(entries);
    const body = ready.length ? this.client.compress(ready) : null;
    body?.catch(() => undefined); // awaited in deliver; no unhandled rejection meanwhile
    return { ready, rejected, body };
  }

  async deliver(entries: ReadEntry[], prepared?: unknown): Promise<DeliverResult> {
    const { ready, rejected, body } = (prepared as ReturnType<LokiTarget['prepare']> | undefined) ?? this.prepare(entries);
    if (ready.length === 0) return { ok: true, rejected };
    const r = await this.client.push(ready, body ?? undefined);
    if (r.ok) return { ok: true, rejected };
    return { ok: false, retryable: r.retryable, error: r.error };
  }

  preview(entries: ReadEntry[], into: TargetPreview): void {
    const { ready, rejected } = this.client.prepare(entries);
    for (const p of ready) {
      const key = '{' + Object.entries(p.labels).map(([k, v]) => `${k}="${v}"`).join(', ') + '}';
      into.streams[key] = (into.streams[key] ?? 0) + 1;
    }
    for (const r of rejected) {
      const reason = r.reason.replace(/ \(.*$/, '');
      into.refused[reason] = (into.refused[reason] ?? 0) + 1;
    }
  }

  async close(): Promise<void> {}
}
