import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTimeSpec, TimeSpecError, windowDates } from '../../../src/core/query/time.js';

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
  it('rejects what it cannot read', () => {
    for (const bad of ['', 'soon', '2026-02-30', '12x', '2026-13-01T00:00:00Z'])
      assert.throws(() => parseTimeSpec(bad, now), TimeSpecError, bad);
  });
  it('windowDates gives the UTC dates a window touches', () => {
    assert.deepEqual(
      windowDates({ since: Date.parse('2026-02-01T23:00:00Z'), until: Date.parse('2026-02-03T00:00:00Z') }),
      { from: '2026-02-01', to: '2026-02-02' },
    );
    assert.deepEqual(windowDates({ since: null, until: null }), { from: null, to: null });
  });
});
