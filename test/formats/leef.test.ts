import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { leefDevTime, leefRecord } from '../../src/formats/leef.js';
import { safeText, UNSAFE_SOURCE } from '../../src/formats/escape.js';
import { entryOf, HOSTILE, parseLeef, RAW_CONTROL_BUT_TAB } from '../helpers/siem.js';

const line11 = readFileSync(new URL('../../examples/audit/audit-2026-11-17.jsonl', import.meta.url), 'utf8').split(
  '\n',
)[10];
const PREV = '1'.repeat(64);
const device = { version: '0.1.0' };

/** What a LEEF value reads back as: tab, CR, LF themselves; other characters safeText escapes as their visible text. */
const readBack = (s: string) =>
  s.replace(new RegExp(UNSAFE_SOURCE, 'gu'), (c) => (c === '\n' || c === '\r' || c === '\t' ? c : safeText(c)));

describe('LEEF 2.0 records (IBM QRadar), with the chain', () => {
  it('writes the exact record of a real failed entry', () => {
    const e = entryOf(line11, { file: 'audit-2026-11-17.jsonl', line: 11, prevHash: PREV });
    assert.equal(
      leefRecord(e, device),
      [
        'LEEF:2.0|Autonomi|Loki Mode|0.1.0|error|x09|devTime=2026-11-17T02:26:30.133+00:00',
        "devTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
        'cat=api.error',
        'sev=8',
        'usrName=bob',
        'outcome=failure',
        'resourceType=api',
        'tokenId=b41d00e9a7c5',
        'chainHash=589182c73f0417fa0509d7e1d6ef895b960dd713659488ea24e72a5cc831e6db',
        `prevHash=${PREV}`,
        'fname=audit-2026-11-17.jsonl',
        'line=11',
        'msg=validation failed: "name" is required',
        'loki.source=dashboard',
        'loki.seq=71',
        'loki.path=/api/v1/tasks/14',
        'loki.status=500',
        'loki.duration_ms=744.44',
      ].join('\t'),
    );
  });

  it(
    'devTime: milliseconds cut, not rounded, the offset ' + 'kept; none for a time that is not ISO 8601 with offset',
    () => {
      assert.equal(leefDevTime('2026-02-01T23:59:59.999999Z'), '2026-02-01T23:59:59.999+00:00');
      assert.equal(leefDevTime('2026-02-01T10:00:00-05:00'), '2026-02-01T10:00:00.000-05:00');
      assert.equal(leefDevTime('yesterday'), undefined);
    },
  );

  it('hostile strings in every mapped field round-trip through a LEEF parser; no attribute or record is forged', () => {
    const text = JSON.stringify({
      timestamp: '2026-02-01T00:00:00Z',
      action: HOSTILE,
      resource_type: HOSTILE,
      resource_id: HOSTILE,
      user_id: HOSTILE,
      token_id: HOSTILE,
      ip_address: HOSTILE,
      success: true,
      error: HOSTILE,
      details: { [HOSTILE]: HOSTILE, v: HOSTILE, big: 0 },
      _integrity_hash: 'h',
    });
    const raw = text.replace('"big":0', '"big":18446744073709551617');
    const record = leefRecord(entryOf(raw, { prevHash: PREV }), { vendor: HOSTILE, product: 'p', version: '1' });
    assert.doesNotMatch(record.split('|').slice(0, 6).join('|'), /\t/);
    assert.doesNotMatch(record, RAW_CONTROL_BUT_TAB);
    const r = parseLeef(record);
    assert.equal(r.delimiter, '\t');
    assert.equal(r.header[0], safeText(HOSTILE));
    assert.equal(r.header[3], safeText(HOSTILE));
    for (const k of ['usrName', 'src', 'resourceType', 'resourceId', 'tokenId', 'msg', 'loki.v'])
      assert.equal(r.attrs.get(k), readBack(HOSTILE), k);
    assert.equal(r.attrs.get('loki.big'), '18446744073709551617');
    assert.equal(r.attrs.get('chainHash'), 'h');
    assert.equal(r.attrs.get('prevHash'), PREV);
  });
});
