/**
 * The verify worker thread run from the TypeScript sources: a worker cannot load a .ts module
 * until it registers the tests' loader (tsx) itself, which the CLI never needs (it runs the
 * built dist/verify-worker.js). Pass it as `startWorker` to code under test.
 */
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './cli.js';

const SOURCE = pathToFileURL(join(ROOT, 'src', 'core', 'chain', 'parallel', 'verify-worker.ts')).href;

/** A worker running src/core/chain/parallel/verify-worker.ts under tsx. */
export function startSourceVerifyWorker(): Worker {
  return new Worker(`import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(SOURCE)}); });`, {
    eval: true,
  });
}
