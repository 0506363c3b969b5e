/** ByteList / BlockPool: what goes in comes out, in order, across block boundaries; blocks are reused. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlockPool, ByteList } from '../../../src/core/runtime/bytelist.js';

describe('ByteList', () => {
  it('strings (ASCII, multi-byte, longer than a block) and bytes come out as appended', () => {
    const pool = new BlockPool(64);
    const list = new ByteList(pool);
    const parts: Buffer[] = [];
    const pieces = ['a', 'é€😀', 'x'.repeat(63), 'y'.repeat(200), '', '€'.repeat(30), 'z'];
    for (let i = 0; i < 50; i++) {
      const s = pieces[i % pieces.length] + i;
      if (i % 3 === 0) {
        const b = Buffer.from(s);
        list.appendBytes(b);
        parts.push(b);
      } else {
        list.append(s);
        parts.push(Buffer.from(s));
      }
    }
    const want = Buffer.concat(parts);
    assert.equal(list.length, want.length);
    assert.ok(list.chunks().length > 10, 'spread over many blocks');
    assert.ok(Buffer.concat(list.chunks()).equals(want));
    for (const c of list.chunks())
      assert.ok(
        c.length <= 64 || parts.some((p) => p.length > 64 && p.equals(c)),
        `a chunk is within a block, or one oversized append alone (${c.length})`,
      );
  });

  it('released blocks go back to the pool and are reused; oversized ones are not kept', () => {
    const pool = new BlockPool(64);
    const a = new ByteList(pool);
    a.append('p'.repeat(60));
    a.append('q'.repeat(60));
    a.append('r'.repeat(100)); // oversized: its own block
    const blocks = a.chunks().map((c) => c.buffer);
    a.release();
    assert.equal(a.length, 0);
    assert.deepEqual(a.chunks().length, 0);
    const b = new ByteList(pool);
    b.append('s'.repeat(60));
    b.append('t'.repeat(60));
    b.append('u'.repeat(60));
    const reused = b.chunks().map((c) => c.buffer);
    assert.ok(
      blocks.slice(0, 2).every((x) => reused.includes(x)),
      'the two pool blocks are reused',
    );
    assert.ok(!reused.includes(blocks[2]), 'the oversized block is not');
    assert.equal(Buffer.concat(b.chunks()).toString(), 's'.repeat(60) + 't'.repeat(60) + 'u'.repeat(60));
  });

  it('appendJsonString writes printable ASCII as JSON.stringify does, across block boundaries', () => {
    const ascii = Buffer.from(Array.from({ length: 0x80 - 0x20 }, (_, i) => i + 0x20));
    assert.ok(ascii.includes('"') && ascii.includes('\\'), 'quote and backslash are among the bytes');
    const pool = new BlockPool(64);
    const list = new ByteList(pool);
    let expected = '';
    for (let n = 0; n < 40; n++) {
      const b = Buffer.concat([ascii.subarray(n % 60), Buffer.from('"\\'.repeat(n))]);
      list.append(',');
      list.appendJsonString(b);
      expected += ',' + JSON.stringify(b.toString('latin1'));
    }
    assert.equal(list.length, Buffer.byteLength(expected));
    assert.equal(Buffer.concat(list.chunks()).toString('latin1'), expected);
    assert.ok(list.chunks().length > 1, 'the appends crossed blocks');
  });
});
