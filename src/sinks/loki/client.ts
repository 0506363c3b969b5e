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
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { hostname } from 'node:os';
import type { ByteList } from '../../core/runtime/bytelist.js';
import type { ReadEntry } from '../../core/read/entries.js';

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
export type LokiAuth =
  { kind: 'none' } | { kind: 'basic'; username: string; password: string } | { kind: 'bearer'; token: string };

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
  { ok: true; status: number } | { ok: false; retryable: boolean; status: number | null; error: string };

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
  if (auth.kind === 'basic')
    headers.Authorization = 'Basic ' + Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
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
  if (names.length > limits.maxLabelNamesPerSeries)
    throw new LokiConfigError(`${names.length} labels; Loki accepts at most ${limits.maxLabelNamesPerSeries}`);
  for (const n of names) {
    if (!LABEL_NAME_RE.test(n) || n.startsWith('__'))
      throw new LokiConfigError(`invalid label name "${n}": use [a-zA-Z_][a-zA-Z0-9_]*, not starting with __`);
    if (n.length > limits.maxLabelNameLength) throw new LokiConfigError(`label name too long: ${n}`);
    if (labels[n].length > limits.maxLabelValueLength) throw new LokiConfigError(`label value too long for ${n}`);
  }
}

/** A label value that is safe and bounded (labels come partly from the log). */
function labelValue(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '_').slice(0, 128) || 'unknown';
}

/**
 * Event families Loki Mode writes (spec §2.1 resource types, §2.2 documented events): each
 * always has its own `event_family` label.
 */
export const KNOWN_EVENT_FAMILIES: ReadonlySet<string> = new Set([
  'agent',
  'api',
  'api_key',
  'auth',
  'fleet_run',
  'policy',
  'project',
  'registry_project',
  'run',
  'session',
  'task',
  'tenant',
  'token',
  'unknown',
]);

/**
 * How many other families one forward run gives a label of their own (the first seen); every
 * family after them is `other`. The family comes from entry content: without a bound, 3,000
 * resource types would make 3,000 streams per level, and Loki's stream limit a 429 for ever.
 */
export const MAX_OTHER_EVENT_FAMILIES = 16;

/** The `event_family` label of all families beyond {@link MAX_OTHER_EVENT_FAMILIES}. */
export const OTHER_EVENT_FAMILY = 'other';

/** One entry as a push value of its stream, or the reason Loki would refuse it. */
export type EncodedEntry = { ok: true; stream: LokiStream; value: string } | { ok: false; reason: string };

/** A stream: its labels, and their JSON as written in a push body. */
export interface LokiStream {
  labels: Record<string, string>;
  key: string;
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
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new LokiConfigError(`Loki URL must be http(s): ${config.url}`);
    this.pushUrl = new URL('loki/api/v1/push', u.href.endsWith('/') ? u.href : u.href + '/').href;
    this.limits = { ...LOKI_DEFAULT_LIMITS, ...config.limits };
    this.base = { service_name: 'loki-audit', job: 'loki-audit', host: labelValue(hostname()), ...config.labels };
    validateLabels({ ...this.base, level: 'info', event_family: 'x' }, this.limits);
  }

  /** Label sets by level and event family label: bounded, so each is built and serialized once. */
  private readonly streamsSeen = new Map<string, LokiStream>();
  /** Families outside {@link KNOWN_EVENT_FAMILIES} given their own label so far. */
  private readonly otherFamilies = new Set<string>();

  /**
   * The `event_family` label of an event (`auth` of `auth.login`): a known family, one of the
   * first {@link MAX_OTHER_EVENT_FAMILIES} others, else `other`.
   */
  eventFamily(event: string): string {
    const dot = event.indexOf('.');
    const family = labelValue(dot < 0 ? event : event.slice(0, dot));
    if (KNOWN_EVENT_FAMILIES.has(family) || family === OTHER_EVENT_FAMILY || this.otherFamilies.has(family))
      return family;
    if (this.otherFamilies.size >= MAX_OTHER_EVENT_FAMILIES) return OTHER_EVENT_FAMILY;
    this.otherFamilies.add(family);
    return family;
  }

  /** An entry's stream: static labels, level and event family. */
  private stream(e: ReadEntry): LokiStream {
    const family = this.eventFamily(e.view.event);
    const id = e.view.level + '\u0000' + family;
    let s = this.streamsSeen.get(id);
    if (!s) {
      const labels = { ...this.base, level: e.view.level, event_family: family };
      s = { labels, key: JSON.stringify(labels) };
      this.streamsSeen.set(id, s);
    }
    return s;
  }

  /**
   * An entry as the value of a push body's stream, `["<ns>","<line>",{structured metadata}]`
   * (Loki push API, JSON): the line is the entry's original JSON; file, line and chain hash are
   * structured metadata. Entries Loki would refuse get the reason instead.
   * @param now ms since the epoch (ingestion time, and the age checks)
   */
  encode(e: ReadEntry, now = Date.now()): EncodedEntry {
    const line = e.text;
    // UTF-8 takes at most 3 bytes per UTF-16 unit: measure only lines that could be too long.
    if (line.length * 3 > this.limits.maxLineSize && Buffer.byteLength(line) > this.limits.maxLineSize) {
      return {
        ok: false,
        reason: `line of ${Buffer.byteLength(line)} bytes exceeds Loki's max_line_size ${this.limits.maxLineSize}`,
      };
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
      if (ts === null)
        return { ok: false, reason: `timestamp "${e.view.timestamp}" is not RFC 3339; use --timestamp ingest` };
      const ms = Number(BigInt(ts) / 1_000_000n);
      if (ms < now - this.limits.rejectOldSamplesMaxAgeMs) {
        return {
          ok: false,
          reason: `timestamp too old for Loki (older than ${this.limits.rejectOldSamplesMaxAgeMs / 3600_000}h, reject_old_samples_max_age); use --timestamp ingest to send it with the ingestion time`,
        };
      }
      if (ms > now + this.limits.creationGracePeriodMs) {
        return {
          ok: false,
          reason: `timestamp too new for Loki (more than ${this.limits.creationGracePeriodMs / 60_000}m ahead, creation_grace_period)`,
        };
      }
    }
    // ts is digits only; the metadata's keys are ours, its values are escaped.
    const md =
      `"file":${JSON.stringify(e.file)},"line":"${e.line}"` +
      (e.view.hash ? `,"chain_hash":${JSON.stringify(e.view.hash)}` : '');
    return { ok: true, stream: this.stream(e), value: `["${ts}",${JSON.stringify(line)},{${md}}]` };
  }

  /**
   * Keep-alive connections for pushes, and the request function: node:http rather than fetch,
   * whose undici kept each request's buffers until a full collection while catching up.
   * node:https (and TLS) is loaded only for an https URL.
   */
  private transport: Promise<{ agent: HttpAgent; request: typeof httpRequest }> | null = null;

  private connection(): Promise<{ agent: HttpAgent; request: typeof httpRequest }> {
    this.transport ??= this.pushUrl.startsWith('https:')
      ? import('node:https').then((https) => ({
          agent: new https.Agent({ keepAlive: true, maxSockets: 1 }),
          request: https.request,
        }))
      : Promise.resolve({ agent: new HttpAgent({ keepAlive: true, maxSockets: 1 }), request: httpRequest });
    return this.transport;
  }

  /** POSTs one gzip-compressed push body (the chunks of a ByteList, in order); never throws. */
  async push(body: ByteList): Promise<PushResult> {
    const timeoutMs = this.config.timeoutMs ?? 10_000;
    const headers = {
      ...lokiHeaders(this.config.tenant, this.config.auth),
      'Content-Type': 'application/json',
      'Content-Encoding': 'gzip',
      'Content-Length': String(body.length),
    };
    const host = new URL(this.pushUrl).host;
    const { agent, request } = await this.connection();
    return new Promise<PushResult>((resolve) => {
      let done = false;
      const finish = (r: PushResult) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(r);
      };
      const fail = (why: string) =>
        finish({ ok: false, retryable: true, status: null, error: `cannot reach ${host}: ${why}` });
      const req = request(this.pushUrl, { method: 'POST', headers, agent }, (res) => {
        const parts: Buffer[] = [];
        let kept = 0;
        res.on('data', (b: Buffer) => {
          if (kept < 2000) parts.push(b);
          kept += b.length;
        });
        res.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(parts).toString('utf8').slice(0, 2000).trim();
          if (status >= 200 && status < 300) finish({ ok: true, status });
          else
            finish({
              ok: false,
              retryable: status === 429 || status >= 500,
              status,
              error: `HTTP ${status}${text ? ': ' + text : ''}`,
            });
        });
      });
      const timer = setTimeout(() => {
        fail(`timed out after ${timeoutMs} ms`);
        req.destroy();
      }, timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
      for (const c of body.chunks()) req.write(c);
      req.end();
    });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    void this.transport?.then((t) => t.agent.destroy());
  }

  /** Where pushes go (no credentials in it). */
  get endpoint(): string {
    return this.pushUrl;
  }
}
