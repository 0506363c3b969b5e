/**
 * Starting this project's worker threads, from the built JavaScript or, under the tests'
 * TypeScript loader (tsx, a dev dependency), from the .ts source, which a worker can only load
 * after registering tsx itself.
 */
import { Worker } from 'node:worker_threads';

/**
 * A worker running the module `name` (without extension) that sits next to the module whose
 * `import.meta.url` is `from`.
 */
export function startWorker(name: string, from: string): Worker {
  if (!from.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, from));
  const src = new URL(`./${name}.ts`, from).href;
  return new Worker(`import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(src)}); });`, {
    eval: true,
  });
}
