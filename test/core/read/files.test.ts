import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AuditDirError, discoverAuditFiles, filesInDateRange, missingDates } from '../../../src/core/read/files.js';
import { tempDir } from '../../helpers/cli.js';

describe('discoverAuditFiles', () => {
  it('orders by date, then rotated pieces by HHMMSS, then the live file; lists foreign names', async () => {
    const t = tempDir();
    try {
      for (const n of [
        'audit-2026-02-02.jsonl',
        'audit-2026-02-01.jsonl',
        'audit-2026-02-01.110351.jsonl',
        'audit-2026-02-01.084859.jsonl',
        'audit-2026-01-31.jsonl.gz',
        'audit-notes.jsonl',
        'audit-20260201.jsonl',
        'audit.jsonl',
        'README.md',
      ])
        writeFileSync(join(t.dir, n), '');
      mkdirSync(join(t.dir, 'sub'));
      const d = await discoverAuditFiles(t.dir);
      assert.deepEqual(
        d.files.map((f) => f.name),
        [
          'audit-2026-01-31.jsonl.gz',
          'audit-2026-02-01.084859.jsonl',
          'audit-2026-02-01.110351.jsonl',
          'audit-2026-02-01.jsonl',
          'audit-2026-02-02.jsonl',
        ],
      );
      assert.deepEqual(
        d.jsFiles.map((f) => f.name),
        ['audit.jsonl'],
      );
      assert.deepEqual(d.foreign, ['audit-20260201.jsonl', 'audit-notes.jsonl']);
      assert.deepEqual(
        filesInDateRange(d.files, '2026-02-01', '2026-02-01').map((f) => f.name),
        ['audit-2026-02-01.084859.jsonl', 'audit-2026-02-01.110351.jsonl', 'audit-2026-02-01.jsonl'],
      );
    } finally {
      t.cleanup();
    }
  });
  it('audit.jsonl is a JS AuditLog only when its first entry carries seq, previousHash and hash', async () => {
    const js = JSON.stringify({
      seq: 0,
      timestamp: '2026-12-01T20:04:32.583Z',
      who: 'x',
      what: 'y',
      previousHash: 'GENESIS',
      hash: 'ab',
    });
    const writer = JSON.stringify({ timestamp: '2026-03-01T00:00:00+00:00', action: 'create', resource_type: 'task' });
    const cases: Array<[string, string | Buffer, 'js' | 'foreign']> = [
      ['a JS AuditLog entry after blank lines', `\n  \n${js}\n`, 'js'],
      ["a user's cat of the dashboard files (spec §10.22)", `${writer}\n${writer}\n`, 'foreign'],
      // An edit that strips the JS fields from the first entry must not make the file unchecked.
      ['a JS AuditLog whose first entry lost its seq and hash', `${writer}\n${js}\n`, 'js'],
      ['an entry with seq and hash but no previousHash', JSON.stringify({ seq: 0, hash: 'ab' }) + '\n', 'foreign'],
      ['an empty file (nothing to tell it by)', '', 'js'],
      ['a first line that is not JSON (verify must report it)', '{"seq": 0, "prev\n', 'js'],
      ['a first line that is JSON but not an object', '[1, 2]\n', 'js'],
    ];
    for (const [what, content, want] of cases) {
      const t = tempDir();
      try {
        writeFileSync(join(t.dir, 'audit.jsonl'), content);
        writeFileSync(join(t.dir, 'audit-2026-03-01.jsonl'), '');
        const d = await discoverAuditFiles(t.dir);
        assert.deepEqual(
          [d.jsFiles.map((f) => f.name), d.foreign],
          want === 'js' ? [['audit.jsonl'], []] : [[], ['audit.jsonl']],
          what,
        );
      } finally {
        t.cleanup();
      }
    }
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, 'audit.jsonl.gz'), gzipSync(`${writer}\n`));
      const d = await discoverAuditFiles(t.dir, { requireFiles: false });
      assert.deepEqual([d.jsFiles, d.foreign], [[], ['audit.jsonl.gz']], 'a compressed one is peeked at too');
      await assert.rejects(
        discoverAuditFiles(t.dir),
        (e: unknown) => e instanceof AuditDirError && e.code === 'no-audit-files' && /audit\.jsonl\.gz/.test(e.message),
      );
    } finally {
      t.cleanup();
    }
  });
  it('missing dates between first and last day', () => {
    const f = (date: string) => ({ path: '', name: '', date, piece: null, gz: false, chain: 'dashboard' as const });
    assert.deepEqual(missingDates([f('2026-02-27'), f('2026-03-02')]), ['2026-02-28', '2026-03-01']);
    assert.deepEqual(missingDates([f('2026-02-01'), f('2026-02-02')]), []);
  });
  it('throws AuditDirError with a code', async () => {
    await assert.rejects(
      discoverAuditFiles('/nonexistent-x'),
      (e: unknown) => e instanceof AuditDirError && e.code === 'not-found',
    );
  });
});
