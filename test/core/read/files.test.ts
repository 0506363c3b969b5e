import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
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
