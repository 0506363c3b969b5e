/**
 * `npx tsx bench/heap-check.ts`: does constrainHeap (src/core/runtime/heap.ts) still stop V8's
 * new space from growing past its cap on this Node? The figure is a V8 internal (the new-space
 * size from v8.getHeapSpaceStatistics), so this is a check to run when Node or V8 changes, not a
 * test of loki-audit's behaviour: were a later V8 to ignore the flag, memory would change, never
 * output.
 *
 * Runs the same allocation workload (objects kept alive across scavenges) in two fresh processes,
 * without and with a 4 MB cap, prints both new-space sizes, and exits 1 when the capped one is
 * past one doubling of the cap (8 MB), or when the uncapped one did not grow past it (the
 * workload proved nothing).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CAP_MB = 4;
const LIMIT_MB = 2 * CAP_MB;

/** New-space size (MB) after the workload, with or without the cap. */
function newSpaceAfterWork(cap: boolean): number {
  const heap = pathToFileURL(join(ROOT, 'src', 'core', 'runtime', 'heap.ts')).href;
  const code = `
    import { getHeapSpaceStatistics } from 'node:v8';
    import { constrainHeap } from ${JSON.stringify(heap)};
    const stop = ${cap} ? constrainHeap(${CAP_MB}, 50, 1) : () => {};
    let keep = [];
    for (let round = 0; round < 60; round++) {
      for (let i = 0; i < 50000; i++) { keep.push({ a: i, b: 'x' + i }); if (keep.length > 20000) keep = []; }
      await new Promise((r) => setTimeout(r, 2)); // lets the cap's timer run
    }
    stop();
    console.log(getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    process.stderr.write(`heap-check: the workload process failed (exit ${r.status}):\n${r.stderr}`);
    process.exit(2);
  }
  return Number(r.stdout.trim());
}

const without = newSpaceAfterWork(false);
const capped = newSpaceAfterWork(true);
const problems: string[] = [];
if (!(without > LIMIT_MB))
  problems.push(`without the cap the new space did not grow past ${LIMIT_MB} MB: the workload shows nothing`);
if (!(capped <= LIMIT_MB)) problems.push(`with a ${CAP_MB} MB cap the new space grew past ${LIMIT_MB} MB`);
console.log(`node ${process.version} (V8 ${process.versions.v8})`);
console.log(`new space without the cap: ${without} MB`);
console.log(`new space with a ${CAP_MB} MB cap: ${capped} MB (must be <= ${LIMIT_MB} MB)`);
for (const p of problems) console.error(`heap-check: FAIL: ${p}`);
if (problems.length === 0) console.log('heap-check: ok');
process.exit(problems.length ? 1 : 0);
