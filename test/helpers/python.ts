/**
 * python3 for the cross-checks against CPython (its json.dumps, a Loki Mode-style writer, its
 * verifier's rule): whether it runs here, and the `skip` of a test that needs it. CI installs it
 * (.ci/run); a machine without it skips those tests with the reason, never passes them silently.
 */
import { spawnSync } from 'node:child_process';

/** Whether `python3 --version` runs. */
export const hasPython = spawnSync('python3', ['--version']).status === 0;

/** A test's `skip` option when it needs python3: false, or why it is skipped. */
export const needsPython: false | string = hasPython ? false : 'python3 not installed';
