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
 * errors retryable; a 400 naming an entry problem refuses entries (they are found and
 * dead-lettered with Loki's text); 401/403, 404, 413 and any other 4xx are the target's (see
 * {@link lokiRefusal}). Source: Loki HTTP API docs (push), pkg/validation/validate.go.
 */
import { headerValueProblem } from '../header-value.js';
import { tlsTrustProblem } from '../tls-trust.js';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { hostname } from 'node:os';
import type { Refusal } from '../../core/forward/target.js';
import type { ByteList } from '../../core/runtime/bytelist.js';
import { WriterFormEntry, type ReadEntry } from '../../core/read/entries.js';

/** Limits of Loki's `limits_config` defaults that make a push fail with 400. */
const LOKI_DEFAULT_LIMITS = {
  rejectOldSamplesMaxAgeMs: 168 * 3600_000,
  creationGracePeriodMs: 10 * 60_000,
  maxLineSize: 256 * 1024,
  maxLabelNamesPerSeries: 15,
  maxLabelNameLength: 1024,
  maxLabelValueLength: 2048,
};

/** Prometheus label name syntax, which Loki enforces. */
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Authentication: basic or bearer, never both (an error to configure both). */
export type LokiAuth =
  { kind: 'none' } | { kind: 'basic'; username: string; password: string } | { kind: 'bearer'; token: string };

export interface LokiTargetConfig {
  /** Base URL, e.g. `http://loki:3100` (the push path is added). */
  url: string;
  /** `X-Scope-OrgID` for multi-tenant Loki. */
  tenant?: string;
  auth: LokiAuth;
  /**
   * Reads the credentials again (from their files), after Loki refused them: a running
   * forwarder picks up a rotated token. Throws when they cannot be read (the old ones stay).
   */
  reloadAuth?: () => LokiAuth;
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
  | { ok: false; retryable: true; status: number | null; error: string }
  | {
      ok: false;
      retryable: false;
      status: number;
      refusal: Refusal;
      error: string;
      /** Entries Loki says it refused (its "N errors like: …" groups), when it says so. */
      refusedEntries?: number;
    };

/**
 * Loki's messages for one entry it refuses (pkg/validation/validate.go; chunkenc's ordering
 * errors, which the ingester wraps as "entry with timestamp … ignored, reason: '…'"): a 400 that
 * names one of these is about entries of the push, and the valid ones of it are stored.
 */
const ENTRY_PROBLEMS: readonly RegExp[] = [
  /has timestamp too old/, // GreaterThanMaxSampleAgeErrorMsg (reject_old_samples_max_age)
  /has timestamp too new/, // TooFarInFutureErrorMsg (creation_grace_period)
  /entry too far behind/, // chunkenc.ErrTooFarBehind (unordered writes, max_chunk_age / 2)
  /entry out of order/, // chunkenc.ErrOutOfOrder (ordered writes)
  /max entry size '\d+' bytes exceeded/i, // LineTooLongErrorMsg (max_line_size)
  /has structured metadata too large/, // StructuredMetadataTooLargeErrorMsg
  /has too many structured metadata labels/, // StructuredMetadataTooManyErrorMsg
  // A stream's labels: ours come partly from the entries (level, event family).
  /error parsing labels '.*' with error/, // InvalidLabelsErrorMsg
  /at least one label pair is required per stream/, // MissingLabelsErrorMsg
  /has \d+ label names; limit \d+/, // MaxLabelNamesPerSeriesErrorMsg
  /has label (name|value) too long/, // LabelNameTooLongErrorMsg, LabelValueTooLongErrorMsg
  /has duplicate label name/, // DuplicateLabelNamesErrorMsg
];

/** Messages of a 400 that refuse every push of the tenant, whatever the entries: the target's. */
const TARGET_PROBLEMS: readonly RegExp[] = [
  /includes structured metadata, but this feature is disallowed/, // allow_structured_metadata: false
  /missing required labels/, // MissingEnforcedLabelsErrorMsg (a policy's enforced labels)
  /ingestion blocked/, // BlockedIngestionErrorMsg
];

/**
 * What a non-2xx answer to a push means (Loki's distributor, or a proxy in front of it): null
 * for a passing failure worth retrying (429, 408, 5xx), else the refusal. Only a 400 naming an
 * entry problem ({@link ENTRY_PROBLEMS}) and none of the tenant's ({@link TARGET_PROBLEMS}) is
 * about entries; 401/403 are credentials, 404/405 and redirects the URL's path (a proxy's
 * prefix), 413 a body size limit (Loki's own or a proxy's, like nginx's client_max_body_size),
 * anything else the target's (an unparsable push, a proxy's 400 page).
 */
export function lokiRefusal(status: number, text: string): Refusal | null {
  if (status === 429 || status === 408 || status >= 500) return null;
  if (status === 401 || status === 403) return 'credentials';
  if (status === 404 || status === 405 || (status >= 300 && status < 400)) return 'path';
  if (status === 413) return 'too-large';
  if (status === 400 && !TARGET_PROBLEMS.some((re) => re.test(text)) && ENTRY_PROBLEMS.some((re) => re.test(text)))
    return 'entries';
  return 'target';
}

/**
 * The entries a 400 says were refused: Loki groups its errors (pkg/util/errors GroupedErrors) as
 * "N errors like: MESSAGE; M errors like: …" when there is more than one, each refused entry
 * counted once; groups of entry problems are summed (a stream's label error counts once for all
 * of its entries: an undercount, never an overcount). 0 when the text has no such groups.
 */
export function refusedEntryCount(text: string): number {
  const parts = text.split(/(?:^|; )(\d+) errors like: /);
  let total = 0;
  for (let i = 1; i + 1 < parts.length; i += 2)
    if (ENTRY_PROBLEMS.some((re) => re.test(parts[i + 1]))) total += Number(parts[i]);
  return total;
}

/**
 * The words of an answer's body for a message: its first 2000 characters, or a proxy's HTML
 * error page's title (nginx: "413 Request Entity Too Large").
 */
function answerText(body: string): string {
  const title = /^<(!doctype )?html[\s>][\s\S]*?<title>([^<]*)<\/title>/i.exec(body)?.[2];
  return (title ?? body).slice(0, 2000).trim();
}

/** How much of a 400's body is read to classify it (Loki lists every refused entry: ~200 bytes each). */
const MAX_REFUSAL_TEXT = 8 * 1024 * 1024;

/** A configuration mistake (bad label, both auth kinds). */
export class LokiConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LokiConfigError';
  }
}

/**
 * Checks what goes into Loki's request headers before any request: the tenant as Loki accepts
 * it (Grafana Loki docs, "Multi-tenancy": at most 150 bytes of alphanumerics and `!-_.*'()`,
 * not `.` or `..`; with `query`, several joined by `|`), a bearer token as an HTTP header
 * carries it (visible ASCII, RFC 9110 §5.5; RFC 6750's b64token is a subset), a basic-auth user
 * id without `:` (RFC 7617 §2). The messages never repeat a secret.
 * @throws LokiConfigError
 */
export function checkLokiHeaders(
  tenant: string | undefined,
  auth: LokiAuth,
  { query = false }: { query?: boolean } = {},
): void {
  // A query may name several tenants, `a|b` (Loki's multi_tenant_queries_enabled); a push one.
  for (const id of tenant === undefined ? [] : query ? tenant.split('|') : [tenant])
    if (!/^[A-Za-z0-9!\-_.*'()]{1,150}$/.test(id) || id === '.' || id === '..')
      throw new LokiConfigError(
        `invalid Loki tenant "${tenant}": Loki takes 1 to 150 of A-Z a-z 0-9 ! - _ . * ' ( ), not "." or ".."` +
          (query ? ', several joined by "|"' : ''),
      );
  const problem = auth.kind === 'bearer' ? headerValueProblem('the Loki bearer token', auth.token) : null;
  if (problem) throw new LokiConfigError(problem);
  if (auth.kind === 'basic') {
    if (auth.username.includes(':'))
      throw new LokiConfigError('a basic-auth username cannot contain ":" (RFC 7617); check --loki-username');
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
function timestampNs(ts: string): string | null {
  const m = /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i.exec(ts);
  if (!m) return null;
  const ms = Date.parse(`${m[1].replace(' ', 'T')}${m[3]}`);
  if (Number.isNaN(ms)) return null;
  const frac = (m[2] ?? '').padEnd(9, '0');
  return (BigInt(ms) * 1_000_000n + BigInt(frac)).toString();
}

/** Checks labels against Loki's rules. @throws LokiConfigError */
function validateLabels(labels: Record<string, string>, limits = LOKI_DEFAULT_LIMITS): void {
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

/** Most events whose stream the client keeps (events come from entries: their number is not bounded). */
const MAX_KEPT_EVENTS = 4096;

/** The `event_family` label of all families beyond {@link MAX_OTHER_EVENT_FAMILIES}. */
export const OTHER_EVENT_FAMILY = 'other';

/**
 * One entry as a push value of its stream, `head + JSON string of the line + tail`, or the
 * reason Loki would refuse it. `line` is the JSON string literal of the line's text, or, for a
 * line in the writer's exact form (ASCII from 0x20, see {@link WriterFormEntry}), its bytes, for
 * the batch to escape as it copies them ({@link ByteList.appendJsonString}: the bytes
 * JSON.stringify would give, without the string).
 */
export type EncodedEntry =
  | { ok: true; stream: LokiStream; head: string; line: string | Uint8Array; tail: string }
  | { ok: false; reason: string };

/**
 * Appends an encoded entry's push value (`["<ns>","<line>",{…}]`) to its stream's values,
 * with the `,` before it when it is not the first: the line as its string, or its bytes
 * escaped as they are copied.
 */
export function appendValue(
  values: ByteList,
  enc: { head: string; line: string | Uint8Array; tail: string },
  first: boolean,
): void {
  values.append(first ? enc.head : ',' + enc.head);
  if (typeof enc.line === 'string') values.append(enc.line);
  else values.appendJsonString(enc.line);
  values.append(enc.tail);
}

/** A stream: its labels, and their JSON as written in a push body. */
export interface LokiStream {
  labels: Record<string, string>;
  key: string;
}

/**
 * Ingestion timestamps for `--timestamp ingest`: nanoseconds since the epoch as decimal digits,
 * the wall clock's millisecond and a count of the entries stamped in it, strictly increasing
 * (entries stay distinct and in order in their stream, also when the clock steps back). Numbers,
 * not BigInt: a BigInt product, comparison and toString per entry was most of the encoding.
 */
export class IngestClock {
  private ms = 0;
  /** Entries stamped in `ms`, 0 to 999,999. */
  private sub = 0;
  private msText = '0';

  /** The next timestamp at or after `nowMs` (ms since the epoch), as Loki's `"<ns>"` digits. */
  next(nowMs: number): string {
    if (nowMs > this.ms) {
      this.ms = nowMs;
      this.sub = 0;
      this.msText = String(nowMs);
    } else if (++this.sub === 1_000_000) {
      this.ms++;
      this.sub = 0;
      this.msText = String(this.ms);
    }
    const sub = String(this.sub);
    return this.msText + '000000'.slice(sub.length) + sub;
  }
}

/** Builds streams, validates and pushes batches to one Loki. */
export class LokiPushClient {
  private readonly pushUrl: string;
  private readonly limits: typeof LOKI_DEFAULT_LIMITS;
  private readonly base: Record<string, string>;
  private readonly ingest = new IngestClock();
  /** The last entry's file and its JSON string (entries come a file at a time). */
  private fileJson: [string, string] = ['', '""'];
  private auth: LokiAuth;

  /** @throws LokiConfigError for bad labels, URL, tenant or credentials ({@link checkLokiHeaders}). */
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
    checkLokiHeaders(config.tenant, config.auth);
    this.auth = config.auth;
    this.base = { service_name: 'loki-audit', job: 'loki-audit', host: labelValue(hostname()), ...config.labels };
    validateLabels({ ...this.base, level: 'info', event_family: 'x' }, this.limits);
  }

  /** Label sets by level and event family label: bounded, so each is built and serialized once. */
  private readonly streamsSeen = new Map<string, LokiStream>();
  /**
   * Streams by level and event, as {@link stream} found them: one lookup an entry (1M writer
   * entries: ~200 ns each to find the family and the stream). At most {@link MAX_KEPT_EVENTS}.
   */
  private readonly streamsByEvent = new Map<string, Map<string, LokiStream>>();
  private streamsByEventCount = 0;
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
    const { level, event } = e.view;
    let byEvent = this.streamsByEvent.get(level);
    const known = byEvent?.get(event);
    if (known) return known;
    const family = this.eventFamily(event);
    const id = level + '\u0000' + family;
    let s = this.streamsSeen.get(id);
    if (!s) {
      const labels = { ...this.base, level, event_family: family };
      s = { labels, key: JSON.stringify(labels) };
      this.streamsSeen.set(id, s);
    }
    // An event's family never changes once given (eventFamily): its stream can be kept.
    if (this.streamsByEventCount < MAX_KEPT_EVENTS) {
      if (!byEvent) this.streamsByEvent.set(level, (byEvent = new Map()));
      byEvent.set(event, s);
      this.streamsByEventCount++;
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
      ts = this.ingest.next(now);
    } else {
      ts = timestampNs(e.view.timestamp);
      if (ts === null)
        return { ok: false, reason: `timestamp "${e.view.timestamp}" is not RFC 3339; use --timestamp ingest` };
      const ms = Number(BigInt(ts) / 1_000_000n);
      if (ms < now - this.limits.rejectOldSamplesMaxAgeMs) {
        return {
          ok: false,
          reason:
            `timestamp too old for Loki (older than ${this.limits.rejectOldSamplesMaxAgeMs / 3600_000}h, ` +
            `reject_old_samples_max_age); use --timestamp ingest to send it with the ingestion time`,
        };
      }
      if (ms > now + this.limits.creationGracePeriodMs) {
        return {
          ok: false,
          reason:
            `timestamp too new for Loki (more than ` +
            `${this.limits.creationGracePeriodMs / 60_000}m ahead, creation_grace_period)`,
        };
      }
    }
    // ts is digits only; the metadata's keys are ours, its values are escaped.
    if (this.fileJson[0] !== e.file) this.fileJson = [e.file, JSON.stringify(e.file)];
    const md =
      `"file":${this.fileJson[1]},"line":"${e.line}"` +
      (e.view.hash ? `,"chain_hash":${JSON.stringify(e.view.hash)}` : '');
    return {
      ok: true,
      stream: this.stream(e),
      head: `["${ts}",`,
      line: e instanceof WriterFormEntry ? e.bytes : JSON.stringify(line),
      tail: `,{${md}}]`,
    };
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
      ...lokiHeaders(this.config.tenant, this.auth),
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
        // The whole body of a 400 (to classify it and count its entries), the start of others.
        const keep = res.statusCode === 400 ? MAX_REFUSAL_TEXT : 2000;
        const parts: Buffer[] = [];
        let kept = 0;
        res.on('data', (b: Buffer) => {
          if (kept < keep) parts.push(b);
          kept += b.length;
        });
        res.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return finish({ ok: true, status });
          const full = Buffer.concat(parts).toString('utf8').trim();
          const text = answerText(full);
          const error = `HTTP ${status}${text ? ': ' + text : ''}`;
          const refusal = lokiRefusal(status, full);
          if (!refusal) return finish({ ok: false, retryable: true, status, error });
          const count = refusal === 'entries' ? refusedEntryCount(full) : 0;
          finish({ ok: false, retryable: false, status, refusal, error, ...(count ? { refusedEntries: count } : {}) });
        });
      });
      const timer = setTimeout(() => {
        fail(`timed out after ${timeoutMs} ms`);
        req.destroy();
      }, timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => {
        const trust = tlsTrustProblem(err.code);
        if (!trust) return fail(err.code ?? err.message);
        finish({
          ok: false,
          retryable: false,
          status: 0,
          refusal: 'tls-trust',
          error: `TLS: ${host} is not trusted: ${trust} (${err.code}); give its CA with NODE_EXTRA_CA_CERTS=FILE`,
        });
      });
      for (const c of body.chunks()) req.write(c);
      req.end();
    });
  }

  /** Reads the credentials again, if they come from files ({@link LokiTargetConfig.reloadAuth}). */
  reloadAuth(): void {
    try {
      if (!this.config.reloadAuth) return;
      const auth = this.config.reloadAuth();
      checkLokiHeaders(this.config.tenant, auth);
      this.auth = auth;
    } catch {
      // Unreadable or unusable now: keep the ones read before; the refusal says what to fix.
    }
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
