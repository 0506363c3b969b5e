import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkTimeZone,
  formatInZone,
  parseTimeSpec,
  TimeSpecError,
  TimeZoneError,
  windowDates,
} from '../../../src/core/query/time.js';

const now = new Date('2026-11-23T10:30:00Z');
const iso = (s: string, end = false) => parseTimeSpec(s, now, { end }).toISOString();

describe('parseTimeSpec', () => {
  it('relative durations back from now', () => {
    assert.equal(iso('24h'), '2026-11-22T10:30:00.000Z');
    assert.equal(iso('7d'), '2026-11-16T10:30:00.000Z');
    assert.equal(iso('30m'), '2026-11-23T10:00:00.000Z');
    assert.equal(iso('2w'), '2026-11-09T10:30:00.000Z');
    assert.equal(iso('-1h'), '2026-11-23T09:30:00.000Z');
    assert.equal(iso('3 days ago'), '2026-11-20T10:30:00.000Z');
  });
  it('today, yesterday, now (UTC days)', () => {
    assert.equal(iso('today'), '2026-11-23T00:00:00.000Z');
    assert.equal(iso('yesterday'), '2026-11-22T00:00:00.000Z');
    assert.equal(iso('yesterday', true), '2026-11-23T00:00:00.000Z');
    assert.equal(iso('now'), '2026-11-23T10:30:00.000Z');
  });
  it('dates (UTC; as an end, the end of the day) and ISO 8601 times', () => {
    assert.equal(iso('2026-02-01'), '2026-02-01T00:00:00.000Z');
    assert.equal(iso('2026-02-01', true), '2026-02-02T00:00:00.000Z');
    assert.equal(iso('2026-02-01T12:00:00Z'), '2026-02-01T12:00:00.000Z');
    assert.equal(iso('2026-02-01T12:00:00+02:00'), '2026-02-01T10:00:00.000Z');
    assert.equal(iso('2026-02-01 12:00'), '2026-02-01T12:00:00.000Z');
    assert.equal(iso('2026-02-01T00:21:36.451467+00:00'), '2026-02-01T00:21:36.451Z');
  });
  it('rejects what it cannot read, in one line with examples', () => {
    for (const bad of [
      '',
      'soon',
      '2026-02-30',
      '12x',
      '2026-13-01T00:00:00Z',
      '25:00',
      '12:60',
      'today 9am',
      '@12x',
      'this-year',
      '1h30',
    ])
      assert.throws(() => parseTimeSpec(bad, now), TimeSpecError, bad);
    assert.throws(
      () => parseTimeSpec('soon', now),
      (err: Error) =>
        !err.message.includes('\n') && err.message.includes('1h30m') && err.message.includes('today 09:00'),
    );
  });
  it('times of day: HH:MM[:SS] is today, "today HH:MM", "yesterday HH:MM"', () => {
    assert.equal(iso('09:15'), '2026-11-23T09:15:00.000Z');
    assert.equal(iso('9:15:30'), '2026-11-23T09:15:30.000Z');
    assert.equal(iso('23:59:59.5'), '2026-11-23T23:59:59.500Z');
    assert.equal(iso('today 09:00'), '2026-11-23T09:00:00.000Z');
    assert.equal(iso('TODAY  18:45:10'), '2026-11-23T18:45:10.000Z');
    assert.equal(iso('yesterday 18:00'), '2026-11-22T18:00:00.000Z');
    // A time is an instant: as an --until it is not moved to the end of anything.
    assert.equal(iso('yesterday 18:00', true), '2026-11-22T18:00:00.000Z');
  });
  it('compound durations (1h30m, 2d12h, "1 hour 30 minutes ago"); a day is 24 h', () => {
    assert.equal(iso('1h30m'), '2026-11-23T09:00:00.000Z');
    assert.equal(iso('2d12h'), '2026-11-20T22:30:00.000Z');
    assert.equal(iso('1h 30m 15s'), '2026-11-23T08:59:45.000Z');
    assert.equal(iso('-1h30m'), '2026-11-23T09:00:00.000Z');
    assert.equal(iso('1 hour 30 minutes ago'), '2026-11-23T09:00:00.000Z');
    assert.equal(iso('1w1d'), '2026-11-15T10:30:00.000Z');
  });
  it('@EPOCH seconds, with a fraction', () => {
    assert.equal(iso('@0'), '1970-01-01T00:00:00.000Z');
    assert.equal(iso('@1767225600'), '2026-01-01T00:00:00.000Z');
    assert.equal(iso('@1767225600.25'), '2026-01-01T00:00:00.250Z');
    assert.equal(iso(' @1767225600.123456 '), '2026-01-01T00:00:00.123Z');
  });
  it('recent (10 minutes, as ausearch), this-week (from Monday), this-month', () => {
    assert.equal(iso('recent'), '2026-11-23T10:20:00.000Z');
    // 2026-11-23 is a Monday; on Sunday the 29th the week still began on the 23rd.
    assert.equal(iso('this-week'), '2026-11-23T00:00:00.000Z');
    assert.equal(iso('this-week', true), '2026-11-30T00:00:00.000Z');
    const sunday = new Date('2026-11-29T23:00:00Z');
    assert.equal(parseTimeSpec('this week', sunday).toISOString(), '2026-11-23T00:00:00.000Z');
    assert.equal(iso('this-month'), '2026-11-01T00:00:00.000Z');
    assert.equal(iso('this-month', true), '2026-12-01T00:00:00.000Z');
    const dec = new Date('2026-12-31T12:00:00Z');
    assert.equal(parseTimeSpec('this-month', dec, { end: true }).toISOString(), '2027-01-01T00:00:00.000Z');
  });
  it('other ISO 8601 forms still read as before', () => {
    assert.equal(iso('2026-02-01T12Z'), '2026-02-01T12:00:00.000Z');
    assert.equal(iso('2026-02-01T12:00:00+0200'), '2026-02-01T10:00:00.000Z');
  });

  describe('with a zone: input without an offset is wall time there', () => {
    const z = (s: string, zone: string, at = now, end = false) => parseTimeSpec(s, at, { zone, end }).toISOString();
    it('dates, times of day and keywords in the zone; offsets as written', () => {
      assert.equal(z('2026-02-01', 'Europe/Berlin'), '2026-01-31T23:00:00.000Z');
      assert.equal(z('2026-02-01', 'Europe/Berlin', now, true), '2026-02-01T23:00:00.000Z');
      assert.equal(z('2026-07-01 12:00', 'Europe/Berlin'), '2026-07-01T10:00:00.000Z');
      assert.equal(z('2026-07-01T12:00:00Z', 'Europe/Berlin'), '2026-07-01T12:00:00.000Z');
      assert.equal(z('2026-07-01T12:00:00+05:30', 'America/New_York'), '2026-07-01T06:30:00.000Z');
      // 10:30 UTC is 05:30 in New York (EST): today began at 05:00 UTC.
      assert.equal(z('today', 'America/New_York'), '2026-11-23T05:00:00.000Z');
      assert.equal(z('09:00', 'America/New_York'), '2026-11-23T14:00:00.000Z');
      assert.equal(z('yesterday 23:30', 'Asia/Kolkata'), '2026-11-22T18:00:00.000Z');
      assert.equal(z('today', '+05:30'), '2026-11-22T18:30:00.000Z');
      // Durations and epochs do not depend on the zone.
      assert.equal(z('1h30m', 'Asia/Tokyo'), '2026-11-23T09:00:00.000Z');
      assert.equal(z('@1767225600', 'Asia/Tokyo'), '2026-01-01T00:00:00.000Z');
    });
    it('across DST: midnights move with the offset; a gap moves forward, an overlap is its first time', () => {
      // New York, 2026-03-08: 02:00 EST → 03:00 EDT. The day is 23 hours long.
      const mar8 = new Date('2026-03-08T18:00:00Z');
      assert.equal(z('today', 'America/New_York', mar8), '2026-03-08T05:00:00.000Z');
      assert.equal(z('today', 'America/New_York', mar8, true), '2026-03-09T04:00:00.000Z');
      assert.equal(z('01:30', 'America/New_York', mar8), '2026-03-08T06:30:00.000Z');
      assert.equal(z('03:30', 'America/New_York', mar8), '2026-03-08T07:30:00.000Z');
      assert.equal(z('02:30', 'America/New_York', mar8), '2026-03-08T07:30:00.000Z');
      // 2026-11-01: 02:00 EDT → 01:00 EST; 01:30 happens twice, the first (EDT) is taken.
      assert.equal(z('2026-11-01 01:30', 'America/New_York'), '2026-11-01T05:30:00.000Z');
      assert.equal(z('2026-11-01 03:00', 'America/New_York'), '2026-11-01T08:00:00.000Z');
      // Berlin's this-week across the end of summer time (Sunday 2026-10-25).
      const oct26 = new Date('2026-10-26T12:00:00Z');
      assert.equal(z('this-week', 'Europe/Berlin', oct26), '2026-10-25T23:00:00.000Z');
      assert.equal(z('this-month', 'Europe/Berlin', oct26), '2026-09-30T22:00:00.000Z');
      // A duration is fixed hours, whatever the wall clock did.
      assert.equal(z('24h', 'America/New_York', mar8), '2026-03-07T18:00:00.000Z');
    });
    it('a zone that is neither an IANA name nor an offset is refused', () => {
      assert.throws(() => parseTimeSpec('today', now, { zone: 'Mars/Olympus' }), TimeZoneError);
      assert.throws(() => checkTimeZone('CEST+'), TimeZoneError);
      assert.equal(checkTimeZone('Europe/Berlin'), 'Europe/Berlin');
      assert.equal(checkTimeZone('-03:00'), '-03:00');
    });
    it('formatInZone writes wall time with the offset, keeping the given fraction', () => {
      const t = Date.parse('2026-07-01T12:00:00.451Z');
      assert.equal(formatInZone(t, 'UTC'), '2026-07-01T12:00:00.451+00:00');
      assert.equal(formatInZone(t, 'Europe/Berlin', '451467'), '2026-07-01T14:00:00.451467+02:00');
      assert.equal(formatInZone(t, 'America/St_Johns', ''), '2026-07-01T09:30:00-02:30');
      assert.equal(formatInZone(Date.parse('2026-01-01T00:00:00Z'), 'Asia/Kolkata'), '2026-01-01T05:30:00+05:30');
    });
  });
  it('windowDates gives the UTC dates a window touches', () => {
    assert.deepEqual(
      windowDates({ since: Date.parse('2026-02-01T23:00:00Z'), until: Date.parse('2026-02-03T00:00:00Z') }),
      { from: '2026-02-01', to: '2026-02-02' },
    );
    assert.deepEqual(windowDates({ since: null, until: null }), { from: null, to: null });
  });
});
