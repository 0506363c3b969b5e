/**
 * Buffered, back-pressured output: many small writes become few large ones, and a slow reader
 * (a pipe into `less`, `logger`, a network) pauses the producer instead of filling memory.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';

// 16 KiB pieces: larger ones kept more heap alive in an export into a pipe (bench/results/decisions.md).
const HIGH_WATER = 16 * 1024;
/**
 * Bytes the stream may hold before the producer waits: waiting for `drain` after every chunk
 * slowed a search into a pipe, letting a MiB wait cost memory; this is the balance
 * (bench/results/decisions.md).
 */
const MAX_QUEUED = 256 * 1024;

/**
 * Output gathered into 16 KiB blocks: each chunk is copied in when written (strings encoded as
 * UTF-8 straight into the block), so a caller may pass views of memory it reuses (a read
 * buffer) and no chunk is kept or concatenated later.
 */
export class BufferedWriter {
  private block: Buffer = Buffer.allocUnsafe(HIGH_WATER);
  private used = 0;
  /** A block went to the stream during the current write (check for back-pressure). */
  private emitted = false;

  constructor(private readonly stream: Writable) {}

  /**
   * Copies a chunk (and a second one after it, e.g. a line's bytes and its newline) into the
   * buffer; returns a promise only when a full block went to a stream that is now full: await
   * it before writing more.
   */
  write(chunk: string | Buffer, tail?: string | Buffer): Promise<void> | void {
    this.emitted = false;
    this.put(chunk);
    if (tail !== undefined) this.put(tail);
    if (this.emitted) return this.backPressure();
  }

  /** Writes out what is buffered, waiting for `drain` when the stream is full. */
  flush(): Promise<void> | void {
    if (this.used === 0) return;
    this.emit();
    return this.backPressure();
  }

  private put(chunk: string | Buffer): void {
    // At most 3 bytes of UTF-8 per UTF-16 code unit.
    const max = typeof chunk === 'string' ? chunk.length * 3 : chunk.length;
    if (this.used + max > this.block.length) {
      if (this.used > 0) this.emit();
      if (max > this.block.length) {
        // Bigger than a block: on its own (a copy: the caller may reuse the memory).
        this.stream.write(typeof chunk === 'string' ? chunk : Buffer.from(chunk));
        this.emitted = true;
        return;
      }
    }
    this.used += typeof chunk === 'string' ? this.block.write(chunk, this.used) : chunk.copy(this.block, this.used);
  }

  private emit(): void {
    this.stream.write(this.block.subarray(0, this.used));
    this.block = Buffer.allocUnsafe(HIGH_WATER);
    this.used = 0;
    this.emitted = true;
  }

  /** Let up to MAX_QUEUED bytes wait in the stream before pausing. */
  private backPressure(): Promise<void> | void {
    if (this.stream.writableLength > MAX_QUEUED) return once(this.stream, 'drain').then(() => undefined);
  }
}
