import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ByteCanonicalizer } from '../../../src/core/pyjson/canonical-bytes.js';
import { canonicalizeEntry } from '../../../src/core/pyjson/canonical.js';
import { GENESIS_HASH } from '../../../src/core/chain/rule.js';
import { verifyDashboardChain } from '../../../src/core/chain/verify-chain.js';
import { verifyChainFast } from '../../../src/core/chain/parallel/fast-path.js';
import { discoverAuditFiles } from '../../../src/core/read/files.js';
import { assertExit, runCli, tempDir } from '../../helpers/cli.js';
import { randomJsonTexts } from '../../helpers/random-json.js';
import { makeEntry, prng } from '../../../scripts/sample.js';
import { pyDumps } from '../../../src/core/pyjson/dumps.js';

const HASH_KEYS = ['_integrity_hash', 'chain_hash'];

/** What `c` makes of `line`: its canonical text, or null when it declines the line. */
function canon(c: ByteCanonicalizer, line: string): string | null {
  const buf = Buffer.from(line + '\n', 'utf8');
  const n = c.entry(buf, 0, buf.length - 1);
  return n < 0 ? null : c.out.toString('latin1', 64, n);
}

/** The general canonicalizer's text for a line the byte path must accept. */
function general(line: string): string {
  return canonicalizeEntry(line, { hashKeys: HASH_KEYS }).canonical;
}

/** What `scan` put on the tape for `line` (null: declined), node by node, member by member. */
function tape(c: ByteCanonicalizer, line: string): unknown {
  const buf = Buffer.from(line + '\n', 'utf8');
  if (!c.scan(buf, 0, buf.length - 1)) return null;
  const node = (n: number): unknown => {
    if (c.nodeKind(n) === 2) return 'scalars';
    const members = [];
    for (let i = c.firstMember(n); i < c.firstMember(n) + c.memberCount(n); i++) {
      const child = c.child(i);
      members.push([c.keyStart(i), c.keyEnd(i), c.valueStart(i), c.valueEnd(i), child < 0 ? null : node(child)]);
    }
    return [c.nodeKind(n), members];
  };
  return node(c.root());
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

// A writer line's top-level keys, in the writer's order (not sorted): the key sequence learned.
const WRITER =
  '{"timestamp": "2026-03-01T00:00:00+00:00", "action": "login", "resource_type": "auth", ' +
  '"resource_id": null, "user_id": "bob", "success": true, "details": {"source": "cli", "seq": 1}, ' +
  '"_integrity_hash": "x"}';

describe('byte canonicalizer: key sequences it has seen (shapes)', () => {
  it('canonicalizes a line with a learned key sequence exactly as a fresh canonicalizer does', () => {
    const c = new ByteCanonicalizer(16);
    assert.equal(canon(c, WRITER), general(WRITER));
    const next = WRITER.replace('"bob"', '"alice"').replace('"seq": 1', '"seq": 2, "path": "/a"');
    assert.equal(canon(c, next), general(next));
    assert.equal(canon(c, next), canon(new ByteCanonicalizer(16), next));
  });

  it('does not take the learned order for keys that only look alike (same length and prefix)', () => {
    const variants = [
      // same length, same first 4 bytes: "resource_id" -> "resource_zz" sorts after resource_type
      WRITER.replace('"resource_id"', '"resource_zz"'),
      // first byte differs: "action" -> "zction" sorts last
      WRITER.replace('"action"', '"zction"'),
      // a key one byte longer or shorter
      WRITER.replace('"user_id"', '"user_idx"'),
      WRITER.replace('"user_id"', '"user_i"'),
      // the same keys in another order (canonical text unchanged)
      WRITER.replace('"action": "login", "resource_type": "auth"', '"resource_type": "auth", "action": "login"'),
      // one member fewer, one more, the hash member elsewhere
      WRITER.replace('"success": true, ', ''),
      WRITER.replace('"success": true, ', '"success": true, "error": null, '),
      WRITER.replace(', "_integrity_hash": "x"}', '}').replace('{"timestamp"', '{"_integrity_hash": "x", "timestamp"'),
      // the other hash field in the hash member's place
      WRITER.replace('"_integrity_hash"', '"chain_hash"'),
    ];
    for (const v of variants) {
      const c = new ByteCanonicalizer(16);
      assert.equal(canon(c, WRITER), general(WRITER));
      assert.equal(canon(c, v), general(v), v);
      // and the shape learned from the variant does not leak into the original
      assert.equal(canon(c, WRITER), general(WRITER), `after ${v}`);
    }
  });

  it('declines a line with a learned key sequence whose values are not as Python prints them', () => {
    const bad = [
      WRITER.replace('"bob"', '"b\tb"'),
      WRITER.replace('"bob"', '"caf\u00e9"'),
      WRITER.replace('"bob"', '"\\u0041"'),
      WRITER.replace('"seq": 1', '"seq": 1E5'),
      WRITER.replace('"seq": 1', '"seq": -0'),
      WRITER.replace('"seq": 1', '"seq": 1, "seq": 2'),
      WRITER.replace('"success": true', '"success": tru'),
      WRITER.replace('"success": true', '"success":true'),
      WRITER.replace('"success": true, ', '"success": true,  '),
      WRITER.replace('"_integrity_hash": "x"', '"_integrity_hash": null'),
      WRITER.replace('"_integrity_hash": "x"', '"_integrity_hash": {"h": "x"}'),
      WRITER.replace('"x"}', '"x"} '),
      WRITER.replace('"x"}', '"x", "_integrity_hash": "y"}'),
      WRITER.slice(0, -1),
    ];
    for (const b of bad) {
      const c = new ByteCanonicalizer(16);
      assert.notEqual(canon(c, WRITER), null);
      assert.equal(canon(c, b), null, b);
      assert.equal(canon(new ByteCanonicalizer(16), b), null, `fresh: ${b}`);
    }
  });

  it('keeps several key sequences and agrees on lines that cycle through more of them than it keeps', () => {
    const c = new ByteCanonicalizer(16);
    const lines = Array.from({ length: 7 }, (_, k) =>
      WRITER.replace('"success": true', `"success": true, "extra_${k}": ${k}`),
    );
    for (let round = 0; round < 3; round++)
      for (const line of lines) assert.equal(canon(c, line), general(line), `round ${round}: ${line}`);
  });

  it('objects inside a line of a known key sequence: their own known sequences, switched on the key that differs', () => {
    const c = new ByteCanonicalizer(16);
    const details = [
      '{"source": "cli", "seq": 1}',
      '{"source": "cli", "seq": 1, "path": "/a", "status": 200}',
      '{"source": "cli", "seq": 1, "task_id": "t"}',
      '{"source": "cli", "seq": 1, "path": "/a", "status": 200, "nested": {"z": 1, "a": {"y": [], "b": {}}}}',
      '{}',
      '{"source": "cli"}',
      '{"zource": "cli", "seq": 1}', // same length and last bytes as "source"
      '{"aource": "cli", "seq": 1}', // the same, sorting before "seq"
      '{"source": "cli", "seq": 1, "pat": "/a", "status": 200}',
      '{"source": "cli", "seq": 1, "path": "/a", "status": 200, "task_id": "t"}',
      '{"seq": 1, "source": "cli"}',
    ];
    // Every order of learning and switching: each detail after each other one, many times.
    for (let round = 0; round < 4; round++)
      for (const a of details)
        for (const b of details)
          for (const d of [a, b, a]) {
            const line = WRITER.replace('{"source": "cli", "seq": 1}', d);
            assert.equal(canon(c, line), general(line), `round ${round}: ${d} after ${a}, ${b}`);
          }
    // Values a known sequence must still validate, and a key twice in one object.
    for (const bad of [
      '{"source": "c\tli", "seq": 1}',
      '{"source": "cli", "seq": 01}',
      '{"source": "cli", "seq": 1, "seq": 2}',
      '{"source": "cli", "seq": 1, "path": "/a", "status": 200, "nested": {"z": 1, "z": 2}}',
      '{"source": "cli", "seq": 1,"task_id": "t"}',
      '{"source": "cli", "seq": 1, "task_id": "t"',
    ]) {
      const line = WRITER.replace('{"source": "cli", "seq": 1}', bad);
      assert.equal(canon(c, line), null, bad);
    }
  });

  it('scan puts on the tape exactly what a fresh scan does, for lines of known and new key sequences', () => {
    const shared = new ByteCanonicalizer(16);
    const r = prng(5);
    const lines = [
      ...Array.from({ length: 400 }, (_, i) =>
        pyDumps({
          ...makeEntry(r, 1_760_000_000_000_000n + BigInt(i), i, 0.2, i % 4 === 0 ? 'documented' : 'writer'),
          _integrity_hash: 'f'.repeat(64),
        }),
      ),
      ...randomJsonTexts(6, 300).map((v) => `{"b": ${v}, "a": [${v}], "_integrity_hash": "h"}`),
      WRITER,
      WRITER.replace('"resource_id"', '"resource_zz"'),
      WRITER.replace('"seq": 1', '"seq": 1E5'),
      WRITER.replace('"seq": 1', '"seq": 1, "seq": 2'),
      WRITER.replace('"x"}', '"x"} '),
    ];
    let accepted = 0;
    for (const line of [...lines, ...lines]) {
      const want = tape(new ByteCanonicalizer(16), line);
      assert.deepEqual(tape(shared, line), want, line);
      if (want !== null) accepted++;
    }
    assert.ok(accepted > 800, `most lines are read (${accepted})`);
  });

  it('an entry hashed over the learned order applied to other keys is tampered, not intact', async () => {
    // The attack a stale shape would let through: after many lines of one key sequence, a line
    // whose keys differ from theirs (at the top level, or in an object inside it), hashed over
    // its members in *their* canonical order. The fast path must give up on it and verify must
    // report it, each forgery on its own (the first one found would hide the second).
    const body = (i: number, action = 'action'): string =>
      `{"timestamp": "2026-03-01T00:00:${String(i % 60).padStart(2, '0')}+00:00", "${action}": "login", ` +
      `"resource_type": "auth", "user_id": "u${i}", "success": true}`;
    const nested = (i: number, key = 'seq'): string =>
      body(i).replace(/}$/, `, "details": {"source": "cli", "${key}": ${i}}}`);
    const hashInput = (line: string): string => general(line.replace(/}$/, ', "_integrity_hash": "x"}'));
    const forgeries = {
      // "zction" sits where "action" did; the learned order would put it first.
      top: {
        make: body,
        forged: body(50, 'zction'),
        stale:
          '{"zction": "login", "resource_type": "auth", "success": true, "timestamp": ' +
          '"2026-03-01T00:00:50+00:00", "user_id": "u50"}',
      },
      // "zeq" (after "source") sits where "seq" (before it) did.
      nested: {
        make: (i: number) => nested(i),
        forged: nested(50, 'zeq'),
        stale: hashInput(nested(50, 'zeq')).replace('{"source": "cli", "zeq": 50}', '{"zeq": 50, "source": "cli"}'),
      },
    };
    for (const [name, { make, forged, stale }] of Object.entries(forgeries)) {
      assert.notEqual(stale, hashInput(forged), name);
      const t = tempDir();
      try {
        const lines: string[] = [];
        let prev = GENESIS_HASH;
        const add = (line: string, hashed = hashInput(line)): void => {
          const h = sha(prev + hashed);
          lines.push(`${line.slice(0, -1)}, "_integrity_hash": "${h}"}`);
          prev = h;
        };
        for (let i = 0; i < 50; i++) add(make(i));
        add(forged, stale);
        for (let i = 51; i < 60; i++) add(make(i));
        writeFileSync(join(t.dir, 'audit-2026-03-01.jsonl'), lines.join('\n') + '\n');
        const { files } = await discoverAuditFiles(t.dir);
        assert.equal((await verifyChainFast(files, { maxLineBytes: 1 << 20, jobs: 1 })).ok, false, name);
        assert.equal((await verifyDashboardChain(files, { jobs: 1 })).verdict, 'tampered', name);
        const r = assertExit(await runCli(['verify', '--dir', t.dir, '--json']), 1, `verify of the ${name} forgery`);
        assert.match(r.stdout, /"line": ?51\b/, r.stdout);
      } finally {
        t.cleanup();
      }
    }
  });
});
