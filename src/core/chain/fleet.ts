/**
 * Fleet verification (`verify` over several directories): each directory verified on its own
 * worker thread (fleet-worker.ts), at most `concurrency` at a time, results handed back in the
 * order the directories were given, as soon as each and all before it are done. Memory stays
 * flat: a worker holds one directory's verification at a time (the verifier streams), and what
 * comes back is that directory's report (bounded lists of findings and notes, bounded.ts).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { DirectoryReport, VerifyDirectoryOptions } from './directory.js';
import type { StreamKind } from '../read/streams.js';

/** What a worker is given for one directory: plain, cloneable options (no callbacks). */
export type FleetVerifyOptions = Pick<
  VerifyDirectoryOptions,
  'strict' | 'retentionFiles' | 'readHeadTime' | 'freshness' | 'maxLineBytes' | 'jobs'
>;

/** A worker's question: verify `dir` (its `stream` only, when given) with `options`. */
export interface FleetJob {
  dir: string;
  stream?: StreamKind;
  options: FleetVerifyOptions;
}

/**
 * A worker's answer: the report, or the error that ended the directory's verification (its
 * class name, `code` for an AuditDirError or a system error, and its one-line message).
 */
export type FleetAnswer =
  { ok: true; report: DirectoryReport } | { ok: false; error: { name: string; code?: string; message: string } };

/** How many directories run at once and how many threads each may use, for `threads` in all. */
export interface FleetPlan {
  /** Directories verified at the same time (worker threads). */
  concurrency: number;
  /** Threads of each directory's parallel fast path (1: the worker's own thread only). */
  jobsPerDir: number;
}

/**
 * Shares `threads` (default: `os.availableParallelism()`) between `dirs` directories without
 * oversubscribing: as many directories at once as there are threads (at most `dirs`), and
 * each directory's own fast path gets the threads left over (`floor(threads / concurrency)`,
 * at least 1), so `concurrency × jobsPerDir ≤ threads` whenever threads ≥ 1.
 */
export function planFleet(dirs: number, threads = availableParallelism()): FleetPlan {
  const total = Math.max(1, Math.floor(threads));
  const concurrency = Math.max(1, Math.min(total, dirs));
  return { concurrency, jobsPerDir: Math.max(1, Math.floor(total / concurrency)) };
}

/** A worker thread running the built `fleet-worker.js` beside this module (dist/, scripts/bundle.mjs). */
function startFleetWorker(): Worker {
  return new Worker(new URL('./fleet-worker.js', import.meta.url));
}

/** Options of {@link verifyFleet}. */
export interface FleetOptions {
  /** Directories at once (see {@link planFleet}). */
  concurrency: number;
  /** Starts a worker running fleet-worker (default {@link startFleetWorker}; tests pass the sources'). */
  startWorker?: () => Worker;
  /** Called once per directory, in the order given, as soon as it and every one before it are done. */
  onResult: (index: number, answer: FleetAnswer) => void;
}

/**
 * Verifies every job's directory, `concurrency` at a time, each on a worker thread. A worker
 * that dies (or cannot start) answers its directory with an error and is replaced; the run goes
 * on. Resolves when every directory has been handed to `onResult`; never rejects for a
 * directory's failure. Workers are ended before it resolves.
 */
export async function verifyFleet(jobs: readonly FleetJob[], options: FleetOptions): Promise<void> {
  const start = options.startWorker ?? startFleetWorker;
  const answers: (FleetAnswer | undefined)[] = new Array(jobs.length);
  let next = 0;
  let delivered = 0;
  const deliver = (): void => {
    while (delivered < jobs.length && answers[delivered]) {
      const answer = answers[delivered] as FleetAnswer;
      answers[delivered++] = undefined; // handed on: not kept
      options.onResult(delivered - 1, answer);
    }
  };
  const lane = async (): Promise<void> => {
    let worker: Worker | null = null;
    try {
      while (next < jobs.length) {
        const i = next++;
        worker ??= start();
        const answer = await ask(worker, jobs[i]);
        if (!answer.ok && answer.error.name === 'WorkerExit') {
          void worker.terminate();
          worker = null;
        }
        answers[i] = answer;
        deliver();
      }
    } finally {
      await worker?.terminate();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, jobs.length)) }, lane));
}

/** One job on `worker`: its answer, or a WorkerExit/WorkerError answer when the worker fails. */
function ask(worker: Worker, job: FleetJob): Promise<FleetAnswer> {
  return new Promise((resolve) => {
    const done = (answer: FleetAnswer): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      resolve(answer);
    };
    const onMessage = (answer: FleetAnswer): void => done(answer);
    const onError = (err: Error): void =>
      done({ ok: false, error: { name: 'WorkerExit', message: `verifier thread failed: ${err.message}` } });
    const onExit = (code: number): void =>
      done({ ok: false, error: { name: 'WorkerExit', message: `verifier thread exited (code ${code})` } });
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage(job);
  });
}
