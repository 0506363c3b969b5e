/**
 * The checkpoint store's files: created in place O_CREAT|O_EXCL|O_NOFOLLOW, mode 600; a link
 * planted at a checkpoint's name is refused and the file it points at stays untouched.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  generateKeyPair,
  ed25519SigningKey,
  signCheckpoint,
  storeCheckpoint,
  type CheckpointStatement,
} from '../../../../src/core/chain/anchors/checkpoints.js';
import { UnsafeFileError } from '../../../../src/core/runtime/safe-files.js';
import { tempDir } from '../../../helpers/cli.js';

const statement = (time: string): CheckpointStatement => ({
  format: 'loki-audit-checkpoint/1',
  dir: '/var/audit',
  head: 'ab'.repeat(32),
  file: 'audit-2026-01-01.jsonl',
  line: 1,
  offset: 10,
  entries: 1,
  time,
});

describe('storeCheckpoint', () => {
  const key = ed25519SigningKey(Buffer.from(generateKeyPair().privatePem));

  it('writes mode 600 into a store it creates mode 700, and refuses a link planted at the name', () => {
    const t = tempDir();
    try {
      const store = join(t.dir, 'store');
      const path = storeCheckpoint(store, signCheckpoint(statement('2026-01-01T00:00:00.000Z'), key));
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.equal(statSync(store).mode & 0o777, 0o700);
      const victim = join(t.dir, 'victim');
      writeFileSync(victim, 'untouched\n');
      const c = signCheckpoint(statement('2026-01-02T00:00:00.000Z'), key);
      symlinkSync(victim, join(store, `checkpoint-2026-01-02T000000000Z-${'ab'.repeat(6)}.json`));
      assert.throws(() => storeCheckpoint(store, c), UnsafeFileError);
      assert.equal(readFileSync(victim, 'utf8'), 'untouched\n');
      assert.equal(readdirSync(store).length, 2, 'the first checkpoint and the planted link; nothing else');
    } finally {
      t.cleanup();
    }
  });
});
