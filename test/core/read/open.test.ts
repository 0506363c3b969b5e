/** read/open.ts: only regular files inside their directory are opened; nothing blocks. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, readSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { NotRegularFileError, openRegularFile, readErrorText } from '../../../src/core/read/open.js';
import { tempDir } from '../../helpers/cli.js';

function refused(path: string, what: RegExp): void {
  assert.throws(
    () => openRegularFile(path),
    (e: unknown) => e instanceof NotRegularFileError && what.test(e.what),
    path,
  );
}

describe('openRegularFile', () => {
  it('opens a regular file, and a symlink to one inside the directory (or below it)', () => {
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, 'real.jsonl'), 'x\n');
      mkdirSync(join(t.dir, '.archive'));
      writeFileSync(join(t.dir, '.archive', 'old.jsonl'), 'y\n');
      symlinkSync('real.jsonl', join(t.dir, 'link.jsonl'));
      symlinkSync('.archive/old.jsonl', join(t.dir, 'archived.jsonl'));
      for (const [name, want] of [
        ['real.jsonl', 'x'],
        ['link.jsonl', 'x'],
        ['archived.jsonl', 'y'],
      ]) {
        const fd = openRegularFile(join(t.dir, name));
        const b = Buffer.alloc(1);
        readSync(fd, b, 0, 1, 0);
        closeSync(fd);
        assert.equal(b.toString(), want, name);
      }
    } finally {
      t.cleanup();
    }
  });

  it('refuses FIFOs, sockets, devices, directories and symlinks out of the directory, without blocking', async () => {
    const t = tempDir();
    const server = createServer();
    try {
      execFileSync('mkfifo', [join(t.dir, 'fifo.jsonl')]);
      await new Promise<void>((r) => server.listen(join(t.dir, 'sock.jsonl'), r));
      mkdirSync(join(t.dir, 'dir.jsonl'));
      writeFileSync(join(t.dir, 'inner.jsonl'), '');
      execFileSync('mkfifo', [join(t.dir, 'inner-fifo')]);
      symlinkSync('/dev/zero', join(t.dir, 'zero.jsonl'));
      symlinkSync('/etc/hostname', join(t.dir, 'outside.jsonl'));
      symlinkSync('../', join(t.dir, 'up.jsonl'));
      symlinkSync('inner-fifo', join(t.dir, 'to-fifo.jsonl'));
      refused(join(t.dir, 'fifo.jsonl'), /^a FIFO, not a regular file$/);
      refused(join(t.dir, 'sock.jsonl'), /^a socket/);
      refused(join(t.dir, 'dir.jsonl'), /^a directory/);
      refused('/dev/null', /^a character device/);
      refused(join(t.dir, 'zero.jsonl'), /^a symbolic link to \/dev\/zero, outside the audit directory$/);
      refused(join(t.dir, 'outside.jsonl'), /outside the audit directory/);
      refused(join(t.dir, 'up.jsonl'), /outside the audit directory/);
      refused(join(t.dir, 'to-fifo.jsonl'), /^a symbolic link to a FIFO/);
      assert.throws(() => openRegularFile(join(t.dir, 'missing.jsonl')), { code: 'ENOENT' });
    } finally {
      server.close();
      t.cleanup();
    }
  });

  it('readErrorText: one plain line per cause', () => {
    assert.equal(
      readErrorText(
        'audit-2026-01-01.jsonl',
        new NotRegularFileError('/d/audit-2026-01-01.jsonl', 'a FIFO, not a regular file'),
      ),
      'cannot read audit-2026-01-01.jsonl: a FIFO, not a regular file',
    );
    const eacces = Object.assign(new Error("EACCES: permission denied, open '/d/audit-2026-01-01.jsonl'"), {
      code: 'EACCES',
    });
    assert.equal(
      readErrorText('audit-2026-01-01.jsonl', eacces),
      'cannot read audit-2026-01-01.jsonl: EACCES: permission denied',
    );
    const z = Object.assign(new Error('incorrect header check'), { code: 'Z_DATA_ERROR' });
    assert.equal(
      readErrorText('audit-2026-01-01.jsonl.gz', z),
      'cannot read audit-2026-01-01.jsonl.gz: corrupt gzip data (Z_DATA_ERROR: incorrect header check)',
    );
  });
});
