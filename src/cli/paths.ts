/**
 * Paths as users give them: the audit directory from `--dir`, `LOKI_AUDIT_DIR` or Loki Mode's
 * fixed location, and `~/` in path flags and config values.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { StreamKind } from '../core/read/streams.js';

/** `~/x` → `$HOME/x`; any path → absolute. */
export function expandPath(p: string): string {
  return p.startsWith('~/') ? resolve(homedir(), p.slice(2)) : resolve(p);
}

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
  if (flag) return resolve(flag);
  if (stream && stream !== 'dashboard') return process.cwd();
  if (env.LOKI_AUDIT_DIR) return resolve(env.LOKI_AUDIT_DIR);
  return join(homedir(), '.loki', 'dashboard', 'audit');
}
