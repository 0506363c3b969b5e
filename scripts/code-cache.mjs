// Writes V8's code cache for the bundled CLI (dist/cli.cjs.cache, see bin/load-cli.js): the
// bundle is loaded and `verify`, `search` and `summary` run on the sample directory, so that the
// cache holds the code of oclif's start, flag parsing and our reading, verifying, searching and
// counting, not just the bundle's top level (summary's start 823 -> 713 M instructions under
// callgrind with search and summary added; verify's and search's within 2%).
import { setFlagsFromString } from 'node:v8';
import { loadCli } from '../bin/load-cli.js';

process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1';
const cli = loadCli();
const dir = new URL('../examples/audit', import.meta.url).pathname;
// At exit: oclif may end the process itself once the command is done.
process.on('exit', () => {
  // search sets two heap flags at run time (src/core/runtime/heap.ts); V8 stamps the cache with
  // a hash of its flags and rejects it in a process whose flags differ, so they go back to V8's
  // defaults first.
  setFlagsFromString('--heap-growing-percent=0');
  setFlagsFromString('--semi-space-growth-factor=2');
  process.exitCode = 0;
  cli.writeCodeCache();
  console.log('dist/cli.cjs.cache: written');
});
const runs = [
  ['verify', '--dir', dir, '--quiet'],
  ['search', '--dir', dir, '--action', 'kill', '-c'],
  ['summary', '--dir', dir, '--all'],
];
// Their output is not the build's.
const write = process.stdout.write;
process.stdout.write = (_chunk, encoding, done) => {
  (typeof encoding === 'function' ? encoding : done)?.();
  return true;
};
for (const args of runs) await cli.exports.execute({ dir: new URL('../bin/run.js', import.meta.url).href, args });
process.stdout.write = write;
