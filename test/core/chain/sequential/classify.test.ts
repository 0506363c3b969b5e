import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GENESIS_HASH } from '../../../../src/core/chain/rule.js';
import { classifyLine, entryAtEnd, lineLayout, tornFragment } from '../../../../src/core/chain/sequential/classify.js';
import type { RawLine } from '../../../../src/core/read/lines.js';
import { sealEntry } from '../../../../src/core/write/seal.js';

const MAX = 1 << 20;
const raw = (text: string | Buffer, over: Partial<RawLine> = {}): RawLine => {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  return { bytes, line: 1, offset: 0, length: bytes.length, terminated: true, tooLong: false, crlf: false, ...over };
};
const sealed = sealEntry({ action: 'update', seq: 1 }, GENESIS_HASH);
const line = sealed.line.slice(0, -1);

describe('classifyLine (classify.ts)', () => {
  it('a sealed entry is an entry with its stored hash and the writer schema', () => {
    const c = classifyLine(raw(line), MAX);
    assert.equal(c.kind, 'entry');
    if (c.kind !== 'entry') return;
    assert.equal(c.stored, sealed.hash);
    assert.equal(c.schema, 'writer');
    assert.equal(c.duplicateKeys, false);
    assert.doesNotMatch(c.canonical, /_integrity_hash/);
  });

  it('chain_hash is the documented schema; a key twice is flagged', () => {
    const doc = classifyLine(raw(line.replace('_integrity_hash', 'chain_hash')), MAX);
    assert.equal(doc.kind === 'entry' && doc.schema, 'documented');
    const dup = classifyLine(raw(line.replace('{"action": "update"', '{"action": "update", "action": "delete"')), MAX);
    assert.equal(dup.kind === 'entry' && dup.duplicateKeys, true);
  });

  it('whitespace only is blank; an empty line too', () => {
    assert.equal(classifyLine(raw('  \t '), MAX).kind, 'blank');
    assert.equal(classifyLine(raw(''), MAX).kind, 'blank');
  });

  it('invalid UTF-8 is unreadable, with the hash written at its end as a hint', () => {
    const bad = Buffer.concat([Buffer.from(line.slice(0, 10)), Buffer.from([0xff]), Buffer.from(line.slice(10))]);
    const c = classifyLine(raw(bad), MAX);
    assert.equal(c.kind, 'unreadable');
    assert.equal(c.kind === 'unreadable' && c.reason, 'invalid-utf8');
    assert.equal(c.kind === 'unreadable' && c.hint, sealed.hash);
  });

  it('JSON that is not an object is unreadable, not an entry', () => {
    const c = classifyLine(raw('[1, 2]'), MAX);
    assert.equal(c.kind === 'unreadable' && c.reason, 'not-an-object');
  });

  it('an integer Python refuses is unreadable, read leniently to follow the chain through it', () => {
    const big = sealEntry({ action: 'update', n: BigInt('9'.repeat(5000)) }, GENESIS_HASH);
    const c = classifyLine(raw(big.line.slice(0, -1)), MAX);
    assert.equal(c.kind === 'unreadable' && c.reason, 'int-too-long');
    assert.equal(c.kind === 'unreadable' && c.lenient?.stored, big.hash);
  });

  it('text that is not JSON is malformed (a torn write or an edit), never an entry', () => {
    const c = classifyLine(raw(line.slice(0, -1)), MAX);
    assert.equal(c.kind, 'malformed');
    assert.match(c.kind === 'malformed' ? c.message : '', /^malformed JSON: /);
  });

  it('an object without a usable hash is unhashed, saying how', () => {
    const absent = classifyLine(raw('{"action": "update"}'), MAX);
    assert.deepEqual(absent, { kind: 'unhashed', how: 'absent', schema: null });
    const isNull = classifyLine(raw('{"action": "update", "_integrity_hash": null}'), MAX);
    assert.deepEqual(isNull, { kind: 'unhashed', how: 'null', schema: 'writer' });
    const num = classifyLine(raw('{"action": "update", "chain_hash": 5}'), MAX);
    assert.deepEqual(num, { kind: 'unhashed', how: 'not-a-string', schema: 'documented' });
  });
});

describe('entryAtEnd: a torn write continued on the same line (spec §10.8, §10.17)', () => {
  it('finds the whole entry after a cut-off start of one, or after NUL bytes', () => {
    const torn = `{"action": "upd${line}`;
    assert.deepEqual(entryAtEnd(torn)?.at, 15);
    assert.equal(entryAtEnd(torn)?.stored, sealed.hash);
    assert.equal(entryAtEnd(`\0\0\0${line}`)?.at, 3);
  });
  it('finds nothing in a line that does not start as an entry, nor in a tail without a hash', () => {
    assert.equal(entryAtEnd(`garbage ${line}`), null);
    assert.equal(entryAtEnd('{"action": "upd{"action": "update"}'), null);
  });
});

describe('tornFragment: a torn write on a line of its own', () => {
  it('is the start of an object cut off, or NUL bytes', () => {
    assert.equal(tornFragment('{"action": "upd'), true);
    assert.equal(tornFragment(line.slice(0, 40)), true);
    assert.equal(tornFragment('\0\0\0\0'), true);
  });
  it('is not a whole object, an object with its end changed, nor garbage', () => {
    assert.equal(tornFragment(line), false);
    assert.equal(tornFragment('{"action": "update"]'), false);
    assert.equal(tornFragment('garbage'), false);
  });
});

describe('lineLayout', () => {
  it('says what the writer would not have written: BOM, CRLF, lone CR, raw non-ASCII', () => {
    const bom = lineLayout(raw(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(line)])));
    assert.deepEqual(bom, { crlf: false, cr: false, bom: true, nonAscii: false, loneCr: false });
    const other = lineLayout(raw('{"a": "é\r"}', { crlf: true }));
    assert.deepEqual(other, { crlf: true, cr: false, bom: false, nonAscii: true, loneCr: true });
    assert.deepEqual(lineLayout(raw(line)), { crlf: false, cr: false, bom: false, nonAscii: false, loneCr: false });
  });
});
