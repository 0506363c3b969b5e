import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BucketClock,
  BucketCounter,
  BucketLimitError,
  BucketSpecError,
  eventFamily,
  MAX_BUCKETS,
  parseBucketWidth,
} from '../../../src/core/query/buckets.js';
import { formatInZone } from '../../../src/core/query/time.js';

const H = 3_600_000;
const at = (iso: string) => Date.parse(iso);

/** `n` consecutive buckets from the one holding `from`: [wall-clock start with offset, hours]. */
function walk(width: number, zone: string, from: string, n: number): Array<[string, number]> {
  const clock = new BucketClock(width, zone);
  const out: Array<[string, number]> = [];
  let s = clock.start(at(from));
  for (let i = 0; i < n; i++) {
    const e = clock.next(s);
    out.push([formatInZone(s, zone), (e - s) / H]);
    s = e;
  }
  return out;
}

describe('bucket widths', () => {
  it('reads the time grammar’s durations that divide a day or are whole days', () => {
    assert.equal(parseBucketWidth('15m'), 15 * 60_000);
    assert.equal(parseBucketWidth('1h'), H);
    assert.equal(parseBucketWidth('90 minutes'), 90 * 60_000);
    assert.equal(parseBucketWidth('1d'), 24 * H);
    assert.equal(parseBucketWidth('1w'), 7 * 24 * H);
  });
  it('refuses widths that do not tile a day, and non-durations, as BucketSpecError', () => {
    for (const bad of ['7m', '5h', '36h', '1d1h', 'hour', '', '0m', 'event'])
      assert.throws(() => parseBucketWidth(bad), BucketSpecError, bad);
  });
  it('names the family of an event: up to its first dot', () => {
    assert.equal(eventFamily('api.request'), 'api');
    assert.equal(eventFamily('auth.token.issued'), 'auth');
    assert.equal(eventFamily('login'), 'login');
  });
});

describe('bucket boundaries', () => {
  it('in UTC, a boundary instant starts its own bucket; 1 ms before is the bucket before', () => {
    const c = new BucketClock(15 * 60_000, 'UTC');
    assert.equal(c.start(at('2026-02-01T10:15:00Z')), at('2026-02-01T10:15:00Z'));
    assert.equal(c.start(at('2026-02-01T10:14:59.999Z')), at('2026-02-01T10:00:00Z'));
    assert.equal(c.next(at('2026-02-01T10:00:00Z')), at('2026-02-01T10:15:00Z'));
  });
  it('aligns on the zone’s wall clock (+05:30: hours start at :00 local, :30 UTC)', () => {
    assert.deepEqual(walk(H, '+05:30', '2026-02-01T10:40:00Z', 2), [
      ['2026-02-01T16:00:00+05:30', 1],
      ['2026-02-01T17:00:00+05:30', 1],
    ]);
  });
  it('1w buckets start on Mondays at local midnight', () => {
    assert.deepEqual(walk(7 * 24 * H, 'Europe/Berlin', '2026-12-02T12:00:00Z', 1), [
      ['2026-11-30T00:00:00+01:00', 168],
    ]);
  });
  it('a 1d bucket across spring-forward is 23 h, across fall-back 25 h (Europe/Berlin)', () => {
    assert.deepEqual(walk(24 * H, 'Europe/Berlin', '2026-03-28T12:00:00Z', 3), [
      ['2026-03-28T00:00:00+01:00', 24],
      ['2026-03-29T00:00:00+01:00', 23],
      ['2026-03-30T00:00:00+02:00', 24],
    ]);
    assert.deepEqual(walk(24 * H, 'Europe/Berlin', '2026-10-24T12:00:00Z', 3), [
      ['2026-10-24T00:00:00+02:00', 24],
      ['2026-10-25T00:00:00+02:00', 25],
      ['2026-10-26T00:00:00+01:00', 24],
    ]);
  });
  it('an entry at the last ms of the 23 h day and at the next local midnight fall on either side', () => {
    const c = new BucketClock(24 * H, 'Europe/Berlin');
    assert.equal(c.start(at('2026-03-29T21:59:59.999Z')), at('2026-03-28T23:00:00Z'));
    assert.equal(c.start(at('2026-03-29T22:00:00Z')), at('2026-03-29T22:00:00Z'));
  });
  it('1h at fall-back: the repeated 01:00 is two buckets, one per offset (America/New_York)', () => {
    assert.deepEqual(walk(H, 'America/New_York', '2026-11-01T04:30:00Z', 4), [
      ['2026-11-01T00:00:00-04:00', 1],
      ['2026-11-01T01:00:00-04:00', 1],
      ['2026-11-01T01:00:00-05:00', 1],
      ['2026-11-01T02:00:00-05:00', 1],
    ]);
    const c = new BucketClock(H, 'America/New_York');
    assert.equal(c.start(at('2026-11-01T05:59:59Z')), at('2026-11-01T05:00:00Z'));
    assert.equal(c.start(at('2026-11-01T06:00:00Z')), at('2026-11-01T06:00:00Z'));
  });
  it('2h at fall-back: 00:00–02:00 local lasts 3 h; at spring-forward 02:00 starts at the jump', () => {
    assert.deepEqual(walk(2 * H, 'America/New_York', '2026-11-01T04:30:00Z', 2), [
      ['2026-11-01T00:00:00-04:00', 3],
      ['2026-11-01T02:00:00-05:00', 2],
    ]);
    assert.deepEqual(walk(2 * H, 'America/New_York', '2026-03-08T05:30:00Z', 3), [
      ['2026-03-08T00:00:00-05:00', 2],
      ['2026-03-08T03:00:00-04:00', 1],
      ['2026-03-08T04:00:00-04:00', 2],
    ]);
  });
  it('30m across Lord Howe’s half-hour fall-back repeats 01:30', () => {
    assert.deepEqual(walk(30 * 60_000, 'Australia/Lord_Howe', '2026-04-04T14:00:00Z', 4), [
      ['2026-04-05T01:00:00+11:00', 0.5],
      ['2026-04-05T01:30:00+11:00', 0.5],
      ['2026-04-05T01:30:00+10:30', 0.5],
      ['2026-04-05T02:00:00+10:30', 0.5],
    ]);
  });
});

describe('bucket counter', () => {
  it('counts in any order, fills the empty buckets between first and last, ranks families', () => {
    const counter = new BucketCounter(new BucketClock(H, 'UTC'), '1h');
    // The caller groups: here by event family (summary-by.ts).
    counter.add(at('2026-02-01T13:05:00Z'), eventFamily('auth.login'), true);
    counter.add(at('2026-02-01T10:00:00Z'), eventFamily('api.request'), false);
    counter.add(at('2026-02-01T10:59:59Z'), eventFamily('api.response'), false);
    counter.add(at('2026-02-01T13:00:00Z'), eventFamily('task.create'), false);
    counter.add(NaN, eventFamily('api.request'), false);
    const t = counter.table(1);
    assert.deepEqual(t.families, ['api']);
    assert.equal(t.hasOther, true);
    assert.deepEqual(
      t.buckets.map((b) => [new Date(b.start).toISOString(), b.count, b.failures, b.families, b.other]),
      [
        ['2026-02-01T10:00:00.000Z', 2, 0, [2], 0],
        ['2026-02-01T11:00:00.000Z', 0, 0, [0], 0],
        ['2026-02-01T12:00:00.000Z', 0, 0, [0], 0],
        ['2026-02-01T13:00:00.000Z', 2, 1, [0], 2],
      ],
    );
  });
  it('an empty counter has no buckets', () => {
    assert.deepEqual(new BucketCounter(new BucketClock(H, 'UTC'), '1h').table(5).buckets, []);
  });
  it(`refuses a span of more than ${MAX_BUCKETS} buckets, with the width in the message`, () => {
    const counter = new BucketCounter(new BucketClock(60_000, 'UTC'), '1m');
    counter.add(at('2026-01-01T00:00:00Z'), 'a', false);
    counter.add(at('2026-01-01T00:00:00Z') + MAX_BUCKETS * 60_000, 'a', false);
    assert.throws(
      () => counter.table(5),
      (err: Error) => err instanceof BucketLimitError && /--by 1m/.test(err.message),
    );
    // One bucket fewer is fine.
    const ok = new BucketCounter(new BucketClock(60_000, 'UTC'), '1m');
    ok.add(at('2026-01-01T00:00:00Z'), 'a', false);
    ok.add(at('2026-01-01T00:00:00Z') + (MAX_BUCKETS - 1) * 60_000, 'a', false);
    assert.equal(ok.table(5).buckets.length, MAX_BUCKETS);
  });
});
