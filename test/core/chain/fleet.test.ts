import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { after, before, describe, it } from 'node:test';
import { planFleet, verifyFleet, type FleetAnswer } from '../../../src/core/chain/fleet.js';
import { generateSample } from '../../../scripts/sample.js';
import { ROOT } from '../../helpers/cli.js';

const SOURCE = pathToFileURL(join(ROOT, 'src', 'core', 'chain', 'fleet-worker.ts')).href;

/** fleet-worker.ts run from the sources under tsx (the CLI runs the built dist/fleet-worker.js). */
function startSourceFleetWorker(): Worker {
  return new Worker(`import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(SOURCE)}); });`, {
    eval: true,
  });
}

describe('fleet: directories on worker threads', () => {
  it('planFleet never runs more threads than it is given', () => {
    assert.deepEqual(planFleet(50, 2), { concurrency: 2, jobsPerDir: 1 });
    assert.deepEqual(planFleet(2, 8), { concurrency: 2, jobsPerDir: 4 });
    assert.deepEqual(planFleet(3, 8), { concurrency: 3, jobsPerDir: 2 });
    assert.deepEqual(planFleet(1, 1), { concurrency: 1, jobsPerDir: 1 });
    assert.deepEqual(planFleet(5, 0), { concurrency: 1, jobsPerDir: 1 });
    for (let dirs = 1; dirs < 20; dirs++)
      for (let threads = 1; threads < 20; threads++) {
        const p = planFleet(dirs, threads);
        assert.ok(p.concurrency * p.jobsPerDir <= threads && p.concurrency <= dirs, `${dirs} dirs, ${threads} threads`);
      }
  });

  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'loki-audit-fleet-core-'));
    for (const n of ['a', 'b', 'c']) {
      mkdirSync(join(root, n));
      generateSample(join(root, n), {
        seed: n.charCodeAt(0),
        startDate: '2026-02-01',
        perDay: [10 + n.charCodeAt(0) - 97],
      });
    }
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('answers every directory in the order given, errors included, with bounded workers', async () => {
    const got: [number, FleetAnswer][] = [];
    let started = 0;
    await verifyFleet(
      ['a', 'missing', 'b', 'c'].map((n) => ({ dir: join(root, n), options: { jobs: 1 } })),
      {
        concurrency: 2,
        startWorker: () => (started++, startSourceFleetWorker()),
        onResult: (i, answer) => got.push([i, answer]),
      },
    );
    assert.deepEqual(
      got.map(([i]) => i),
      [0, 1, 2, 3],
    );
    assert.equal(started, 2);
    const [a, missing, b, c] = got.map(([, x]) => x);
    assert.ok(a.ok && b.ok && c.ok);
    assert.deepEqual(
      [a, b, c].map((x) => (x.ok ? [x.report.verdict, x.report.entriesVerified] : null)),
      [
        ['intact', 10],
        ['intact', 11],
        ['intact', 12],
      ],
    );
    assert.ok(!missing.ok && missing.error.name === 'AuditDirError', JSON.stringify(missing));
  });

  it('a worker that dies answers its directory with an error and the run goes on', async () => {
    const got: FleetAnswer[] = [];
    let n = 0;
    await verifyFleet(
      ['a', 'b'].map((d) => ({ dir: join(root, d), options: {} })),
      {
        concurrency: 1,
        // The first worker exits at once; its replacement is a real one.
        startWorker: () => (n++ === 0 ? new Worker('process.exit(9)', { eval: true }) : startSourceFleetWorker()),
        onResult: (_, answer) => got.push(answer),
      },
    );
    assert.equal(got.length, 2);
    assert.ok(!got[0].ok && /exited \(code 9\)/.test(got[0].error.message), JSON.stringify(got[0]));
    assert.ok(got[1].ok && got[1].report.verdict === 'intact');
  });
});
