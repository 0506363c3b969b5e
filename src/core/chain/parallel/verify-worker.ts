/**
 * Worker thread of the parallel verifier (fast-path.ts): receives {@link ChainJob}s, answers
 * each with its {@link ChainJobResult}.
 */
import { parentPort } from 'node:worker_threads';
import { runChainJob, type ChainJob } from './fast-path.js';

parentPort?.on('message', (job: ChainJob) => {
  void runChainJob(job).then((r) => parentPort?.postMessage(r));
});
