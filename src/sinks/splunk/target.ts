/**
 * Splunk HTTP Event Collector as a forward target (the contract of core/forward/target.ts):
 * batches of up to 1 MiB or 5 000 events, each entry encoded as an HEC event (formats/hec.ts,
 * with its chain predecessor, which the pipeline tracks: `predecessors`) into the batch's bytes
 * as it is added, the concatenated events gzip-compressed when the batch is sealed
 * and POSTed with the same bytes on every retry (client.ts). With indexer acknowledgement, a
 * batch is delivered only once HEC acknowledges its `ackId`; a batch not acknowledged in time is
 * sent again (duplicates are limited to the batch in flight). A batch HEC refused for an event's
 * data is sliced from its own events to find that event.
 */
import { promisify } from 'node:util';
import { gzip, constants as zlibConstants } from 'node:zlib';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { BlockPool, ByteList } from '../../core/runtime/bytelist.js';
import { sealedBody } from '../sealed-body.js';
import type { DeliverResult, ForwardTarget, TargetBatch, TargetPreview } from '../../core/forward/target.js';
import type { ReadEntry } from '../../core/read/entries.js';
import { HecClient, HecConfigError, type HecClientConfig } from './client.js';
import { hecEvent, type HecOptions } from '../../formats/hec.js';

const blocks = new BlockPool();
const gzipAsync = promisify(gzip);

/** An entry as one HEC event's JSON text (formats/hec.ts, this target's envelope). */
interface HecEncoder {
  encode(e: ReadEntry): string;
}

export interface HecTargetConfig extends Omit<HecClientConfig, 'channel'>, HecOptions {
  /** The request channel (a GUID); default: a random one for this process. */
  channel?: string;
  /**
   * Require indexer acknowledgement: `deliver` resolves only for acknowledged batches, and an
   * answer without `ackId` (the token has it off) is the target's refusal. Without it, a 200
   * counts, though an `ackId` in the answer is still waited for.
   */
  ack?: boolean;
}

/** One batch: its events, one after another, and where each one ends (to slice it). */
class HecBatch implements TargetBatch {
  readonly events = new ByteList(blocks);
  /** Byte offset after each event in `events`. */
  ends: number[] = [];
  size = 0;
  body: Promise<ByteList> | null = null;

  constructor(private readonly encoder: HecEncoder) {}

  add(e: ReadEntry): string | null {
    this.events.append((this.size ? '\n' : '') + this.encoder.encode(e));
    this.ends.push(this.events.length);
    this.size++;
    return null;
  }

  seal(): void {
    if (this.body || this.size === 0) return;
    const input = Buffer.concat(this.events.chunks());
    this.body = gzipAsync(input, { level: zlibConstants.Z_BEST_SPEED }).then((z) => {
      const out = new ByteList(blocks);
      out.appendBytes(z);
      return out;
    });
    this.body.catch(() => undefined); // awaited in deliver
  }

  /** Events `from` to `to` as a batch of their own, their bytes as this batch sent them. */
  slice(from: number, to: number): HecBatch {
    const all = Buffer.concat(this.events.chunks());
    const part = new HecBatch(this.encoder);
    let start = from === 0 ? 0 : this.ends[from - 1] + 1; // after the newline between events
    for (let i = from; i < to; i++) {
      const bytes = all.subarray(start, this.ends[i]);
      part.events.appendBytes(part.size ? Buffer.concat([Buffer.from('\n'), bytes]) : bytes);
      part.ends.push(part.events.length);
      part.size++;
      start = this.ends[i] + 1;
    }
    return part;
  }

  dispose(): void {
    this.events.release();
    this.body?.then(
      (b) => b.release(),
      () => undefined,
    );
  }
}

/** Splunk HEC as a forward target. */
export class HecTarget implements ForwardTarget {
  readonly id: string;
  readonly maxBatchEntries: number;
  readonly maxBatchBytes: number;
  readonly acknowledges: boolean;
  readonly client: HecClient;
  readonly channel: string;
  private readonly encoder: HecEncoder;
  /** Events carry their chain predecessor (`prev_hash`): the pipeline tracks it for every line read. */
  readonly predecessors = true;
  private readonly preview0: HecEncoder;
  private credentialsRefused = false;
  private smallestTaken = Infinity;

  /** @throws HecConfigError */
  constructor(
    private readonly config: HecTargetConfig,
    batch: { entries?: number; bytes?: number } = {},
  ) {
    this.channel = config.channel ?? randomUUID();
    this.client = new HecClient({ ...config, channel: this.channel });
    if (!config.token) throw new HecConfigError('Splunk HEC needs a token: LOKI_SPLUNK_HEC_TOKEN or a token file');
    const envelope: HecOptions = {
      host: config.host ?? hostname(),
      source: config.source,
      sourcetype: config.sourcetype,
      index: config.index,
    };
    this.encoder = { encode: (e) => hecEvent(e, envelope) };
    this.preview0 = this.encoder;
    const b = this.client.base;
    this.id = `splunk-hec:${b.protocol}//${b.host}${b.pathname.replace(/\/$/, '')}${config.index ? `#${config.index}` : ''}`;
    this.acknowledges = config.ack === true;
    this.maxBatchEntries = batch.entries ?? 5_000;
    this.maxBatchBytes = batch.bytes ?? 1024 * 1024;
  }

  batch(): HecBatch {
    return new HecBatch(this.encoder);
  }

  async deliver(batch: TargetBatch): Promise<DeliverResult> {
    const body = await sealedBody(batch as HecBatch);
    if (!(body instanceof ByteList)) return body;
    if (this.credentialsRefused) this.client.reloadToken();
    let r = await this.client.post(body);
    if (r.ok && r.ackId !== null) r = await this.client.waitForAck(r.ackId);
    else if (r.ok && this.acknowledges)
      return {
        ok: false,
        retryable: false,
        refusal: 'target',
        error:
          'HEC answered without an ackId: indexer acknowledgement is off ' +
          'for this token (turn it on, or forward without --splunk-hec-ack)',
      };
    this.credentialsRefused = !r.ok && !r.retryable && r.refusal === 'credentials';
    if (r.ok) {
      this.smallestTaken = Math.min(this.smallestTaken, body.length);
      return { ok: true };
    }
    if (r.retryable) return r;
    if (r.refusal === 'too-large' && batch.size === 1 && this.smallestTaken < body.length)
      return {
        ok: false,
        retryable: false,
        refusal: 'entries',
        error:
          `${r.error}: this entry alone makes a body of ${body.length} ` +
          `bytes (compressed), and HEC took one of ${this.smallestTaken}`,
      };
    return r;
  }

  slice(batch: TargetBatch, from: number, to: number): HecBatch {
    return (batch as HecBatch).slice(from, to);
  }

  preview(e: ReadEntry, into: TargetPreview): boolean {
    const event = this.preview0.encode(e);
    const key = `index=${this.config.index ?? '(token default)'} sourcetype=${this.config.sourcetype ?? 'loki:audit'}`;
    into.streams[key] = (into.streams[key] ?? 0) + 1;
    into.sample ??= event.length > 2000 ? event.slice(0, 2000) + '…' : event;
    return true;
  }

  dispose(batch: TargetBatch): void {
    (batch as HecBatch).dispose();
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
