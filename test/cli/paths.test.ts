/** `~` and `$HOME` in --dir, LOKI_AUDIT_DIR and path flags (systemd passes them literally); append --create. */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { expandPath } from '../../src/cli/paths.js';
import { assertExit, ROOT, runCli, tempDir } from '../helpers/cli.js';

const SAMPLE = join(ROOT, 'examples', 'audit');

describe('expandPath', () => {
  const env = { HOME: '/home/ops' };
  it('~, ~/x, $HOME/x and ${HOME}/x go under HOME; other paths are made absolute', () => {
    assert.equal(expandPath('~', env), '/home/ops');
    assert.equal(expandPath('~/audit', env), '/home/ops/audit');
    assert.equal(expandPath('$HOME/audit', env), '/home/ops/audit');
    assert.equal(expandPath('${HOME}/a/../b', env), '/home/ops/b');
    assert.equal(expandPath('$HOME', env), '/home/ops');
    assert.equal(expandPath('/var/x', env), '/var/x');
    assert.equal(expandPath('rel', env), join(process.cwd(), 'rel'));
  });

  it('leaves what only looks like them: ~user, $HOMEDIR, a ~ inside a name', () => {
    assert.equal(expandPath('~ops/x', env), join(process.cwd(), '~ops/x'));
    assert.equal(expandPath('$HOMEDIR/x', env), join(process.cwd(), '$HOMEDIR/x'));
    assert.equal(expandPath('/a/~/b', env), '/a/~/b');
  });
});

describe('~ and $HOME on the command line and in LOKI_AUDIT_DIR', () => {
  it('--dir, the directory argument, LOKI_AUDIT_DIR and --state expand them', async () => {
    const t = tempDir();
    try {
      cpSync(SAMPLE, join(t.dir, 'audit'), { recursive: true });
      const env = { HOME: t.dir };
      const want = assertExit(await runCli(['verify', '--dir', join(t.dir, 'audit'), '--json']), 0).stdout;
      for (const args of [
        ['verify', '--dir', '~/audit', '--json'],
        ['verify', '$HOME/audit', '--json'],
        ['verify', '--json'],
      ]) {
        const r = assertExit(await runCli(args, { env: { ...env, LOKI_AUDIT_DIR: '~/audit' } }), 0, args.join(' '));
        assert.equal(r.stdout, want, args.join(' '));
      }
      assertExit(await runCli(['verify', '--dir', '~/audit', '--state', '~/verify-state.json', '-q'], { env }), 0);
      assert.ok(statSync(join(t.dir, 'verify-state.json')).isFile(), 'the state went under HOME');
      assert.ok(!existsSync(join(ROOT, '~')), 'no directory named ~ was created');
    } finally {
      t.cleanup();
    }
  });
});

describe('append into a directory that does not exist', () => {
  it('refuses (exit 3) and names --create; with --create it starts the chain there', async () => {
    const t = tempDir();
    try {
      const dir = join(t.dir, 'typo', 'audit');
      const r = assertExit(await runCli(['append', '--dir', dir, '--event', 'task.start']), 3);
      assert.match(r.stderr, new RegExp(`^loki-audit: error: audit directory ${dir} does not exist$`, 'm'));
      assert.match(r.stderr, /--create/);
      assert.ok(!existsSync(join(t.dir, 'typo')), 'nothing was created');
      assertExit(await runCli(['append', '--dir', dir, '--create', '--event', 'task.start']), 0);
      assert.equal(readdirSync(dir).length, 1);
      assertExit(await runCli(['verify', dir, '-q']), 0);
      // An existing directory needs no --create.
      mkdirSync(join(t.dir, 'there'));
      assertExit(await runCli(['append', '--dir', join(t.dir, 'there'), '--event', 'task.start']), 0);
    } finally {
      t.cleanup();
    }
  });
});
