/** Line endings as Python's universal newlines read them, where the writer's `\n` is not used (spec §10.24). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineSplitter, type RawLine } from '../../../src/core/read/lines.js';
import { decodeLine } from '../../../src/core/read/decode.js';

/** The lines of `text` fed in pieces cut at `cuts`: `line@offset:text` plus the terminator kind. */
function split(text: string, cuts: number[] = []): string[] {
  const sp = new LineSplitter();
  const b = Buffer.from(text, 'latin1');
  const out: RawLine[] = [];
  let at = 0;
  for (const c of [...cuts, b.length]) {
    out.push(...sp.push(b.subarray(at, c)));
    at = c;
  }
  const last = sp.end();
  if (last) out.push(last);
  const ending = (l: RawLine) => (l.cr ? ' CR' : l.crlf ? ' CRLF' : l.terminated ? ' LF' : ' -');
  return out.map((l) => `${l.line}@${l.offset}:${l.bytes.toString('latin1')}${ending(l)}`);
}

describe('line endings', () => {
  const cr = '{"a": 1}\r{"b": 2}\r{"c": 3}\r';

  it('a file whose lines end with lone CRs is read one entry per line, wherever the reads are cut', () => {
    const want = ['1@0:{"a": 1} CR', '2@9:{"b": 2} CR', '3@18:{"c": 3} CR'];
    for (const cuts of [[], [1], [8], [9], [10], [8, 9, 17, 18], [26]])
      assert.deepEqual(split(cr, cuts), want, `${cuts}`);
  });

  it('a lone CR inside a line of a \\n file stays data (JSON whitespace), as before', () => {
    assert.deepEqual(split('{"a":\r 1}\n{"b": 2}\n'), ['1@0:{"a":\r 1} LF', '2@10:{"b": 2} LF']);
    assert.deepEqual(split('{"a": 1}\n{"b": 2}\r{"c": 3}\n'), ['1@0:{"a": 1} LF', '2@9:{"b": 2}\r{"c": 3} LF']);
  });

  it('only `}` CR `{` decides: a CR after a nested object inside the first entry is not a line end', () => {
    assert.deepEqual(split('{"d": {"x": 1}\r, "e": 2}\n'), ['1@0:{"d": {"x": 1}\r, "e": 2} LF']);
  });

  it('CRLF files and a CR-only file with CRLF lines keep their offsets', () => {
    assert.deepEqual(split('{"a": 1}\r\n{"b": 2}\r\n', [9]), ['1@0:{"a": 1} CRLF', '2@10:{"b": 2} CRLF']);
    assert.deepEqual(split('{"a": 1}\r{"b": 2}\r\n{"c": 3}\r', [18]), [
      '1@0:{"a": 1} CR',
      '2@9:{"b": 2} CRLF',
      '3@19:{"c": 3} CR',
    ]);
  });

  it('a UTF-8 byte-order mark is left out of the decoded line and said', () => {
    const raw = split('\xef\xbb\xbf{"a": 1}\n');
    assert.equal(raw.length, 1);
    const d = decodeLine(
      {
        bytes: Buffer.from('\xef\xbb\xbf{"a": 1}', 'latin1'),
        line: 1,
        offset: 0,
        length: 11,
        terminated: true,
        tooLong: false,
        crlf: false,
      },
      1 << 20,
    );
    assert.deepEqual(d, { kind: 'text', text: '{"a": 1}', bom: true });
    const plain = decodeLine(
      { bytes: Buffer.from('{"a": 1}'), line: 1, offset: 0, length: 8, terminated: true, tooLong: false, crlf: false },
      1 << 20,
    );
    assert.deepEqual(plain, { kind: 'text', text: '{"a": 1}' });
  });
});
