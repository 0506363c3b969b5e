import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { describe, it } from 'node:test';
import { ECS_CATEGORIES, ECS_VERSION, ecsDocument } from '../../src/formats/ecs.js';
import { entryOf, HOSTILE, RAW_CONTROL } from '../helpers/siem.js';

/** Rows of ECS 9.4.0's ecs_flat.yml for the fields used (test/fixtures/ecs: source and commit inside). */
const ecs = JSON.parse(readFileSync(new URL('../fixtures/ecs/ecs-9.4.0-fields.json', import.meta.url), 'utf8')) as {
  ecs_version: string;
  fields: Array<{ name: string; type: string; normalize: string[]; object_type?: string; allowed_values?: string[] }>;
  top_level_names: string[];
};
const defs = new Map(ecs.fields.map((f) => [f.name, f]));

const lines = readFileSync(new URL('../../examples/audit/audit-2026-11-17.jsonl', import.meta.url), 'utf8').split('\n');
const PREV = '1'.repeat(64);

/** The leaves of a document as dotted names (labels and loki_audit as their own objects). */
function leaves(o: Record<string, unknown>, prefix = ''): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const [k, v] of Object.entries(o)) {
    const name = prefix + k;
    if (name === 'labels' || name === 'loki_audit' || typeof v !== 'object' || v === null || Array.isArray(v))
      out.push([name, v]);
    else out.push(...leaves(v as Record<string, unknown>, name + '.'));
  }
  return out;
}

/** Whether `v` is a value of ECS type `type` as JSON carries it (keyword/date strings, ip an address). */
function ofType(type: string, v: unknown, def: { normalize: string[] }): boolean {
  if (Array.isArray(v)) return def.normalize.includes('array') && v.every((x) => ofType(type, x, { normalize: [] }));
  if (type === 'keyword') return typeof v === 'string';
  if (type === 'date') return typeof v === 'string' && !Number.isNaN(Date.parse(v));
  if (type === 'ip') return typeof v === 'string' && isIP(v) !== 0;
  return false;
}

describe('ECS JSON documents', () => {
  it(`the fixture is ECS ${ECS_VERSION}`, () => assert.equal(ecs.ecs_version, ECS_VERSION));

  it('every field of every example entry is an ECS field of its ECS type, or under the custom loki_audit', () => {
    let checked = 0;
    for (const [i, line] of lines.entries()) {
      if (!line) continue;
      const doc = JSON.parse(ecsDocument(entryOf(line, { line: i + 1, prevHash: PREV }), { hostname: 'vm' }));
      for (const [name, value] of leaves(doc)) {
        if (name === 'loki_audit') {
          assert.ok(!ecs.top_level_names.includes('loki_audit'), 'the custom field set is not an ECS name');
          continue;
        }
        const def = defs.get(name);
        assert.ok(def, `${name} is not among the ECS definitions`);
        if (name === 'labels') {
          assert.equal(def.object_type, 'keyword');
          for (const [k, v] of Object.entries(value as object)) {
            assert.equal(typeof v, 'string', `labels.${k} must be a keyword (string)`);
            assert.match(k, /^[A-Za-z0-9_]+$/, `labels key ${k} must not nest`);
          }
          continue;
        }
        assert.ok(ofType(def.type, value, def), `${name}: ${JSON.stringify(value)} is not ECS type ${def.type}`);
        if (def.allowed_values)
          for (const v of [value].flat())
            assert.ok(def.allowed_values.includes(v as string), `${name}: ${v} is not an ECS allowed value`);
        checked++;
      }
    }
    assert.ok(checked > 100, String(checked));
  });

  it('the category table uses ECS allowed values only', () => {
    const allowed = defs.get('event.category')!.allowed_values!;
    for (const [family, cats] of Object.entries(ECS_CATEGORIES))
      for (const c of cats) assert.ok(allowed.includes(c), `${family}: ${c}`);
  });

  it('writes the exact document of a real entry; event.original is the line as written', () => {
    const doc = ecsDocument(entryOf(lines[10], { file: 'audit-2026-11-17.jsonl', line: 11, prevHash: PREV }), {
      hostname: 'vm',
    });
    assert.equal(
      doc,
      '{"@timestamp":"2026-11-17T02:26:30.133741+00:00","ecs":{"version":"9.4.0"},"event":{"kind":"event",' +
        '"action":"error","category":["api","web"],"outcome":"failure","original":' +
        JSON.stringify(lines[10]) +
        ',"hash":"589182c73f0417fa0509d7e1d6ef895b960dd713659488ea24e72a5cc831e6db"},"user":{"name":"bob"},' +
        '"host":{"name":"vm"},"labels":{"resource_type":"api","token_id":"b41d00e9a7c5",' +
        '"user_agent":"loki-sdk-ts/1.4.0","error":"validation failed: \\"name\\" is required",' +
        '"details_source":"dashboard","details_seq":"71","details_path":"/api/v1/tasks/14","details_status":"500",' +
        '"details_duration_ms":"744.44"},"loki_audit":{"prev_hash":"' +
        PREV +
        '","file":"audit-2026-11-17.jsonl","line":11}}',
    );
  });

  it('keeps big integers exact, an IP that is none in labels, hostile strings as the same values on one line', () => {
    const text =
      '{"timestamp": "2026-02-01T00:00:00+00:00", "action": "x", "ip_address": ' +
      JSON.stringify(HOSTILE) +
      ', "user_id": ' +
      JSON.stringify(HOSTILE) +
      ', "details": {"big": 18446744073709551617, "s": ' +
      JSON.stringify(HOSTILE) +
      '}}';
    const doc = ecsDocument(entryOf(text), { hostname: 'h' });
    assert.doesNotMatch(doc, RAW_CONTROL);
    const o = JSON.parse(doc);
    assert.equal(o.labels.details_big, '18446744073709551617');
    assert.equal(o.labels.details_s, HOSTILE);
    assert.equal(o.labels.ip_address, HOSTILE);
    assert.equal(o.source, undefined);
    assert.equal(o.user.name, HOSTILE);
    assert.equal(o.event.original, text);
    assert.equal(o.event.outcome, 'unknown');
  });
});
