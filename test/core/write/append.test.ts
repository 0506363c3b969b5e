/** Core append on a real directory: the chain continues from its head, and verify agrees. */
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { GENESIS_HASH } from '../../../src/core/chain/rule.js';
import { verifyDirectory } from '../../../src/core/chain/directory.js';
import { storedHash } from '../../../src/core/chain/stored-hash.js';
import { appendEntry, AppendDirError } from '../../../src/core/write/append.js';
import { sealEntry } from '../../../src/core/write/seal.js';
import { tempDir } from '../../helpers/cli.js';

const NOW = new Date('2026-02-01T10:00:00Z');
const DAY = 'audit-2026-02-01.jsonl';
const entry = (event: string) => ({ timestamp: '2026-02-01T10:00:00+00:00', event, actor: 'test' });
const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean);

describe('appendEntry', () => {
  it('a new directory starts at genesis; each append chains from the one before; verify: intact', async () => {
    const t = tempDir();
    try {
      const results = [];
      for (const e of ['a', 'b', 'c']) results.push(await appendEntry(t.dir, entry(e), { now: NOW }));
      assert.equal(results[0].prev, GENESIS_HASH);
      assert.equal(results[1].prev, results[0].hash);
      assert.equal(results[2].prev, results[1].hash);
      assert.deepEqual(
        results.map((r) => r.file),
        [DAY, DAY, DAY],
      );
      const written = lines(join(t.dir, DAY));
      assert.deepEqual(
        written.map((l) => storedHash(l)),
        results.map((r) => r.hash),
      );
      const report = await verifyDirectory(t.dir);
      assert.deepEqual([report.verdict, report.entriesVerified], ['intact', 3], JSON.stringify(report.findings));
    } finally {
      t.cleanup();
    }
  });

  it("continues an existing chain from its head, the newest earlier file's when today's has none", async () => {
    const t = tempDir();
    try {
      const first = sealEntry(entry('old'), GENESIS_HASH);
      writeFileSync(join(t.dir, 'audit-2026-01-31.jsonl'), first.line);
      const r = await appendEntry(t.dir, entry('new'), { now: NOW });
      assert.equal(r.prev, first.hash, 'chains from the day before');
      const r2 = await appendEntry(t.dir, entry('newer'), { now: NOW });
      assert.equal(r2.prev, r.hash);
      const report = await verifyDirectory(t.dir);
      assert.deepEqual([report.verdict, report.entriesVerified], ['intact', 3], JSON.stringify(report.findings));
      // And a stored hash in a changed entry is where the next one chains from: verify sees the change.
      const text = readFileSync(join(t.dir, DAY), 'utf8').replace('"newer"', '"forged"');
      writeFileSync(join(t.dir, DAY), text);
      assert.equal((await verifyDirectory(t.dir)).verdict, 'tampered');
    } finally {
      t.cleanup();
    }
  });

  it('a torn tail stays a line of its own; the entry chains from the head before it; verify: incomplete', async () => {
    const t = tempDir();
    try {
      const a = await appendEntry(t.dir, entry('a'), { now: NOW });
      appendFileSync(join(t.dir, DAY), '{"timestamp": "2026-02-01T10:00:00+00:00", "event": "to');
      const b = await appendEntry(t.dir, entry('b'), { now: NOW });
      assert.equal(b.prev, a.hash, 'the fragment holds no hash');
      const written = lines(join(t.dir, DAY));
      assert.equal(written.length, 3);
      assert.equal(written[1], '{"timestamp": "2026-02-01T10:00:00+00:00", "event": "to');
      assert.equal(storedHash(written[2]), b.hash);
      const report = await verifyDirectory(t.dir);
      assert.equal(report.verdict, 'incomplete', JSON.stringify(report.findings));
      assert.equal(report.firstProblem?.line, 2, JSON.stringify(report.firstProblem));
    } finally {
      t.cleanup();
    }
  });

  it('create: false refuses a directory that does not exist; a given _integrity_hash is replaced', async () => {
    const t = tempDir();
    try {
      const missing = join(t.dir, 'nope');
      await assert.rejects(appendEntry(missing, entry('a'), { now: NOW, create: false }), AppendDirError);
      const r = await appendEntry(missing, { ...entry('a'), _integrity_hash: 'f'.repeat(64) }, { now: NOW });
      assert.equal(r.prev, GENESIS_HASH);
      assert.notEqual(r.hash, 'f'.repeat(64));
      assert.equal(storedHash(lines(join(missing, DAY))[0]), r.hash);
    } finally {
      t.cleanup();
    }
  });

  it('rotates the day file at maxSizeBytes: the new file chains from the rotated piece', async () => {
    const t = tempDir();
    try {
      const a = await appendEntry(t.dir, entry('a'), { now: NOW });
      const b = await appendEntry(t.dir, entry('b'), { now: NOW, maxSizeBytes: 10 });
      assert.equal(b.rotatedTo, 'audit-2026-02-01.100000.jsonl');
      assert.equal(b.prev, a.hash);
      assert.equal(lines(join(t.dir, 'audit-2026-02-01.100000.jsonl')).length, 1);
      assert.equal(lines(join(t.dir, DAY)).length, 1);
      assert.equal((await verifyDirectory(t.dir)).verdict, 'intact');
    } finally {
      t.cleanup();
    }
  });
});
