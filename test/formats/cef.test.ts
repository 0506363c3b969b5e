import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { cefRecord } from '../../src/formats/cef.js';
import { cefExtensionValue, cefHeaderText, safeText, UNSAFE_SOURCE } from '../../src/formats/escape.js';
import { entryOf, HOSTILE, RAW_CONTROL, parseCef } from '../helpers/siem.js';

const line11 = readFileSync(new URL('../../examples/audit/audit-2026-11-17.jsonl', import.meta.url), 'utf8').split(
  '\n',
)[10];
const PREV = '1'.repeat(64);
const device = { version: '0.1.0' };

/** What the CEF parser reads back: the value, with what safeText escapes (but CR, LF) as its visible text. */
const readBack = (s: string) =>
  s.replace(new RegExp(UNSAFE_SOURCE, 'gu'), (c) => (c === '\n' || c === '\r' ? c : safeText(c)));

describe('CEF records (Loki Mode toCEF mapping, ArcSight CEF escaping, the chain)', () => {
  it('writes the exact record of a real failed entry: severity 8, msg, details, chain fields', () => {
    const e = entryOf(line11, { file: 'audit-2026-11-17.jsonl', line: 11, prevHash: PREV });
    assert.equal(
      cefRecord(e, device),
      'CEF:0|Autonomi|Loki Mode|0.1.0|error|error|8|rt=2026-11-17T02:26:30.133741+00:00 suser=bob ' +
        'cs1Label=resourceType cs1=api cs3Label=tokenId cs3=b41d00e9a7c5 outcome=failure ' +
        'cs4Label=chainHash cs4=589182c73f0417fa0509d7e1d6ef895b960dd713659488ea24e72a5cc831e6db ' +
        `cs5Label=prevHash cs5=${PREV} fname=audit-2026-11-17.jsonl cn1Label=line cn1=11 ` +
        'msg=validation failed: "name" is required loki.source=dashboard loki.seq=71 loki.path=/api/v1/tasks/14 ' +
        'loki.status=500 loki.duration_ms=744.44',
    );
  });

  it('honours vendor and product, escaping | and \\ in the header', () => {
    const e = entryOf(line11);
    const r = parseCef(cefRecord(e, { vendor: 'Ex|ample\\Co', product: 'Audit\nLog', version: '1|2' }));
    assert.deepEqual(r.header.slice(0, 3), ['Ex|ample\\Co', 'Audit Log', '1|2']);
  });

  it('severity from level (documented schema): debug 1, notice 4, warn 6, critical 9, emergency 10, unknown 3', () => {
    const sev = (level: string) =>
      parseCef(cefRecord(entryOf(JSON.stringify({ timestamp: 't', event: 'x.y', level, actor: 'a' })), device))
        .header[5];
    assert.deepEqual(
      ['debug', 'info', 'notice', 'warning', 'WARN', 'error', 'critical', 'alert', 'emergency', 'whatever'].map(sev),
      ['1', '3', '4', '6', '6', '8', '9', '10', '10', '3'],
    );
  });

  it('keeps numbers exactly as written: a big integer, -0.0, 1.0, NaN in details', () => {
    const text =
      '{"timestamp": "2026-02-01T00:00:00+00:00", "action": "x", "success": true, ' +
      '"details": {"big": 18446744073709551617, "neg": -0.0, "one": ' +
      '1.0, "nan": NaN, "arr": [18446744073709551617, "a,b"]}}';
    const r = parseCef(cefRecord(entryOf(text), device));
    assert.equal(r.ext.get('loki.big'), '18446744073709551617');
    assert.equal(r.ext.get('loki.neg'), '-0.0');
    assert.equal(r.ext.get('loki.one'), '1.0');
    assert.equal(r.ext.get('loki.nan'), 'NaN');
    assert.equal(r.ext.get('loki.arr'), '18446744073709551617,a,b');
  });

  it('flattens details 4 deep and makes detail keys CEF words; hostile keys cannot forge a field', () => {
    const text = JSON.stringify({
      action: 'x',
      details: { a: { b: { c: { d: { e: 1 } } } }, 'k=v x': 1, 'cs4 ': 'no', k_v_x: 2, '': 3 },
    });
    const r = parseCef(cefRecord(entryOf(text), device));
    assert.equal(r.ext.get('loki.a.b.c.d'), '{"e":1}');
    assert.equal(r.ext.get('loki.k_v_x'), '1'); // the first of two paths that make the same key
    assert.equal(r.ext.get('loki.cs4_'), 'no');
    assert.equal(r.ext.get('loki._'), '3');
    assert.equal(r.ext.has('cs4'), false);
  });

  it('hostile strings in every mapped field round-trip through a CEF parser; no field or record is forged', () => {
    const text = JSON.stringify({
      timestamp: HOSTILE,
      action: HOSTILE,
      resource_type: HOSTILE,
      resource_id: HOSTILE,
      user_id: HOSTILE,
      token_id: HOSTILE,
      ip_address: HOSTILE,
      success: false,
      error: HOSTILE,
      details: { [HOSTILE]: HOSTILE, v: HOSTILE },
      _integrity_hash: 'h',
    });
    const record = cefRecord(entryOf(text, { prevHash: PREV }), { vendor: HOSTILE, product: HOSTILE, version: '1' });
    assert.doesNotMatch(record, RAW_CONTROL);
    const r = parseCef(record);
    const header = readBack(HOSTILE).replace(/[\r\n]/g, ' ');
    assert.deepEqual(r.header, [header, header, '1', header, header, '8']);
    for (const k of ['rt', 'suser', 'src', 'cs1', 'cs2', 'cs3', 'msg', 'loki.v'])
      assert.equal(r.ext.get(k), readBack(HOSTILE), k);
    assert.equal(r.ext.get('cs4'), 'h');
    assert.equal(r.ext.get('cs5'), PREV);
    assert.equal(r.ext.get('cn1'), '7');
    const hostileKey = [...r.ext.keys()].filter((k) => k.startsWith('loki.') && k !== 'loki.v');
    assert.deepEqual(hostileKey, ['loki.' + HOSTILE.replace(/[^A-Za-z0-9_]/gu, '_')]);
  });

  it('a record cut to a limit keeps the header and the chain fields, and ends with a visible marker', () => {
    const text = JSON.stringify({
      action: 'x',
      success: true,
      _integrity_hash: 'h',
      details: { big: 'é'.repeat(3000) },
    });
    const record = cefRecord(entryOf(text, { prevHash: PREV }), { ...device, maxBytes: 600 });
    assert.ok(Buffer.byteLength(record) <= 600, String(Buffer.byteLength(record)));
    const r = parseCef(record);
    assert.equal(r.ext.get('cs5'), PREV);
    assert.match(r.ext.get('loki.big') ?? '', /^é+…\[truncated \d+ bytes\]$/);
    const whole = cefRecord(entryOf(text, { prevHash: PREV }), device);
    const omitted = Number(/truncated (\d+) bytes/.exec(record)![1]);
    assert.equal(
      Buffer.byteLength(record.replace(/…\[truncated \d+ bytes\]$/, '')) + omitted,
      Buffer.byteLength(whole),
    );
  });

  it('escape functions: the standard escapes, nothing raw', () => {
    assert.equal(cefHeaderText('a|b\\c\r\nd'), 'a\\|b\\\\c  d');
    assert.equal(cefExtensionValue('a=b\\c\r\nd|e\tf'), 'a\\=b\\\\c\\r\\nd|e\\\\tf');
  });
});
