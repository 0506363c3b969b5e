/**
 * Bytes of a batch being filled, kept outside the JavaScript heap in reused blocks.
 *
 * Why: a forward batch lives long enough (10 000 entries) for every object in it to survive
 * two scavenges and be promoted to V8's old generation, where it piles up as garbage until the
 * next full collection: batches of objects more than doubled forward's memory
 * (bench/results/decisions.md). Encoding each entry into bytes as it is read, into blocks that
 * go back to a free list once the batch has been sent, leaves nothing for the collector but the
 * short-lived objects of one line.
 */

/**
 * A free list of equal blocks: `Buffer`s of `blockBytes` bytes each, with memory of their own (not a slice of
 * Node's shared pool).
 */
export class BlockPool {
  private readonly free: Buffer[] = [];

  /**
   * @param blockBytes size of each block, bytes
   * @param maxFree blocks kept for reuse at most (the rest are left to the collector)
   */
  constructor(
    readonly blockBytes = 16 * 1024,
    private readonly maxFree = 256,
  ) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.blockBytes);
  }

  /** Gives a block back; only blocks of this pool's size are kept. */
  give(block: Buffer): void {
    if (block.length === this.blockBytes && this.free.length < this.maxFree) this.free.push(block);
  }
}

/**
 * An append-only byte string in pool blocks. A string or byte run that does not fit in the rest
 * of the current block starts a new one (so nothing appended is ever split across blocks); one
 * longer than a block gets a block of its own, not from the pool.
 */
export class ByteList {
  private readonly blocks: Buffer[] = [];
  /** Bytes used in each block but the last. */
  private readonly ends: number[] = [];
  /** Bytes used in the last block. */
  private used = 0;
  private total = 0;

  constructor(private readonly pool: BlockPool) {}

  /** Bytes appended so far. */
  get length(): number {
    return this.total;
  }

  /** Where the next append of `bytes` bytes goes (a new block when it does not fit). */
  private room(bytes: number): Buffer {
    let block = this.blocks[this.blocks.length - 1];
    if (block && this.used + bytes <= block.length) return block;
    if (block) this.ends.push(this.used);
    block = bytes > this.pool.blockBytes ? Buffer.allocUnsafeSlow(bytes) : this.pool.take();
    this.blocks.push(block);
    this.used = 0;
    return block;
  }

  /** Appends `s` as UTF-8. */
  append(s: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 unit: measure only when that bound does not fit.
    const bytes = s.length * 3 <= this.pool.blockBytes - this.used ? s.length * 3 : Buffer.byteLength(s);
    const block = this.room(bytes);
    const n = block.write(s, this.used);
    this.used += n;
    this.total += n;
  }

  /** Appends a copy of `b`. */
  appendBytes(b: Uint8Array): void {
    const block = this.room(b.length);
    block.set(b, this.used);
    this.used += b.length;
    this.total += b.length;
  }

  /**
   * Appends `b`, ASCII from 0x20 (as a line in the writer's exact form is), as a
   * JSON string (RFC 8259 §7): in quotes, each quote and backslash escaped with a backslash: the
   * bytes `JSON.stringify` gives for its text, without a string made for them.
   */
  appendJsonString(b: Uint8Array): void {
    const block = this.room(2 * b.length + 2);
    let at = this.used;
    block[at++] = 0x22;
    for (let i = 0, n = b.length; i < n; i++) {
      const c = b[i];
      if (c === 0x22 || c === 0x5c) block[at++] = 0x5c;
      block[at++] = c;
    }
    block[at++] = 0x22;
    this.total += at - this.used;
    this.used = at;
  }

  /** The bytes as views of the blocks, in order (valid until {@link release}). */
  chunks(): Buffer[] {
    const n = this.blocks.length;
    return this.blocks.map((b, i) => b.subarray(0, i === n - 1 ? this.used : this.ends[i]));
  }

  /** Gives the blocks back to the pool; the list is empty afterwards. */
  release(): void {
    for (const b of this.blocks) this.pool.give(b);
    this.blocks.length = 0;
    this.ends.length = 0;
    this.used = 0;
    this.total = 0;
  }
}
