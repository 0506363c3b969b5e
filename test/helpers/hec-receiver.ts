/**
 * A Splunk HTTP Event Collector for tests, written to Splunk's documented HEC behaviour (no
 * Splunk can be installed here). Loopback only; stopped by the test. Sources (Splunk docs):
 * "HTTP Event Collector REST API endpoints" (services/collector/event, services/collector/ack),
 * "Format events for HTTP Event Collector" (the envelope, events concatenated in one body),
 * "About HTTP Event Collector Indexer Acknowledgment" (channels, ackId, polling the ack
 * endpoint), and the status code table of "Troubleshoot HTTP Event Collector"
 * (https://help.splunk.com/en/splunk-enterprise/get-data-in/collect-http-event-data/troubleshoot-http-event-collector),
 * the same table Splunk's own Java client (splunk/cloudfwd, ServerErrors.java) carries:
 *
 * | code | HTTP | text                             | code | HTTP | text                      |
 * |------|------|----------------------------------|------|------|---------------------------|
 * | 0    | 200  | Success                          | 8    | 500  | Internal server error     |
 * | 1    | 403  | Token disabled                   | 9    | 503  | Server is busy            |
 * | 2    | 401  | Token is required                | 10   | 400  | Data channel is missing   |
 * | 3    | 401  | Invalid authorization            | 11   | 400  | Invalid data channel      |
 * | 4    | 403  | Invalid token                    | 12   | 400  | Event field is required   |
 * | 5    | 400  | No data                          | 13   | 400  | Event field cannot be blank |
 * | 6    | 400  | Invalid data format              | 14   | 400  | ACK is disabled           |
 * | 7    | 400  | Incorrect index                  | 15   | 400  | Error in handling indexed fields |
 *
 * POST /services/collector/event (and /services/collector): `Authorization: Splunk <token>`
 * (missing → 2, another scheme → 3, unknown token → 4, disabled → 1); the body (gzip allowed) is
 * JSON event objects one after another (whitespace between, not an array): no data → 5; text
 * that is not JSON → 6; an object without `event` → 12, with `event: ""` → 13; `fields` with a
 * value that is not a string, number or array of them → 15; an `index` the token may not write
 * to → 7. Events are taken in order: those before the first bad one are indexed, and the answer
 * names the bad one (`invalid-event-number`). With acknowledgement on for the token, a request
 * needs a channel (`X-Splunk-Request-Channel` or `?channel=`; missing → 10, not a GUID → 11)
 * and a success answers `{"text":"Success","code":0,"ackId":N}`, ackIds counting from 0 per
 * channel. POST /services/collector/ack?channel=… with `{"acks":[N,…]}` answers
 * `{"acks":{"N":true|false}}` (acknowledgement off → 14); an ackId reported true is forgotten.
 * Any other path: 404.
 *
 * Switches for tests: acks on or off; acks delayed (true only after K polls, or held until
 * {@link releaseAcks}); the next N requests answered 503 "Server is busy" (or any status/body);
 * events refused by a predicate with code 6; a disabled token; allowed indexes; stalling every
 * request until {@link unstall}; and a record of what was indexed, with duplicates counted.
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { waitFor } from './wait.js';

/** A channel's acknowledgement state: the next ackId; per pending ackId its polls and events. */
interface Channel {
  next: number;
  pending: Map<number, number>;
  events: Map<number, number>;
}

/** One event as indexed: the envelope parsed, and the raw text of its `event` and `time`. */
export interface IndexedEvent {
  /** The `event` member's text exactly as sent. */
  eventText: string;
  event: unknown;
  /** The `time` member's text exactly as sent, or null. */
  timeText: string | null;
  host?: string;
  source?: string;
  sourcetype?: string;
  index: string;
  fields: Record<string, unknown>;
  channel: string | null;
}

export interface HecReceiverOptions {
  /** The token HEC knows (default "test-token"). */
  token?: string;
  /** The token is disabled (code 1). */
  tokenDisabled?: boolean;
  /** Indexer acknowledgement on for the token (default off). */
  acks?: boolean;
  /** An ackId becomes true at the K-th poll that asks for it (default 1: the first). */
  ackAfterPolls?: number;
  /** Indexes the token may write to (default: any); the token's default index is `main`. */
  allowedIndexes?: string[];
  /** Refuses an event with code 6 when this returns true (the events before it are indexed). */
  refuseEvent?: (e: IndexedEvent) => boolean;
  tls?: { cert: Buffer; key: Buffer };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Where the JSON value starting at `i` ends (exclusive), or -1; structure only (JSON.parse checks the rest). */
function skipValue(s: string, i: number): number {
  if (s[i] === '"') {
    for (let j = i + 1; j < s.length; j++) {
      if (s[j] === '\\') j++;
      else if (s[j] === '"') return j + 1;
    }
    return -1;
  }
  if (s[i] === '{' || s[i] === '[') {
    let depth = 0;
    for (let j = i; j < s.length; j++) {
      const c = s[j];
      if (c === '"') {
        j = skipValue(s, j) - 1;
        if (j < 0) return -1;
      } else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return -1;
  }
  const m = /^[^\s,{}[\]":]+/.exec(s.slice(i, i + 400));
  return m ? i + m[0].length : -1;
}

const WS = /\s/;

/** The members of an object's text, each value's raw text. @throws SyntaxError */
function rawMembers(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 1;
  const ws = () => {
    while (i < text.length && WS.test(text[i])) i++;
  };
  ws();
  if (text[i] === '}') return out;
  for (;;) {
    ws();
    const keyEnd = skipValue(text, i);
    if (keyEnd < 0 || text[i] !== '"') throw new SyntaxError('bad key');
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = keyEnd;
    ws();
    if (text[i++] !== ':') throw new SyntaxError('no colon');
    ws();
    const end = skipValue(text, i);
    if (end < 0) throw new SyntaxError('bad value');
    out.set(key, text.slice(i, end));
    i = end;
    ws();
    if (text[i] === ',') i++;
    else if (text[i] === '}') return out;
    else throw new SyntaxError('bad object');
  }
}

export class HecReceiver {
  readonly indexed: IndexedEvent[] = [];
  /** Requests to the event endpoint (answered or not), and to the ack endpoint. */
  requests = 0;
  ackPolls = 0;
  /** Headers of the last event request. */
  lastHeaders: IncomingMessage['headers'] = {};
  /** Every answer of the event endpoint, in order: status and body. */
  readonly answers: Array<{ status: number; body: Record<string, unknown> }> = [];
  port = 0;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private faults: Array<{ status: number; body: Record<string, unknown> }> = [];
  private delayMs = 0;
  private stallGate: Promise<void> | null = null;
  private openGate: (() => void) | null = null;
  private held = false;
  private inFlight = 0;
  private readonly events = new EventEmitter();
  /** Per channel: next ackId, and pending ackIds with their poll counts. */
  private readonly channels = new Map<string, Channel>();

  constructor(private readonly options: HecReceiverOptions = {}) {}

  get token(): string {
    return this.options.token ?? 'test-token';
  }

  get url(): string {
    return `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /** The next `n` event requests answer `status` with `body` (default 503 "Server is busy", code 9). */
  failNext(n: number, status = 503, body: Record<string, unknown> = { text: 'Server is busy', code: 9 }): void {
    for (let i = 0; i < n; i++) this.faults.push({ status, body });
  }

  /** Every event request waits this long before it is handled. */
  slow(ms: number): void {
    this.delayMs = ms;
  }

  /** Holds every request (event and ack) until {@link unstall}. */
  stall(): void {
    this.stallGate ??= new Promise((r) => (this.openGate = r));
  }

  unstall(): void {
    this.openGate?.();
    this.stallGate = null;
    this.openGate = null;
  }

  /** Acks stay false until {@link releaseAcks} (whatever `ackAfterPolls` says). */
  holdAcks(): void {
    this.held = true;
  }

  releaseAcks(): void {
    this.held = false;
  }

  /** Turns the token's acknowledgement on or off (as an admin editing the token). */
  setAcks(on: boolean): void {
    this.options.acks = on;
  }

  /** How many times each event (by its `event` text) was indexed. */
  counts(): Map<string, number> {
    const m = new Map<string, number>();
    for (const e of this.indexed) m.set(e.eventText, (m.get(e.eventText) ?? 0) + 1);
    return m;
  }

  /** Events indexed more than once, counting each repeat. */
  get duplicates(): number {
    return this.indexed.length - this.counts().size;
  }

  /** AckIds handed out and not yet reported true. */
  get pendingAcks(): number {
    let n = 0;
    for (const c of this.channels.values()) n += c.pending.size;
    return n;
  }

  /** Events of requests whose ackId has not been reported true (indexed, the sender not told). */
  get unacknowledgedEvents(): number {
    let n = 0;
    for (const c of this.channels.values()) for (const events of c.events.values()) n += events;
    return n;
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

  async stop(): Promise<void> {
    this.unstall();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }

  /** Resolves with `condition`'s first truthy value, checked after each request arrives and is answered. */
  waitFor<T>(
    condition: () => T | false | null | undefined,
    options: { timeoutMs?: number; describe?: () => string } = {},
  ): Promise<T> {
    return waitFor(condition, {
      timeoutMs: options.timeoutMs,
      wakeOn: [[this.events, 'change']],
      describe: () =>
        `${options.describe?.() ?? 'a condition on the HEC receiver'} (receiver: ${this.requests} event requests, ` +
        `${this.ackPolls} ack polls, ${this.indexed.length} indexed, ${this.inFlight} in flight)`,
    });
  }

  /** Resolves once no request is being handled. */
  whenIdle(timeoutMs = 10_000): Promise<boolean> {
    return this.waitFor(() => this.inFlight === 0, { timeoutMs, describe: () => 'the receiver to go idle' });
  }

  private track(handling: Promise<void>): Promise<void> {
    this.inFlight++;
    return handling.finally(() => {
      this.inFlight--;
      this.events.emit('change');
    });
  }

  private reply(res: ServerResponse, status: number, body: Record<string, unknown>): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' }).end(JSON.stringify(body));
  }

  /** HEC's answer for a status code of the table: its HTTP status and text. */
  private static readonly CODES: Record<number, [number, string]> = {
    0: [200, 'Success'],
    1: [403, 'Token disabled'],
    2: [401, 'Token is required'],
    3: [401, 'Invalid authorization'],
    4: [403, 'Invalid token'],
    5: [400, 'No data'],
    6: [400, 'Invalid data format'],
    7: [400, 'Incorrect index'],
    8: [500, 'Internal server error'],
    9: [503, 'Server is busy'],
    10: [400, 'Data channel is missing'],
    11: [400, 'Invalid data channel'],
    12: [400, 'Event field is required'],
    13: [400, 'Event field cannot be blank'],
    14: [400, 'ACK is disabled'],
    15: [400, 'Error in handling indexed fields'],
  };

  private code(res: ServerResponse, code: number, extra: Record<string, unknown> = {}): void {
    const [status, text] = HecReceiver.CODES[code];
    this.reply(res, status, { text, code, ...extra });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.replace(/\/+$/, '');
    const isEvent = path === '/services/collector/event' || path === '/services/collector';
    const isAck = path === '/services/collector/ack';
    if (req.method !== 'POST' || (!isEvent && !isAck))
      return this.reply(res, 404, { text: 'The requested URL was not found on this server.', code: 404 });
    if (isEvent) {
      this.requests++;
      this.lastHeaders = req.headers;
    } else this.ackPolls++;
    this.events.emit('change');
    if (this.stallGate) await this.stallGate;
    if (isEvent && this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    const fault = isEvent ? this.faults.shift() : undefined;
    if (fault) return this.answer(res, fault.status, fault.body);
    // Authorization: "Splunk <token>" (Splunk docs, "Set up and use HTTP Event Collector").
    const auth = req.headers.authorization;
    if (!auth) return this.code(res, 2);
    const m = /^Splunk (.+)$/.exec(auth);
    if (!m) return this.code(res, 3);
    if (m[1] !== this.token) return this.code(res, 4);
    if (this.options.tokenDisabled) return this.code(res, 1);
    const channel = (req.headers['x-splunk-request-channel'] as string | undefined) ?? url.searchParams.get('channel');
    if (isAck) return this.ack(res, channel, Buffer.concat(chunks));
    if (this.options.acks) {
      if (!channel) return this.code(res, 10);
      if (!GUID.test(channel)) return this.code(res, 11);
    }
    let body = Buffer.concat(chunks);
    if (req.headers['content-encoding'] === 'gzip') {
      try {
        body = gunzipSync(body);
      } catch {
        return this.code(res, 6, { 'invalid-event-number': 0 });
      }
    }
    const text = body.toString('utf8');
    if (!text.trim()) return this.code(res, 5);
    let i = 0;
    let n = 0;
    for (;;) {
      while (i < text.length && WS.test(text[i])) i++;
      if (i >= text.length) break;
      const end = text[i] === '{' ? skipValue(text, i) : -1;
      const bad = (code: number) =>
        this.answer(res, HecReceiver.CODES[code][0], {
          text: HecReceiver.CODES[code][1],
          code,
          'invalid-event-number': n,
        });
      if (end < 0) return bad(6);
      const raw = text.slice(i, end);
      let doc: Record<string, unknown>;
      let members: Map<string, string>;
      try {
        doc = JSON.parse(raw) as Record<string, unknown>;
        members = rawMembers(raw);
      } catch {
        return bad(6);
      }
      if (!('event' in doc)) return bad(12);
      if (doc.event === '' || doc.event === null) return bad(13);
      const fields = (doc.fields ?? {}) as Record<string, unknown>;
      const scalar = (v: unknown) => typeof v === 'string' || typeof v === 'number';
      if (
        typeof fields !== 'object' ||
        Array.isArray(fields) ||
        !Object.values(fields).every((v) => scalar(v) || (Array.isArray(v) && v.every(scalar)))
      )
        return bad(15);
      const index = typeof doc.index === 'string' ? doc.index : 'main';
      if (this.options.allowedIndexes && !this.options.allowedIndexes.includes(index)) return bad(7);
      const e: IndexedEvent = {
        eventText: members.get('event') as string,
        event: doc.event,
        timeText: members.get('time') ?? null,
        host: doc.host as string | undefined,
        source: doc.source as string | undefined,
        sourcetype: doc.sourcetype as string | undefined,
        index,
        fields,
        channel,
      };
      if (this.options.refuseEvent?.(e)) return bad(6);
      this.indexed.push(e);
      i = end;
      n++;
    }
    if (!this.options.acks) return this.answer(res, 200, { text: 'Success', code: 0 });
    const c = this.channel(channel as string);
    const ackId = c.next++;
    c.pending.set(ackId, 0);
    c.events.set(ackId, n);
    this.answer(res, 200, { text: 'Success', code: 0, ackId });
  }

  private answer(res: ServerResponse, status: number, body: Record<string, unknown>): void {
    this.answers.push({ status, body });
    this.reply(res, status, body);
  }

  private channel(id: string): Channel {
    let c = this.channels.get(id);
    if (!c) this.channels.set(id, (c = { next: 0, pending: new Map(), events: new Map() }));
    return c;
  }

  private ack(res: ServerResponse, channel: string | null, body: Buffer): void {
    if (!this.options.acks) return this.code(res, 14);
    if (!channel) return this.code(res, 10);
    if (!GUID.test(channel)) return this.code(res, 11);
    let ids: unknown;
    try {
      ids = (JSON.parse(body.toString('utf8')) as { acks?: unknown }).acks;
    } catch {
      return this.code(res, 6);
    }
    if (!Array.isArray(ids)) return this.code(res, 6);
    const c = this.channel(channel);
    const acks: Record<string, boolean> = {};
    for (const id of ids as number[]) {
      const polls = c.pending.get(id);
      if (polls === undefined) {
        acks[String(id)] = false;
        continue;
      }
      c.pending.set(id, polls + 1);
      const done = !this.held && polls + 1 >= (this.options.ackAfterPolls ?? 1);
      if (done) {
        c.pending.delete(id);
        c.events.delete(id);
      }
      acks[String(id)] = done;
    }
    this.reply(res, 200, { acks });
  }
}
