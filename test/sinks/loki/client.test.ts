/** The Loki push client's streams: labels from entry content stay bounded in number. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReadEntry } from '../../../src/core/read/entries.js';
import { toView } from '../../../src/core/read/view.js';
import {
  KNOWN_EVENT_FAMILIES,
  LokiPushClient,
  MAX_OTHER_EVENT_FAMILIES,
  OTHER_EVENT_FAMILY,
} from '../../../src/sinks/loki/client.js';

function entry(resourceType: string, success = true): ReadEntry {
  const record = {
    timestamp: '2026-02-01T00:21:36.451467+00:00',
    action: 'create',
    resource_type: resourceType,
    user_id: 'alice',
    success,
    error: null,
    details: {},
  };
  const text = JSON.stringify(record);
  return {
    kind: 'entry',
    file: 'audit-2026-02-01.jsonl',
    line: 1,
    offset: 0,
    bytes: Buffer.from(text),
    text,
    strictJson: true,
    record,
    view: toView(record),
  };
}

const client = () => new LokiPushClient({ url: 'http://127.0.0.1:9', auth: { kind: 'none' }, timestampMode: 'ingest' });

/** The stream labels of an encoded entry. */
function labelsOf(c: LokiPushClient, e: ReadEntry): Record<string, string> {
  const r = c.encode(e);
  assert.ok(r.ok);
  return r.stream.labels;
}

describe('LokiPushClient streams', () => {
  it(`3,000 resource types make at most ${MAX_OTHER_EVENT_FAMILIES} families of their own, then "other"`, () => {
    const c = client();
    const families = new Set<string>();
    const streams = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      for (const success of [true, false]) {
        const e = entry(`rt${i}`, success);
        const r = c.encode(e);
        assert.ok(r.ok);
        families.add(r.stream.labels.event_family);
        streams.add(r.stream.key);
      }
    }
    assert.equal(families.size, MAX_OTHER_EVENT_FAMILIES + 1);
    assert.ok(families.has(OTHER_EVENT_FAMILY));
    assert.ok(families.has('rt0') && families.has(`rt${MAX_OTHER_EVENT_FAMILIES - 1}`));
    assert.ok(!families.has(`rt${MAX_OTHER_EVENT_FAMILIES}`));
    assert.equal(streams.size, 2 * (MAX_OTHER_EVENT_FAMILIES + 1), 'two levels (info, error) per family label');
    // The first families keep their label after the bound is reached; later ones stay "other".
    assert.equal(labelsOf(c, entry('rt3')).event_family, 'rt3');
    assert.equal(labelsOf(c, entry('rt2999')).event_family, OTHER_EVENT_FAMILY);
  });

  it("Loki Mode's own families keep their label whatever came before", () => {
    const c = client();
    for (let i = 0; i < 100; i++) c.encode(entry(`custom${i}`));
    for (const family of ['task', 'auth', 'project', 'api_key', 'registry_project'])
      assert.equal(labelsOf(c, entry(family)).event_family, family);
    assert.ok(KNOWN_EVENT_FAMILIES.has('session'));
  });

  it('a family label is printable ASCII and bounded, and counts once however it is spelt in the log', () => {
    const c = client();
    const hostile = '\u001b[2J\u202e' + 'x'.repeat(500);
    const label = labelsOf(c, entry(hostile)).event_family;
    assert.match(label, /^[\x20-\x7e]{1,128}$/);
    assert.equal(label, '_[2J_' + 'x'.repeat(123));
    // Another spelling with the same safe label is the same family, not a new one.
    assert.equal(labelsOf(c, entry('\u0007[2J\u2066' + 'x'.repeat(600))).event_family, label);
    for (let i = 0; i < MAX_OTHER_EVENT_FAMILIES - 1; i++) c.encode(entry(`f${i}`));
    assert.equal(labelsOf(c, entry('one-more')).event_family, OTHER_EVENT_FAMILY);
  });
});
