/**
 * CSV export cells: spreadsheet formulas never run (OWASP CSV injection), in every form a
 * spreadsheet reads as one; one row per line whatever a value holds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { csvCell, csvRow } from '../../src/formats/csv.js';
import {
  EXACT_DETAILS,
  EXACT_DETAILS_COMPACT,
  EXACT_NUMBERS,
  readEntryOf,
  writerEntry,
  writerLine,
} from '../helpers/hostile.js';

describe('csv cells', () => {
  it('neutralises formulas and keeps one row per line', () => {
    assert.equal(csvCell('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csvCell('+1'), "'+1");
    assert.equal(csvCell('-2'), "'-2");
    assert.equal(csvCell('@SUM(A1)'), "'@SUM(A1)");
    assert.equal(csvCell('a\nb'), 'a\\nb');
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell(null), '');
    assert.equal(csvCell({ k: 'x\u007fy' }), '"{""k"":""x\\u007fy""}"');
    const row = csvRow(readEntryOf(JSON.stringify(writerEntry({ error: 'line1\r\nline2' }))));
    assert.equal(row.split('\n').length, 2);
  });

  it(
    'neutralises the fullwidth and small forms of = + - @ ' + '(an IME types them; spreadsheets read them as ASCII)',
    () => {
      for (const sign of ['\uff1d', '\uff0b', '\uff0d', '\uff20', '\ufe66', '\ufe62', '\ufe63', '\ufe6b']) {
        const cell = `${sign}HYPERLINK("http://evil")`;
        assert.equal(csvCell(cell), `"'${cell.replace(/"/g, '""')}"`, `U+${sign.charCodeAt(0).toString(16)}`);
      }
    },
  );

  it('neutralises a formula after leading white space (spreadsheets trim it), ASCII or Unicode', () => {
    for (const lead of [' ', '   ', '\u00a0', '\u3000', '\u2003 ']) {
      assert.equal(csvCell(`${lead}=1+1`), `'${lead}=1+1`, JSON.stringify(lead));
      assert.equal(csvCell(`${lead}\uff1d1+1`), `'${lead}\uff1d1+1`, JSON.stringify(lead));
    }
    // A tab or CR is escaped first, so it cannot hide the sign either way.
    assert.equal(csvCell('\t=1'), '\\t=1');
  });

  it('leaves ordinary text alone, signs inside a value included', () => {
    for (const s of ['alice', 'a=b', 'x-y', 'mail@example.com', ' a = b', '１２３', 'Ａ＝Ｂ'])
      assert.equal(csvCell(s), s);
  });

  it(
    'numbers are exactly as the line holds them: beyond ' + "2^53, 1.0, -0.0, 1E5, NaN, ±Infinity (as Loki Mode's CSV)",
    () => {
      const line = writerLine({
        resource_id: EXACT_NUMBERS.negZero,
        user_id: EXACT_NUMBERS.big,
        token_id: EXACT_NUMBERS.nan,
        ip_address: EXACT_NUMBERS.negInf,
        details: EXACT_DETAILS,
        seq: EXACT_NUMBERS.huge,
        ratio: EXACT_NUMBERS.one,
      });
      const quoted = (s: string) => `"${s.replace(/"/g, '""')}"`;
      assert.equal(
        csvRow(readEntryOf(line)),
        [
          '2026-02-01T00:00:00+00:00,auth.login,warning,18446744073709551617,success,login,auth',
          '-0.0,18446744073709551617,NaN,-Infinity,,true,',
          quoted(EXACT_DETAILS_COMPACT),
          quoted('{"seq":123456789012345678901234567890,"ratio":1.0}'),
          ',audit-2026-02-01.jsonl,1,,\n', // not read through a chain tracker: verified unknown (empty)
        ].join(','),
      );
    },
  );
});
