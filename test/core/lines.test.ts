import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scanLines } from '../../src/core/lines.js';

async function scan(chunks: Array<string | Buffer>, maxLineBytes?: number) {
  async function* gen() {
    for (const c of chunks) yield Buffer.isBuffer(c) ? c : Buffer.from(c, 'latin1');
  }
  const out = [];
  for await (const l of scanLines(gen(), { maxLineBytes })) out.push({ text: l.bytes.toString('latin1'), line: l.line, offset: l.offset, length: l.length, terminated: l.terminated, tooLong: l.tooLong, crlf: l.crlf });
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
});
