/**
 * Delivering one batch with retries, against the loopback Loki receiver (test/helpers/loki-receiver.ts,
 * written to Loki's push API rules) through the real LokiTarget: retryable answers are retried with
 * backoff and the batch is stored once, a 400 is final (the receiver's own refusals of an entry
 * too far behind or a line too long included), a 401 stops (or, under --follow, is
 * retried), a target that stays down is given up on at the deadline, and an abort cuts a backoff
 * wait short.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { backoffDelay, deliverWithRetry, type RetryNotice } from '../../../src/core/forward/delivery.js';
import type { ReadEntry } from '../../../src/core/read/entries.js';
import { LokiTarget } from '../../../src/sinks/loki/target.js';
import { tempDir } from '../../helpers/cli.js';
import { daysAgo, sampleEntries } from '../../helpers/entries.js';
import { LokiReceiver } from '../../helpers/loki-receiver.js';

/** Retries 20–40 ms apart, given up after 10 s: fast enough for a test, long enough to retry. */
const QUICK_RETRY = { backoffMs: { min: 20, max: 40 }, giveUpAfterMs: 10_000 };

describe('deliverWithRetry to Loki', () => {
  let t: { dir: string; cleanup: () => void };
  let entries: ReadEntry[];
  let rx: LokiReceiver;
  let target: LokiTarget;
  const notices: RetryNotice[] = [];
  const onRetry = (n: RetryNotice) => notices.push(n);
  const batchOfAll = () => {
    const b = target.batch();
    for (const e of entries) assert.equal(b.add(e), null);
    return b;
  };
  /** What the receiver says of each entry after its own checks (Loki's words), or null to take it. */
  let refuse: (e: { line: string; metadata: Record<string, string> }) => string | null;
  beforeEach(async () => {
    t = tempDir();
    entries = await sampleEntries(join(t.dir, 'audit'), { seed: 4, startDate: daysAgo(1), perDay: [30] });
    refuse = () => null;
    rx = new LokiReceiver({ keepBodies: true, refuseEntry: (e) => refuse(e) });
    await rx.start();
    target = new LokiTarget({ url: rx.url, auth: { kind: 'none' } });
    notices.length = 0;
  });
  afterEach(async () => {
    await target.close();
    await rx.stop();
    t.cleanup();
  });

  it('a 503 then a 204: retried once after a backoff, the same bytes, stored once', async () => {
    rx.failNext(1, 503, 'try again');
    const out = await deliverWithRetry(target, batchOfAll(), QUICK_RETRY, onRetry);
    assert.deepEqual(out, { kind: 'delivered' });
    assert.equal(notices.length, 1);
    assert.deepEqual([notices[0].attempt, notices[0].error], [1, 'HTTP 503: try again']);
    assert.ok(notices[0].delayMs >= 10 && notices[0].delayMs <= 20, `${notices[0].delayMs} ms`);
    assert.equal(rx.pushes, 2);
    assert.deepEqual(rx.bodies[1], rx.bodies[0], 'the retry is byte for byte the refused push');
    assert.equal(rx.stored.length, entries.length);
    assert.equal(rx.duplicatesDropped, 0);
    assert.deepEqual(rx.stored.map((e) => e.line).sort(), entries.map((e) => e.text).sort());
  });

  it('429 and 500 are retryable too, the backoff doubling per attempt', async () => {
    rx.failNext(1, 429, 'Ingestion rate limit exceeded');
    rx.failNext(1, 500, 'internal error');
    const out = await deliverWithRetry(
      target,
      batchOfAll(),
      { backoffMs: { min: 20, max: 1000 }, giveUpAfterMs: 10_000 },
      onRetry,
    );
    assert.deepEqual(out, { kind: 'delivered' });
    assert.deepEqual(
      notices.map((n) => [n.attempt, n.error]),
      [
        [1, 'HTTP 429: Ingestion rate limit exceeded'],
        [2, 'HTTP 500: internal error'],
      ],
    );
    assert.ok(notices[1].delayMs >= 20 && notices[1].delayMs <= 40, `${notices[1].delayMs} ms`);
    assert.equal(rx.pushes, 3);
    assert.equal(rx.stored.length, entries.length);
  });

  it('a 429, a 503, then a 204: three requests, delivered once, no entry stored twice', async () => {
    rx.failNext(1, 429, 'Ingestion rate limit exceeded');
    rx.failNext(1, 503, 'try again');
    const out = await deliverWithRetry(target, batchOfAll(), QUICK_RETRY, onRetry);
    assert.deepEqual(out, { kind: 'delivered' });
    assert.equal(rx.pushes, 3, 'two retries, then no more requests');
    assert.deepEqual(rx.pushSizes, [entries.length], 'only the last one reached Loki');
    const stored = rx.stored.map((e) => e.metadata.chain_hash);
    assert.equal(new Set(stored).size, stored.length, 'no entry stored twice');
    assert.deepEqual(stored.sort(), entries.map((e) => e.view.hash).sort());
    assert.equal(rx.duplicatesDropped, 0);
  });

  it('Loki\'s 400 "entry too far behind" for one entry is final: one request, the others stored', async () => {
    const behind = entries[7];
    const reason =
      `entry with timestamp ${behind.view.timestamp} ignored, reason: 'entry too far behind, entry timestamp is: ` +
      `${behind.view.timestamp}, oldest acceptable timestamp is: 2099-01-01T00:00:00Z', total ignored: 1 out of ` +
      `${entries.length} for stream: {job="loki-audit"}`;
    refuse = (e) => (e.metadata.chain_hash === behind.view.hash ? reason : null);
    const out = await deliverWithRetry(target, batchOfAll(), QUICK_RETRY, onRetry);
    assert.deepEqual(out, { kind: 'refused', refusal: 'entries', error: `HTTP 400: ${reason}` });
    assert.deepEqual(notices, [], 'not retried');
    assert.equal(rx.pushes, 1);
    assert.deepEqual(
      rx.stored.map((e) => e.metadata.chain_hash).sort(),
      entries
        .filter((e) => e !== behind)
        .map((e) => e.view.hash)
        .sort(),
    );
  });

  it("Loki's 400 for a line over its max_line_size is final: one request, the line not stored", async () => {
    // A client told Loki takes longer lines (limits raised on one side only) sends it; Loki refuses it.
    await target.close();
    target = new LokiTarget({ url: rx.url, auth: { kind: 'none' }, limits: { maxLineSize: 1 << 20 } });
    const text = `{"pad": "${'x'.repeat(300 * 1024)}", ${entries[0].text.slice(1)}`;
    const long = { ...entries[0], text, bytes: Buffer.from(text) };
    const b = target.batch();
    assert.equal(b.add(long), null);
    const out = await deliverWithRetry(target, b, QUICK_RETRY, onRetry);
    assert.equal(out.kind, 'refused');
    const { refusal, error } = out as { refusal: string; error: string };
    assert.equal(refusal, 'entries');
    assert.match(
      error,
      /^HTTP 400: Max entry size '262144' bytes exceeded for stream '\{.*\}' while adding an entry with length '(\d+)' bytes$/,
    );
    assert.equal(Number(/length '(\d+)'/.exec(error)![1]), Buffer.byteLength(text));
    assert.deepEqual(notices, [], 'not retried');
    assert.equal(rx.pushes, 1);
    assert.equal(rx.stored.length, 0);
  });

  it("a 400 naming an entry problem is final: not retried, entries refused with Loki's text", async () => {
    rx.failNext(1, 400, 'entry for stream \'{x="y"}\' has timestamp too new');
    const out = await deliverWithRetry(target, batchOfAll(), QUICK_RETRY, onRetry);
    assert.deepEqual(out, {
      kind: 'refused',
      refusal: 'entries',
      error: 'HTTP 400: entry for stream \'{x="y"}\' has timestamp too new',
    });
    assert.deepEqual(notices, []);
    assert.equal(rx.pushes, 1);
    assert.equal(rx.stored.length, 0);
  });

  it(
    'a 401 stops at once (the target is refused, not the entries); ' +
      'with retryTargetRefusals it is retried until it passes',
    async () => {
      rx.failNext(3, 401, 'unauthorized');
      assert.deepEqual(await deliverWithRetry(target, batchOfAll(), QUICK_RETRY, onRetry), {
        kind: 'stopped',
        refusal: 'credentials',
        error: 'HTTP 401: unauthorized',
      });
      assert.equal(notices.length, 0, 'not retried');
      const out = await deliverWithRetry(target, batchOfAll(), { ...QUICK_RETRY, retryTargetRefusals: true }, onRetry);
      assert.deepEqual(out, { kind: 'delivered' });
      assert.deepEqual(
        notices.map((n) => [n.attempt, n.error, n.refusal]),
        [
          [1, 'HTTP 401: unauthorized', 'credentials'],
          [2, 'HTTP 401: unauthorized', 'credentials'],
        ],
      );
      assert.equal(rx.pushes, 4);
      assert.equal(rx.stored.length, entries.length);
    },
  );

  it('a target that stays down is given up on at the deadline, with the last error', async () => {
    await rx.stop();
    const t0 = Date.now();
    const out = await deliverWithRetry(
      target,
      batchOfAll(),
      { backoffMs: { min: 40, max: 80 }, giveUpAfterMs: 300 },
      onRetry,
    );
    const elapsed = Date.now() - t0;
    assert.equal(out.kind, 'gave-up');
    assert.match((out as { error: string }).error, /^cannot reach 127\.0\.0\.1:\d+: ECONNREFUSED$/);
    assert.ok(elapsed >= 300, `gave up after ${elapsed} ms, before the deadline`);
    assert.ok(elapsed < 300 + 80 + 1000, `gave up ${elapsed} ms after the start: long after the deadline`);
    assert.ok(notices.length >= 3, `${notices.length} retries`);
    assert.ok(notices.every((n, i) => n.attempt === i + 1 && n.delayMs >= 20 && n.delayMs <= 80));
  });

  it('aborted during a backoff wait: the wait is cut short and the attempt after it is the last', async () => {
    rx.failNext(10, 503, 'down for maintenance');
    const abort = new AbortController();
    const t0 = Date.now();
    const out = await deliverWithRetry(
      target,
      batchOfAll(),
      { backoffMs: { min: 60_000, max: 60_000 }, giveUpAfterMs: Infinity, signal: abort.signal },
      (n) => {
        onRetry(n);
        abort.abort();
      },
    );
    assert.deepEqual(out, { kind: 'gave-up', error: 'HTTP 503: down for maintenance' });
    assert.ok(Date.now() - t0 < 10_000, 'did not wait out the 30–60 s backoff');
    assert.equal(notices.length, 1);
    assert.equal(rx.pushes, 2);
  });
});

describe('backoffDelay', () => {
  it('doubles from min per attempt up to max, times a jitter factor in [0.5, 1)', () => {
    const b = { min: 500, max: 30_000 };
    assert.deepEqual(
      [1, 2, 3, 6, 7, 20].map((a) => backoffDelay(a, b, 0)),
      [250, 500, 1000, 8000, 15_000, 15_000],
    );
    assert.equal(backoffDelay(1, b, 0.5), 375);
    assert.equal(backoffDelay(3, b, 0.999_999), 2000);
    assert.equal(backoffDelay(30, b, 0.999_999), 30_000);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(2, b);
      assert.ok(d >= 500 && d <= 1000, `${d}`);
    }
  });
});
