import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  canonicalize,
  canonicalizeEntry,
  compareCodePoints,
  pyFloatRepr,
  PyJsonError,
  pyQuote,
  pyStrip,
} from '../../../src/core/pyjson/canonical.js';
import { randomJsonTexts } from '../../helpers/random-json.js';
import { FIXTURES } from '../../helpers/cli.js';
import { needsPython } from '../../helpers/python.js';

const vectors = readFileSync(join(FIXTURES, 'python-json', 'vectors.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { input: string; python: string });

describe('canonicalize matches CPython json.dumps(json.loads(x), sort_keys=True)', () => {
  for (const v of vectors) {
    it(`${v.input} -> ${v.python}`, () => {
      assert.equal(canonicalize(pyStrip(v.input)), v.python);
    });
  }
});

describe('pyFloatRepr follows repr(float)', () => {
  const cases: Array<[number, string]> = [
    [1, '1.0'],
    [0.1, '0.1'],
    [1e-5, '1e-05'],
    [0.0001, '0.0001'],
    [1e16, '1e+16'],
    [1e15, '1000000000000000.0'],
    [-0, '-0.0'],
    [5e-324, '5e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [123.456, '123.456'],
    [-1.5e-7, '-1.5e-07'],
    [2 ** 53, '9007199254740992.0'],
    [1e100, '1e+100'],
    [NaN, 'NaN'],
    [-Infinity, '-Infinity'],
  ];
  for (const [x, want] of cases) it(`${x} -> ${want}`, () => assert.equal(pyFloatRepr(x), want));
});

describe('strings and keys', () => {
  it('escapes every code unit outside printable ASCII, lowercase hex', () => {
    assert.equal(pyQuote('a\u00e9\ud83d\ude00\u007f\u001b"\\/'), '"a\\u00e9\\ud83d\\ude00\\u007f\\u001b\\"\\\\/"');
  });
  it('orders keys by code point, not UTF-16 unit', () => {
    assert.ok(compareCodePoints('\uffffkey', '\ud83d\ude00key') < 0);
    assert.ok(compareCodePoints('B', 'a') < 0);
    assert.ok(compareCodePoints('10', '9') < 0);
    assert.ok(compareCodePoints('\ud83d', '\ud83d\ude00') < 0);
    assert.ok(compareCodePoints('\ud83dx', '\ud83d\ude00') < 0, 'lone surrogate D83D sorts before U+1F600');
  });
  it('pyStrip removes Python whitespace but keeps a BOM', () => {
    assert.equal(pyStrip('\u00a0\u2028\x1c {} \x85\u3000'), '{}');
    assert.equal(pyStrip('\ufeff{}'), '\ufeff{}');
  });
});

describe('rejects what Python rejects', () => {
  const bad: Array<[string, string]> = [
    ['{"a": 1', 'malformed'],
    ['{"a": 1}}', 'malformed'],
    ['{"a": "x\ty"}', 'malformed'],
    ['01', 'malformed'],
    ['{"a": -}', 'malformed'],
    ["{'a': 1}", 'malformed'],
    ['[1,]', 'malformed'],
    ['"\\x"', 'malformed'],
    ['\ufeff{}', 'malformed'],
    ['1' + '0'.repeat(4300), 'int-too-long'],
    ['['.repeat(5000) + ']'.repeat(5000), 'too-deep'],
  ];
  for (const [text, code] of bad) {
    it(`${text.slice(0, 30)} -> ${code}`, () => {
      assert.throws(
        () => canonicalize(text),
        (e: unknown) => e instanceof PyJsonError && e.code === code,
      );
    });
  }
  it('accepts a 4300-digit integer exactly', () => {
    const n = '9'.repeat(4300);
    assert.equal(canonicalize(n), n);
  });
});

describe('canonicalizeEntry', () => {
  it('removes _integrity_hash and reports it (spec §9 worked example)', () => {
    const line = readFileSync(
      join(FIXTURES, 'loki-mode', 'extended', 'valid', 'writer', 'audit-2026-02-01.jsonl'),
      'utf8',
    ).split('\n')[0];
    const r = canonicalizeEntry(line, { hashKeys: ['_integrity_hash', 'chain_hash'] });
    assert.equal(r.hashKey, '_integrity_hash');
    assert.equal(r.hashValue, 'a123a695c10460468ccf216ed1c85ae91f6b0871f9e5632bda69d6df4e9a3306');
    assert.equal(
      r.canonical,
      '{"action": "complete", "details": {"agent": "qa", "seq": 1, "source": "api", "task_id": ' +
        '"task-275"}, "error": null, "ip_address": "2001:db8::5", "resource_id": null, ' +
        '"resource_type": "task", "success": true, "timestamp": "2026-02-01T00:21:36.451467+00:00", ' +
        '"token_id": "3f9a1c0b7d2e", "user_agent": "python-httpx/0.27.0", "user_id": "ci-bot"}',
    );
  });
  it('prefers _integrity_hash and keeps chain_hash in the body when both exist', () => {
    const r = canonicalizeEntry('{"chain_hash": "x", "a": 1, "_integrity_hash": "y"}', {
      hashKeys: ['_integrity_hash', 'chain_hash'],
    });
    assert.equal(r.hashValue, 'y');
    assert.equal(r.canonical, '{"a": 1, "chain_hash": "x"}');
  });
  it('reports a null hash as null and a non-object as such', () => {
    assert.equal(canonicalizeEntry('{"_integrity_hash": null}', { hashKeys: ['_integrity_hash'] }).hashValue, null);
    assert.equal(canonicalizeEntry('[1, 2]', { hashKeys: ['_integrity_hash'] }).isObject, false);
    assert.equal(canonicalizeEntry('{"a": [1, 2]}', { hashKeys: ['_integrity_hash'] }).isObject, true);
  });
  it('can order integer keys numerically, as the writer does for int dict keys', () => {
    const t = '{"d": {"200": 41, "404": 3, "1000": 1}}';
    assert.equal(canonicalizeEntry(t).canonical, '{"d": {"1000": 1, "200": 41, "404": 3}}');
    assert.equal(
      canonicalizeEntry(t, { numberKeysByValue: () => true }).canonical,
      '{"d": {"200": 41, "404": 3, "1000": 1}}',
    );
    assert.deepEqual(canonicalizeEntry(t).numberKeyObjects, ['int']);
  });
  it('reports duplicate keys (json.loads keeps the last; json.dumps never writes two)', () => {
    assert.equal(canonicalizeEntry('{"a": 1, "b": {"x": 1, "x": 2}}').duplicateKeys, true);
    assert.equal(canonicalizeEntry('{"a": 1, "b": {"x": 1, "y": 2}}').duplicateKeys, false);
  });
});

describe('number-like dict keys sorted by value, as the writer sorts non-string keys (spec §10.18)', () => {
  it(
    'equals CPython json.dumps(sort_keys=True) of dicts with int, float, negative, bool and mixed keys',
    {
      skip: needsPython,
    },
    () => {
      const script = `
import json
cases = [
  {2.5: 'a', 10.5: 'b', -1.0: 'c'},
  {-1: 'a', -10: 'b', 3: 'c', 0: 'd'},
  {1: 'a', 2.5: 'b', 10: 'c'},
  {True: 'x', 2: 'y', False: 'z'},
  {1e16: 'big', 1e-05: 'tiny', -2.5e-07: 'neg', 100: 'int'},
  {'outer': {10: 1, 9: 2}, 'str': {'10': 1, '9': 2}},
]
for c in cases:
    print(json.dumps({'details': c}))
    print(json.dumps({'details': c}, sort_keys=True))
`;
      const out = spawnSync('python3', ['-c', script], { encoding: 'utf8' });
      assert.equal(out.status, 0, out.stderr);
      const lines = out.stdout.trim().split('\n');
      for (let i = 0; i < lines.length; i += 2) {
        const written = lines[i];
        const writerHashInput = lines[i + 1];
        const r = canonicalizeEntry(written);
        // The last case mixes a real-int-keyed and a string-keyed object: only one of them by value.
        const byValue = i === lines.length - 2 ? (k: number) => r.numberKeyObjects.length === 2 && k === 0 : () => true;
        assert.equal(canonicalizeEntry(written, { numberKeysByValue: byValue }).canonical, writerHashInput, written);
      }
    },
  );
  it('knows which objects have number-like keys, and of which kind', () => {
    assert.deepEqual(
      canonicalizeEntry('{"a": {"2.5": 1, "-10": 2}, "b": {"1": 1, "true": 2}, "c": {"x": 1, "2": 2}}')
        .numberKeyObjects,
      ['number', 'int'],
    );
  });
});

// Cross-check against the real CPython on random values (python3 is on these machines for
// cross-checks; the product itself never needs it).
describe('random documents agree with CPython', { skip: needsPython }, () => {
  it('2000 random JSON texts canonicalize exactly as json.dumps(sort_keys=True)', () => {
    const inputs = randomJsonTexts(7, 2000);
    const py = spawnSync(
      'python3',
      [
        '-c',
        'import json,sys\nfor l in sys.stdin:\n    print(json.dumps(json.dumps(json.loads(json.loads(l)), ' +
          'sort_keys=True, default=str)))',
      ],
      {
        input: inputs.map((i) => JSON.stringify(i)).join('\n') + '\n',
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    assert.equal(py.status, 0, py.stderr);
    const expected = py.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as string);
    assert.equal(expected.length, inputs.length);
    for (let i = 0; i < inputs.length; i++) assert.equal(canonicalize(inputs[i]), expected[i], `input ${inputs[i]}`);
  });
});
