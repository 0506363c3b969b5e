/**
 * Syslog as a forward target (the contract of core/forward/target.ts): RFC 5424 messages from
 * the formats module, formatted as entries are added, sent by the transport (sender.ts) as one
 * datagram each (UDP), as framed bytes (TCP/TLS) or as RELP `syslog` commands, each one
 * acknowledged (relp.ts). Syslog refuses no entry; a send error is retryable: UDP, TCP and TLS
 * send the whole batch again, RELP only the messages the receiver did not acknowledge. A RELP
 * server refusing the session stops the target (like a Loki refusal of the target).
 */
import { tlsTrustProblem } from '../tls-trust.js';
import type { DeliverResult, ForwardTarget, TargetBatch, TargetPreview } from '../../core/forward/target.js';
import type { ReadEntry } from '../../core/read/entries.js';
import { BlockPool, ByteList } from '../../core/runtime/bytelist.js';
import { SyslogFormatter, type SyslogOptions } from '../../formats/syslog.js';
import { RelpSessionRefused } from './relp.js';
import { SyslogSender, type SyslogTargetConfig } from './sender.js';

/** What the SyslogTarget constructor throws (a bad URL, an unreadable TLS file), for a lazy importer of this module. */
export { SyslogConfigError } from './sender.js';

/** A batch of syslog messages, formatted as entries are added (syslog refuses nothing). */
class SyslogBatch implements TargetBatch {
  /** UDP: one datagram per message; RELP: one `syslog` command per message. */
  readonly messages: string[] = [];
  /** RELP: which messages the receiver acknowledged (a retry sends the others). */
  acked: Uint8Array | null = null;
  /** TCP/TLS: the framed messages, in reused blocks outside the heap (see bytelist.ts). */
  readonly framed: ByteList | null;
  size = 0;

  constructor(
    private readonly formatter: SyslogFormatter,
    private readonly sender: SyslogSender,
  ) {
    this.framed = sender.protocol === 'udp' || sender.acknowledged ? null : new ByteList(blocks);
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

/** Syslog as a forward target: RFC 5424 (or RFC 3164, CEF, LEEF) messages, batches of up to 500 entries. */
export class SyslogTarget implements ForwardTarget {
  readonly id: string;
  readonly maxBatchEntries: number;
  readonly maxBatchBytes = 512 * 1024;
  /** RELP acknowledges each message; UDP, TCP and TLS syslog have no acknowledgement: a batch is only sent. */
  readonly acknowledges: boolean;
  /** CEF and LEEF records carry each entry's chain predecessor (the pipeline tracks it). */
  readonly predecessors: boolean;
  private readonly sender: SyslogSender;
  private readonly formatter: SyslogFormatter;

  /** @throws SyslogConfigError */
  constructor(
    config: SyslogTargetConfig,
    format: {
      facility?: number;
      maxBytes?: number;
      hostname?: string;
      appName?: string;
      /** `--syslog-format`: rfc5424 (default), rfc3164, cef, leef. */
      layout?: 'rfc5424' | 'rfc3164' | 'cef' | 'leef';
      device?: SyslogOptions['device'];
    } = {},
    batchEntries = 500,
  ) {
    this.sender = new SyslogSender(config);
    this.id = `syslog:${this.sender.endpoint}`;
    this.maxBatchEntries = batchEntries;
    this.acknowledges = this.sender.acknowledged;
    this.predecessors = format.layout === 'cef' || format.layout === 'leef';
    const maxBytes = format.maxBytes ?? (this.sender.protocol === 'udp' ? 2048 : 8192);
    this.formatter = new SyslogFormatter({
      layout: format.layout ?? 'rfc5424',
      device: format.device,
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
      else if (this.acknowledges) await this.sendAcknowledged(b);
      else await this.sender.sendDatagrams(b.messages);
      return { ok: true };
    } catch (err) {
      if (err instanceof RelpSessionRefused)
        return { ok: false, retryable: false, refusal: 'target', error: `${this.sender.endpoint}: ${err.message}` };
      const code = (err as NodeJS.ErrnoException).code;
      const trust = tlsTrustProblem(code);
      if (trust)
        return {
          ok: false,
          retryable: false,
          refusal: 'tls-trust',
          error:
            `${this.sender.endpoint}: TLS: the server is not ` +
            `trusted: ${trust} (${code}); give its CA with --ca FILE`,
        };
      return {
        ok: false,
        retryable: true,
        error: `${this.sender.endpoint}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      };
    }
  }

  /**
   * RELP: the messages of `b` not yet acknowledged, as `syslog` commands; each acknowledged one is
   * marked, so that after a broken session only the others are sent again (a crash of the
   * receiver duplicates at most the window of unacknowledged messages).
   */
  private sendAcknowledged(b: SyslogBatch): Promise<void> {
    const acked = (b.acked ??= new Uint8Array(b.messages.length));
    const todo: number[] = [];
    for (let i = 0; i < b.messages.length; i++) if (!acked[i]) todo.push(i);
    return this.sender.sendAcknowledged(
      todo.map((i) => Buffer.from(b.messages[i])),
      (k) => (acked[todo[k]] = 1),
    );
  }

  /** Gives a TCP/TLS batch's blocks back once it is delivered or given up on. */
  dispose(batch: TargetBatch): void {
    (batch as SyslogBatch).framed?.release();
  }

  preview(e: ReadEntry, into: TargetPreview): boolean {
    into.sample ??= this.formatter.format(e);
    return true;
  }

  close(): Promise<void> {
    return this.sender.close();
  }
}
