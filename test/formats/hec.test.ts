import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { epochSecondsText, hecEvent, hecEventBytes } from '../../src/formats/hec.js';
import { entryOf, HOSTILE, RAW_CONTROL } from '../helpers/siem.js';

const line11 = readFileSync(new URL('../../examples/audit/audit-2026-11-17.jsonl', import.meta.url), 'utf8').split(
  '\n',
)[10];
const PREV = '1'.repeat(64);

describe('Splunk HEC events (Loki Mode envelope, the chain in indexed fields)', () => {
  it('writes the exact event of a real entry: time to the microsecond, event = the entry as written', () => {
    const e = entryOf(line11, { file: 'audit-2026-11-17.jsonl', line: 11, prevHash: PREV });
    assert.equal(
      hecEvent(e, { host: 'vm', index: 'audit' }),
      `{"time":1794882390.133741,"host":"vm","source":"loki-mode",` +
        `"sourcetype":"loki:audit","index":"audit","event":${line11},` +
        `"fields":{"chain_hash":"589182c73f0417fa0509d7e1d6ef895b960dd713659488ea24e72a5cc831e6db",` +
        `"prev_hash":"${PREV}",` +
        '"file":"audit-2026-11-17.jsonl","line":"11"}}',
    );
    assert.equal(Date.parse('2026-11-17T02:26:30.133741+00:00'), 1794882390133);
    assert.equal(hecEventBytes(e).at(-1), 0x0a);
  });

  it('epoch seconds exact in decimal: offsets, nanoseconds, before 1970, naive times as UTC', () => {
    assert.equal(epochSecondsText('2026-11-17T03:26:30.133741+01:00'), '1794882390.133741');
    assert.equal(epochSecondsText('2026-11-17T02:26:30.123456789Z'), '1794882390.123456789');
    assert.equal(epochSecondsText('2026-11-17T02:26:30'), '1794882390');
    assert.equal(epochSecondsText('1969-12-31T23:59:59.250000Z'), '-0.750000');
    assert.equal(epochSecondsText('1969-12-31T23:59:58.5Z'), '-1.5');
    assert.equal(epochSecondsText('not a time'), undefined);
  });

  it('keeps big integers, 1.0 and -0.0 as written; NaN/Infinity become strings (JSON has none); one line', () => {
    const text =
      `{"timestamp": "x", "action": "a", "details": {"big": 18446744073709551617, ` +
      `"f": 1.0, "z": -0.0, "n": NaN, "i": -Infinity, "s": ${JSON.stringify(HOSTILE)}}}`;
    const out = hecEvent(entryOf(text, { prevHash: PREV }));
    assert.doesNotMatch(out, RAW_CONTROL);
    assert.match(out, /"big": 18446744073709551617, "f": 1\.0, "z": -0\.0, "n": "NaN", "i": "-Infinity"/);
    const o = JSON.parse(out);
    assert.equal(o.time, undefined);
    assert.equal(o.event.details.s, HOSTILE);
    assert.deepEqual(
      Object.values(o.fields).map((v) => typeof v),
      ['string', 'string', 'string'],
    );
  });
});
