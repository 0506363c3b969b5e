import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readChunks, scanLines, type Needle } from '../../src/core/lines.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/cli.js';

async function scan(chunks: Array<string | Buffer>, maxLineBytes?: number, needles?: Needle[], volatile: boolean | 'parts' = false) {
  async function* gen() {
    // With volatile, every chunk is written into the same buffer (as readChunks does).
    const shared = Buffer.alloc(64 * 1024);
    for (const c of chunks) {
      const b = Buffer.isBuffer(c) ? c : Buffer.from(c, 'latin1');
      if (!volatile) yield b;
      else {
        b.copy(shared);
        yield shared.subarray(0, b.length);
        shared.fill(0x21);
      }
    }
  }
  const out = [];
  for await (const l of scanLines(gen(), { maxLineBytes, needles, volatile })) out.push({ text: l.bytes.toString('latin1'), line: l.line, offset: l.offset, length: l.length, terminated: l.terminated, tooLong: l.tooLong, crlf: l.crlf });
  return out;
}

describe('scanLines', () => {
  it('splits on LF, strips CR of CRLF, keeps a bare CR, counts blank lines, tracks offsets', async () => {
    const r = await scan(['a\r\n\nb\rc\nd']);
    assert.deepEqual(r.map((l) => [l.text, l.line, l.offset, l.terminated, l.crlf]), [
      ['a', 1, 0, true, true],
      ['', 2, 3, true, false],
      ['b\rc', 3, 4, true, false],
      ['d', 4, 8, false, false],
    ]);
  });

  it('joins lines across chunk boundaries, CRLF split between chunks included', async () => {
    const r = await scan(['ab', 'c\r', '\nde', 'f\n']);
    assert.deepEqual(r.map((l) => [l.text, l.offset, l.crlf]), [['abc', 0, true], ['def', 5, false]]);
  });

  it('reports an over-long line without keeping it, and goes on', async () => {
    const big = 'x'.repeat(5000);
    const r = await scan([big.slice(0, 1000), big.slice(1000) + '\nok\n'], 1024);
    assert.equal(r[0].tooLong, true);
    assert.equal(r[0].length, 5000);
    assert.equal(r[0].text, '');
    assert.deepEqual([r[1].text, r[1].line, r[1].offset], ['ok', 2, 5001]);
  });

  it('a final line without newline is unterminated; an empty stream yields nothing', async () => {
    assert.deepEqual((await scan(['x\ny'])).map((l) => l.terminated), [true, false]);
    assert.deepEqual(await scan([]), []);
    assert.deepEqual((await scan(['x\n'])).length, 1);
  });

  it("volatile 'parts' (a reused read buffer, lines used before the next read): same lines as fresh chunks, across boundaries", async () => {
    const text = ['{"a": 1}', 'b'.repeat(70), '', 'c\r', 'dd'.repeat(50)].join('\n') + '\nlast';
    const chunks = [text.slice(0, 5), text.slice(5, 30), text.slice(30, 31), text.slice(31, 120), text.slice(120)];
    assert.deepEqual(await scan(chunks, undefined, undefined, 'parts'), await scan(chunks));
  });
});

describe('scanLines with needles (search: find the bytes, not the lines)', () => {
  const lines = ['{"a": "login"}', '{"a": "logout"}', '{"a": "lo\\u0067in"}', '{"a": "j\\u00fcrgen"}', '{"b": 1}', '{"a": "login", "x": 2}'];
  const text = lines.join('\n') + '\n';
  const needles: Needle[] = [{ bytes: Buffer.from('login') }, { bytes: Buffer.from('\\u00'), nextIn: [0x32, 0x37] }];

  it('hands out exactly the lines with a needle, with the line numbers and offsets of a full scan', async () => {
    const all = await scan([text]);
    for (const chunks of [[text], [text.slice(0, 7), text.slice(7, 40), text.slice(40)], text.split('')]) {
      for (const volatile of [false, true, 'parts'] as const) {
        const some = await scan(chunks, undefined, needles, volatile);
        const want = all.filter((l) => l.text.includes('login') || /\\u00[2-7]/.test(l.text) || some.some((s) => s.line === l.line));
        // Lines crossing a chunk boundary may come out too; every needle line must, unchanged.
        for (const l of all.filter((x) => x.text.includes('login') || /\\u00[2-7]/.test(x.text))) assert.deepEqual(some.find((s) => s.line === l.line), l, `${chunks.length} chunks, line ${l.line}`);
        assert.deepEqual(some, want);
        if (chunks.length === 1) assert.deepEqual(some.map((l) => l.line), [1, 3, 6], 'an escaped ASCII letter may hide a literal; \\u00fc cannot');
      }
    }
  });

  it('still reports over-long and unterminated lines', async () => {
    const r = await scan(['{"x": 1}\n' + 'y'.repeat(3000) + '\n{"a": "login"}\ntail'], 1024, needles);
    assert.deepEqual(r.map((l) => [l.line, l.tooLong, l.terminated]), [[2, true, true], [3, false, true], [4, false, false]]);
  });

  it('readChunks reads a file through one reused buffer, in order', async () => {
    const t = tempDir();
    try {
      const p = join(t.dir, 'f');
      const body = Buffer.from(Array.from({ length: 5000 }, (_, i) => `line ${i}`).join('\n'));
      writeFileSync(p, body);
      const seen: Buffer[] = [];
      let first: Buffer | null = null;
      for await (const c of readChunks(p, 10, body.length - 5, 4096)) {
        first ??= c;
        assert.equal(c.buffer, first.buffer, 'same memory every time');
        seen.push(Buffer.from(c));
      }
      assert.deepEqual(Buffer.concat(seen), body.subarray(10, body.length - 5));
    } finally {
      t.cleanup();
    }
  });
});
