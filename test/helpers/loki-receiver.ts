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
 * GET /loki/api/v1/query_range?query={k="v",…}&start&end&limit returns the stored streams
 * (exact matchers, nanosecond range inclusive, oldest first, at most `limit` entries).
 * Faults can be injected: status codes for the next N pushes, delays, and going down. Served
 * behind a path prefix (`pathPrefix`, as a reverse proxy would), anything else is a 404. Entries
 * can be refused one by one (`refuseEntry`, as Loki refuses an entry: the push answers 400 with
 * the reason, the others of it are stored), and the errors grouped as Loki's distributor groups
 * them (`groupErrors`). A body size limit answers 413 as nginx's `client_max_body_size` does
 * (`maxBodyBytes`, on the body as sent, before Loki sees it).
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { waitFor } from './wait.js';

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
  store?: boolean;
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
  private faults: Array<{ status: number; body: string }> = [];
  private delayMs = 0;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  /** Requests being handled (a push delayed by `slow` included), for {@link whenIdle}. */
  private inFlight = 0;
  /** 'change' after each push arrives and after each request is answered, for {@link waitFor}. */
  private readonly events = new EventEmitter();
  port = 0;

  constructor(private readonly options: ReceiverOptions = {}) {}

  /** The next `n` pushes answer `status` (429, 500, …) and store nothing. */
  failNext(n: number, status: number, body = 'injected fault'): void {
    for (let i = 0; i < n; i++) this.faults.push({ status, body });
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
    if (req.method === 'GET' && path === '/loki/api/v1/query_range') return this.query(url, res);
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
            '<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n',
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
      doc = JSON.parse(body.toString('utf8'));
    } catch {
      return this.reply(res, 400, 'invalid JSON body');
    }
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
        for (const mv of Object.values(metadata))
          if (typeof mv !== 'string') return this.reply(res, 400, 'structured metadata values must be strings');
        this.received++;
        // Milliseconds of the nanosecond timestamp (digits only, checked above), without BigInt.
        const ms = ts.length > 6 ? Number(ts.slice(0, -6)) : 0;
        if (ms < now - 7 * DAY) {
          errors.push(
            `entry for stream '${ls}' has timestamp too old: ${new Date(ms).toISOString()}, oldest acceptable timestamp is: ${new Date(now - 7 * DAY).toISOString()}`,
          );
          continue;
        }
        if (ms > now + 10 * 60_000) {
          errors.push(`entry for stream '${ls}' has timestamp too new: ${new Date(ms).toISOString()}`);
          continue;
        }
        if (line.length * 3 > 256 * 1024 && Buffer.byteLength(line) > 256 * 1024) {
          errors.push(
            `Max entry size '${256 * 1024}' bytes exceeded for stream '${ls}' while adding an entry with length '${Buffer.byteLength(line)}' bytes`,
          );
          continue;
        }
        const refused = this.options.refuseEntry?.({ labels: labels as Record<string, string>, ts, line, metadata });
        if (refused) {
          errors.push(refused);
          continue;
        }
        if (this.options.store !== false) {
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
    if (errors.length)
      return this.reply(res, 400, this.options.groupErrors ? groupedErrors(errors) : errors.join('\n'));
    res.writeHead(204).end();
  }

  private query(url: URL, res: ServerResponse): void {
    const q = url.searchParams.get('query') ?? '';
    const m = /^\{(.*)\}$/.exec(q.trim());
    if (!m) return this.reply(res, 400, 'parse error: query must be a stream selector');
    const matchers = [...m[1].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"([^"]*)"/g)].map((x) => [x[1], x[2]]);
    const start = BigInt(url.searchParams.get('start') ?? '0');
    const end = url.searchParams.get('end') ? BigInt(url.searchParams.get('end') as string) : null;
    const limit = Number(url.searchParams.get('limit') ?? 100);
    const selected = this.stored
      .filter(
        (e) =>
          matchers.every(([k, v]) => e.labels[k] === v) &&
          BigInt(e.ts) >= start &&
          (end === null || BigInt(e.ts) <= end),
      )
      .sort((a, b) => (BigInt(a.ts) < BigInt(b.ts) ? -1 : BigInt(a.ts) > BigInt(b.ts) ? 1 : 0))
      .slice(0, limit);
    const streams = new Map<
      string,
      { stream: Record<string, string>; values: Array<[string, string, Record<string, string>]> }
    >();
    for (const e of selected) {
      const key = JSON.stringify(e.labels);
      if (!streams.has(key)) streams.set(key, { stream: e.labels, values: [] });
      streams.get(key)!.values.push([e.ts, e.line, e.metadata]);
    }
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ status: 'success', data: { resultType: 'streams', result: [...streams.values()] } }));
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
