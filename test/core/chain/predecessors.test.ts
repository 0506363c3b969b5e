import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { PredecessorTracker } from '../../../src/core/chain/predecessors.js';
import { storedHashBefore, storedHashOfRecord } from '../../../src/core/chain/stored-hash.js';
import { GENESIS_HASH } from '../../../src/core/chain/rule.js';
import { discoverAuditFiles } from '../../../src/core/read/files.js';
import { tempDir } from '../../helpers/cli.js';
import { entryOf } from '../../helpers/siem.js';

const h = (c: string) => c.repeat(64);
const line = (hash: unknown, extra = '') =>
  `{"timestamp": "2026-02-01T00:00:00+00:00", "action": "x"${extra}, "_integrity_hash": ${JSON.stringify(hash)}}`;

describe('chain predecessors', () => {
  it('storedHashOf: the first hash key present, only a non-empty string', () => {
    assert.equal(storedHashOfRecord({ _integrity_hash: 'a' }), 'a');
    assert.equal(storedHashOfRecord({ chain_hash: 'b' }), 'b');
    assert.equal(storedHashOfRecord({ _integrity_hash: 5, chain_hash: 'b' }), null);
    assert.equal(storedHashOfRecord({ _integrity_hash: '' }), null);
    assert.equal(storedHashOfRecord({}), null);
  });

  it('storedHashBefore: mid-file offsets, gz files, lines without a hash and malformed lines passed over', async () => {
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, 'audit-2026-02-01.jsonl.gz'), gzipSync(line(h('1')) + '\n' + line(h('2')) + '\n'));
      // A day whose lines hold no stored hash: a malformed line, an empty hash, a number.
      writeFileSync(join(t.dir, 'audit-2026-02-02.jsonl'), '{"broken\n' + line('') + '\n' + line(7) + '\n');
      const third = line(h('3')) + '\n' + line(h('4')) + '\n';
      writeFileSync(join(t.dir, 'audit-2026-02-03.jsonl'), third);
      const { files } = await discoverAuditFiles(t.dir);
      assert.deepEqual(
        files.map((f) => f.name),
        ['audit-2026-02-01.jsonl.gz', 'audit-2026-02-02.jsonl', 'audit-2026-02-03.jsonl'],
      );
      assert.equal(await storedHashBefore(files, 0, 0), null);
      assert.equal(await storedHashBefore(files, 0, Infinity), h('2'));
      assert.equal(await storedHashBefore(files, 1, Infinity), h('2'), 'the hashless day is passed over');
      assert.equal(await storedHashBefore(files, 2, 0), h('2'));
      assert.equal(await storedHashBefore(files, 2, third.indexOf('\n') + 1), h('3'));
      assert.equal(await storedHashBefore(files, 2, third.length), h('4'));
      assert.equal(await storedHashBefore(files, 9, 0), h('4'), 'past the last file: the end');
    } finally {
      t.cleanup();
    }
  });

  it(
    'PredecessorTracker: the genesis first; entries without a ' +
      'hash pass it on; the JS AuditLog has its own; no chain, none',
    () => {
      const tr = new PredecessorTracker(null);
      assert.equal(tr.see(entryOf(line(h('a')))).prevHash, GENESIS_HASH);
      assert.equal(tr.see(entryOf(line(''))).prevHash, h('a'));
      assert.equal(tr.see(entryOf(line(h('b')))).prevHash, h('a'));
      assert.equal(tr.see(entryOf(line(h('c')))).prevHash, h('b'));
      const js = '{"seq": 2, "timestamp": "t", "who": "w", "what": "x", "previousHash": "p1", "hash": "h2"}';
      assert.equal(tr.see(entryOf(js)).prevHash, 'p1');
      assert.equal(tr.see(entryOf(line(h('d')))).prevHash, h('c'), 'the JS entry is not in the dashboard chain');
    },
  );
});
