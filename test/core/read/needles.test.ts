import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseNeedles, needlesFor } from '../../../src/core/read/needles.js';
import { compileFilter } from '../../../src/core/query/filters.js';
import { LineSplitter } from '../../../src/core/read/lines.js';

const line = (user: string, action: string) =>
  `{"action": "${action}", "resource_type": "agent", "user_id": "${user}", "success": true}`;

describe('needle choice', () => {
  it('an AND of flags is searched for the rarest literal of the first chunk, whichever flag it is', () => {
    // bob is everywhere, kill in one line of 50: kill is searched; swapped, bob is.
    const mostlyBob = Array.from({ length: 50 }, (_, i) => line('bob', i === 7 ? 'kill' : 'stop')).join('\n') + '\n';
    const mostlyKill = Array.from({ length: 50 }, (_, i) => line(i === 7 ? 'bob' : 'eve', 'kill')).join('\n') + '\n';
    for (const [chunk, rare] of [
      [mostlyBob, 'kill'],
      [mostlyKill, 'bob'],
    ] as const) {
      const f = compileFilter({ users: ['bob'], actions: ['kill'] });
      assert.ok(f.needles && f.needles.length === 2, 'one needle set per flag');
      const chosen = chooseNeedles(f.needles, Buffer.from(chunk));
      assert.equal(chosen[0].bytes.toString(), rare);
      // Chosen once per search: the same set for later chunks.
      assert.equal(needlesFor(f.needles, Buffer.from('')), chosen);
      const out = new LineSplitter({}).pushSelected(Buffer.from(chunk), f.needles);
      assert.deepEqual(
        out.map((l) => l.line),
        [8],
        'only the line holding the rare literal is handed out',
      );
    }
  });

  it('a plain list of needles is used as it is', () => {
    const needles = [{ bytes: Buffer.from('abc') }];
    assert.equal(needlesFor(needles, Buffer.from('abc')), needles);
  });
});
