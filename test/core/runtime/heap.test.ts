/** constrainHeap: the new space stops growing at the cap (V8 reads the growth factor at each growth). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { ROOT } from '../../helpers/cli.js';

/** New-space size (MB) after a workload that keeps some objects alive across scavenges, with or without the cap. */
function newSpaceAfterWork(cap: boolean): number {
  const heap = pathToFileURL(join(ROOT, 'src', 'core', 'runtime', 'heap.ts')).href;
  const code = `
    import { getHeapSpaceStatistics } from 'node:v8';
    import { constrainHeap } from ${JSON.stringify(heap)};
    const stop = ${cap} ? constrainHeap(4, 50, 1) : () => {};
    let keep = [];
    for (let round = 0; round < 60; round++) {
      for (let i = 0; i < 50000; i++) { keep.push({ a: i, b: 'x' + i }); if (keep.length > 20000) keep = []; }
      await new Promise((r) => setTimeout(r, 2)); // lets the cap's timer run
    }
    stop();
    console.log(getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout.trim());
}

describe('constrainHeap', () => {
  it('keeps the new space at the cap where it would otherwise grow past it', () => {
    const without = newSpaceAfterWork(false);
    const capped = newSpaceAfterWork(true);
    assert.ok(without > 8, `without the cap the new space grows (${without} MB)`);
    assert.ok(capped <= 8, `with a 4 MB cap it stays within one doubling of it (${capped} MB)`);
  });
});
