/**
 * The Splunk HEC target against the HEC receiver (test/helpers/hec-receiver.ts, written to
 * Splunk's documented behaviour): the envelope and the chain fields, batching into one request
 * of concatenated events, acknowledgement on and off (and required), delayed acks, what each
 * HEC status code means for a batch, slicing a refused batch, and the URL forms taken.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { DeliverResult } from '../../../src/core/forward/target.js';
import type { ReadEntry } from '../../../src/core/read/entries.js';
import { HecClient, hecBase, hecRefusal, HecConfigError } from '../../../src/sinks/splunk/client.js';
import { HecTarget, type HecTargetConfig } from '../../../src/sinks/splunk/target.js';
import { tempDir } from '../../helpers/cli.js';
import { sampleEntries } from '../../helpers/entries.js';
import { HecReceiver } from '../../helpers/hec-receiver.js';

async function deliverAll(t: HecTarget, entries: ReadEntry[]): Promise<DeliverResult> {
  const b = t.batch();
  for (const e of entries) assert.equal(b.add(e), null);
  return t.deliver(b);
}

// The event record itself (envelope, exact time and numbers, chain fields) is formats/hec.ts's,
// tested in test/formats/hec.test.ts; here: that the target sends it, predecessor included.

describe('HEC status codes and URLs', () => {
  it('codes 1–4 credentials, 5/6/12/13/15 entries, 7/10/11/14 target, 8/9 and 429/5xx retried', () => {
    assert.deepEqual(
      [1, 2, 3, 4].map((c) => hecRefusal(c === 2 || c === 3 ? 401 : 403, c)),
      ['credentials', 'credentials', 'credentials', 'credentials'],
    );
    assert.deepEqual(
      [5, 6, 12, 13, 15].map((c) => hecRefusal(400, c)),
      ['entries', 'entries', 'entries', 'entries', 'entries'],
    );
    assert.deepEqual(
      [7, 10, 11, 14].map((c) => hecRefusal(400, c)),
      ['target', 'target', 'target', 'target'],
    );
    assert.deepEqual(
      [hecRefusal(500, 8), hecRefusal(503, 9), hecRefusal(429, null), hecRefusal(502, null)],
      [null, null, null, null],
    );
    assert.deepEqual(
      [
        hecRefusal(404, null),
        hecRefusal(301, null),
        hecRefusal(413, null),
        hecRefusal(401, null),
        hecRefusal(400, null),
      ],
      ['path', 'path', 'too-large', 'credentials', 'target'],
    );
  });

  it('the base URL or the event URL, with a proxy prefix kept; only http and https', () => {
    assert.equal(hecBase('https://splunk:8088').href, 'https://splunk:8088/');
    assert.equal(hecBase('https://splunk:8088/services/collector/event').href, 'https://splunk:8088/');
    assert.equal(hecBase('https://splunk:8088/services/collector').href, 'https://splunk:8088/');
    assert.equal(hecBase('https://proxy/splunk/services/collector/event/1.0').href, 'https://proxy/splunk');
    assert.equal(hecBase('http://proxy/splunk/').href, 'http://proxy/splunk');
    assert.throws(() => hecBase('tcp://splunk:8088'), HecConfigError);
    assert.throws(() => hecBase('file:///etc/passwd'), HecConfigError);
    assert.throws(() => hecBase('https://splunk:8088/services/collector/event?channel=x'), HecConfigError);
  });
});

describe('HecClient', () => {
  const channel = '0c5c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e';
  it('refuses a token an HTTP header cannot carry, at construction and without repeating it', () => {
    for (const token of ['s3cr3t\r\nX-Injected: 1', 'sec ret', 'sécret', 'sec\u0000ret'])
      assert.throws(
        () => new HecClient({ url: 'http://127.0.0.1:9', token, channel }),
        (err: Error) =>
          err instanceof HecConfigError && /cannot carry/.test(err.message) && !/sec|s3cr3t/.test(err.message),
        JSON.stringify(token),
      );
    assert.doesNotThrow(() => new HecClient({ url: 'http://127.0.0.1:9', token: channel, channel }));
  });
});

describe('HecTarget against the HEC receiver', () => {
  let entries: ReadEntry[];
  let t: { dir: string; cleanup: () => void };
  before(async () => {
    t = tempDir();
    entries = await sampleEntries(t.dir, { seed: 19, startDate: '2026-02-01', perDay: [40] });
    // The pipeline gives each entry its chain predecessor (the target declares `predecessors`).
    for (const [i, e] of entries.entries()) e.prevHash = i ? entries[i - 1].view.hash : '0'.repeat(64);
  });
  after(() => t.cleanup());
  let rx: HecReceiver;
  const stops: Array<() => Promise<void>> = [];
  beforeEach(async () => {
    for (const s of stops.splice(0)) await s();
  });
  after(async () => {
    for (const s of stops.splice(0)) await s();
  });
  async function receiver(o: ConstructorParameters<typeof HecReceiver>[0] = {}): Promise<HecReceiver> {
    rx = new HecReceiver(o);
    await rx.start();
    stops.push(() => rx.stop());
    return rx;
  }
  const target = (c: Partial<HecTargetConfig> = {}) =>
    new HecTarget({ url: rx.url, token: rx.token, ackPollMs: { min: 5, max: 20 }, ...c });

  it(
    'one request of concatenated events, gzip, Splunk ' +
      'authorization and the channel header; a 200 counts without acks',
    async () => {
      await receiver();
      const tg = target();
      assert.equal(tg.acknowledges, false);
      assert.deepEqual(await deliverAll(tg, entries), { ok: true });
      assert.equal(rx.requests, 1);
      assert.equal(rx.ackPolls, 0);
      assert.equal(rx.indexed.length, 40);
      assert.deepEqual(
        rx.indexed.map((e) => e.eventText),
        entries.map((e) => e.text),
      );
      assert.equal(rx.lastHeaders.authorization, `Splunk ${rx.token}`);
      assert.equal(rx.lastHeaders['content-encoding'], 'gzip');
      assert.equal(rx.lastHeaders['x-splunk-request-channel'], tg.channel);
      assert.equal(rx.indexed[3].fields.prev_hash, entries[2].view.hash);
      assert.equal(rx.indexed[0].sourcetype, 'loki:audit');
      await tg.close();
    },
  );

  it(
    'with acks: delivered only once the ackId is acknowledged (after 3 ' +
      'polls); required acks against a token without them: the target refuses',
    async () => {
      await receiver({ acks: true, ackAfterPolls: 3 });
      const tg = target({ ack: true });
      assert.equal(tg.acknowledges, true);
      assert.deepEqual(await deliverAll(tg, entries.slice(0, 10)), { ok: true });
      assert.equal(rx.ackPolls, 3);
      assert.equal(rx.pendingAcks, 0);
      // Held acks: not acknowledged within the bound → retryable (sent again by the pipeline).
      rx.holdAcks();
      const slow = target({ ack: true, ackTimeoutMs: 150 });
      const r = await deliverAll(slow, entries.slice(10, 12));
      assert.equal(r.ok, false);
      assert.ok(!r.ok && r.retryable, JSON.stringify(r));
      assert.match(!r.ok ? r.error : '', /not acknowledged within 150 ms/);
      rx.releaseAcks();
      rx.setAcks(false);
      const r2 = await deliverAll(target({ ack: true }), entries.slice(12, 13));
      assert.ok(!r2.ok && !r2.retryable && r2.refusal === 'target', JSON.stringify(r2));
      assert.match(!r2.ok ? r2.error : '', /indexer acknowledgement is off/);
    },
  );

  it('without --splunk-hec-ack, an ackId in the answer is still waited for', async () => {
    await receiver({ acks: true, ackAfterPolls: 2 });
    const tg = target();
    assert.deepEqual(await deliverAll(tg, entries.slice(0, 5)), { ok: true });
    assert.equal(rx.ackPolls, 2);
  });

  it(
    '503 Server is busy and a stopped receiver are retryable; a wrong ' +
      'token, a disabled token: credentials; an index not allowed: target',
    async () => {
      await receiver({ allowedIndexes: ['audit'] });
      rx.failNext(1);
      let r = await deliverAll(target({ index: 'audit' }), entries.slice(0, 2));
      assert.ok(!r.ok && r.retryable && /HTTP 503: Server is busy \(HEC code 9\)/.test(r.error), JSON.stringify(r));
      r = await deliverAll(target({ token: 'wrong', index: 'audit' }), entries.slice(0, 2));
      assert.ok(
        !r.ok && !r.retryable && r.refusal === 'credentials' && /Invalid token \(HEC code 4\)/.test(r.error),
        JSON.stringify(r),
      );
      r = await deliverAll(target({ index: 'main' }), entries.slice(0, 2));
      assert.ok(
        !r.ok && !r.retryable && r.refusal === 'target' && /Incorrect index \(HEC code 7\)/.test(r.error),
        JSON.stringify(r),
      );
      assert.equal(rx.indexed.length, 0);
      const url = rx.url;
      await rx.stop();
      r = await new HecTarget({ url, token: 'x' }).deliver(
        (() => {
          const b = new HecTarget({ url, token: 'x' }).batch();
          b.add(entries[0]);
          return b;
        })(),
      );
      assert.ok(!r.ok && r.retryable && /cannot reach 127\.0\.0\.1:\d+: ECONNREFUSED/.test(r.error), JSON.stringify(r));
      await receiver({ tokenDisabled: true });
      r = await deliverAll(target(), entries.slice(0, 1));
      assert.ok(
        !r.ok && !r.retryable && r.refusal === 'credentials' && /Token disabled/.test(r.error),
        JSON.stringify(r),
      );
    },
  );

  it('code 6 for one event: entries refused; slices of the batch carry the same events', async () => {
    const bad = entries[5].text;
    await receiver({ refuseEvent: (e) => e.eventText === bad });
    const tg = target();
    const b = tg.batch();
    for (const e of entries.slice(0, 10)) b.add(e);
    const r = await tg.deliver(b);
    assert.ok(!r.ok && !r.retryable && r.refusal === 'entries', JSON.stringify(r));
    assert.match(!r.ok ? r.error : '', /Invalid data format \(HEC code 6\) \(event 5 of the batch\)/);
    // The events before the refused one were indexed (HEC takes events in order).
    assert.equal(rx.indexed.length, 5);
    const tail = tg.slice(b, 6, 10);
    assert.deepEqual(await tg.deliver(tail), { ok: true });
    assert.deepEqual(
      rx.indexed.slice(5).map((e) => e.eventText),
      entries.slice(6, 10).map((e) => e.text),
    );
    const alone = tg.slice(tg.slice(b, 4, 8), 1, 2);
    const r2 = await tg.deliver(alone);
    assert.ok(!r2.ok && !r2.retryable && r2.refusal === 'entries');
    tg.dispose(b);
  });
});
