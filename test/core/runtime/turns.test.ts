/** EventLoopTurns: nothing to await within the stretch; after it, a real turn of the event loop. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventLoopTurns } from '../../../src/core/runtime/turns.js';

describe('EventLoopTurns', () => {
  it('is due only after `everyMs`, and a due turn lets callbacks queued before it run', async () => {
    const turns = new EventLoopTurns(20);
    assert.equal(turns.due(), null, 'not due at once');
    const until = performance.now() + 25;
    while (performance.now() < until); // a synchronous stretch, as a loop over synchronous reads
    let ran = false;
    setImmediate(() => (ran = true));
    const turn = turns.due();
    assert.ok(turn, 'due after the stretch');
    assert.equal(ran, false);
    await turn;
    assert.equal(ran, true, 'the event loop ran');
    assert.equal(turns.due(), null, 'not due again right after a turn');
  });
});
