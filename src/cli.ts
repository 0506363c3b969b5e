/**
 * The whole CLI as one module: what the build bundles into `dist/cli.cjs` (scripts/bundle.mjs),
 * with oclif itself and every dependency, and `bin/run.js` loads (bin/load-cli.js, with V8's
 * code cache).
 *
 * oclif finds the commands through its "explicit" discovery strategy (package.json
 * `oclif.commands`: `{ strategy: explicit, target: ./dist/cli.cjs, identifier: COMMANDS }`),
 * made for CLIs bundled into a single file: one file to load instead of ~250 small CommonJS
 * and ES modules, whose loading was a large part of every start (bench/results/decisions.md).
 * Its hooks are found the same way (`oclif.hooks`: `command_not_found` → `commandNotFound`).
 */
import Append from './commands/append.js';
import Checkpoint from './commands/checkpoint.js';
import Completion from './commands/completion.js';
import Config from './commands/config.js';
import Export from './commands/export.js';
import Forward from './commands/forward.js';
import Help from './commands/help.js';
import Search from './commands/search.js';
import Summary from './commands/summary.js';
import Tail from './commands/tail.js';
import Verify from './commands/verify.js';

export { execute } from '@oclif/core';
export { commandNotFound } from './cli/usage-errors.js';

/** Command ids (as typed: `loki-audit <id>`) to command classes. */
export const COMMANDS = {
  append: Append,
  checkpoint: Checkpoint,
  completion: Completion,
  config: Config,
  export: Export,
  forward: Forward,
  help: Help,
  search: Search,
  summary: Summary,
  tail: Tail,
  verify: Verify,
};
