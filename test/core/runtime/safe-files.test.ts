/**
 * safe-files.ts, the one way loki-audit writes its own files: planted symbolic links (at the
 * target and at the temporary name older versions used), FIFOs and directories are refused and
 * the file they point at stays untouched; new files are mode 600; nothing is left behind.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { writeJsonAtomic } from '../../../src/core/runtime/atomic.js';
import {
  appendAll,
  createFile,
  createTempFile,
  FileExistsError,
  openForAppend,
  replaceFile,
  replaceFileAsync,
  UnsafeFileError,
} from '../../../src/core/runtime/safe-files.js';
import { tempDir } from '../../helpers/cli.js';

const mode = (p: string) => statSync(p).mode & 0o777;

describe('safe-files: writing loki-audit’s own files', () => {
  let t: { dir: string; cleanup: () => void };
  let victim: string;
  beforeEach(() => {
    t = tempDir();
    victim = join(t.dir, 'victim');
    writeFileSync(victim, 'do not touch\n');
  });
  afterEach(() => t.cleanup());
  const untouched = () => assert.equal(readFileSync(victim, 'utf8'), 'do not touch\n', 'the linked file is untouched');

  it('replaceFile: mode 600, a random temporary name, nothing left behind', () => {
    const path = join(t.dir, 'state.json');
    replaceFile(path, 'one\n');
    replaceFile(path, 'two\n');
    assert.equal(readFileSync(path, 'utf8'), 'two\n');
    assert.equal(mode(path), 0o600);
    assert.deepEqual(readdirSync(t.dir).sort(), ['state.json', 'victim']);
  });

  it('replaceFileAsync: the same file as replaceFile, its fsyncs off the event loop; links refused', async () => {
    const path = join(t.dir, 'state.json');
    await replaceFileAsync(path, 'one\n');
    await replaceFileAsync(path, 'two\n');
    assert.equal(readFileSync(path, 'utf8'), 'two\n');
    assert.equal(mode(path), 0o600);
    assert.deepEqual(readdirSync(t.dir).sort(), ['state.json', 'victim']);
    const link = join(t.dir, 'link.json');
    symlinkSync(victim, link);
    await assert.rejects(replaceFileAsync(link, 'x'), UnsafeFileError);
    untouched();
    await assert.rejects(replaceFileAsync(join(t.dir, 'no-such-dir', 'x.json'), 'x'), { code: 'ENOENT' });
    assert.deepEqual(readdirSync(t.dir).sort(), ['link.json', 'state.json', 'victim'], 'no temporary file');
  });

  it('createTempFile: a new random name beside the target each time, mode 600, never an existing one', () => {
    const target = join(t.dir, 'state.json');
    const a = createTempFile(target);
    const b = createTempFile(target);
    closeSync(a.fd);
    closeSync(b.fd);
    assert.notEqual(a.path, b.path);
    for (const p of [a.path, b.path]) {
      assert.equal(dirname(p), t.dir, 'same directory: the rename stays on one file system');
      assert.match(basename(p), /^\.state\.json\.[0-9A-Za-z_-]{8,}\.tmp$/);
      assert.equal(mode(p), 0o600);
    }
  });

  it('writeJsonAtomic never opens the temporary name older versions used (<state>.<pid>.tmp)', () => {
    const path = join(t.dir, 'state.json');
    symlinkSync(victim, `${path}.${process.pid}.tmp`);
    writeJsonAtomic(path, { version: 1 });
    untouched();
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { version: 1 });
    assert.equal(statSync(path).isFile(), true);
  });

  it('replaceFile refuses a target that is a link (even a dangling one) or a directory', () => {
    const path = join(t.dir, 'state.json');
    symlinkSync(victim, path);
    assert.throws(() => replaceFile(path, 'x'), UnsafeFileError);
    assert.throws(() => writeJsonAtomic(path, {}), /refusing to write .*state\.json: it is a symbolic link/);
    untouched();
    const dangling = join(t.dir, 'dangling.json');
    symlinkSync(join(t.dir, 'nowhere'), dangling);
    assert.throws(() => replaceFile(dangling, 'x'), UnsafeFileError);
    assert.deepEqual(readdirSync(t.dir).includes('nowhere'), false);
    mkdirSync(join(t.dir, 'd'));
    assert.throws(() => replaceFile(join(t.dir, 'd'), 'x'), /it is a directory, not a regular file/);
    assert.deepEqual(readdirSync(t.dir).sort(), ['d', 'dangling.json', 'state.json', 'victim'], 'no temporary file');
  });

  it('createFile never replaces: an existing file, a link, a dangling link', () => {
    const path = join(t.dir, 'checkpoint.json');
    createFile(path, '{}\n');
    assert.equal(mode(path), 0o600);
    assert.throws(() => createFile(path, 'again'), FileExistsError);
    assert.equal(readFileSync(path, 'utf8'), '{}\n');
    const link = join(t.dir, 'link');
    symlinkSync(victim, link);
    assert.throws(() => createFile(link, 'x'), UnsafeFileError);
    untouched();
    const dangling = join(t.dir, 'dangling');
    symlinkSync(join(t.dir, 'created-through-link'), dangling);
    assert.throws(() => createFile(dangling, 'x'), UnsafeFileError);
    assert.equal(readdirSync(t.dir).includes('created-through-link'), false);
  });

  it('openForAppend: creates mode 600, appends; refuses a link, a FIFO (without hanging) and a directory', () => {
    const path = join(t.dir, 'dead.jsonl');
    for (const text of ['a\n', 'b\n']) {
      const fd = openForAppend(path);
      appendAll(fd, text, path);
      closeSync(fd);
    }
    assert.equal(readFileSync(path, 'utf8'), 'a\nb\n');
    assert.equal(mode(path), 0o600);
    const link = join(t.dir, 'link.jsonl');
    symlinkSync(victim, link);
    assert.throws(() => openForAppend(link), /refusing to write .*link\.jsonl: it is a symbolic link/);
    untouched();
    const fifo = join(t.dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    assert.throws(() => openForAppend(fifo), /it is a FIFO, not a regular file/);
    assert.throws(() => openForAppend(t.dir), /it is a directory, not a regular file/);
  });
});
