/**
 * A Grafana Loki push receiver for tests, written to Loki's documented validation rules (no
 * Loki binary can be installed here). Loopback only; stopped by the test.
 *
 * POST /loki/api/v1/push (JSON, optionally gzip): tenant header required when configured (401
 * "no org id"); labels: at least one, Prometheus name syntax, no `__` prefix, at most 15 names,
 * name ≤ 1024 and value ≤ 2048 characters; values `[ns-string, line, {structured metadata}?]`;
 * entries older than `reject_old_samples_max_age` (168h) or newer than now + `creation_grace_period`
 * (10m) and lines over `max_line_size` (256 KiB) are refused with Loki's messages, the valid ones
 * in the same push are still stored and the push answers 400 (as Loki's distributor does);
 * exact duplicates (same stream, timestamp and line) are dropped. 204 on success.
 * GET /loki/api/v1/query_range (behind the same tenant and credential checks as a push),
 * written to Loki's HTTP API docs (docs/sources/reference/
 * loki-http-api.md) and source (pkg/loghttp/params.go, query.go; pkg/querier/queryrange/
 * limits.go; pkg/util/marshal): `query` (the LogQL subset of ./logql.ts: stream selector with
 * `=`, `!=`, `=~`, `!~`; line filters `|=`, `!=`, `|~`, `!~`; `| json` and label filters,
 * string or numeric); `start` (default end − 1h) and `end` (default now) as nanosecond
 * integers, ≤ 10-digit integers in seconds, floats in seconds or RFC 3339, entries with
 * start ≤ ts < end (end exclusive; "end timestamp must not be before or equal to start time"
 * when end < start); `limit` (default 100, "limit must be a positive value"); `direction`
 * forward|backward (default backward, "invalid direction 'x'"). The limits, each 400 with
 * Loki's text: `max_entries_limit_per_query` (default 5000: "max entries limit per query
 * exceeded, limit > max_entries_limit_per_query (L > M)") and `max_query_length` (default
 * 721h, on the whole milliseconds of end − start: "the query time range exceeds the limit
 * (query length: 744h0m0s, limit: 30d1h)"), both configurable per test. The answer is
 * `{"status":"success","data":{"resultType":"streams","result":[{"stream":{…},"values":
 * [["<ns>","<line>"],…]}],"stats":{…}}}`: the first `limit` matching entries in direction
 * order, equal timestamps ordered by the stream's labels then arrival (as Loki's
 * NewSortEntryIterator does); structured metadata and `| json` labels are merged into the
 * stream's labels, or, with `X-Loki-Response-Encoding-Flags: categorize-labels`, are each
 * value's third element `{"structuredMetadata":{…},"parsed":{…}}` (and `encodingFlags`).
 * GET /loki/api/v1/label/<name>/values (see {@link LokiReceiver.labelValues}).
 * `store: 'compact'` keeps a million entries in a few typed arrays and buffers (benchmarks).
 * Faults can be injected: status codes for the next N pushes, delays, and going down. Served
 * behind a path prefix (`pathPrefix`, as a reverse proxy would), anything else is a 404. Entries
 * can be refused one by one (`refuseEntry`, as Loki refuses an entry: the push answers 400 with
 * the reason, the others of it are stored), and the errors grouped as Loki's distributor groups
 * them (`groupErrors`). A body size limit answers 413 as nginx's `client_max_body_size` does
 * (`maxBodyBytes`, on the body as sent, before Loki sees it). The answer to a chosen push can be
 * held back (`hold`: Loki stored it, its 204 is late) while later pushes on other connections
 * are answered; `pushSizes` says how many entries each push carried.
 */
import { isAscii } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { waitFor } from './wait.js';
import { LogQLParseError, parseLogQL, runPipeline, selects, type LogQuery } from './logql.js';

export interface StoredEntry {
  labels: Record<string, string>;
  ts: string;
  line: string;
  metadata: Record<string, string>;
  tenant: string | null;
}

export interface ReceiverOptions {
  requireTenant?: boolean;
  /** Basic or bearer credentials the receiver demands (401 otherwise). */
  authorization?: string;
  now?: () => number;
  /** Keep every push's raw (compressed) body in `bodies`, faults included. */
  keepBodies?: boolean;
  /**
   * Serve the API under this path, as a reverse proxy mounting Loki at a prefix does
   * (`/loki-proxy` → `/loki-proxy/loki/api/v1/push`); any other path is a 404 like Loki's.
   */
  pathPrefix?: string;
  /**
   * Refuses the entries for which it returns a reason (Loki's words, e.g. "entry for stream '…'
   * has timestamp too new: …"), after the built-in checks; the push answers 400 and stores the others.
   */
  refuseEntry?: (e: {
    labels: Record<string, string>;
    ts: string;
    line: string;
    metadata: Record<string, string>;
  }) => string | null;
  /**
   * A 400's errors as Loki's distributor prints them (pkg/util/errors GroupedErrors): "N errors
   * like: MESSAGE" groups joined by "; ", no count for a single error. Default: one per line.
   */
  groupErrors?: boolean;
  /**
   * A reverse proxy's body size limit (nginx's client_max_body_size) on the body as sent
   * (compressed): a larger push is answered 413 with nginx's page and never reaches Loki.
   */
  maxBodyBytes?: number;
  /** Serve HTTPS with this certificate and key (PEM). */
  tls?: { cert: Buffer; key: Buffer };
  /**
   * false: validate and count every entry as usual but keep none (so no duplicate detection),
   * for benchmarks: a receiver holding a million entries and their dedup keys spent more time
   * collecting garbage than the forwarder spent sending.
   */
  store?: boolean | 'compact';
  /**
   * Loki's `max_entries_limit_per_query` (default 5000, pkg/validation/limits.go; 0 = none): a
   * `query_range` whose `limit` is larger answers 400 "max entries limit per query exceeded,
   * limit > max_entries_limit_per_query (L > M)".
   */
  maxEntriesLimitPerQuery?: number;
  /**
   * Loki's `max_query_length` in ms (default 721h; 0 = none): a `query_range` whose end minus
   * start (in whole milliseconds) is longer answers 400 "the query time range exceeds the limit
   * (query length: 744h0m0s, limit: 30d1h)".
   */
  maxQueryLengthMs?: number;
}

/** Read access to stored entries by index, and their query order (ts, then labels, then arrival). */
interface StoreView {
  ts(i: number): bigint;
  labels(i: number): Record<string, string>;
  line(i: number): string;
  metadata(i: number): Record<string, string>;
  order(): Uint32Array;
}

/** A stream's labels as one string, sorted by name (the order Loki sorts equal timestamps by). */
function labelsKey(labels: Record<string, string>): string {
  return (
    '{' +
    Object.keys(labels)
      .sort()
      .map((k) => `${k}=${JSON.stringify(labels[k])}`)
      .join(', ') +
    '}'
  );
}

/**
 * A timestamp parameter as Loki's pkg/loghttp parseTimestamp reads it, in ns: with a `.`, float
 * seconds (to the millisecond); else an integer: ≤ 10 digits seconds, more nanoseconds; else
 * RFC 3339. @throws Error with Loki's text ("could not parse 'end' parameter: …").
 */
export function parseLokiTimestamp(value: string, name: string): bigint {
  if (value.includes('.') && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(value)) {
    const t = Number(value);
    const s = Math.trunc(t);
    const frac = Math.round((t - s) * 1000) / 1000;
    return BigInt(s) * 1_000_000_000n + BigInt(Math.round(frac * 1e9));
  }
  if (/^[-+]?\d+$/.test(value)) {
    const n = BigInt(value);
    if (n <= 9223372036854775807n && n >= -9223372036854775808n)
      return value.replace(/^[-+]/, '').length <= 10 ? n * 1_000_000_000n : n;
  }
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/.exec(value);
  if (m) {
    const ms = Date.parse(m[1] + m[3]);
    if (!Number.isNaN(ms)) return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '.').slice(1).padEnd(9, '0'));
  }
  throw new Error(
    `could not parse '${name}' parameter: strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`,
  );
}

/** A duration of whole ms as Go's time.Duration prints it ("744h0m0s", "1.5s", "250ms"). */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  ms = Math.abs(ms);
  if (ms < 1000) return `${sign}${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const rest = ms % 60_000;
  const sec = `${Math.floor(rest / 1000)}${
    rest % 1000
      ? '.' +
        String(rest % 1000)
          .padStart(3, '0')
          .replace(/0+$/, '')
      : ''
  }s`;
  return sign + (h ? `${h}h${m}m${sec}` : m ? `${m}m${sec}` : sec);
}

/** A duration of whole ms as Prometheus' model.Duration prints it ("30d1h", "1d", "2w"). */
export function promDuration(ms: number): string {
  if (ms === 0) return '0s';
  let r = '';
  const unit = (u: string, mult: number, exact: boolean) => {
    if (exact && ms % mult !== 0) return;
    const v = Math.floor(ms / mult);
    if (v > 0) {
      r += `${v}${u}`;
      ms -= v * mult;
    }
  };
  unit('y', 365 * DAY_MS, true);
  unit('w', 7 * DAY_MS, true);
  unit('d', DAY_MS, false);
  unit('h', 3_600_000, false);
  unit('m', 60_000, false);
  unit('s', 1000, false);
  unit('ms', 1, false);
  return r;
}
const DAY_MS = 86_400_000;

/**
 * Entries kept compactly for benchmarks of a million entries (`store: 'compact'`): timestamps
 * in a BigInt64Array, each line and its metadata as UTF-8 in 16 MiB slabs, the labels once per
 * stream. No duplicate detection. About 1.1× the lines' bytes, against ~3× as JS objects.
 */
class CompactStore implements StoreView {
  private tsArr = new BigInt64Array(1024);
  private stream = new Uint32Array(1024);
  private slab = new Uint32Array(1024);
  private off = new Uint32Array(1024);
  private lineLen = new Uint32Array(1024);
  private mdLen = new Uint32Array(1024);
  private readonly slabs: Buffer[] = [Buffer.allocUnsafe(16 << 20)];
  private used = 0;
  private readonly streams: Array<{ labels: Record<string, string>; key: string }> = [];
  private readonly streamIds = new Map<string, number>();
  private sorted: Uint32Array | null = null;
  count = 0;

  add(labels: Record<string, string>, ts: string, line: string, metadata: Record<string, string>): void {
    const key = labelsKey(labels);
    let sid = this.streamIds.get(key);
    if (sid === undefined) {
      sid = this.streams.length;
      this.streams.push({ labels, key });
      this.streamIds.set(key, sid);
    }
    const n = this.count;
    if (n === this.tsArr.length) {
      const grow = <T extends BigInt64Array | Uint32Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a as never);
        return b;
      };
      this.tsArr = grow(this.tsArr);
      this.stream = grow(this.stream);
      this.slab = grow(this.slab);
      this.off = grow(this.off);
      this.lineLen = grow(this.lineLen);
      this.mdLen = grow(this.mdLen);
    }
    const md = JSON.stringify(metadata);
    const need = Buffer.byteLength(line) + Buffer.byteLength(md);
    let cur = this.slabs[this.slabs.length - 1];
    if (this.used + need > cur.length) {
      cur = Buffer.allocUnsafe(Math.max(16 << 20, need));
      this.slabs.push(cur);
      this.used = 0;
    }
    this.tsArr[n] = BigInt(ts);
    this.stream[n] = sid;
    this.slab[n] = this.slabs.length - 1;
    this.off[n] = this.used;
    this.lineLen[n] = cur.write(line, this.used);
    this.mdLen[n] = cur.write(md, this.used + this.lineLen[n]);
    this.used += this.lineLen[n] + this.mdLen[n];
    this.count++;
    this.sorted = null;
  }

  ts(i: number): bigint {
    return this.tsArr[i];
  }
  labels(i: number): Record<string, string> {
    return this.streams[this.stream[i]].labels;
  }
  line(i: number): string {
    return this.slabs[this.slab[i]].toString('utf8', this.off[i], this.off[i] + this.lineLen[i]);
  }
  metadata(i: number): Record<string, string> {
    const at = this.off[i] + this.lineLen[i];
    return JSON.parse(this.slabs[this.slab[i]].toString('utf8', at, at + this.mdLen[i])) as Record<string, string>;
  }
  order(): Uint32Array {
    if (!this.sorted) {
      const ts = this.tsArr;
      const keys = this.streams.map((s) => s.key);
      const st = this.stream;
      this.sorted = Uint32Array.from({ length: this.count }, (_, i) => i).sort((a, b) =>
        ts[a] !== ts[b] ? (ts[a] < ts[b] ? -1 : 1) : st[a] !== st[b] ? (keys[st[a]] < keys[st[b]] ? -1 : 1) : a - b,
      );
    }
    return this.sorted;
  }
}

/** A Prometheus/Go duration (`6h`, `30m`, `1h30m`) in ms, as Loki parses `since`; null if not one. */
function durationMs(text: string): number | null {
  const units: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  if (!/^(\d+(ms|[dhms]))+$/.test(text)) return null;
  let ms = 0;
  for (const [, n, u] of text.matchAll(/(\d+)(ms|[dhms])/g)) ms += Number(n) * units[u];
  return ms;
}

const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Errors as Loki's GroupedErrors.Error() prints them: "N errors like: M" per distinct message, "; " between. */
function groupedErrors(errors: string[]): string {
  const counts = new Map<string, number>();
  for (const e of errors) counts.set(e, (counts.get(e) ?? 0) + 1);
  if (counts.size === 1 && errors.length === 1) return errors[0];
  return [...counts].map(([e, n]) => `${n} errors like: ${e}`).join('; ');
}
const DAY = 86_400_000;

export class LokiReceiver {
  readonly stored: StoredEntry[] = [];
  /** With `store: 'compact'`: where the entries are (not in `stored`). */
  private readonly compact: CompactStore | null;
  /** Every `query_range` answered 200, in order (bounds in ns). */
  readonly queries: Array<{
    start: bigint;
    end: bigint;
    limit: number;
    direction: string;
    query: string;
    tenant: string | null;
  }> = [];
  /** Every label values request answered 200, in order. */
  readonly labelQueries: Array<{ name: string; start: bigint; end: bigint; query: string }> = [];
  private readonly seen = new Set<string>();
  pushes = 0;
  received = 0;
  /** Entries accepted (stored, or counted with `store: false`). */
  accepted = 0;
  duplicatesDropped = 0;
  /** Pushes refused by `maxBodyBytes` (413), and the largest body that was not. */
  tooLarge = 0;
  largestBodyTaken = 0;
  /** Headers of the last push (to check tenant, auth, encoding). */
  lastHeaders: IncomingMessage['headers'] = {};
  /** Raw bodies of the pushes, in order (with `keepBodies`). */
  readonly bodies: Buffer[] = [];
  /** Entries (values) in each push whose body was read, in order of arrival (not a fault's, a 413's). */
  readonly pushSizes: number[] = [];
  /** Answers held back by {@link hold}, waiting for their match or their release. */
  private readonly holds: Array<{ match: (lines: string[]) => boolean; arrived: () => void; released: Promise<void> }> =
    [];
  private faults: Array<{ status: number; body: string }> = [];
  private delayMs = 0;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  /** Requests being handled (a push delayed by `slow` included), for {@link whenIdle}. */
  private inFlight = 0;
  /** 'change' after each push arrives and after each request is answered, for {@link waitFor}. */
  private readonly events = new EventEmitter();
  port = 0;

  constructor(private readonly options: ReceiverOptions = {}) {
    this.compact = options.store === 'compact' ? new CompactStore() : null;
  }

  /** Entries held (in `stored`, or in the compact store). */
  get storedCount(): number {
    return this.compact ? this.compact.count : this.stored.length;
  }

  /** The next `n` pushes answer `status` (429, 500, …) and store nothing. */
  failNext(n: number, status: number, body = 'injected fault'): void {
    for (let i = 0; i < n; i++) this.faults.push({ status, body });
  }

  /**
   * Holds back the answer to the first push from now on whose lines satisfy `match`: the push is
   * stored (or refused) as usual, then its answer waits until `release()`. `arrived` resolves once
   * that push is being held. Pushes on other connections are answered meanwhile.
   */
  hold(match: (lines: string[]) => boolean): { arrived: Promise<void>; release: () => void } {
    let arrived!: () => void;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (arrived = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.holds.push({ match, arrived, released });
    return { arrived: held, release };
  }

  /** Every push waits this long before answering. */
  slow(ms: number): void {
    this.delayMs = ms;
  }

  async start(port = 0): Promise<number> {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.track(this.handle(req, res));
    this.server = this.options.tls
      ? createHttpsServer({ cert: this.options.tls.cert, key: this.options.tls.key }, handler)
      : createServer(handler);
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  /** Goes down: closes the listener and every open connection. */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }

  /**
   * Resolves with `condition`'s first truthy value, checked after each push arrives and each
   * request is answered; rejects after `timeoutMs` with `describe()` and the receiver's counts.
   */
  waitFor<T>(
    condition: () => T | false | null | undefined,
    options: { timeoutMs?: number; describe?: () => string } = {},
  ): Promise<T> {
    return waitFor(condition, {
      timeoutMs: options.timeoutMs,
      wakeOn: [[this.events, 'change']],
      describe: () =>
        `${options.describe?.() ?? 'a condition on the Loki receiver'} (receiver: ${this.pushes} pushes, ` +
        `${this.stored.length} stored, ${this.inFlight} in flight)`,
    });
  }

  /** Resolves once no request is being handled: what was pushed has been stored (or refused). */
  whenIdle(timeoutMs = 10_000): Promise<boolean> {
    return this.waitFor(() => this.inFlight === 0, { timeoutMs, describe: () => 'the receiver to go idle' });
  }

  get url(): string {
    return `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://x');
    const prefix = (this.options.pathPrefix ?? '').replace(/\/$/, '');
    const path = url.pathname.startsWith(prefix + '/') ? url.pathname.slice(prefix.length) : null;
    if (req.method === 'GET' && path === '/loki/api/v1/query_range') return this.query(url, req, res);
    const label = path ? /^\/loki\/api\/v1\/label\/([^/]+)\/values$/.exec(path) : null;
    if (req.method === 'GET' && label) return this.labelValues(decodeURIComponent(label[1]), url, res);
    if (req.method !== 'POST' || path !== '/loki/api/v1/push') return this.reply(res, 404, '404 page not found');
    this.pushes++;
    this.events.emit('change');
    this.lastHeaders = req.headers;
    if (this.options.keepBodies) this.bodies.push(Buffer.concat(chunks));
    const size = chunks.reduce((n, c) => n + c.length, 0);
    if (this.options.maxBodyBytes !== undefined && size > this.options.maxBodyBytes) {
      this.tooLarge++;
      res.setHeader('connection', 'close');
      return void res
        .writeHead(413, { 'content-type': 'text/html' })
        .end(
          '<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n' +
            '<center><h1>413 Request Entity Too ' +
            'Large</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n',
        );
    }
    this.largestBodyTaken = Math.max(this.largestBodyTaken, size);
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    const fault = this.faults.shift();
    if (fault) return this.reply(res, fault.status, fault.body);
    const tenant = (req.headers['x-scope-orgid'] as string | undefined) ?? null;
    if (this.options.requireTenant && !tenant) return this.reply(res, 401, 'no org id');
    if (this.options.authorization && req.headers.authorization !== this.options.authorization)
      return this.reply(res, 401, 'unauthorized');
    let body = Buffer.concat(chunks);
    if (req.headers['content-encoding'] === 'gzip') {
      try {
        body = gunzipSync(body);
      } catch {
        return this.reply(res, 400, 'invalid gzip body');
      }
    }
    if (!String(req.headers['content-type']).startsWith('application/json'))
      return this.reply(res, 415, 'unsupported content type');
    let doc: { streams?: Array<{ stream?: Record<string, unknown>; values?: unknown[] }> };
    try {
      // An ASCII body (writer lines are) decodes to the same string either way; latin1 is a copy.
      doc = JSON.parse(body.toString(isAscii(body) ? 'latin1' : 'utf8'));
    } catch {
      return this.reply(res, 400, 'invalid JSON body');
    }
    this.pushSizes.push((doc.streams ?? []).reduce((n, s) => n + (Array.isArray(s.values) ? s.values.length : 0), 0));
    const pushLines: string[] = [];
    const errors: string[] = [];
    const now = this.options.now?.() ?? Date.now();
    for (const s of doc.streams ?? []) {
      const labels = s.stream ?? {};
      const names = Object.keys(labels);
      const ls = '{' + names.map((n) => `${n}="${String(labels[n])}"`).join(', ') + '}';
      if (names.length === 0) return this.reply(res, 400, 'error at least one label pair is required per stream');
      for (const n of names) {
        if (!LABEL.test(n) || n.startsWith('__'))
          return this.reply(res, 400, `Error parsing labels '${ls}' with error: invalid label name`);
        if (n.length > 1024) return this.reply(res, 400, `stream '${ls}' has label name too long: '${n}'`);
        if (typeof labels[n] !== 'string')
          return this.reply(res, 400, `Error parsing labels '${ls}' with error: label value must be a string`);
        if ((labels[n] as string).length > 2048)
          return this.reply(res, 400, `stream '${ls}' has label value too long: '${labels[n]}'`);
      }
      if (names.length > 15)
        return this.reply(res, 400, `entry for stream '${ls}' has ${names.length} label names; limit 15`);
      for (const v of s.values ?? []) {
        if (
          !Array.isArray(v) ||
          typeof v[0] !== 'string' ||
          !/^\d+$/.test(v[0]) ||
          typeof v[1] !== 'string' ||
          (v[2] !== undefined && (typeof v[2] !== 'object' || v[2] === null))
        ) {
          return this.reply(
            res,
            400,
            'invalid entry: values must be [ "<unix epoch in nanoseconds>", "<log line>", {structured metadata}? ]',
          );
        }
        const [ts, line, metadata = {}] = v as [string, string, Record<string, string>];
        for (const k in metadata)
          if (typeof metadata[k] !== 'string')
            return this.reply(res, 400, 'structured metadata values must be strings');
        this.received++;
        if (this.holds.length) pushLines.push(line);
        // Milliseconds of the nanosecond timestamp (digits only, checked above), without BigInt.
        const ms = ts.length > 6 ? Number(ts.slice(0, -6)) : 0;
        if (ms < now - 7 * DAY) {
          errors.push(
            `entry for stream '${ls}' has timestamp too old: ${new Date(ms).toISOString()}, ` +
              `oldest acceptable timestamp is: ${new Date(now - 7 * DAY).toISOString()}`,
          );
          continue;
        }
        if (ms > now + 10 * 60_000) {
          errors.push(`entry for stream '${ls}' has timestamp too new: ${new Date(ms).toISOString()}`);
          continue;
        }
        if (line.length * 3 > 256 * 1024 && Buffer.byteLength(line) > 256 * 1024) {
          errors.push(
            `Max entry size '${256 * 1024}' bytes exceeded for stream '${ls}' ` +
              `while adding an entry with length '${Buffer.byteLength(line)}' bytes`,
          );
          continue;
        }
        const refused = this.options.refuseEntry?.({ labels: labels as Record<string, string>, ts, line, metadata });
        if (refused) {
          errors.push(refused);
          continue;
        }
        if (this.compact) this.compact.add(labels as Record<string, string>, ts, line, metadata);
        else if (this.options.store !== false) {
          const key = `${tenant}|${ls}|${ts}|${line}`;
          if (this.seen.has(key)) {
            this.duplicatesDropped++;
            continue;
          }
          this.seen.add(key);
          this.stored.push({ labels: labels as Record<string, string>, ts, line, metadata, tenant });
        }
        this.accepted++;
      }
    }
    const hold = this.holds.findIndex((h) => h.match(pushLines));
    if (hold >= 0) {
      const [h] = this.holds.splice(hold, 1);
      h.arrived();
      await h.released;
    }
    if (errors.length)
      return this.reply(res, 400, this.options.groupErrors ? groupedErrors(errors) : errors.join('\n'));
    res.writeHead(204).end();
  }

  /**
   * `GET /loki/api/v1/query_range` as Loki's querier and query frontend answer it (see the
   * header): parameters parsed as pkg/loghttp does, the two limits checked, the matching
   * entries of `[start, end)` in `direction` order, at most `limit`, grouped in streams.
   */
  private query(url: URL, req: IncomingMessage, res: ServerResponse): void {
    // The same gate as a push: the tenant header, the credentials.
    const tenant = (req.headers['x-scope-orgid'] as string | undefined) ?? null;
    if (this.options.requireTenant && !tenant) return this.reply(res, 401, 'no org id');
    if (this.options.authorization && req.headers.authorization !== this.options.authorization)
      return this.reply(res, 401, 'unauthorized');
    const p = url.searchParams;
    const now = BigInt(this.options.now?.() ?? Date.now()) * 1_000_000n;
    let start: bigint;
    let end: bigint;
    try {
      end = p.get('end') ? parseLokiTimestamp(p.get('end')!, 'end') : now;
      // `since` (default 1h) counts back from end, or from now when end is in the future.
      start = p.get('start')
        ? parseLokiTimestamp(p.get('start')!, 'start')
        : (end > now ? now : end) - 3_600_000_000_000n;
    } catch (err) {
      return this.reply(res, 400, (err as Error).message);
    }
    if (end < start) return this.reply(res, 400, 'end timestamp must not be before or equal to start time');
    const limitText = p.get('limit') ?? '';
    const limit = limitText === '' ? 100 : /^[-+]?\d+$/.test(limitText) ? Number(limitText) : NaN;
    if (Number.isNaN(limit))
      return this.reply(res, 400, `strconv.Atoi: parsing ${JSON.stringify(limitText)}: invalid syntax`);
    if (limit <= 0) return this.reply(res, 400, 'limit must be a positive value');
    const dirText = p.get('direction') ?? '';
    if (dirText !== '' && !['FORWARD', 'BACKWARD'].includes(dirText.toUpperCase()))
      return this.reply(res, 400, `invalid direction '${dirText}'`);
    const forward = dirText.toUpperCase() === 'FORWARD';
    const maxEntries = this.options.maxEntriesLimitPerQuery ?? 5000;
    if (maxEntries > 0 && limit > maxEntries)
      return this.reply(
        res,
        400,
        `max entries limit per query exceeded, limit > max_entries_limit_per_query (${limit} > ${maxEntries})`,
      );
    const maxLengthMs = this.options.maxQueryLengthMs ?? 721 * 3_600_000;
    // pkg/querier/queryrange/limits.go: the length in milliseconds of the parsed bounds.
    const lengthMs = Number(end / 1_000_000n - start / 1_000_000n);
    if (maxLengthMs > 0 && lengthMs > maxLengthMs)
      return this.reply(
        res,
        400,
        `the query time range exceeds the limit (query length: ` +
          `${goDuration(lengthMs)}, limit: ${promDuration(maxLengthMs)})`,
      );
    let q: LogQuery;
    try {
      q = parseLogQL(p.get('query') ?? '');
    } catch (err) {
      if (err instanceof LogQLParseError) return this.reply(res, 400, err.message);
      throw err;
    }
    this.queries.push({
      start,
      end,
      limit,
      direction: forward ? 'forward' : 'backward',
      query: p.get('query') ?? '',
      tenant,
    });
    const categorize = String(req.headers['x-loki-response-encoding-flags'] ?? '')
      .split(',')
      .map((f) => f.trim())
      .includes('categorize-labels');
    const view = this.view();
    const order = view.order();
    // First position with ts >= start (forward) or the last with ts < end (backward).
    const lowerBound = (t: bigint) => {
      let lo = 0;
      let hi = order.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (view.ts(order[mid]) < t) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    const streams = new Map<string, { stream: Record<string, string>; values: unknown[] }>();
    let taken = 0;
    let scanned = 0;
    const from = forward ? lowerBound(start) : lowerBound(end) - 1;
    for (let k = from; k >= 0 && k < order.length && taken < limit; k += forward ? 1 : -1) {
      const i = order[k];
      const ts = view.ts(i);
      if (forward ? ts >= end : ts < start) break;
      const labels = view.labels(i);
      if (!selects(q, labels)) continue;
      scanned++;
      const line = view.line(i);
      const metadata = view.metadata(i);
      const after = runPipeline(q, labels, line);
      if (!after) continue;
      taken++;
      const parsed: Record<string, string> = {};
      for (const [k2, v] of Object.entries(after)) if (!(k2 in labels)) parsed[k2] = v;
      const streamLabels = categorize ? labels : { ...labels, ...metadata, ...parsed };
      const key = JSON.stringify(Object.entries(streamLabels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      let s = streams.get(key);
      if (!s) streams.set(key, (s = { stream: streamLabels, values: [] }));
      if (!categorize) s.values.push([ts.toString(), line]);
      else {
        const extra: Record<string, Record<string, string>> = {};
        if (Object.keys(metadata).length) extra.structuredMetadata = metadata;
        if (Object.keys(parsed).length) extra.parsed = parsed;
        s.values.push([ts.toString(), line, extra]);
      }
    }
    const body = JSON.stringify({
      status: 'success',
      data: {
        resultType: 'streams',
        ...(categorize ? { encodingFlags: ['categorize-labels'] } : {}),
        result: [...streams.values()],
        stats: { summary: { totalEntriesReturned: taken, totalLinesProcessed: scanned } },
      },
    });
    res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' }).end(body);
  }

  /**
   * `GET /loki/api/v1/label/<name>/values` (Loki HTTP API, "Query label values"): the values of
   * label `name` on the streams matching `query` (a stream selector; default every stream) with
   * entries in `[start, end)`; `start` default 6h before `end`, `end` default now (the same
   * timestamp forms as query_range), `since` a duration before `end` when `start` is absent.
   * Answers `{"status":"success","data":["v1","v2"]}`, sorted. This receiver checks
   * `max_query_length` on it as on query_range (same 400), so a client must window it too.
   */
  private labelValues(name: string, url: URL, res: ServerResponse): void {
    const p = url.searchParams;
    const now = BigInt(this.options.now?.() ?? Date.now()) * 1_000_000n;
    let start: bigint;
    let end: bigint;
    try {
      end = p.get('end') ? parseLokiTimestamp(p.get('end')!, 'end') : now;
      const sinceMs = p.get('since') ? durationMs(p.get('since')!) : 6 * 3_600_000;
      if (sinceMs === null) return this.reply(res, 400, `cannot parse "${p.get('since')}" as a duration`);
      start = p.get('start') ? parseLokiTimestamp(p.get('start')!, 'start') : end - BigInt(sinceMs) * 1_000_000n;
    } catch (err) {
      return this.reply(res, 400, (err as Error).message);
    }
    if (end < start) return this.reply(res, 400, 'end timestamp must not be before or equal to start time');
    const maxLengthMs = this.options.maxQueryLengthMs ?? 721 * 3_600_000;
    const lengthMs = Number(end / 1_000_000n - start / 1_000_000n);
    if (maxLengthMs > 0 && lengthMs > maxLengthMs)
      return this.reply(
        res,
        400,
        `the query time range exceeds the limit (query length: ` +
          `${goDuration(lengthMs)}, limit: ${promDuration(maxLengthMs)})`,
      );
    let q: LogQuery | null = null;
    try {
      if (p.get('query')) q = parseLogQL(p.get('query')!);
    } catch (err) {
      if (err instanceof LogQLParseError) return this.reply(res, 400, err.message);
      throw err;
    }
    this.labelQueries.push({ name, start, end, query: p.get('query') ?? '' });
    const view = this.view();
    const values = new Set<string>();
    for (const i of view.order()) {
      const ts = view.ts(i);
      if (ts < start || ts >= end) continue;
      const labels = view.labels(i);
      if (name in labels && (!q || selects(q, labels))) values.add(labels[name]);
    }
    const body = JSON.stringify({ status: 'success', data: [...values].sort() });
    res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' }).end(body);
  }

  /** The stored entries, whichever store holds them, with their order by (ts, labels, arrival). */
  private view(): StoreView {
    if (this.compact) return this.compact;
    const stored = this.stored;
    const keys = stored.map((e) => labelsKey(e.labels));
    return {
      ts: (i) => BigInt(stored[i].ts),
      labels: (i) => stored[i].labels,
      line: (i) => stored[i].line,
      metadata: (i) => stored[i].metadata,
      order: () => {
        const ts = stored.map((e) => BigInt(e.ts));
        return Uint32Array.from(stored.keys()).sort((a, b) =>
          ts[a] !== ts[b] ? (ts[a] < ts[b] ? -1 : 1) : keys[a] !== keys[b] ? (keys[a] < keys[b] ? -1 : 1) : a - b,
        );
      },
    };
  }

  /** Counts `handling` as in flight until it settles. */
  private track(handling: Promise<void>): Promise<void> {
    this.inFlight++;
    return handling.finally(() => {
      this.inFlight--;
      this.events.emit('change');
    });
  }

  private reply(res: ServerResponse, status: number, text: string): void {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(text + '\n');
  }
}
