/**
 * What `forward` needs before it sends anything, from its flags, the config files and the
 * environment: the targets, the filter (flags, then Loki Mode's `enterprise.audit` keys), where
 * the state file and the dead-letter file are, and the saved positions.
 *
 * State path policy: `--state`, else the config file's `forward.state`, else
 * `~/.local/state/loki-audit/forward-<first 12 hex of sha256(dir)>.json` (one per audit
 * directory); the dead-letter file sits next to the state file unless `--dead-letter` or
 * `forward.dead_letter` says otherwise.
 */
import { Errors } from '@oclif/core';
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ForwardTarget } from '../core/forward/target.js';
import { loadState, StateError, type StateFile } from '../core/forward/positions.js';
import { compileFilter, type EntryFilter } from '../core/query/filters.js';
import { Exit } from './exit-codes.js';
import { filterSpecFromFlags, type FilterFlagValues } from './filter-flags.js';
import {
  auditKeysFilter,
  buildTargets,
  ForwardConfigError,
  type ConfigFile,
  type TargetFlags,
} from './forward-targets.js';
import { expandPath } from './paths.js';

/** Everything a forward run is set up with. */
export interface ForwardSetup {
  targets: ForwardTarget[];
  filter: EntryFilter;
  statePath: string;
  deadLetterPath: string;
  state: StateFile;
}

export type ForwardSetupFlags = TargetFlags &
  FilterFlagValues & { state?: string; 'dead-letter'?: string; 'reset-state'?: boolean };

/** The default state file of an audit directory. */
function defaultStatePath(dir: string): string {
  const dirId = createHash('sha256').update(dir).digest('hex').slice(0, 12);
  return join(homedir(), '.local', 'state', 'loki-audit', `forward-${dirId}.json`);
}

/** State and dead-letter paths: flags, then the config file, then the defaults. */
function forwardPaths(
  flags: { state?: string; 'dead-letter'?: string },
  config: ConfigFile,
  dir: string,
): { statePath: string; deadLetterPath: string } {
  const state = flags.state ?? config.forward?.state;
  const statePath = state ? expandPath(state) : defaultStatePath(dir);
  const deadLetter = flags['dead-letter'] ?? config.forward?.dead_letter;
  const deadLetterPath = deadLetter ? expandPath(deadLetter) : statePath.replace(/\.json$/, '') + '.dead-letter.jsonl';
  return { statePath, deadLetterPath };
}

/**
 * Sets a forward run up, with the merged config files (src/cli/config.ts, `forwardConfig`).
 * @throws CLIError: usage (exit 2) for bad configuration or no target; state-mismatch (exit 10)
 *   for a state file that is corrupt or belongs to another directory.
 */
export async function forwardSetup(flags: ForwardSetupFlags, dir: string, config: ConfigFile): Promise<ForwardSetup> {
  let targets: ForwardTarget[];
  try {
    targets = await buildTargets(flags, config);
  } catch (err) {
    if (err instanceof ForwardConfigError) throw new Errors.CLIError(err.message, { exit: Exit.usage });
    throw err;
  }
  if (targets.length === 0)
    throw new Errors.CLIError(
      'no target: give --loki URL, --syslog URL or --splunk-hec URL, a forward.targets ' +
        'section in a config file (docs/config.md), LOKI_AUDIT_SYSLOG_HOST, ' +
        'LOKI_SPLUNK_HEC_URL, or enterprise.siem.syslog.host in .loki/config.yaml',
      { exit: Exit.usage },
    );
  const keys = auditKeysFilter(config);
  const spec = filterSpecFromFlags({ ...flags, level: flags.level ?? keys.level });
  spec.excludeEvents = keys.excludeEvents;
  const { statePath, deadLetterPath } = forwardPaths(flags, config, dir);
  let state: StateFile;
  try {
    state = loadState(statePath, dir);
  } catch (err) {
    // --reset-state forgets positions: also those of a state file that cannot be read as one.
    if (err instanceof StateError && err.code === 'corrupt' && flags['reset-state'])
      state = { version: 1, dir, targets: {} };
    else if (err instanceof StateError)
      throw new Errors.CLIError(err.message, {
        exit: Exit.stateMismatch,
        suggestions:
          err.code === 'other-directory'
            ? ['give this directory a state file of its own: --state FILE']
            : err.code === 'corrupt'
              ? [`forward from the start again: loki-audit forward --dir ${dir} --reset-state`]
              : undefined,
      });
    else throw err;
  }
  if (flags['reset-state']) state.targets = {};
  return { targets, filter: compileFilter(spec), statePath, deadLetterPath, state };
}
