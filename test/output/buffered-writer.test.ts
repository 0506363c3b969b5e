import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { BufferedWriter } from '../../src/output/buffered-writer.js';

/** A writable that keeps what it gets; `slow` delays each callback (a slow reader). */
function sinkStream(slow = 0, highWaterMark = 16 * 1024): { stream: Writable; got: Buffer[] } {
  const got: Buffer[] = [];
  const stream = new Writable({
    highWaterMark,
    write(chunk: Buffer, _enc, cb) {
      got.push(Buffer.from(chunk));
      if (slow) setTimeout(cb, slow);
      else cb();
    },
  });
  return { stream, got };
}

describe('BufferedWriter', () => {
  it('writes exactly the bytes given, strings as UTF-8, chunks of any size, in order', async () => {
    const { stream, got } = sinkStream();
    const w = new BufferedWriter(stream);
    const want: Buffer[] = [];
    const pieces: Array<string | Buffer> = [
      'ascii\n',
      'jürgen ✓ 𝄞\n',
      Buffer.from('raw bytes'),
      'x'.repeat(20000),
      Buffer.alloc(40000, 0x41),
      '',
      'é'.repeat(6000),
      Buffer.from([0xff, 0x00, 0x0a]),
    ];
    for (let i = 0; i < 300; i++) {
      const p = pieces[i % pieces.length];
      const tail = i % 3 === 0 ? '\n' : undefined;
      await w.write(p, tail);
      want.push(Buffer.isBuffer(p) ? p : Buffer.from(p), Buffer.from(tail ?? ''));
    }
    await w.flush();
    assert.ok(Buffer.concat(got).equals(Buffer.concat(want)));
    assert.ok(got.length > 10, 'in several blocks');
  });

  it('copies what it is given: the caller may reuse its buffer at once', async () => {
    const { stream, got } = sinkStream();
    const w = new BufferedWriter(stream);
    const reused = Buffer.alloc(100);
    const want: Buffer[] = [];
    for (let i = 0; i < 2000; i++) {
      reused.fill(0x30 + (i % 10));
      const line = reused.subarray(0, 1 + (i % 100));
      want.push(Buffer.from(line), Buffer.from('\n'));
      await w.write(line, '\n');
    }
    reused.fill(0x21);
    await w.flush();
    assert.ok(Buffer.concat(got).equals(Buffer.concat(want)));
  });

  it('makes the writer wait (a promise) when the stream holds more than 256 KiB, and not before', async () => {
    const { stream, got } = sinkStream(5, 1024);
    const w = new BufferedWriter(stream);
    let waits = 0;
    let maxQueued = 0;
    for (let i = 0; i < 400; i++) {
      const p = w.write(Buffer.alloc(4096, 0x61));
      maxQueued = Math.max(maxQueued, stream.writableLength);
      if (p) {
        waits++;
        assert.ok(stream.writableLength > 256 * 1024, `waits only past 256 KiB (${stream.writableLength})`);
        await p;
      }
    }
    await w.flush();
    await new Promise((r) => stream.end(r));
    assert.ok(waits > 0, 'a slow reader paused the writer');
    assert.ok(maxQueued < 256 * 1024 + 32 * 1024, `memory stays bounded (${maxQueued})`);
    assert.equal(Buffer.concat(got).length, 400 * 4096);
  });
});
