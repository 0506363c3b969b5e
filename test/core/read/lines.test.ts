import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineSplitter, readChunks, scanLines } from '../../../src/core/read/lines.js';
import { anchorNeedles, MAX_ANCHOR_BYTES, type Needle } from '../../../src/core/read/needles.js';
import { prng } from '../../../scripts/sample.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/cli.js';

async function scan(
  chunks: Array<string | Buffer>,
  maxLineBytes?: number,
  needles?: Needle[],
  volatile: boolean | 'parts' = false,
) {
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
  for await (const l of scanLines(gen(), { maxLineBytes, needles, volatile }))
    out.push({
      text: l.bytes.toString('latin1'),
      line: l.line,
      offset: l.offset,
      length: l.length,
      terminated: l.terminated,
      tooLong: l.tooLong,
      crlf: l.crlf,
    });
  return out;
}

describe('scanLines', () => {
  it('splits on LF, strips CR of CRLF, keeps a bare CR, counts blank lines, tracks offsets', async () => {
    const r = await scan(['a\r\n\nb\rc\nd']);
    assert.deepEqual(
      r.map((l) => [l.text, l.line, l.offset, l.terminated, l.crlf]),
      [
        ['a', 1, 0, true, true],
        ['', 2, 3, true, false],
        ['b\rc', 3, 4, true, false],
        ['d', 4, 8, false, false],
      ],
    );
  });

  it('joins lines across chunk boundaries, CRLF split between chunks included', async () => {
    const r = await scan(['ab', 'c\r', '\nde', 'f\n']);
    assert.deepEqual(
      r.map((l) => [l.text, l.offset, l.crlf]),
      [
        ['abc', 0, true],
        ['def', 5, false],
      ],
    );
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
    assert.deepEqual(
      (await scan(['x\ny'])).map((l) => l.terminated),
      [true, false],
    );
    assert.deepEqual(await scan([]), []);
    assert.deepEqual((await scan(['x\n'])).length, 1);
  });

  it(
    "volatile 'parts' (a reused read buffer, lines used before " +
      'the next read): same lines as fresh chunks, across boundaries',
    async () => {
      const text = ['{"a": 1}', 'b'.repeat(70), '', 'c\r', 'dd'.repeat(50)].join('\n') + '\nlast';
      const chunks = [text.slice(0, 5), text.slice(5, 30), text.slice(30, 31), text.slice(31, 120), text.slice(120)];
      assert.deepEqual(await scan(chunks, undefined, undefined, 'parts'), await scan(chunks));
    },
  );
});

describe('scanLines with needles (search: find the bytes, not the lines)', () => {
  const lines = [
    '{"a": "login"}',
    '{"a": "logout"}',
    '{"a": "lo\\u0067in"}',
    '{"a": "j\\u00fcrgen"}',
    '{"b": 1}',
    '{"a": "login", "x": 2}',
  ];
  const text = lines.join('\n') + '\n';
  const needles: Needle[] = [{ bytes: Buffer.from('login') }, { bytes: Buffer.from('\\u00'), nextIn: [0x32, 0x37] }];

  it('hands out exactly the lines with a needle, with the line numbers and offsets of a full scan', async () => {
    const all = await scan([text]);
    for (const chunks of [[text], [text.slice(0, 7), text.slice(7, 40), text.slice(40)], text.split('')]) {
      for (const volatile of [false, true, 'parts'] as const) {
        const some = await scan(chunks, undefined, needles, volatile);
        const want = all.filter(
          (l) => l.text.includes('login') || /\\u00[2-7]/.test(l.text) || some.some((s) => s.line === l.line),
        );
        // Lines crossing a chunk boundary may come out too; every needle line must, unchanged.
        for (const l of all.filter((x) => x.text.includes('login') || /\\u00[2-7]/.test(x.text)))
          assert.deepEqual(
            some.find((s) => s.line === l.line),
            l,
            `${chunks.length} chunks, line ${l.line}`,
          );
        assert.deepEqual(some, want);
        if (chunks.length === 1)
          assert.deepEqual(
            some.map((l) => l.line),
            [1, 3, 6],
            'an escaped ASCII letter may hide a literal; \\u00fc cannot',
          );
      }
    }
  });

  it('searches each needle from its rarest byte in the first chunk, and checks the bytes before it', () => {
    const sample = Buffer.from('null null false "lo" "oi" "in" null g');
    const [login, esc] = anchorNeedles([{ bytes: Buffer.from('login') }, { bytes: Buffer.from('\\u00') }], sample);
    assert.deepEqual([login.at, login.bytes.toString()], [2, 'gin'], 'g is the rarest letter of login here');
    assert.deepEqual([esc.at, esc.bytes.toString()], [0, '\\u00'], 'never a one-byte anchor');
    // "gin" without "lo" before it (plugin, begin, a line starting with gin) is not a hit.
    const s = new LineSplitter();
    const needles: Needle[] = [{ bytes: Buffer.from('login') }];
    const lines = s
      .pushSelected(
        Buffer.from(`${'null lo oi on '.repeat(50)} g\ngin\nplugin\nbegin login\nlo\ngin\nxlogin\n`),
        needles,
      )
      .map((l) => [l.line, l.bytes.toString()]);
    assert.deepEqual(lines, [
      [4, 'begin login'],
      [7, 'xlogin'],
    ]);
  });

  it('anchors a long needle on at most seven bytes and checks the bytes after them too', () => {
    // Node searches 8 bytes or more with Boyer-Moore-Horspool, slower here than memchr.
    const needle = Buffer.from('/api/v1/tasks/29');
    const sample = Buffer.from('"/api/v1/tasks/" null false "path": "/api/v1/tasks/17" 9 9 9');
    const [a] = anchorNeedles([{ bytes: needle }], sample);
    assert.equal(MAX_ANCHOR_BYTES, 7);
    assert.deepEqual([a.at, a.bytes.toString()], [14, '29'], '2 is the rarest byte; the anchor ends with the needle');
    const [b] = anchorNeedles([{ bytes: Buffer.from('xyz/api/v1/tasks/29') }], sample);
    assert.deepEqual([b.at, b.bytes.toString()], [0, 'xyz/api'], 'x is not in the sample: seven bytes from it');
    const text = [
      '/api/v1/tasks/2',
      '/api/v1/tasks/39',
      'xyz/api/v1/tasks/2',
      'a xyz/api/v1/tasks/29 b',
      'xyz/api/v1/tasks/29',
    ];
    const got = new LineSplitter()
      .pushSelected(Buffer.from(text.join('\n') + '\n'), [{ bytes: Buffer.from('xyz/api/v1/tasks/29') }])
      .map((l) => l.line);
    assert.deepEqual(got, [4, 5], 'the anchor "xyz/api" alone is in line 3 too');
  });

  it('with anchors, the lines handed out are exactly those a per-line test finds (random text and needles)', () => {
    const rnd = prng(42);
    const alphabet = 'nulfasetrgio"{}:, \\u0\\u00e9';
    for (let round = 0; round < 200; round++) {
      const lines = Array.from({ length: 1 + Math.floor(rnd() * 40) }, () =>
        Array.from({ length: Math.floor(rnd() * 30) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join(''),
      );
      const text = lines.join('\n') + '\n';
      const pick = () => {
        const l = lines[Math.floor(rnd() * lines.length)];
        const a = Math.floor(rnd() * Math.max(1, l.length - 2));
        return l.slice(a, a + 2 + Math.floor(rnd() * 11)) || 'nul';
      };
      const needles: Needle[] = [{ bytes: Buffer.from(pick(), 'latin1') }, { bytes: Buffer.from(pick(), 'latin1') }];
      // A needle across a line end (a newline, then the next line's start) is in no line.
      if (round % 2) needles.push({ bytes: Buffer.from(`\n${lines[Math.floor(rnd() * lines.length)].slice(0, 2)}`) });
      const want = lines
        .map((l, i) => [i + 1, l])
        .filter(([, l]) => needles.some((n) => (l as string).includes(n.bytes.toString('latin1'))));
      // One chunk: every line lies wholly inside it, so exactly the needle lines come out.
      const got = new LineSplitter()
        .pushSelected(Buffer.from(text, 'latin1'), needles)
        .map((l) => [l.line, l.bytes.toString('latin1')]);
      assert.deepEqual(got, want, `round ${round}: ${JSON.stringify(needles.map((n) => n.bytes.toString('latin1')))}`);
    }
  });

  it('still reports over-long and unterminated lines', async () => {
    const r = await scan(['{"x": 1}\n' + 'y'.repeat(3000) + '\n{"a": "login"}\ntail'], 1024, needles);
    assert.deepEqual(
      r.map((l) => [l.line, l.tooLong, l.terminated]),
      [
        [2, true, true],
        [3, false, true],
        [4, false, false],
      ],
    );
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

  it('readChunks hands its buffer to the next call, never to one running at the same time', async () => {
    const t = tempDir();
    try {
      const a = join(t.dir, 'a');
      const b = join(t.dir, 'b');
      const bodyA = Buffer.from('a'.repeat(20_000));
      const bodyB = Buffer.from('b'.repeat(20_000));
      writeFileSync(a, bodyA);
      writeFileSync(b, bodyB);
      // A size no other test reads with, above Buffer.poolSize / 2 (smaller ones share a slab).
      const size = 5000;
      const memoryOf = async (p: string, stopAfter = Infinity): Promise<ArrayBufferLike> => {
        let mem: ArrayBufferLike | null = null;
        let n = 0;
        for await (const c of readChunks(p, 0, Infinity, size)) {
          mem = c.buffer;
          if (++n >= stopAfter) break;
        }
        return mem!;
      };
      const first = await memoryOf(a);
      assert.equal(await memoryOf(b), first, 'the next file reads into the same memory');
      // A reader stopped early may still hold views of its last chunk: that memory is not reused.
      const stopped = await memoryOf(a, 1);
      assert.notEqual(await memoryOf(b), stopped, 'a reader stopped early keeps its memory');
      // Two readers at once (a merge of sources): each its own memory, each its own bytes.
      const ra = readChunks(a, 0, Infinity, size)[Symbol.asyncIterator]();
      const rb = readChunks(b, 0, Infinity, size)[Symbol.asyncIterator]();
      const got = { a: [] as Buffer[], b: [] as Buffer[] };
      for (;;) {
        const [x, y] = [await ra.next(), await rb.next()];
        if (x.done && y.done) break;
        if (!x.done && !y.done) assert.notEqual(x.value.buffer, y.value.buffer);
        if (!x.done) got.a.push(Buffer.from(x.value));
        if (!y.done) got.b.push(Buffer.from(y.value));
      }
      assert.deepEqual(Buffer.concat(got.a), bodyA);
      assert.deepEqual(Buffer.concat(got.b), bodyB);
    } finally {
      t.cleanup();
    }
  });
});
