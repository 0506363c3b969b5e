/**
 * Entry output of search, tail and export: on a terminal the JSON formats are escaped (same
 * values, still JSON); into a pipe jsonl and raw are the original bytes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Chalk } from 'chalk';
import { EntryPrinter, formatEntryText, type EntryFormat } from '../../src/output/entries.js';
import {
  EXACT_DETAILS,
  EXACT_DETAILS_COMPACT,
  EXACT_NUMBERS,
  RAW_HOSTILE,
  readEntryOf,
  UNSAFE_ON_TTY,
  writerEntry,
  writerLine,
} from '../helpers/hostile.js';

/** What an EntryPrinter prints for `lines`. */
async function printed(format: EntryFormat, lines: string[], terminal: boolean): Promise<Buffer> {
  const out: Buffer[] = [];
  const p = new EntryPrinter(
    format,
    new Chalk({ level: 0 }),
    (c, tail) => {
      out.push(Buffer.from(c));
      if (tail !== undefined) out.push(Buffer.from(tail));
    },
    { terminal },
  );
  for (const l of lines) await p.entry(readEntryOf(l));
  await p.end();
  return Buffer.concat(out);
}

// Raw hostile characters inside strings (JSON.stringify leaves them raw), a tab between tokens.
const LINE = JSON.stringify(writerEntry({ user_id: RAW_HOSTILE, details: { note: `a${RAW_HOSTILE}b` } })).replace(
  '{"timestamp"',
  '{\t"timestamp"',
);

describe('EntryPrinter', () => {
  it('jsonl and raw into a pipe are the original bytes, hostile characters and all', async () => {
    for (const format of ['jsonl', 'raw'] as const)
      assert.deepEqual(await printed(format, [LINE], false), Buffer.from(LINE + '\n'), format);
  });

  it('on a terminal, jsonl, raw and json are escaped: no hostile character, the same values', async () => {
    for (const format of ['jsonl', 'raw', 'json'] as const) {
      const out = (await printed(format, [LINE, LINE], true)).toString('utf8');
      assert.doesNotMatch(out, UNSAFE_ON_TTY, format);
      const values =
        format === 'json'
          ? JSON.parse(out)
          : out
              .trim()
              .split('\n')
              .map((l) => JSON.parse(l));
      assert.deepEqual(values, [JSON.parse(LINE), JSON.parse(LINE)], format);
    }
    const one = (await printed('jsonl', [LINE], true)).toString('utf8');
    assert.match(one, /"user_id": ?"\\u009b2J\\u202eevil\\u2066x\\u2069\\u2028\\u00ad\\u200b\\ufeff\\udb40\\udc41"/);
  });

  it('json into a pipe is the original text too (only a terminal gets escapes)', async () => {
    assert.equal((await printed('json', [LINE], false)).toString('utf8'), `[\n${LINE}\n]\n`);
  });

  it('text shows numbers as the line holds them: the actor and the compact details', () => {
    const line = writerLine({ user_id: EXACT_NUMBERS.big, details: EXACT_DETAILS });
    assert.equal(
      formatEntryText(readEntryOf(line), new Chalk({ level: 0 })),
      `2026-02-01T00:00:00+00:00 WARN  auth.login 18446744073709551617 ok ${EXACT_DETAILS_COMPACT}\n`,
    );
  });

  it(
    'json: a line with NaN stays valid JSON, NaN and ' + '±Infinity (only) as null, big integers and 1.0 as written',
    async () => {
      const line = writerLine({ user_id: EXACT_NUMBERS.big, details: EXACT_DETAILS });
      const out = (await printed('json', [line], false)).toString('utf8');
      const want = line.replace(': NaN', ': null').replace(': Infinity', ': null').replace(': -Infinity', ': null');
      assert.equal(out, `[\n${want}\n]\n`);
      assert.ok(JSON.parse(out));
      assert.match(out, /"user_id": 18446744073709551617, .*"one": 1\.0, "negZero": -0\.0, "exp": 1E5/);
    },
  );
});
