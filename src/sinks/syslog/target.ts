/**
 * Syslog as a forward target (the contract of core/forward/target.ts): RFC 5424 messages from
 * the formats module, formatted as entries are added, sent by the transport (sender.ts) as one
 * datagram each (UDP) or as framed bytes (TCP/TLS). Syslog refuses nothing; any send error is
 * retryable and the whole batch is sent again.
 */
import type { DeliverResult, ForwardTarget, TargetBatch, TargetPreview } from '../../core/forward/target.js';
import type { ReadEntry } from '../../core/read/entries.js';
import { BlockPool, ByteList } from '../../core/runtime/bytelist.js';
import { SyslogFormatter } from '../../formats/syslog.js';
import { SyslogSender, type SyslogTargetConfig } from './sender.js';

/** What the SyslogTarget constructor throws (a bad URL, an unreadable TLS file), for a lazy importer of this module. */
export { SyslogConfigError } from './sender.js';

/** A batch of syslog messages, formatted as entries are added (syslog refuses nothing). */
class SyslogBatch implements TargetBatch {
  /** UDP: one datagram per message. */
  readonly messages: string[] = [];
  /** TCP/TLS: the framed messages, in reused blocks outside the heap (see bytelist.ts). */
  readonly framed: ByteList | null;
  size = 0;

  constructor(
    private readonly formatter: SyslogFormatter,
    private readonly sender: SyslogSender,
  ) {
    this.framed = sender.protocol === 'udp' ? null : new ByteList(blocks);
  }

  add(e: ReadEntry): null {
    const m = this.formatter.format(e);
    if (this.framed) this.framed.append(this.sender.frameText(m));
    else this.messages.push(m);
    this.size++;
    return null;
  }

  seal(): void {}
}

/** Blocks for framed batches (shared by every syslog target of a run). */
const blocks = new BlockPool();

/** Syslog as a forward target: RFC 5424 messages, batches of up to 500 entries. */
export class SyslogTarget implements ForwardTarget {
  readonly id: string;
  readonly maxBatchEntries: number;
  readonly maxBatchBytes = 512 * 1024;
  /** UDP, TCP and TLS syslog have no acknowledgement: a batch is only sent. */
  readonly acknowledges = false;
  private readonly sender: SyslogSender;
  private readonly formatter: SyslogFormatter;

  /** @throws SyslogConfigError */
  constructor(
    config: SyslogTargetConfig,
    format: { facility?: number; maxBytes?: number; hostname?: string; appName?: string } = {},
    batchEntries = 500,
  ) {
    this.sender = new SyslogSender(config);
    this.id = `syslog:${this.sender.endpoint}`;
    this.maxBatchEntries = batchEntries;
    const maxBytes = format.maxBytes ?? (this.sender.protocol === 'udp' ? 2048 : 8192);
    this.formatter = new SyslogFormatter({
      layout: 'rfc5424',
      facility: format.facility,
      maxBytes,
      hostname: format.hostname,
      appName: format.appName,
    });
  }

  batch(): SyslogBatch {
    return new SyslogBatch(this.formatter, this.sender);
  }

  async deliver(batch: TargetBatch): Promise<DeliverResult> {
    const b = batch as SyslogBatch;
    try {
      if (b.framed) await this.sender.sendFramed(b.framed.chunks());
      else await this.sender.sendDatagrams(b.messages);
      return { ok: true };
    } catch (err) {
      return {
        ok: false,
        retryable: true,
        error: `${this.sender.endpoint}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      };
    }
  }

  /** Gives a TCP/TLS batch's blocks back once it is delivered or given up on. */
  dispose(batch: TargetBatch): void {
    (batch as SyslogBatch).framed?.release();
  }

  preview(e: ReadEntry, into: TargetPreview): void {
    into.sample ??= this.formatter.format(e);
  }

  close(): Promise<void> {
    return this.sender.close();
  }
}
