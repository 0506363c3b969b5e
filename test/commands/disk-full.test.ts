/**
 * A full disk while loki-audit writes: exit 19, a message naming the file, nothing half-written
 * and no temporary file left. The full disk is real: a 256 KiB tmpfs mounted by the test (it
 * needs root; without it the tests are skipped) and filled up.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DiskFullError, writeError } from '../../src/core/runtime/safe-files.js';
import { assertExit, LOKI, runCli, tempDir } from '../helpers/cli.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';

/** A small tmpfs mounted on a fresh directory, or null when this process may not mount one. */
function smallTmpfs(): { dir: string; cleanup: () => void } | null {
  const t = tempDir('loki-audit-full-');
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0755', 'tmpfs', t.dir]).status !== 0) {
    t.cleanup();
    return null;
  }
  return {
    dir: t.dir,
    cleanup: () => {
      spawnSync('umount', [t.dir]);
      t.cleanup();
    },
  };
}

/** Fills the file system of `dir` to the last byte. */
function fill(dir: string): void {
  const fd = openSync(join(dir, 'filler'), 'w');
  const block = Buffer.alloc(4096, 0x41);
  try {
    for (;;) writeSync(fd, block);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}

const mountable = (() => {
  const m = smallTmpfs();
  m?.cleanup();
  return m !== null;
})();
const skip = mountable ? false : 'cannot mount a tmpfs here (needs root): no full disk to test with';
const DISK_FULL = (path: string) =>
  new RegExp(
    `disk full writing ${path.replace(/[.]/g, '\\.')} \\(ENOSPC, no space left on device\\): nothing was half-written`,
  );

describe('disk full: exit 19, nothing half-written', { skip }, () => {
  let t: { dir: string; cleanup: () => void };
  let full: { dir: string; cleanup: () => void };
  let audit: string;
  beforeEach(() => {
    t = tempDir();
    full = smallTmpfs() as NonNullable<ReturnType<typeof smallTmpfs>>;
    audit = join(t.dir, 'audit');
    cpSync(join(LOKI, 'extended/valid/writer'), audit, { recursive: true });
  });
  afterEach(() => {
    full.cleanup();
    t.cleanup();
  });
  const files = () => readdirSync(full.dir).sort();

  it('append: the entry that does not fit is cut off again; the chain verifies', async () => {
    const dir = join(full.dir, 'audit');
    for (let i = 0; i < 3; i++) assertExit(await runCli(['append', '--dir', dir, '--create', '--event', 'a.b']), 0);
    const [day] = readdirSync(dir);
    const before = readFileSync(join(dir, day));
    fill(full.dir);
    // Longer than what is left of the file's last page: part of it is written before ENOSPC.
    const r = assertExit(
      await runCli(['append', '--dir', dir, '--event', 'a.big', '--detail', `blob=${'x'.repeat(6000)}`]),
      19,
    );
    assert.match(r.stderr, DISK_FULL(join(dir, day)));
    assert.deepEqual(readFileSync(join(dir, day)), before, 'the day file is as it was');
    assertExit(await runCli(['verify', '--dir', dir, '-q']), 0);
  });

  it('verify --state: the state is not replaced, no temporary file is left', async () => {
    const state = join(full.dir, 'verify-state.json');
    assertExit(await runCli(['verify', '--dir', audit, '--state', state, '-q']), 0);
    const before = readFileSync(state, 'utf8');
    fill(full.dir);
    assertExit(await runCli(['append', '--dir', audit, '--event', 'a.b']), 0);
    const r = assertExit(await runCli(['verify', '--dir', audit, '--state', state, '-q']), 19);
    assert.match(r.stderr, DISK_FULL(state));
    assert.equal(readFileSync(state, 'utf8'), before);
    assert.deepEqual(files(), ['filler', 'verify-state.json']);
  });

  it('forward: a state file or dead-letter file that does not fit', async () => {
    const rx = new LokiReceiver();
    await rx.start();
    try {
      const state = join(full.dir, 'state.json');
      const dead = join(full.dir, 'dead.jsonl');
      fill(full.dir);
      const fwd = (...a: string[]) =>
        runCli(['forward', '--dir', audit, '--loki', rx.url, '--state', state, '--dead-letter', dead, ...a]);
      // Every entry of the fixture is older than Loki accepts: all go to the dead-letter file.
      let r = assertExit(await fwd(), 19);
      assert.match(r.stderr, DISK_FULL(dead));
      assert.equal(existsSync(dead) ? readFileSync(dead, 'utf8') : '', '', 'no dead letter half-written');
      r = assertExit(await fwd('--timestamp', 'ingest'), 19);
      assert.match(r.stderr, DISK_FULL(state));
      assert.deepEqual(
        files().filter((n) => n !== 'dead.jsonl'),
        ['filler'],
        'no state file, no temporary file',
      );
    } finally {
      await rx.stop();
    }
  });

  it('checkpoint: no checkpoint and no key left half-written', async () => {
    const key = join(t.dir, 'ck');
    assertExit(await runCli(['checkpoint', '--new-key', key]), 0);
    const store = join(full.dir, 'store');
    mkdirSync(store);
    fill(full.dir);
    let r = assertExit(await runCli(['checkpoint', '--dir', audit, '--key', key, '--store', store]), 19);
    assert.match(r.stderr, /disk full writing .*\/store\/checkpoint-.*\.json \(ENOSPC/);
    assert.deepEqual(readdirSync(store), []);
    const newKey = join(full.dir, 'new.key');
    r = assertExit(await runCli(['checkpoint', '--new-key', newKey]), 19);
    assert.match(r.stderr, DISK_FULL(newKey));
    assert.deepEqual(files(), ['filler', 'store']);
  });

  it('export --output: no output and no temporary file', async () => {
    const out = join(full.dir, 'export.jsonl');
    fill(full.dir);
    const r = assertExit(await runCli(['export', '--dir', audit, '-o', 'jsonl', '--output-file', out]), 19);
    assert.match(r.stderr, DISK_FULL(out));
    assert.deepEqual(files(), ['filler']);
  });
});

describe('disk full: EDQUOT too', () => {
  it('a quota error is a full disk with its own words; other errors stay what they are', () => {
    const quota = Object.assign(new Error('EDQUOT: disk quota exceeded, write'), { code: 'EDQUOT' });
    const e = writeError(quota, '/var/lib/loki-audit/state.json');
    assert.ok(e instanceof DiskFullError);
    assert.equal(
      e.message,
      'disk full writing /var/lib/loki-audit/state.json (EDQUOT, disk quota exceeded): nothing was half-written',
    );
    const other = Object.assign(new Error('EACCES'), { code: 'EACCES' });
    assert.equal(writeError(other, '/x'), other);
  });
});
