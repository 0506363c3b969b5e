/** The one rule for the hash stored in a line (spec §2.1, §3), through its public readers. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { AuditFile } from '../../../src/core/read/files.js';
import { dashboardLineKindOf, lastGapOf, storedHash, storedHashBefore } from '../../../src/core/chain/stored-hash.js';

/**
 * The chain head after one file, read forwards (storedHashBefore) and backwards (lastGapOf):
 * the two searches of the one rule must agree.
 */
async function lastStoredHash(f: AuditFile): Promise<string | null> {
  const forwards = await storedHashBefore([f], 0, Infinity);
  const backwards = (await lastGapOf(f, (line) => dashboardLineKindOf(line))).hash;
  assert.equal(backwards, forwards, `${f.name}: backwards and forwards agree`);
  return forwards;
}
import { discoverAuditFiles } from '../../../src/core/read/files.js';
import { tempDir } from '../../helpers/cli.js';

const H1 = 'a'.repeat(64);
const H2 = 'b'.repeat(64);

describe('storedHash: the hash a line stores', () => {
  it('a top-level _integrity_hash, else chain_hash, is the stored hash', () => {
    assert.equal(storedHash(`{"event": "x", "_integrity_hash": "${H1}"}`), H1);
    assert.equal(storedHash(`{"event": "x", "chain_hash": "${H2}"}`), H2);
    assert.equal(storedHash(`{"chain_hash": "${H2}", "_integrity_hash": "${H1}"}`), H1, '_integrity_hash first');
    // Python's json.loads: surrounding whitespace is stripped, the last duplicate key wins.
    assert.equal(storedHash(`  {"_integrity_hash": "${H2}", "_integrity_hash": "${H1}"}\t`), H1);
  });

  it('no stored hash: malformed, not an object, nested only, empty or not a string', () => {
    for (const text of [
      '',
      'not json',
      `{"_integrity_hash": "${H1}"`,
      `["_integrity_hash", "${H1}"]`,
      `"${H1}"`,
      `{"details": {"_integrity_hash": "${H1}"}}`,
      '{"_integrity_hash": ""}',
      '{"_integrity_hash": 5}',
      '{"_integrity_hash": null}',
      '{"event": "x"}',
    ])
      assert.equal(storedHash(text), null, JSON.stringify(text));
  });
});

describe('storedHashBefore and lastGapOf: the chain head after a file', () => {
  const fileIn = async (dir: string, name: string) => {
    const found = await discoverAuditFiles(dir);
    const f = found.files.find((x) => x.name === name);
    assert.ok(f, `${name} in ${found.files.map((x) => x.name).join(', ')}`);
    return f;
  };

  it('the last line that stores a hash, skipping a torn tail and lines without one', async () => {
    const t = tempDir();
    try {
      const name = 'audit-2026-02-01.jsonl';
      writeFileSync(
        join(t.dir, name),
        `{"event": "a", "_integrity_hash": "${H1}"}\n{"event": "b", "_integrity_hash": "${H2}"}\n` +
          `not json\n{"event": "c"}\n{"event": "d", "_integrity_ha`,
      );
      assert.equal(await lastStoredHash(await fileIn(t.dir, name)), H2);
      writeFileSync(join(t.dir, name), `{"event": "b", "_integrity_hash": "${H2}"}\n{"_integrity_hash": "${H1}"}`);
      assert.equal(await lastStoredHash(await fileIn(t.dir, name)), H1, 'a last line without newline counts');
    } finally {
      t.cleanup();
    }
  });

  it('null for a file with no stored hash; a gzip file is read through', async () => {
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, 'audit-2026-02-01.jsonl'), '{"event": "a"}\nnot json\n');
      assert.equal(await lastStoredHash(await fileIn(t.dir, 'audit-2026-02-01.jsonl')), null);
      writeFileSync(join(t.dir, 'audit-2026-01-31.jsonl.gz'), gzipSync(`{"_integrity_hash": "${H2}"}\n`));
      assert.equal(await lastStoredHash(await fileIn(t.dir, 'audit-2026-01-31.jsonl.gz')), H2);
    } finally {
      t.cleanup();
    }
  });
});
