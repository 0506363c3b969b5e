/**
 * The original text of JSON values: members, paths and compaction keep every number exactly as
 * written, agree with JSON.parse on everything else, and work at any depth.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAuditJson } from '../../../src/core/read/entries.js';
import { compactJson, memberText, memberTexts, valueTextAt } from '../../../src/core/read/json-text.js';
import { randomJsonTexts } from '../../helpers/random-json.js';

/** Number and non-finite tokens outside strings, in order. */
function numberTokens(text: string): string[] {
  return [...text.replace(/"(?:[^"\\]|\\.)*"/g, '""').matchAll(/-?Infinity|NaN|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g)].map(
    (m) => m[0],
  );
}

describe('memberTexts', () => {
  it('gives each top-level member its text exactly as written: big integers, 1.0, -0.0, exponents, NaN', () => {
    const line =
      '{"timestamp": "2026-02-01T00:00:00+00:00", "user_id": 18446744073709551617, "a": 1.0, "b": -0.0, ' +
      '"c": 1E5, "d": NaN, "e": -Infinity, "details": {"n": ' +
      '123456789012345678901234567890, "x": [1.10, "s"]}, "s": "x\\"}"}';
    const m = memberTexts(line);
    assert.deepEqual(
      [...m],
      [
        ['timestamp', '"2026-02-01T00:00:00+00:00"'],
        ['user_id', '18446744073709551617'],
        ['a', '1.0'],
        ['b', '-0.0'],
        ['c', '1E5'],
        ['d', 'NaN'],
        ['e', '-Infinity'],
        ['details', '{"n": 123456789012345678901234567890, "x": [1.10, "s"]}'],
        ['s', '"x\\"}"'],
      ],
    );
  });

  it('decodes escaped keys; a duplicate key keeps its first place and its last value, as JSON.parse does', () => {
    const line = '{"\\u0061": 1, "b": 2, "a": 3, "\\\\": 4}';
    const m = memberTexts(line);
    assert.deepEqual([...m.keys()], Object.keys(JSON.parse(line)));
    assert.deepEqual(
      [...m],
      [
        ['a', '3'],
        ['b', '2'],
        ['\\', '4'],
      ],
    );
  });

  it('whitespace anywhere between tokens (tabs, CR, LF) and an empty object', () => {
    assert.deepEqual(
      [...memberTexts('{ \t"a"\r\n:\n[ 1 ,2 ] , "b" :"x" }')],
      [
        ['a', '[ 1 ,2 ]'],
        ['b', '"x"'],
      ],
    );
    assert.deepEqual([...memberTexts('{}')], []);
    assert.deepEqual([...memberTexts('{ }')], []);
  });
});

describe('memberText', () => {
  it('finds a member from the end of its object: escaped quotes and backslashes in strings, look-alike text', () => {
    const line =
      '{"a": "x\\"", "b": "\\"c\\": 1, \\"d\\": 2", "c": [1, "]", {"c": 3}], "d": {"details": 4}, ' +
      '"e\\"": 5, "details": {"k": "v\\\\"}, "z": "\\\\"}';
    const parsed = JSON.parse(line) as Record<string, unknown>;
    for (const key of Object.keys(parsed)) assert.deepEqual(JSON.parse(memberText(line, key)!), parsed[key], key);
    assert.equal(memberText(line, 'details'), '{"k": "v\\\\"}');
    assert.equal(memberText(line, 'e"'), '5');
    assert.equal(memberText(line, 'k'), undefined, 'a nested key is not a member');
    assert.equal(memberText('{}', 'a'), undefined);
    assert.equal(memberText(' { "a" : 1 } ', 'a'), '1');
  });

  it('agrees with JSON.parse on every member of 2000 random objects, the last duplicate winning', () => {
    const texts = randomJsonTexts(23, 4000).filter((t) => t.startsWith('{'));
    assert.ok(texts.length > 500, String(texts.length));
    for (const t of texts.slice(0, 2000)) {
      const parsed = parseAuditJson(t) as Record<string, unknown>;
      const all = memberTexts(t);
      // The same keys (JavaScript lists integer-like keys first; the text order is kept here).
      assert.deepEqual([...all.keys()].sort(), Object.keys(parsed).sort(), t);
      for (const [key, value] of Object.entries(parsed)) {
        const raw = memberText(t, key);
        assert.equal(raw, all.get(key), `${t} ${key}`);
        assert.deepEqual(parseAuditJson(raw!), value, `${t} ${key}`);
      }
    }
  });
});

describe('valueTextAt', () => {
  const text = '{"details": {"a": {"b": [10, {"c": 1.50}, 18446744073709551617]}, "a": {"b": [0]}}, "z": null}';
  it('follows object keys and array indexes, the last duplicate winning', () => {
    assert.equal(valueTextAt(text, ['details', 'a', 'b']), '[0]');
    assert.equal(valueTextAt('{"d": {"b": [10, {"c": 1.50}, 18446744073709551617]}}', ['d', 'b', '1', 'c']), '1.50');
    assert.equal(
      valueTextAt('{"d": {"b": [10, {"c": 1.50}, 18446744073709551617]}}', ['d', 'b', '2']),
      '18446744073709551617',
    );
    assert.equal(valueTextAt(text, ['z']), 'null');
    assert.equal(valueTextAt(text, []), text);
  });

  it('is undefined where JSON has nothing: a missing key, an index past the end, a path into a scalar', () => {
    assert.equal(valueTextAt(text, ['nope']), undefined);
    assert.equal(valueTextAt(text, ['details', 'a', 'b', '1']), undefined);
    assert.equal(valueTextAt(text, ['z', 'x']), undefined);
    assert.equal(valueTextAt(text, ['details', 'a', 'b', 'length']), undefined);
  });
});

describe('compactJson', () => {
  it('drops whitespace between tokens, keeps numbers as written, writes strings as JSON.stringify does', () => {
    assert.equal(
      compactJson('{"a": 1.0, "b": [ -0.0 , 1E+5, NaN ], "c": "\\u00e9\\/ x\\n", "d": "plain text"}'),
      '{"a":1.0,"b":[-0.0,1E+5,NaN],"c":"é/ x\\n","d":"plain text"}',
    );
    assert.equal(compactJson('"\\u2028\\ud800"'), '"\u2028\\ud800"');
    assert.equal(compactJson('{}'), '{}');
    assert.equal(compactJson('18446744073709551617'), '18446744073709551617');
  });

  it('agrees with JSON.parse on values and keeps every number token, on 2000 random texts', () => {
    for (const t of randomJsonTexts(16, 2000)) {
      const c = compactJson(t);
      assert.deepEqual(parseAuditJson(c), parseAuditJson(t), t);
      assert.deepEqual(numberTokens(c), numberTokens(t), t);
      assert.doesNotMatch(c.replace(/"(?:[^"\\]|\\.)*"/g, '""'), /\s/, t);
    }
  });
});

describe('at any depth', () => {
  it('members, paths and compaction of a value nested 100,000 deep (JSON.stringify overflows the stack)', () => {
    const depth = 100_000;
    const deep = '['.repeat(depth) + '1.0' + ']'.repeat(depth);
    const line = `{"a": ${deep}, "b": 2}`;
    assert.throws(() => JSON.stringify(JSON.parse(line)), RangeError);
    const m = memberTexts(line);
    assert.equal(m.get('a'), deep);
    assert.equal(m.get('b'), '2');
    assert.equal(valueTextAt(line, ['a', '0', '0']), deep.slice(2, -2));
    assert.equal(valueTextAt(line, ['b']), '2');
    const spaced = '[ '.repeat(depth) + '1.0' + ' ]'.repeat(depth);
    assert.equal(compactJson(spaced), deep);
  });
});
