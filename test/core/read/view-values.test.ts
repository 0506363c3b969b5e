/**
 * The one view: string fields as they are; any other value as its text in the line, so a
 * numeric user id is the actor exactly as written, NaN is NaN, and depth cannot crash it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deepObject, EXACT_NUMBERS, readEntryOf, writerLine } from '../../helpers/hostile.js';

describe('toView', () => {
  it('a numeric user_id, token_id or action is shown exactly as written, not as the nearest double', () => {
    const e = readEntryOf(writerLine({ user_id: EXACT_NUMBERS.big }));
    assert.equal(e.record.user_id, 18446744073709552000, 'the parse rounds it');
    assert.equal(e.view.actor, '18446744073709551617');
    const t = readEntryOf(writerLine({ user_id: 'null', token_id: EXACT_NUMBERS.huge, action: EXACT_NUMBERS.one }));
    assert.equal(t.view.actor, 'token:123456789012345678901234567890');
    assert.equal(t.view.event, 'auth.1.0');
  });

  it('NaN, Infinity and -0.0 in a line that is not strict JSON are shown as written (the parse read NaN as null)', () => {
    const e = readEntryOf(
      writerLine(
        { user_id: EXACT_NUMBERS.nan, error: EXACT_NUMBERS.negInf, details: '{"x": Infinity}' },
        { success: false },
      ),
    );
    assert.equal(e.strictJson, false);
    assert.equal(e.record.user_id, null);
    assert.equal(e.view.actor, 'NaN');
    assert.equal(e.view.error, '-Infinity');
    // A real null stays null: the actor falls back as Loki Mode's does.
    assert.equal(readEntryOf(writerLine({ user_id: 'null', details: '{"x": NaN}' })).view.actor, 'anonymous');
    assert.equal(readEntryOf(writerLine({ user_id: EXACT_NUMBERS.negZero })).view.actor, '-0.0');
  });

  it('an object as user_id is its compact JSON, at any depth (String() recursed and crashed the read)', () => {
    const e = readEntryOf(writerLine({ user_id: deepObject(10_000) }));
    assert.equal(e.view.actor, '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000));
    assert.equal(readEntryOf(writerLine({ user_id: '{"id": 7, "n": 1.50}' })).view.actor, '{"id":7,"n":1.50}');
  });

  it('the documented schema: a numeric actor, and details.error as written', () => {
    const line =
      '{"timestamp": "2026-02-02T12:00:00.000Z", "event": "auth.fail", ' +
      '"level": "error", "actor": 1.0, "details": {"error": 1e400}}';
    const e = readEntryOf(line);
    assert.equal(e.view.schema, 'documented');
    assert.equal(e.view.actor, '1.0');
    assert.equal(e.view.error, '1e400');
  });
});
