import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeEntry, prng } from '../../../scripts/sample.js';
import { GENESIS_HASH, HASH_KEYS } from '../../../src/core/chain/rule.js';
import { canonicalizeEntry, PyJsonError, pyStrip, type CanonicalOptions } from '../../../src/core/pyjson/canonical.js';
import {
  fdByteSource,
  StreamingCanonicalError,
  streamingChainHash,
  type ByteSource,
  type StreamingLimits,
} from '../../../src/core/pyjson/streaming-canonical.js';
import { sealEntry } from '../../../src/core/write/seal.js';
import { bundleStreaming, verifyInChild, writeBigLineFile } from '../../helpers/bigline.js';
import { randomJsonTexts } from '../../helpers/random-json.js';

const PREV = 'c0ffee'.repeat(10) + 'abcd';
const CHUNKS = [1, 2, 3, 7, 1 << 20];
/** Bytes around the line in the "file", so that offsets are not line-relative. */
const HEAD = Buffer.from('{"before": 1}\n');
const TAIL = Buffer.from('\n{"after": 2}\n');

/** A source over `HEAD + line + TAIL` that returns at most `chunk` bytes per read. */
function chunkedSource(file: Buffer, chunk: number): ByteSource {
  return {
    read(buffer, offset, length, position) {
      const n = Math.min(length, chunk, file.length - position);
      if (n <= 0) return 0;
      file.copy(buffer, offset, position, position + n);
      return n;
    },
  };
}

type Outcome = string;

/** What loki-audit's in-memory path sees for a raw line (decode.ts, then canonicalizeEntry), as text. */
function reference(raw: Buffer, options: CanonicalOptions = { hashKeys: HASH_KEYS }, prev = PREV): Outcome {
  const bom = raw.length >= 3 && raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf;
  const b = bom ? raw.subarray(3) : raw;
  if (!isUtf8(b)) return 'error invalid-utf8';
  const text = pyStrip(b.toString('utf8'));
  if (text.length === 0) return 'blank';
  try {
    const r = canonicalizeEntry(text, options);
    if (!r.isObject) return 'not-an-object';
    const computed = createHash('sha256')
      .update(prev + r.canonical)
      .digest('hex');
    return JSON.stringify({
      hashKey: r.hashKey,
      stored: r.hashValue === undefined ? '(undefined)' : r.hashValue,
      computed,
      canonicalBytes: r.canonical.length,
      numberKeyObjects: r.numberKeyObjects,
      duplicateKeys: r.duplicateKeys,
      bom,
    });
  } catch (err) {
    if (err instanceof PyJsonError) return `error ${err.code}`;
    throw err;
  }
}

/** The same through streamingChainHash, reading `chunk` bytes at a time. */
function streamed(
  raw: Buffer,
  chunk: number,
  options: CanonicalOptions = { hashKeys: HASH_KEYS },
  limits: Partial<StreamingLimits> = {},
  prev = PREV,
): Outcome {
  const file = Buffer.concat([HEAD, raw, TAIL]);
  try {
    const r = streamingChainHash(chunkedSource(file, chunk), HEAD.length, HEAD.length + raw.length, prev, {
      hashKeys: options.hashKeys ?? [],
      numberKeysByValue: options.numberKeysByValue,
      limits,
      readBytes: chunk < 64 ? 16 : undefined,
    });
    if (r.kind !== 'entry') return r.kind;
    return JSON.stringify({
      hashKey: r.hashKey,
      stored: r.stored === undefined ? '(undefined)' : r.stored,
      computed: r.computed,
      canonicalBytes: r.canonicalBytes,
      numberKeyObjects: r.numberKeyObjects,
      duplicateKeys: r.duplicateKeys,
      bom: r.bom,
    });
  } catch (err) {
    if (err instanceof StreamingCanonicalError) return `error ${err.code}`;
    throw err;
  }
}

function assertSame(raw: Buffer, chunks = CHUNKS, options?: CanonicalOptions, limits?: Partial<StreamingLimits>): void {
  const want = reference(raw, options);
  for (const chunk of chunks)
    assert.equal(streamed(raw, chunk, options, limits), want, `chunk ${chunk}: ${raw.toString('utf8').slice(0, 200)}`);
}

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('streamingChainHash: the chain hash of canonicalizeEntry, read in pieces', () => {
  it('random JSON (escapes, astral and lone surrogates, every number form, nesting), in any piece size', () => {
    const texts = randomJsonTexts(1501, 1200);
    for (const t of texts) {
      assertSame(utf8(t));
      assertSame(utf8(`{"_integrity_hash": "h", "x": ${t}, "chain_hash": [${t}]}`));
      assertSame(utf8(`\u3000\t{"y": ${t},"x":${t}}\u2028\x1c\x85 `), [1, 3, 1 << 20]);
    }
  });

  it('the same when no member table is kept (every object scanned again in the second pass)', () => {
    for (const t of randomJsonTexts(77, 600))
      assertSame(utf8(`{"a": [${t}, {"k": ${t}}], "b": ${t}}`), [1, 7, 1 << 20], undefined, { tableCacheBytes: 0 });
  });

  it("entries as Loki Mode's writer seals them: computed = stored (both schemas)", () => {
    const r = prng(42);
    let prev = GENESIS_HASH;
    for (let i = 0; i < 300; i++) {
      const schema = i % 3 === 2 ? 'documented' : 'writer';
      const entry = makeEntry(r, 1_780_000_000_000_000n + BigInt(i) * 999_999n, i + 1, 1, schema);
      const { line, hash } = sealEntry(entry, prev, schema === 'writer' ? '_integrity_hash' : 'chain_hash');
      const raw = utf8(line.slice(0, -1));
      const file = Buffer.concat([HEAD, raw, TAIL]);
      for (const chunk of [1, 3, 7, 1 << 20]) {
        const s = streamingChainHash(chunkedSource(file, chunk), HEAD.length, HEAD.length + raw.length, prev, {
          hashKeys: HASH_KEYS,
          alsoFrom: [GENESIS_HASH],
        });
        assert.equal(s.kind, 'entry');
        if (s.kind !== 'entry') continue;
        assert.equal(s.computed, hash, line);
        assert.equal(s.stored, hash);
        assert.equal(s.hashKey, schema === 'writer' ? '_integrity_hash' : 'chain_hash');
        assert.equal(s.alsoComputed[0], sealEntry(entry, GENESIS_HASH).hash);
      }
      assertSame(raw, [1, 1 << 20], undefined);
      prev = hash;
    }
  });

  const tricky: string[] = [
    // strings: every escape, lowercase hex out, uppercase in, '/' unescaped, DEL, raw non-ASCII and astral
    '{"s": "\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0041 \\u00E9 \\u00e9 \\u001F \\u007f \\u2028 \\uFFFF"}',
    '{"s": "raw é 李雷 😀 \u2028 \u007f \uffff", "t": "\\ud83d\\ude00 \\ud800 \\udc00x \\udbff"}',
    '{"\\ud83d\\ude00key": 1, "\\uffffkey": 2, "é": 3, "Z": 4, "a": 5, "10": 6, "9": 7, "": 8}',
    '{"s": ""}',
    '{"k\\u0000": "\\u0000", "k": 1}',
    // numbers
    '{"n": [0, -0, 1, -1, 1.0, -0.0, 1e5, 1E5, 1e-5, 1.10, 1e400, -1e400, 1e-400, 12345678901234567.0]}',
    '{"n": [9007199254740993, -123456789012345678901234567890, 0.30000000000000004, 5e-324, 1.7976931348623157e308]}',
    '{"n": [NaN, Infinity, -Infinity, 2.5E+3, 2.5e-3, 100e-2, 0.0001, 0.00001, 1e16, 1e15, 123456789e-30]}',
    // literals and empty containers
    '{"a": true, "b": false, "c": null, "d": {}, "e": [], "f": [{}, [], [[]], {"x": {}}]}',
    // duplicate keys: last wins, at every depth
    '{"a": 1, "a": 2, "b": {"x": 1, "y": 2, "x": 3}, "a": {"z": 1, "z": [2]}}',
    // whitespace: JSON inside, Python's outside
    ' \t\r\n{ "a" :\t1 ,\r\n"b"\n:\n[ 1 ,2 ] } \t ',
    '\u00a0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000\x1c\x1d\x1e\x1f\x0b\x0c\x85{"a": 1}\x85\u3000',
    '\ufeff{"bom": true}',
    '\ufeff  {"bom": "then whitespace"}',
    // the hash field rules
    '{"chain_hash": "x", "a": 1, "_integrity_hash": "y"}',
    '{"_integrity_hash": "y", "chain_hash": "x"}',
    '{"_integrity_hash": "a", "b": 1, "_integrity_hash": "c"}',
    '{"chain_hash": "a", "_integrity_hash": "b", "chain_hash": "c"}',
    '{"chain_hash": {"z": 1, "a": [2]}, "_integrity_hash": "y"}',
    '{"_integrity_hash": null}',
    '{"_integrity_hash": 5, "x": 1}',
    '{"_integrity_hash": {"k": 1}}',
    '{"_integrity\\u005fhash": "\\u0061bc\\n", "x": 1}',
    '{"x": {"_integrity_hash": "nested stays"}}',
    '{}',
    '{"no": "hash"}',
    // not objects, blank
    '[1, 2]',
    '42',
    '"x"',
    'null',
    '',
    ' \u3000 ',
    '\ufeff',
    // number-like keys (reported, and sortable by value)
    '{"a": {"2.5": 1, "-10": 2}, "b": {"1": 1, "true": 2}, "c": {"x": 1, "2": 2}, "d": {"10": 1, "9": 2, "1e+16": 3}}',
  ];
  it('hand-picked strings, numbers, nesting, duplicates, whitespace, non-ASCII, hash fields', () => {
    for (const t of tricky) assertSame(utf8(t));
  });

  it('number literals longer than any buffer, exactly as canonical.ts converts them', () => {
    const longs = [
      '0.' + '0'.repeat(6000) + '1',
      '1' + '0'.repeat(5000) + '.5',
      '1.' + '3'.repeat(9000),
      '9'.repeat(800) + '.' + '9'.repeat(4000) + 'e-5000',
      '2.' + '0'.repeat(5000) + '1e-308',
      // Exactly half-way between two doubles (ties to even), and just above it: the digit after 5000 zeros decides.
      `${5n ** 1075n}.${'0'.repeat(5000)}e-1075`,
      `${5n ** 1075n}.${'0'.repeat(5000)}1e-1075`,
      `${(2n ** 53n + 1n) * 5n ** 53n}.${'0'.repeat(5000)}e-53`,
      `${(2n ** 53n + 1n) * 5n ** 53n}.${'0'.repeat(5000)}1e-53`,
      '-' + '7'.repeat(4300) + '.0',
      '0.' + '0'.repeat(4500),
      '-0.' + '0'.repeat(4500) + 'e99999999999999999999',
      '1.5e' + '0'.repeat(5000) + '3',
      '1e-' + '9'.repeat(5000),
      '9'.repeat(4300),
      '-' + '9'.repeat(4300),
    ];
    for (const n of longs) assertSame(utf8(`{"n": ${n}, "m": [${n}]}`), [7, 1 << 20]);
  });

  it('nesting up to the limit (990 containers), objects and arrays, tables kept or not', () => {
    const deepObj = '{"a": '.repeat(989) + '{"z": 1, "y": [2]}' + '}'.repeat(989);
    const mixed = '{"a": ' + '[{"b": '.repeat(493) + '[3, {"d": 1, "c": 2}]' + '}]'.repeat(493) + '}';
    for (const t of [deepObj, mixed]) {
      assertSame(utf8(t), [3, 1 << 20]);
      assertSame(utf8(t), [1 << 20], undefined, { tableCacheBytes: 0 });
    }
  });

  it('sorts number-like keys by value when told to, calling numberKeysByValue with the same indexes', () => {
    const t =
      '{"d": {"200": 41, "404": 3, "1000": 1}, "e": {"2.5": 1, ' +
      '"10": 2, "-1.0": 3}, "f": {"true": 1, "2": 2, "false": 3},' +
      ' "g": [{"10": 1, "9": 2}, {"1": 1, "1.0": 2, "true": 3}], "h": {"x": 1}}';
    const pick: Array<(i: number) => boolean> = [() => true, () => false, (i) => i % 2 === 0, (i) => i === 3];
    for (const byValue of pick) {
      const wanted: number[] = [];
      const got: number[] = [];
      const want = reference(utf8(t), {
        hashKeys: HASH_KEYS,
        numberKeysByValue: (i) => (wanted.push(i), byValue(i)),
      });
      for (const chunk of [1, 5, 1 << 20]) {
        got.length = 0;
        const s = streamed(utf8(t), chunk, {
          hashKeys: HASH_KEYS,
          numberKeysByValue: (i) => (got.push(i), byValue(i)),
        });
        assert.equal(s, want);
        assert.deepEqual(got, wanted);
      }
      for (const chunk of [2, 1 << 20])
        assert.equal(
          streamed(utf8(t), chunk, { hashKeys: HASH_KEYS, numberKeysByValue: byValue }, { tableCacheBytes: 0 }),
          want,
        );
    }
  });

  it('reads only [start, end): a line in the middle of a real file, through fdByteSource', () => {
    const dir = mkdtempSync(join(tmpdir(), 'streaming-fd-'));
    try {
      const lines: string[] = [];
      let prev = GENESIS_HASH;
      const r = prng(3);
      for (let i = 0; i < 5; i++) {
        const { line, hash } = sealEntry(makeEntry(r, 1_780_000_000_000_000n, i + 1, 1, 'writer'), prev);
        lines.push(line);
        prev = hash;
      }
      const path = join(dir, 'audit-2026-02-01.jsonl');
      writeFileSync(path, lines.join(''));
      const fd = openSync(path, 'r');
      try {
        let at = 0;
        prev = GENESIS_HASH;
        for (const line of lines) {
          const len = Buffer.byteLength(line) - 1;
          const s = streamingChainHash(fdByteSource(fd), at, at + len, prev, { hashKeys: HASH_KEYS, readBytes: 100 });
          assert.ok(s.kind === 'entry' && s.computed === s.stored, line);
          prev = s.stored as string;
          at += len + 1;
        }
      } finally {
        closeSync(fd);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('streamingChainHash: errors, with the codes canonicalizeEntry gives', () => {
  const bad: Array<[string | Buffer, string]> = [
    ['{"a": 1', 'malformed'],
    ['{"a": 1}}', 'malformed'],
    ['{"a": 1} x', 'malformed'],
    ['{"a": 1}\ufeff', 'malformed'],
    ['{"a": "x\ty"}', 'malformed'],
    ['{"a": "x', 'malformed'],
    ['{"a": "x\\', 'malformed'],
    ['{"a": "\\u12"}', 'malformed'],
    ['{"a": "\\u12g4"}', 'malformed'],
    ['{"a": "\\x"}', 'malformed'],
    ['{"a": 01}', 'malformed'],
    ['{"a": -}', 'malformed'],
    ['{"a": -I}', 'malformed'],
    ['{"a": -Infinit}', 'malformed'],
    ['{"a": 1.}', 'malformed'],
    ['{"a": 1.e5}', 'malformed'],
    ['{"a": 1e}', 'malformed'],
    ['{"a": 1e+}', 'malformed'],
    ['{"a": 1.5e-}', 'malformed'],
    ['{"a": +1}', 'malformed'],
    ['{"a": .5}', 'malformed'],
    ['{"a": tru}', 'malformed'],
    ['{"a": nul}', 'malformed'],
    ['{"a": nan}', 'malformed'],
    ["{'a': 1}", 'malformed'],
    ['{"a" 1}', 'malformed'],
    ['{"a": 1,}', 'malformed'],
    ['{,}', 'malformed'],
    ['[1,]', 'malformed'],
    ['{"a": [1 2]}', 'malformed'],
    ['\ufeff\ufeff{}', 'malformed'],
    ['{"a": 1}\u00a0x', 'malformed'],
    ['é{}', 'malformed'],
    ['{"a": ' + '1'.repeat(4301) + '}', 'int-too-long'],
    ['{"a": -' + '1'.repeat(4301) + '}', 'int-too-long'],
    ['{"a": ' + '1'.repeat(4301) + '.}', 'int-too-long'],
    ['{"a": ' + '1'.repeat(4301) + 'e}', 'int-too-long'],
    ['{"a": ' + '1'.repeat(4301) + '.5}', 'entry'],
    ['{"a": ' + '1'.repeat(4301) + 'x', 'int-too-long'],
    ['{"a": [' + '1'.repeat(4301) + ', "\\x"]}', 'int-too-long'],
    ['{"a": "\\x", "b": ' + '1'.repeat(4301) + '}', 'malformed'],
    ['['.repeat(991) + ']'.repeat(991), 'too-deep'],
    ['{"a": '.repeat(991) + '1' + '}'.repeat(991), 'too-deep'],
    ['['.repeat(5000), 'too-deep'],
    ['{"a": ' + '['.repeat(989) + ']'.repeat(989) + '}', 'entry'],
    ['{"a": ' + '['.repeat(990) + ']'.repeat(990) + '}', 'too-deep'],
    [Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x20, 0x22, 0xff, 0x22, 0x7d]), 'invalid-utf8'],
    [Buffer.concat([utf8('{"a": "'), Buffer.from([0xc3]), utf8('"}')]), 'invalid-utf8'],
    [Buffer.concat([utf8('{"a": "'), Buffer.from([0xed, 0xa0, 0x80]), utf8('"}')]), 'invalid-utf8'],
    [Buffer.concat([utf8('{"a": "'), Buffer.from([0xc0, 0xaf]), utf8('"}')]), 'invalid-utf8'],
    [Buffer.concat([utf8('{"a": "'), Buffer.from([0xf4, 0x90, 0x80, 0x80]), utf8('"}')]), 'invalid-utf8'],
    [Buffer.concat([utf8('{"a": "'), Buffer.from([0xe0, 0x80, 0x80]), utf8('"}')]), 'invalid-utf8'],
    [Buffer.concat([utf8('{"a": 1}'), Buffer.from([0xe3, 0x80])]), 'invalid-utf8'],
    [Buffer.concat([utf8('{"a": 1,, '), Buffer.from([0xf5])]), 'invalid-utf8'],
    [Buffer.concat([utf8('['.repeat(2000)), Buffer.from([0x80])]), 'invalid-utf8'],
    [Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf, 0xbf]), utf8('{}')]), 'invalid-utf8'],
  ];
  for (const [input, code] of bad) {
    const raw = typeof input === 'string' ? utf8(input) : input;
    it(`${raw.toString('latin1').slice(0, 40)} -> ${code}`, () => {
      const want = reference(raw);
      assert.equal(want.startsWith('{') ? 'entry' : want.replace(/^error /, ''), code, 'the reference itself');
      assertSame(raw, [1, 2, 3, 7, 1 << 20]);
    });
  }

  it('every mutation of random entries (deleted, inserted and cut bytes) gives the same outcome', () => {
    const r = prng(9);
    const inserts = [
      ...['"', '{', '}', '[', ']', ',', ':', '\\', ' ', '0', '-', '.', 'e', '+', 'u', 'n', 'I', '\t', '\n', '\x0b'],
      ...['\x00', '\x7f', 'é', '\u3000', '\ufeff', '\u2028'],
    ].map(utf8);
    const bytes = [0xff, 0xc3, 0xe2, 0x80, 0xed, 0xf0, 0xf4, 0xc0].map((b) => Buffer.of(b));
    const outcomes = new Set<string>();
    for (const t of randomJsonTexts(19, 1500)) {
      let b = utf8(`{"x": ${t}, "_integrity_hash": "h", "y": [1, {"chain_hash": 2}]}`);
      for (let k = 1 + Math.floor(r() * 3); k > 0; k--) {
        const p = Math.floor(r() * (b.length + 1));
        const op = r();
        if (op < 0.3) b = Buffer.concat([b.subarray(0, p), b.subarray(p + 1)]);
        else if (op < 0.9) {
          const piece = op < 0.8 ? inserts[Math.floor(r() * inserts.length)] : bytes[Math.floor(r() * bytes.length)];
          b = Buffer.concat([b.subarray(0, p), piece, b.subarray(p)]);
        } else b = b.subarray(0, p);
      }
      const want = reference(b);
      outcomes.add(want.startsWith('{') ? 'entry' : want);
      for (const chunk of [1, 3, 1 << 20]) assert.equal(streamed(b, chunk), want, b.toString('latin1'));
    }
    // The mutations reached the main outcomes (not-an-object and the bounds have their own cases).
    for (const o of ['entry', 'error malformed', 'error invalid-utf8']) assert.ok(outcomes.has(o), o);
  });

  it('reports byte offsets in the source', () => {
    const raw = Buffer.concat([utf8('{"a": "ok", "b": "'), Buffer.from([0xff]), utf8('"}')]);
    const file = Buffer.concat([HEAD, raw, TAIL]);
    assert.throws(
      () => streamingChainHash(chunkedSource(file, 3), HEAD.length, HEAD.length + raw.length, PREV, { hashKeys: [] }),
      (e: unknown) =>
        e instanceof StreamingCanonicalError && e.code === 'invalid-utf8' && e.position === HEAD.length + 18,
    );
  });

  it('a source that ends early, or a bad range, throws a plain Error (not a verdict)', () => {
    const short: ByteSource = { read: () => 0 };
    assert.throws(
      () => streamingChainHash(short, 0, 10, PREV, { hashKeys: [] }),
      (e: unknown) => e instanceof Error && !(e instanceof StreamingCanonicalError),
    );
    assert.throws(() => streamingChainHash(short, 5, 4, PREV, { hashKeys: [] }), RangeError);
  });
});

describe('streamingChainHash: bounds (too-complex, only for JSON that is otherwise fine)', () => {
  const code = (text: string, limits: Partial<StreamingLimits>): string => streamed(utf8(text), 3, undefined, limits);
  it('a key longer than maxKeyBytes, and a hash value longer than it', () => {
    assert.equal(code('{"' + 'k'.repeat(100) + '": 1}', { maxKeyBytes: 64 }), 'error too-complex');
    assert.equal(code('{"x": {"' + 'k'.repeat(64) + '": 1}}', { maxKeyBytes: 64 }).startsWith('{'), true);
    assert.equal(code('{"_integrity_hash": "' + 'h'.repeat(100) + '"}', { maxKeyBytes: 64 }), 'error too-complex');
  });
  it('more members on the open path than maxMembers, or more key text than maxPathKeyChars', () => {
    const wide = '{' + Array.from({ length: 50 }, (_, i) => `"k${i}": {"a": 1, "b": 2}`).join(', ') + '}';
    assert.equal(code(wide, { maxMembers: 49 }), 'error too-complex');
    assert.equal(code(wide, { maxMembers: 52 }).startsWith('{'), true, 'closed objects do not count');
    assert.equal(code(wide, { maxPathKeyChars: 100 }), 'error too-complex');
  });
  it('more than rescanFactor × the line scanned again', () => {
    const deep = '{"a": '.repeat(900) + '"' + 'x'.repeat(10_000) + '"' + '}'.repeat(900);
    assert.equal(code(deep, { tableCacheBytes: 0, rescanFactor: 0 }).startsWith('{'), true, '256 MiB of slack');
    assertSame(utf8(deep), [1 << 20], undefined, { tableCacheBytes: 0 });
    const many = '[' + Array.from({ length: 40 }, () => deep).join(', ') + ']';
    const file = Buffer.concat([HEAD, utf8(`{"m": ${many}}`), TAIL]);
    assert.throws(
      () =>
        streamingChainHash(chunkedSource(file, 1 << 20), HEAD.length, file.length - TAIL.length, PREV, {
          hashKeys: HASH_KEYS,
          limits: { tableCacheBytes: 0, rescanFactor: 1 },
        }),
      (e: unknown) => e instanceof StreamingCanonicalError && e.code === 'too-complex',
    );
  });
  it("a JSON or UTF-8 error later in the line wins over a bound (it is Python's answer)", () => {
    assert.equal(code('{"' + 'k'.repeat(100) + '": 1, "b": tru}', { maxKeyBytes: 64 }), 'error malformed');
    const raw = Buffer.concat([utf8('{"' + 'k'.repeat(100) + '": "'), Buffer.of(0xff), utf8('"}')]);
    assert.equal(streamed(raw, 3, undefined, { maxKeyBytes: 64 }), 'error invalid-utf8');
  });
  it('a non-object is reported as such whatever its size', () => {
    assert.equal(code('[{"' + 'k'.repeat(100) + '": 1}]', { maxKeyBytes: 64 }), 'not-an-object');
  });
});

describe('streamingChainHash: a 50 MB entry', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'streaming-big-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('verifies with the writer rule, and the verifying process stays under 100 MB peak RSS', () => {
    const file = join(dir, 'audit-2026-06-01.jsonl');
    const hashes = writeBigLineFile(file, 50 * 1024 * 1024);
    const report = verifyInChild(bundleStreaming(dir), file);
    assert.deepEqual(report.failures, []);
    assert.deepEqual(report.stored, hashes);
    assert.ok(report.longest > 50 * 1024 * 1024, `longest line ${report.longest}`);
    const mb = (n: number): string => (n / 1048576).toFixed(1) + ' MB';
    assert.ok(report.maxRss < 100 * 1048576, `peak RSS ${mb(report.maxRss)} (at start ${mb(report.baseRss)})`);
  });
});
