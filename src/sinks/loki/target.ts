/**
 * Grafana Loki as a forward target (the contract of core/forward/target.ts): batches of up to
 * 1 MiB (Promtail's batch size) or 10 000 entries, each entry encoded into its stream's bytes
 * by the push client (client.ts) as it is added, the body gzip-compressed when the batch is
 * sealed, and pushed with the same bytes on every retry. A batch Loki refused entries of is
 * sliced from its own body (the same values, timestamps included) to find them.
 */
import { promisify } from 'node:util';
import { createGzip, gunzip, gzip, constants as zlibConstants } from 'node:zlib';
import { BlockPool, ByteList } from '../../core/runtime/bytelist.js';
import { sealedBody } from '../sealed-body.js';
import type { DeliverResult, ForwardTarget, TargetBatch, TargetPreview } from '../../core/forward/target.js';
import type { ReadEntry } from '../../core/read/entries.js';
import { appendValue, LokiPushClient, type LokiStream, type LokiTargetConfig } from './client.js';

/** Blocks for the streams of batches being filled (shared by every Loki target of a run). */
const blocks = new BlockPool();

/**
 * One push being filled: each entry is encoded into its stream's bytes as it is added (a batch
 * holds bytes outside the heap, not objects); sealing gzips the body (level 1: most of gzip's
 * gain on JSON at a fraction of the CPU, on the libuv thread pool) and gives the blocks back.
 */
class LokiBatch implements TargetBatch {
  private readonly streams = new Map<LokiStream, ByteList>();
  /** Each stream's place in `streams` (and in the body). */
  private readonly streamIndex = new Map<LokiStream, number>();
  /** The stream of each entry (its index in `streams`), in the order added: to slice the batch. */
  private order: Uint32Array | null = null;
  /** The batch's entries as encoded, read back from its body once it is sliced (or, for a slice, given). */
  private encodedEntries: Promise<EncodedValue[]> | null = null;
  size = 0;
  /**
   * The compressed push body, once sealed (a retry sends the same bytes, so Loki can drop the
   * duplicate), in pool blocks too: a body lives until Loki answers, and as one buffer each it
   * was promoted and left for a full collection.
   */
  body: Promise<ByteList> | null = null;

  constructor(private readonly client: LokiPushClient) {}

  add(e: ReadEntry): string | null {
    const enc = this.client.encode(e);
    if (!enc.ok) return enc.reason;
    const values = this.streams.get(enc.stream);
    if (values) appendValue(values, enc, false);
    else {
      const list = new ByteList(blocks);
      appendValue(list, enc, true);
      this.streams.set(enc.stream, list);
      this.streamIndex.set(enc.stream, this.streamIndex.size);
    }
    this.order = recordStream(this.order, this.size, this.streamIndex.get(enc.stream) as number);
    this.size++;
    return null;
  }

  /**
   * Entries `from` to `to` (in the order added) as a batch of their own, with the values this
   * batch sent: read back from its compressed body (when Loki refuses some entries of a push,
   * it stores the others, and a re-send with the same values is dropped as a duplicate).
   */
  slice(from: number, to: number): LokiBatch {
    const part = new LokiBatch(this.client);
    part.size = to - from;
    part.encodedEntries = this.encoded().then((all) => all.slice(from, to));
    part.encodedEntries.catch(() => undefined); // awaited in deliver
    return part;
  }

  /** This batch's entries as encoded in its body, in the order added. */
  private encoded(): Promise<EncodedValue[]> {
    this.seal();
    this.encodedEntries ??= (async () => {
      const body = await (this.body as Promise<ByteList>);
      const doc = JSON.parse((await gunzipAsync(Buffer.concat(body.chunks()))).toString('utf8')) as {
        streams: Array<{ stream: Record<string, string>; values: unknown[] }>;
      };
      const next = new Array<number>(doc.streams.length).fill(0);
      const keys = doc.streams.map((s) => JSON.stringify(s.stream));
      const out: EncodedValue[] = [];
      for (let i = 0; i < this.size; i++) {
        const s = (this.order as Uint32Array)[i];
        out.push({ stream: keys[s], value: JSON.stringify(doc.streams[s].values[next[s]++]) });
      }
      return out;
    })();
    return this.encodedEntries;
  }

  seal(): void {
    if (this.body || this.size === 0) return;
    if (this.encodedEntries && this.streams.size === 0) {
      // A slice: its body from the values it was given.
      this.body = this.encodedEntries.then(bodyOf);
      this.body.catch(() => undefined);
      return;
    }
    // The whole body copied into one input and written to the gzip stream at once: a write
    // per 16 KiB block cost this thread more than copying the body once. The blocks go back
    // to the pool now.
    const parts: Array<string | Buffer> = ['{"streams":['];
    let first = true;
    for (const [stream, values] of this.streams) {
      parts.push(`${first ? '' : ','}{"stream":${stream.key},"values":[`);
      first = false;
      for (const c of values.chunks()) parts.push(c);
      parts.push(']}');
    }
    parts.push(']}');
    let size = 0;
    for (const p of parts) size += typeof p === 'string' ? Buffer.byteLength(p) : p.length;
    const input = takeInput(size);
    let at = 0;
    for (const p of parts) at += typeof p === 'string' ? input.write(p, at) : p.copy(input, at);
    for (const l of this.streams.values()) l.release();
    this.streams.clear();

    // One output chunk holds the compressed body (a 1 MiB batch is ~170 KB at level 1): each
    // chunk is a round trip between the thread pool and this thread, which is busy filling the
    // next batch (16 KiB: ~10 round trips a batch; 1M entries to the loopback receiver, 2 cores:
    // 15.0–15.5 s with 16 KiB chunks, 13.1–13.9 s with these).
    const gz = createGzip({ level: zlibConstants.Z_BEST_SPEED, chunkSize: GZIP_CHUNK_BYTES });
    const out = new ByteList(blocks);
    this.body = new Promise<ByteList>((resolve, reject) => {
      gz.on('data', (b: Buffer) => out.appendBytes(b));
      gz.on('end', () => {
        giveBackInput(input);
        resolve(out);
      });
      gz.on('error', (err) => {
        giveBackInput(input);
        out.release();
        reject(err);
      });
    });
    this.body.catch(() => undefined); // awaited in deliver; no unhandled rejection meanwhile
    gz.end(input.subarray(0, size));
  }

  /** Gives the body's blocks and the stream order back (the batch is done with). */
  dispose(): void {
    this.body?.then(
      (b) => b.release(),
      () => undefined,
    );
    if (this.order && spareOrders.length < 4) spareOrders.push(this.order);
    this.order = null;
  }
}

/**
 * Input buffers for compression, reused (two: a batch may be sealed while the one before is
 * still being compressed): a buffer allocated per batch left RSS behind in glibc's
 * allocator arenas.
 */
const spareInputs: Buffer[] = [];

function takeInput(size: number): Buffer {
  const i = spareInputs.findIndex((b) => b.length >= size);
  if (i >= 0) return spareInputs.splice(i, 1)[0];
  return Buffer.allocUnsafeSlow(Math.max(Math.ceil(size * 1.25), 2 * 1024 * 1024));
}

function giveBackInput(b: Buffer): void {
  if (spareInputs.length < 2) spareInputs.push(b);
}

/** One entry of a push as it was sent: its stream's labels (JSON) and its value (`["ns","line",{…}]`). */
interface EncodedValue {
  stream: string;
  value: string;
}

/** The gzip stream's output chunk (zlib's `chunkSize`, default 16 KiB). */
const GZIP_CHUNK_BYTES = 256 * 1024;

const gunzipAsync = promisify(gunzip);
const gzipAsync = promisify(gzip);

/** A push body of `entries`, values grouped by stream in the order they first appear, gzipped. */
async function bodyOf(entries: EncodedValue[]): Promise<ByteList> {
  const streams = new Map<string, string[]>();
  for (const e of entries) {
    const values = streams.get(e.stream);
    if (values) values.push(e.value);
    else streams.set(e.stream, [e.value]);
  }
  const parts = [...streams].map(([stream, values]) => `{"stream":${stream},"values":[${values.join(',')}]}`);
  const out = new ByteList(blocks);
  out.appendBytes(await gzipAsync(`{"streams":[${parts.join(',')}]}`, { level: zlibConstants.Z_BEST_SPEED }));
  return out;
}

/** Spare stream-order arrays, reused like the input buffers (one per batch otherwise). */
const spareOrders: Uint32Array[] = [];

/** Records stream `s` for entry `i` in `order` (taken or grown as needed); returns the array. */
function recordStream(order: Uint32Array | null, i: number, s: number): Uint32Array {
  let o = order ?? spareOrders.pop() ?? new Uint32Array(1024);
  if (i >= o.length) {
    const grown = new Uint32Array(o.length * 2);
    grown.set(o);
    o = grown;
  }
  o[i] = s;
  return o;
}

/** Loki as a forward target: batches of up to 1 MiB (Promtail's batch size) or 10 000 entries. */
export class LokiTarget implements ForwardTarget {
  readonly id: string;
  readonly maxBatchEntries: number;
  readonly maxBatchBytes: number;
  /** A 2xx answer: Loki has the entries. */
  readonly acknowledges = true;
  readonly client: LokiPushClient;
  /** The last push was refused for its credentials: read them again before the next. */
  private credentialsRefused = false;
  /** The smallest push body (compressed bytes) Loki took in this run: what a 413 is measured against. */
  private smallestTaken = Infinity;

  /** @throws LokiConfigError */
  constructor(config: LokiTargetConfig, batch: { entries?: number; bytes?: number } = {}) {
    this.client = new LokiPushClient(config);
    const u = new URL(config.url);
    this.id = `loki:${u.protocol}//${u.host}${u.pathname.replace(/\/$/, '')}${config.tenant ? `#${config.tenant}` : ''}`;
    this.maxBatchEntries = batch.entries ?? 10_000;
    this.maxBatchBytes = batch.bytes ?? 1024 * 1024;
  }

  batch(): LokiBatch {
    return new LokiBatch(this.client);
  }

  async deliver(batch: TargetBatch): Promise<DeliverResult> {
    const body = await sealedBody(batch as LokiBatch);
    if (!(body instanceof ByteList)) return body;
    // Credentials refused before: their file may have been fixed since (a token rotated).
    if (this.credentialsRefused) this.client.reloadAuth();
    const r = await this.client.push(body);
    this.credentialsRefused = !r.ok && !r.retryable && r.refusal === 'credentials';
    if (r.ok) {
      this.smallestTaken = Math.min(this.smallestTaken, body.length);
      return { ok: true };
    }
    if (r.retryable) return { ok: false, retryable: true, error: r.error };
    // One entry too large where smaller pushes went through: the entry's fault, not the target's.
    if (r.refusal === 'too-large' && batch.size === 1 && this.smallestTaken < body.length)
      return {
        ok: false,
        retryable: false,
        refusal: 'entries',
        error:
          `${r.error}: this entry alone makes a push of ${body.length} bytes ` +
          `(compressed), and the receiver took one of ${this.smallestTaken}`,
      };
    const { refusal, refusedEntries } = r;
    const error = refusal === 'path' ? `${r.error} (POST ${this.client.endpoint})` : r.error;
    return { ok: false, retryable: false, refusal, error, ...(refusedEntries ? { refusedEntries } : {}) };
  }

  slice(batch: TargetBatch, from: number, to: number): LokiBatch {
    return (batch as LokiBatch).slice(from, to);
  }

  preview(e: ReadEntry, into: TargetPreview): boolean {
    const enc = this.client.encode(e);
    if (enc.ok) {
      const key =
        '{' +
        Object.entries(enc.stream.labels)
          .map(([k, v]) => `${k}="${v}"`)
          .join(', ') +
        '}';
      into.streams[key] = (into.streams[key] ?? 0) + 1;
      return true;
    }
    const reason = enc.reason.replace(/ \(.*$/, '');
    into.wouldBeRefused[reason] = (into.wouldBeRefused[reason] ?? 0) + 1;
    return false;
  }

  /** Gives the batch's blocks back once it is delivered, dead-lettered or given up on. */
  dispose(batch: TargetBatch): void {
    (batch as LokiBatch).dispose();
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
