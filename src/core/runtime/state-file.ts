/**
 * The versioned JSON state files loki-audit keeps between runs (forward's positions, verify's
 * incremental state): one loader for all of them, so that a missing, unreadable, corrupt,
 * foreign or other directory's file is told apart the same way everywhere.
 */
import { readFileSync } from 'node:fs';
import { refuseUnsafeTarget } from './safe-files.js';

/** Why a state file cannot be used. */
export type StateFileProblem = 'io' | 'corrupt' | 'other-directory';

/** What a state file must be. */
export interface StateFileSpec<T extends { version: number; dir: string }> {
  /** What the file is, for messages: "forward state", "verify state". */
  kind: string;
  version: T['version'];
  /** The audit directory it must belong to (absolute). */
  dir: string;
  /** Whether a parsed value has the file's shape; a string is what is wrong with it. */
  check(value: { version: unknown; dir: unknown }): true | string;
  /** What to do when the file is corrupt: a hint for the message (e.g. "remove it to …"). */
  corruptHint: string;
  /** The caller's error for each problem. */
  error(problem: StateFileProblem, message: string): Error;
}

/**
 * Reads a state file: null when it does not exist.
 * @throws UnsafeFileError when `path` is a symbolic link or not a regular file: it would be
 *   replaced on the next save, so the run stops before it starts (safe-files.ts).
 * @throws the spec's error: `io` (unreadable), `corrupt` (not JSON, not this kind or version,
 *   or malformed inside), `other-directory`.
 */
export function loadStateFile<T extends { version: number; dir: string }>(
  path: string,
  spec: StateFileSpec<T>,
): T | null {
  refuseUnsafeTarget(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw spec.error('io', `cannot read state file ${path}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw spec.error('corrupt', `state file ${path} is not valid JSON (corrupt or truncated): ${spec.corruptHint}`);
  }
  const v = value as { version: unknown; dir: unknown } | null;
  if (v === null || typeof v !== 'object' || v.version !== spec.version || typeof v.dir !== 'string')
    throw spec.error('corrupt', `state file ${path} is not a loki-audit ${spec.kind} (version ${spec.version})`);
  const problem = spec.check(v);
  if (problem !== true) throw spec.error('corrupt', `state file ${path}: ${problem}`);
  if (v.dir !== spec.dir)
    throw spec.error(
      'other-directory',
      `state file ${path} belongs to ${v.dir}, not ${spec.dir}: use another --state for this directory`,
    );
  return value as T;
}
