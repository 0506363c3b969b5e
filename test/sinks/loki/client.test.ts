/**
 * The Loki push client: what a Loki answer means for a batch, on Loki's own messages
 * (pkg/validation/validate.go's format strings filled in, the ingester's wrapping,
 * util.GroupedErrors' grouping) and the pages a proxy in front of it sends: only a 400 naming an
 * entry problem is about entries. And its streams: labels from entry content stay bounded in
 * number.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WriterFormEntry, type ReadEntry } from '../../../src/core/read/entries.js';
import { BlockPool, ByteList } from '../../../src/core/runtime/bytelist.js';
import { toView } from '../../../src/core/read/view.js';
import {
  appendValue,
  IngestClock,
  checkLokiHeaders,
  KNOWN_EVENT_FAMILIES,
  LokiConfigError,
  LokiPushClient,
  lokiRefusal,
  MAX_OTHER_EVENT_FAMILIES,
  OTHER_EVENT_FAMILY,
  refusedEntryCount,
} from '../../../src/sinks/loki/client.js';

const STREAM = '{event_family="auth", host="h", job="loki-audit", level="info", service_name="loki-audit"}';

/** One message of each kind Loki refuses an entry with, as its distributor and ingester print them. */
const ENTRY_MESSAGES = [
  `entry for stream '${STREAM}' has timestamp too old: ` +
    `2026-01-01T00:00:00Z, oldest acceptable timestamp is: 2026-01-08T00:00:00Z`,
  `entry for stream '${STREAM}' has timestamp too new: 2027-01-01T00:00:00Z`,
  `max entry size '262144' bytes exceeded for stream '${STREAM}' while adding an entry with length '300000' bytes`,
  `Max entry size '262144' bytes exceeded for stream '${STREAM}' while adding an entry with length '300000' bytes`,
  `stream '${STREAM}' has structured metadata too large: '70000' bytes, limit: '65536' bytes. Please ` +
    `see \`limits_config.max_structured_metadata_size\` or contact your Loki administrator to increase it`,
  `error parsing labels '{level="info", 0x="y"}' with error: 1:17: parse error: unexpected character`,
  `stream '${STREAM}' has label value too long: 'xxxx'`,
  `entry for stream '${STREAM}' has 16 label names; limit 15`,
  "entry with timestamp 2026-01-01 00:00:00 +0000 UTC ignored, reason: 'entry too far " +
    'behind, entry timestamp is: 2026-01-01T00:00:00Z, oldest acceptable timestamp is: ' +
    "2026-01-01T01:00:00Z',\nuser 'acme', total ignored: 1 out of 20 for stream: {job=\"loki-audit\"}",
];

describe('lokiRefusal', () => {
  it('a 400 naming an entry problem refuses entries', () => {
    for (const m of ENTRY_MESSAGES) assert.equal(lokiRefusal(400, m), 'entries', m);
  });

  it("a 400 about the tenant or the push itself is the target's, even with entry problems beside it", () => {
    for (const m of [
      `stream '${STREAM}' includes structured metadata, but this feature is disallowed. Please see ` +
        `\`limits_config.allow_structured_metadata\` or contact your Loki administrator to enable it`,
      `missing required labels 'team' for user 'acme' for stream '${STREAM}' (policy: 'p')`,
      "couldn't parse push request: loghttp.PushRequest.Streams: " +
        '[]*loghttp.Stream: ReadArray: expect [ or , or ] or n, but found {',
      '<html><head><title>400 Bad Request</title></head><body>nginx</body></html>',
      `2 errors like: ${ENTRY_MESSAGES[1]}; 1 errors like: stream '${STREAM}' ` +
        `includes structured metadata, but this feature is disallowed.`,
    ])
      assert.equal(lokiRefusal(400, m), 'target', m);
  });

  it(
    '429, 408 and 5xx are retried; 401/403 credentials; 404, 405 ' +
      'and redirects the path; 413 the size; other 4xx the target',
    () => {
      assert.deepEqual(
        [429, 408, 500, 502, 503, 504].map((s) => lokiRefusal(s, 'x')),
        [null, null, null, null, null, null],
      );
      assert.deepEqual(
        [401, 403, 404, 405, 301, 308, 413, 415, 422, 409].map((s) => lokiRefusal(s, 'x')),
        ['credentials', 'credentials', 'path', 'path', 'path', 'path', 'too-large', 'target', 'target', 'target'],
      );
    },
  );
});

describe('refusedEntryCount', () => {
  it("sums the entry groups of Loki's grouped errors; a single error has no count; label errors count once", () => {
    assert.equal(refusedEntryCount(ENTRY_MESSAGES[0]), 0);
    assert.equal(refusedEntryCount(`3 errors like: ${ENTRY_MESSAGES[0]}; 2 errors like: ${ENTRY_MESSAGES[1]}`), 5);
    assert.equal(
      refusedEntryCount(`1 errors like: ${ENTRY_MESSAGES[0]}; 4 errors like: something Loki says of no entry`),
      1,
      'groups of other problems are not counted',
    );
  });
});

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

describe('IngestClock', () => {
  it('gives what ms × 10^6, at least one more than the last, gives: repeats, steps back, a full ms', () => {
    const clock = new IngestClock();
    let last = 0n;
    const reference = (now: number) => {
      let ns = BigInt(now) * 1_000_000n;
      if (ns <= last) ns = last + 1n;
      return (last = ns).toString();
    };
    const t = 1_764_000_000_000;
    const nows = [t, t, t, t + 1, t - 5_000, t + 1, t + 2, ...Array(1_000_001).fill(t + 3), t + 4, t + 5];
    let prev = -1n;
    for (const now of nows) {
      const got = clock.next(now);
      assert.equal(got, reference(now), `at ${now}`);
      assert.ok(BigInt(got) > prev, 'strictly increasing');
      prev = BigInt(got);
    }
  });
});

describe('checkLokiHeaders', () => {
  const none = { kind: 'none' } as const;
  it("takes Loki's tenant characters and visible-ASCII tokens", () => {
    for (const tenant of [undefined, 'acme', "a-b_c.d*e'f(g)!", 'x'.repeat(150)]) checkLokiHeaders(tenant, none);
    checkLokiHeaders('a|b', none, { query: true });
    checkLokiHeaders('acme', { kind: 'bearer', token: 'glc_eyJvIjoiMTIzIn0=' });
    checkLokiHeaders('acme', { kind: 'basic', username: 'user@example', password: 'pä ss:wörd\u0001' });
  });

  it('refuses a tenant Loki refuses, naming it escaped later by the printer', () => {
    for (const tenant of ['', 'a b', 'a/b', '.', '..', 'x'.repeat(151), 'a\r\nX-Injected: 1', 'ténant', 'a|b'])
      assert.throws(() => checkLokiHeaders(tenant, none), LokiConfigError, JSON.stringify(tenant));
    assert.throws(() => checkLokiHeaders('a||b', none, { query: true }), /invalid Loki tenant "a\|\|b"/);
  });

  it('refuses a token or user id a header cannot carry, never repeating the secret', () => {
    for (const token of ['s3cr3t\r\nX-Injected: 1', 'sec ret', 'sécret', 'sec\u0000ret', 'sec€ret']) {
      assert.throws(
        () => checkLokiHeaders(undefined, { kind: 'bearer', token }),
        (err: Error) => err instanceof LokiConfigError && !/sec|s3cr3t/.test(err.message),
        JSON.stringify(token),
      );
    }
    assert.throws(
      () => checkLokiHeaders(undefined, { kind: 'basic', username: 'a:b', password: 'pw' }),
      /username cannot contain ":"/,
    );
  });

  it('the push client checks at construction, before any request', () => {
    assert.throws(
      () => new LokiPushClient({ url: 'http://127.0.0.1:9', tenant: 'a b', auth: none }),
      /invalid Loki tenant "a b"/,
    );
  });
});

describe('LokiPushClient kept streams', () => {
  it('an event gets the same stream each time, before and after the kept ones are full, per level', () => {
    const c = client();
    const first = new Map<string, string>();
    for (let round = 0; round < 2; round++)
      for (let i = 0; i < 5000; i++)
        for (const success of [true, false]) {
          const r = c.encode(entry(`rt${i}`, success));
          assert.ok(r.ok);
          const id = `rt${i}/${success}`;
          const labels = JSON.stringify(r.stream.labels);
          if (round === 0) first.set(id, labels);
          else assert.equal(labels, first.get(id), id);
          assert.equal(r.stream.labels.level, success ? 'info' : 'error');
          assert.equal(r.stream.key, labels, 'the key is the labels as sent');
        }
    assert.equal(JSON.parse(first.get('rt4999/true')!).event_family, OTHER_EVENT_FAMILY);
    assert.equal(JSON.parse(first.get('rt0/false')!).event_family, 'rt0');
  });
});

describe('LokiPushClient values', () => {
  it("a line in the writer's form goes out as bytes, escaped to what JSON.stringify of its text gives", () => {
    const c = client();
    const record = {
      timestamp: '2026-02-01T00:21:36.451467+00:00',
      action: 'login',
      resource_type: 'auth',
      user_id: 'mallory',
      success: false,
      error: 'said "no" \\ twice',
      details: { path: 'C:\\Users\\"x"' },
    };
    const text = JSON.stringify(record);
    const raw = {
      bytes: Buffer.from(text),
      line: 7,
      offset: 0,
      length: text.length,
      terminated: true,
      tooLong: false,
      crlf: false,
    };
    const writer = new WriterFormEntry(raw, 'audit-2026-02-01.jsonl', toView(record));
    const enc = c.encode(writer);
    assert.ok(enc.ok && typeof enc.line !== 'string', 'the writer-form line is kept as its bytes');
    const body = new ByteList(new BlockPool(4096));
    appendValue(body, enc, true);
    const value = JSON.parse(Buffer.concat(body.chunks()).toString()) as unknown[];
    assert.equal(value[1], text, 'the pushed line is the text, byte for byte');
    assert.deepEqual(value[2], { file: 'audit-2026-02-01.jsonl', line: '7' });
    const plain = c.encode({ ...writer, kind: 'entry', record } as ReadEntry);
    assert.ok(plain.ok && plain.line === JSON.stringify(text), 'any other entry is a JSON string already');
  });
});
