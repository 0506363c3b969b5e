/**
 * Splunk HTTP Event Collector client: `POST /services/collector/event` (a body of concatenated
 * JSON events, gzip-compressed), `Authorization: Splunk <token>`, the request channel in
 * `X-Splunk-Request-Channel`, and indexer acknowledgement (`POST /services/collector/ack` with
 * `{"acks":[id]}` until `{"acks":{"id":true}}`).
 *
 * HEC answers JSON `{"text","code"}` (plus `ackId` when the token has indexer acknowledgement
 * on; `invalid-event-number` with a data error). What an answer means ({@link hecRefusal}):
 * success (code 0); credentials (codes 1–4, HTTP 401/403); an entry's data (codes 5, 6, 12, 13,
 * 15: the batch is split to find it, and it is dead-lettered with HEC's text); the target's
 * configuration (7 incorrect index, 10/11 channel, 14 ACK disabled, 16); passing (8 internal
 * error, 9 server busy, 18–20 unhealthy, HTTP 429/5xx, network errors: retried). Sources:
 * Splunk docs, "Troubleshoot HTTP Event Collector" (the status code table), "HTTP Event
 * Collector REST API endpoints", "About HTTP Event Collector Indexer Acknowledgment"; gzip
 * request bodies as the OpenTelemetry `splunk_hec` exporter sends them.
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { Refusal } from '../../core/forward/target.js';
import type { ByteList } from '../../core/runtime/bytelist.js';
import { headerValueProblem } from '../header-value.js';
import { tlsTrustProblem } from '../tls-trust.js';

/** A configuration mistake (URL, channel, CA file). */
export class HecConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HecConfigError';
  }
}

export interface HecClientConfig {
  /**
   * The collector's base URL (`https://splunk:8088`), or its event URL
   * (`…/services/collector/event`, `…/services/collector`): the paths are derived from it. A
   * path before `/services/collector` (a proxy's prefix) is kept.
   */
  url: string;
  token: string;
  /** Reads the token again (from its file) after HEC refused it; throws when it cannot be read. */
  reloadToken?: () => string;
  /** The request channel (a GUID); default: a random one per process. */
  channel: string;
  /** CA certificate (PEM bytes) to verify an https server, beside Node's own. */
  ca?: Buffer;
  /** Request timeout, ms (default 10 000). */
  timeoutMs?: number;
  /** Longest wait for a batch's acknowledgement before it is sent again, ms (default 60 000). */
  ackTimeoutMs?: number;
  /** Acknowledgement polls: first delay and cap, ms (default 200 and 5 000, doubling). */
  ackPollMs?: { min: number; max: number };
}

/** What one answer of HEC means. */
export type HecResult =
  | { ok: true; ackId: number | null }
  | { ok: false; retryable: true; error: string }
  | { ok: false; retryable: false; refusal: Refusal; error: string };

/** HEC status codes (Splunk docs, "Troubleshoot HTTP Event Collector"), by what they mean here. */
const CREDENTIAL_CODES = new Set([1, 2, 3, 4]); // token disabled, required, invalid authorization, invalid token
// No data, invalid data format, event field required / blank, error in handling indexed fields.
const ENTRY_CODES = new Set([5, 6, 12, 13, 15]);
const PASSING_CODES = new Set([8, 9, 17, 18, 19, 20]); // internal error, server busy, (un)healthy

/**
 * What an answer that is not a success means: null for a passing failure worth retrying, else
 * the refusal. HEC's JSON `code` decides when there is one; the HTTP status otherwise (a proxy's
 * page): 429, 408, 5xx passing; 401/403 credentials; 404/405 and redirects the path; 413 size;
 * any other the target's. Incorrect index (7) is the target's, not the entries': the index is
 * the target's setting, so every batch would fail the same way.
 */
export function hecRefusal(status: number, code: number | null): Refusal | null {
  if (status === 429 || status === 408 || status >= 500) return null;
  if (code !== null) {
    if (CREDENTIAL_CODES.has(code)) return 'credentials';
    if (ENTRY_CODES.has(code)) return 'entries';
    if (PASSING_CODES.has(code)) return null;
    if (status === 413) return 'too-large';
    return 'target';
  }
  if (status === 401 || status === 403) return 'credentials';
  if (status === 404 || status === 405 || (status >= 300 && status < 400)) return 'path';
  if (status === 413) return 'too-large';
  return 'target';
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Checks a request channel: HEC takes a GUID (code 11 "Invalid data channel" otherwise). @throws HecConfigError */
function checkChannel(channel: string): string {
  if (!GUID.test(channel)) throw new HecConfigError(`the HEC request channel must be a GUID, got "${channel}"`);
  return channel;
}

/**
 * Checks a HEC token before any request: it goes into `Authorization: Splunk <token>`, so it is
 * visible ASCII (RFC 9110 §5.5; HEC's tokens are GUIDs). The message never repeats it.
 * @throws HecConfigError
 */
function checkToken(token: string): void {
  const problem = headerValueProblem('the HEC token', token);
  if (problem) throw new HecConfigError(problem);
}

/**
 * The collector's base URL from what was given: the origin and any path before
 * `/services/collector` (a proxy's prefix), without a trailing slash.
 * @throws HecConfigError for a URL that is not http(s) or carries a query
 */
export function hecBase(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new HecConfigError(`invalid Splunk HEC URL: ${url}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new HecConfigError(`Splunk HEC URL must be http: or https:, got ${u.protocol}`);
  if (u.search || u.hash)
    throw new HecConfigError('Splunk HEC URL: give no query or fragment (the channel is a header)');
  const at = u.pathname.search(/\/services\/collector(\/|$)/);
  const prefix = (at >= 0 ? u.pathname.slice(0, at) : u.pathname).replace(/\/+$/, '');
  return new URL(`${u.protocol}//${u.host}${prefix}`);
}

/** An answer's body: HEC's JSON `{text, code, ackId, acks}`, or the start of any other text. */
interface Answer {
  status: number;
  json: { text?: unknown; code?: unknown; ackId?: unknown; acks?: unknown; 'invalid-event-number'?: unknown } | null;
  text: string;
}

/** The words of an answer for a message: HEC's `text` and code, or the start of the body. */
function answerWords(a: Answer): string {
  const j = a.json;
  if (j && typeof j.text === 'string') {
    const n = typeof j['invalid-event-number'] === 'number' ? ` (event ${j['invalid-event-number']} of the batch)` : '';
    return `HTTP ${a.status}: ${j.text}${typeof j.code === 'number' ? ` (HEC code ${j.code})` : ''}${n}`;
  }
  const title = /<title>([^<]*)<\/title>/i.exec(a.text)?.[1];
  const words = (title ?? a.text).slice(0, 500).trim();
  return `HTTP ${a.status}${words ? ': ' + words : ''}`;
}

/** Sends batches to one collector and waits for their acknowledgement. */
export class HecClient {
  readonly base: URL;
  readonly eventUrl: string;
  readonly ackUrl: string;
  private token: string;
  private transport: Promise<{ agent: HttpAgent; request: typeof httpRequest }> | null = null;

  /** @throws HecConfigError */
  constructor(readonly config: HecClientConfig) {
    this.base = hecBase(config.url);
    checkChannel(config.channel);
    checkToken(config.token);
    this.eventUrl = `${this.base.href.replace(/\/$/, '')}/services/collector/event`;
    this.ackUrl = `${this.base.href.replace(/\/$/, '')}/services/collector/ack?channel=${config.channel}`;
    this.token = config.token;
  }

  private connection(): Promise<{ agent: HttpAgent; request: typeof httpRequest }> {
    this.transport ??=
      this.base.protocol === 'https:'
        ? import('node:https').then((https) => ({
            agent: new https.Agent({
              keepAlive: true,
              maxSockets: 1,
              ...(this.config.ca ? { ca: this.config.ca } : {}),
            }),
            request: https.request,
          }))
        : Promise.resolve({ agent: new HttpAgent({ keepAlive: true, maxSockets: 1 }), request: httpRequest });
    return this.transport;
  }

  /** One request; never throws: a network failure is `{error}`, a TLS trust failure `{trust}`. */
  private async send(
    url: string,
    body: Buffer[] | string,
    gzip: boolean,
  ): Promise<{ answer: Answer } | { error: string } | { trust: string }> {
    const { agent, request } = await this.connection();
    const length = typeof body === 'string' ? Buffer.byteLength(body) : body.reduce((n, b) => n + b.length, 0);
    const headers: Record<string, string> = {
      'User-Agent': 'loki-audit',
      Authorization: `Splunk ${this.token}`,
      'X-Splunk-Request-Channel': this.config.channel,
      'Content-Type': 'application/json',
      'Content-Length': String(length),
      ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
    };
    const timeoutMs = this.config.timeoutMs ?? 10_000;
    return new Promise((resolve) => {
      let done = false;
      const finish = (r: { answer: Answer } | { error: string } | { trust: string }) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(r);
      };
      const req = request(url, { method: 'POST', headers, agent }, (res) => {
        const parts: Buffer[] = [];
        let kept = 0;
        res.on('data', (b: Buffer) => {
          if (kept < 64 * 1024) parts.push(b);
          kept += b.length;
        });
        res.on('error', (err: NodeJS.ErrnoException) => finish({ error: err.code ?? err.message }));
        res.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8').trim();
          let json: Answer['json'] = null;
          try {
            const v = JSON.parse(text) as unknown;
            if (v && typeof v === 'object' && !Array.isArray(v)) json = v as Answer['json'];
          } catch {
            // Not HEC's JSON (a proxy's page): classified by its status.
          }
          finish({ answer: { status: res.statusCode ?? 0, json, text } });
        });
      });
      const timer = setTimeout(() => {
        finish({ error: `timed out after ${timeoutMs} ms` });
        req.destroy();
      }, timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => {
        const trust = tlsTrustProblem(err.code);
        finish(trust ? { trust: `${trust} (${err.code})` } : { error: err.code ?? err.message });
      });
      if (typeof body === 'string') req.end(body);
      else {
        for (const c of body) req.write(c);
        req.end();
      }
    });
  }

  /** A request's outcome as a result (the answer's `ackId` kept). */
  private async call(url: string, body: Buffer[] | string, gzip: boolean): Promise<HecResult & { answer?: Answer }> {
    const r = await this.send(url, body, gzip);
    const host = this.base.host;
    if ('trust' in r)
      return {
        ok: false,
        retryable: false,
        refusal: 'tls-trust',
        error: `TLS: ${host} is not trusted: ${r.trust}; give its CA with --ca FILE`,
      };
    if ('error' in r) return { ok: false, retryable: true, error: `cannot reach ${host}: ${r.error}` };
    const a = r.answer;
    const code = typeof a.json?.code === 'number' ? a.json.code : null;
    if (a.status >= 200 && a.status < 300 && (code === null || code === 0)) {
      const ackId = typeof a.json?.ackId === 'number' ? a.json.ackId : null;
      return { ok: true, ackId, answer: a };
    }
    const error = answerWords(a);
    const refusal = hecRefusal(a.status, code);
    if (!refusal) return { ok: false, retryable: true, error };
    return { ok: false, retryable: false, refusal, error: refusal === 'path' ? `${error} (POST ${url})` : error };
  }

  /** POSTs one batch (gzip-compressed concatenated events); never throws. */
  post(body: ByteList): Promise<HecResult> {
    return this.call(this.eventUrl, body.chunks(), true);
  }

  /**
   * Waits until HEC acknowledges `ackId` (indexed): polls `/services/collector/ack` with a
   * doubling delay. Resolves ok once it is true; retryable when it is still false at the
   * deadline (`ackTimeoutMs`) or HEC no longer knows the channel (the batch is sent again);
   * a refusal when HEC refuses the poll itself (credentials, ACK disabled).
   */
  async waitForAck(ackId: number, signal?: AbortSignal): Promise<HecResult> {
    const { min, max } = this.config.ackPollMs ?? { min: 200, max: 5_000 };
    const deadline = Date.now() + (this.config.ackTimeoutMs ?? 60_000);
    const body = JSON.stringify({ acks: [ackId] });
    for (let delay = min; ; delay = Math.min(max, delay * 2)) {
      const wait = Math.min(delay, Math.max(0, deadline - Date.now()));
      await new Promise((r) => setTimeout(r, wait));
      const r = await this.call(this.ackUrl, body, false);
      // What the last poll said, for the message at the deadline.
      const last = r.ok || !r.retryable ? 'not acknowledged yet' : r.error;
      if (r.ok) {
        const acks = r.answer?.json?.acks as Record<string, unknown> | undefined;
        if (acks && acks[String(ackId)] === true) return { ok: true, ackId };
      } else if (!r.retryable) {
        // 10/11: HEC no longer has the channel (restarted, or the channel idled out): send again.
        const code = /\(HEC code (\d+)\)/.exec(r.error)?.[1];
        if (code === '10' || code === '11') return { ok: false, retryable: true, error: `acknowledgement: ${r.error}` };
        return { ...r, error: `acknowledgement: ${r.error}` };
      }
      if (Date.now() >= deadline || signal?.aborted)
        return {
          ok: false,
          retryable: true,
          error:
            `batch (ackId ${ackId}) not acknowledged within ` +
            `${this.config.ackTimeoutMs ?? 60_000} ms (${last}): sending it again`,
        };
    }
  }

  /** Reads the token again, if it comes from a file (after HEC refused it). */
  reloadToken(): void {
    try {
      if (!this.config.reloadToken) return;
      const token = this.config.reloadToken();
      checkToken(token);
      this.token = token;
    } catch {
      // Unreadable or unusable now: keep the one read before; the refusal says what to fix.
    }
  }

  close(): void {
    void this.transport?.then((t) => t.agent.destroy());
  }
}
