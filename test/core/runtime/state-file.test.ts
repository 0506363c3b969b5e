/** The one versioned state-file loader (forward positions, verify state): each problem told apart. */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { UnsafeFileError } from '../../../src/core/runtime/safe-files.js';
import { loadStateFile, type StateFileProblem, type StateFileSpec } from '../../../src/core/runtime/state-file.js';
import { tempDir } from '../../helpers/cli.js';

interface TestState {
  version: 2;
  dir: string;
  n: number;
}

class StateError extends Error {
  constructor(
    readonly problem: StateFileProblem,
    message: string,
  ) {
    super(message);
  }
}

const spec = (dir: string): StateFileSpec<TestState> => ({
  kind: 'test state',
  version: 2,
  dir,
  check: (v) => (typeof (v as { n?: unknown }).n === 'number' ? true : 'n is not a number'),
  corruptHint: 'remove it to start again',
  error: (problem, message) => new StateError(problem, message),
});

/** The problem and message `loadStateFile` throws for the file at `path`. */
function problemOf(path: string, dir: string): { problem: StateFileProblem; message: string } {
  try {
    loadStateFile(path, spec(dir));
  } catch (err) {
    assert.ok(err instanceof StateError, String(err));
    return { problem: err.problem, message: err.message };
  }
  assert.fail(`${path} loaded`);
}

describe('loadStateFile', () => {
  it('a good file is returned as read; a missing file is null', () => {
    const t = tempDir();
    try {
      const path = join(t.dir, 'state.json');
      assert.equal(loadStateFile(path, spec('/audit')), null);
      writeFileSync(path, JSON.stringify({ version: 2, dir: '/audit', n: 7 }));
      assert.deepEqual(loadStateFile(path, spec('/audit')), { version: 2, dir: '/audit', n: 7 });
    } finally {
      t.cleanup();
    }
  });

  it('corrupt: not JSON (with the hint), another version or kind, or malformed inside', () => {
    const t = tempDir();
    try {
      const path = join(t.dir, 'state.json');
      writeFileSync(path, '{"version": 2, "dir": "/au');
      assert.deepEqual(problemOf(path, '/audit'), {
        problem: 'corrupt',
        message: `state file ${path} is not valid JSON (corrupt or truncated): remove it to start again`,
      });
      for (const v of [{ version: 1, dir: '/audit', n: 1 }, { version: 2, n: 1 }, null, [2]]) {
        writeFileSync(path, JSON.stringify(v));
        assert.deepEqual(
          problemOf(path, '/audit'),
          { problem: 'corrupt', message: `state file ${path} is not a loki-audit test state (version 2)` },
          JSON.stringify(v),
        );
      }
      writeFileSync(path, JSON.stringify({ version: 2, dir: '/audit', n: 'x' }));
      assert.deepEqual(problemOf(path, '/audit'), {
        problem: 'corrupt',
        message: `state file ${path}: n is not a number`,
      });
    } finally {
      t.cleanup();
    }
  });

  it("another directory's file is other-directory, checked after its shape", () => {
    const t = tempDir();
    try {
      const path = join(t.dir, 'state.json');
      writeFileSync(path, JSON.stringify({ version: 2, dir: '/elsewhere', n: 1 }));
      const p = problemOf(path, '/audit');
      assert.equal(p.problem, 'other-directory');
      assert.match(p.message, /belongs to \/elsewhere, not \/audit: use another --state/);
      writeFileSync(path, JSON.stringify({ version: 2, dir: '/elsewhere', n: 'x' }));
      assert.equal(problemOf(path, '/audit').problem, 'corrupt');
    } finally {
      t.cleanup();
    }
  });

  it('unreadable is io; a symbolic link or a directory is refused before it is read', (t) => {
    const d = tempDir();
    try {
      const path = join(d.dir, 'state.json');
      writeFileSync(path, JSON.stringify({ version: 2, dir: '/audit', n: 1 }));
      const link = join(d.dir, 'link.json');
      symlinkSync(path, link);
      assert.throws(() => loadStateFile(link, spec('/audit')), UnsafeFileError);
      const sub = join(d.dir, 'sub');
      mkdirSync(sub);
      assert.throws(() => loadStateFile(sub, spec('/audit')), UnsafeFileError);
      if (process.getuid?.() === 0) return t.skip('root reads a mode-000 file');
      chmodSync(path, 0o000);
      const p = problemOf(path, '/audit');
      assert.equal(p.problem, 'io');
      assert.match(p.message, new RegExp(`^cannot read state file ${path}: EACCES`));
    } finally {
      d.cleanup();
    }
  });
});
