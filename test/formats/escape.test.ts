/**
 * safeText and safeJson: every invisible, reordering or control character a log line can carry
 * comes out as a visible escape; everything else (accents, CJK, emoji) unchanged.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSafeText, MAYBE_UNSAFE, safeJson, safeText, UNSAFE_SOURCE } from '../../src/formats/escape.js';

/** Every code point the brief of issue #16 (point 9) names, with its expected text escape. */
const HOSTILE: Array<[string, string]> = [
  ['\u0000', '\\x00'],
  ['\u001b', '\\x1b'],
  ['\n', '\\n'],
  ['\u007f', '\\x7f'],
  ['\u0085', '\\x85'],
  ['\u009b', '\\x9b'],
  ['\u00ad', '\\xad'],
  ['\u061c', '\\u061c'],
  ['\u200b', '\\u200b'],
  ['\u200d', '\\u200d'],
  ['\u200f', '\\u200f'],
  ['\u2028', '\\u2028'],
  ['\u2029', '\\u2029'],
  ['\u202a', '\\u202a'],
  ['\u202e', '\\u202e'],
  ['\u2060', '\\u2060'],
  ['\u2066', '\\u2066'],
  ['\u2069', '\\u2069'],
  ['\u206a', '\\u206a'],
  ['\u206f', '\\u206f'],
  ['\ufeff', '\\ufeff'],
  ['\u{e0000}', '\\u{e0000}'],
  ['\u{e0001}', '\\u{e0001}'],
  ['\u{e0041}', '\\u{e0041}'],
  ['\u{e007f}', '\\u{e007f}'],
  // Other format characters (Cf) and lone surrogates.
  ['\u180e', '\\u180e'],
  ['\ufff9', '\\ufff9'],
  ['\u{1d173}', '\\u{1d173}'],
  ['\ud800', '\\ud800'],
  ['\udfff', '\\udfff'],
];

describe('safeText', () => {
  it('escapes each control, bidi, invisible and tag character as visible text', () => {
    for (const [c, escaped] of HOSTILE) {
      const name = `U+${c.codePointAt(0)!.toString(16)}`;
      assert.equal(safeText(`a${c}b`), `a${escaped}b`, name);
      assert.equal(isSafeText(`a${c}b`), false, name);
    }
  });

  it('a tag-character "ASCII smuggling" string and a Trojan Source line show every hidden character', () => {
    const smuggled = 'ok' + [...'rm -rf'].map((ch) => String.fromCodePoint(0xe0000 + ch.charCodeAt(0))).join('');
    assert.equal(safeText(smuggled), 'ok\\u{e0072}\\u{e006d}\\u{e0020}\\u{e002d}\\u{e0072}\\u{e0066}');
    assert.equal(safeText('admin\u202e\u2066gnp.exe\u2069'), 'admin\\u202e\\u2066gnp.exe\\u2069');
  });

  it('the quick pre-test covers every BMP code point the exact class escapes (checked on this Unicode version)', () => {
    const exact = new RegExp(UNSAFE_SOURCE, 'u');
    const missed: string[] = [];
    let matched = 0;
    for (let cp = 0; cp <= 0xffff; cp++) {
      const c = String.fromCharCode(cp);
      if (!exact.test(c)) continue;
      matched++;
      if (!MAYBE_UNSAFE.test(c)) missed.push(cp.toString(16));
    }
    assert.deepEqual(missed, []);
    assert.ok(matched > 2000, 'C0, C1, the format characters and the surrogates'); // 2048 surrogates alone
  });

  it('leaves printable text alone: accents, CJK, emoji (surrogate pairs), NBSP', () => {
    for (const s of ['plain', 'café', '漢字', 'a\u00a0b', '😀 \u{1f468}', 'Ωmega', '\u{10ffff}', 'x"y\\z']) {
      assert.equal(safeText(s), s);
      assert.equal(isSafeText(s), true, s);
    }
  });
});

describe('safeJson', () => {
  it('gives valid JSON with the same value, every hostile character as \\u escapes', () => {
    for (const [c] of HOSTILE) {
      if (c.charCodeAt(0) < 0x20) continue; // raw controls cannot be inside a JSON string
      const json = JSON.stringify({ k: `a${c}b` }).replace(/\\u(d[89a-f][0-9a-f]{2})/g, (_m, h: string) =>
        String.fromCharCode(parseInt(h, 16)),
      );
      const out = safeJson(json);
      assert.deepEqual(JSON.parse(out), { k: `a${c}b` }, `U+${c.codePointAt(0)!.toString(16)}`);
      assert.equal(isSafeText(out), true, out);
    }
    assert.equal(safeJson('{"t":"\u{e0041}"}'), '{"t":"\\udb40\\udc41"}');
    assert.equal(safeJson('{"t":"\u202e"}'), '{"t":"\\u202e"}');
    assert.equal(safeJson('{\t"a":\r\n1}'), '{ "a":  1}');
    // Indented output keeps its line feeds when asked (only those), and stays one line by default.
    const indented = JSON.stringify({ a: [1, '\u202e\n'] }, null, 2);
    assert.equal(safeJson(indented, true), '{\n  "a": [\n    1,\n    "\\u202e\\n"\n  ]\n}');
    assert.equal(safeJson('{\t"a":\r\n1}', true), '{ "a": \n1}');
    assert.equal(safeJson(indented), '{   "a": [     1,     "\\u202e\\n"   ] }');
    assert.equal(safeJson('{"a": "café 😀"}'), '{"a": "café 😀"}');
  });
});
