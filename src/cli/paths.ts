/**
 * Paths as users give them: the audit directory from `--dir`, `LOKI_AUDIT_DIR` or Loki Mode's
 * fixed location, and `~` / `$HOME` in every path flag and config value (systemd and some
 * config files pass `~` literally; no shell expanded it).
 */
import { Flags } from '@oclif/core';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { StreamKind } from '../core/read/streams.js';

const HOME_VAR = /^\$(?:HOME|\{HOME\})(?=\/|$)/;

/**
 * `~`, `~/x`, `$HOME/x` and `${HOME}/x` → under the home directory (`$HOME`, else the
 * account's); any path → absolute. `~user/` is not expanded (no shell lookup of other users).
 */
export function expandPath(p: string, env: NodeJS.ProcessEnv = process.env): string {
  const home = env.HOME || homedir();
  if (p === '~') return resolve(home);
  if (p.startsWith('~/')) return resolve(home, p.slice(2));
  const m = HOME_VAR.exec(p);
  if (m) return resolve(home + p.slice(m[0].length));
  return resolve(p);
}

/** A flag that names a file or directory: `~` and `$HOME` expanded, made absolute. */
export const pathFlag = Flags.custom<string>({ parse: async (input) => expandPath(input) });

/**
 * Where to look: the `--dir` flag, else `LOKI_AUDIT_DIR`, else Loki Mode's fixed location
 * `~/.loki/dashboard/audit` (spec §1: `Path.home()`, nothing moves it). A project's own streams
 * (`--stream js|agent|session`, spec §5) live in the project, not there: without `--dir` they
 * are looked for in the current directory, as `git` looks for its repository.
 */
export function resolveAuditDir(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  stream?: StreamKind,
): string {
  if (flag) return expandPath(flag, env);
  if (stream && stream !== 'dashboard') return process.cwd();
  if (env.LOKI_AUDIT_DIR) return expandPath(env.LOKI_AUDIT_DIR, env);
  return join(env.HOME || homedir(), '.loki', 'dashboard', 'audit');
}
