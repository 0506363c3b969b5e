// Writes V8's code cache for the bundled CLI (dist/cli.cjs.cache, see bin/load-cli.js): the
// bundle is loaded and `verify` run on the sample directory, so that the cache holds the code
// of oclif's start, flag parsing and our reading and verifying, not just the bundle's top level.
import { loadCli } from '../bin/load-cli.js';

process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1';
const cli = loadCli();
// At exit: oclif may end the process itself once the command is done.
process.on('exit', () => {
  cli.writeCodeCache();
  console.log('dist/cli.cjs.cache: written');
});
await cli.exports.execute({
  dir: new URL('../bin/run.js', import.meta.url).href,
  args: ['verify', '--dir', new URL('../examples/audit', import.meta.url).pathname, '--quiet'],
});
