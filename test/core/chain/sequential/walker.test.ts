import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { judgeVerify } from '../../../../src/cli/exit-codes.js';
import { GENESIS_HASH } from '../../../../src/core/chain/rule.js';
import { verifyDashboardChain } from '../../../../src/core/chain/verify-chain.js';
import { walkChain } from '../../../../src/core/chain/sequential/walker.js';
import { discoverAuditFiles } from '../../../../src/core/read/files.js';
import { verifyDirectory } from '../../../../src/core/chain/directory.js';
import type { PyValue } from '../../../../src/core/pyjson/dumps.js';
import { pyDumps } from '../../../../src/core/pyjson/dumps.js';
import { sealEntry } from '../../../../src/core/write/seal.js';
import { tempDir } from '../../../helpers/cli.js';

type Entry = { [key: string]: PyValue };
const entry = (day: string, i: number, extra: Entry = {}): Entry => ({
  timestamp: `${day}T${String(1 + (i % 20)).padStart(2, '0')}:00:${String(i % 60).padStart(2, '0')}.000001+00:00`,
  action: 'update',
  resource_type: 'task',
  resource_id: `task-${i}`,
  user_id: 'alice',
  token_id: null,
  ip_address: null,
  user_agent: null,
  success: true,
  error: null,
  details: { seq: i, ...extra },
});

/** Seals `n` entries per day onto one chain; returns the lines of each day and all hashes. */
function chain(days: string[], n: number, start = GENESIS_HASH) {
  let prev = start;
  const files: Record<string, string[]> = {};
  const hashes: string[] = [];
  let i = 0;
  for (const day of days) {
    files[day] = [];
    for (let k = 0; k < n; k++) {
      const s = sealEntry(entry(day, i++), prev);
      files[day].push(s.line.slice(0, -1));
      hashes.push(s.hash);
      prev = s.hash;
    }
  }
  return { files, hashes, head: prev };
}

async function verify(files: Record<string, string[]>, raw: Record<string, string> = {}) {
  const t = tempDir();
  try {
    for (const [day, lines] of Object.entries(files))
      writeFileSync(join(t.dir, `audit-${day}.jsonl`), lines.map((l) => l + '\n').join(''));
    for (const [name, text] of Object.entries(raw)) writeFileSync(join(t.dir, name), text);
    return await verifyDirectory(t.dir);
  } finally {
    t.cleanup();
  }
}

const first = (r: Awaited<ReturnType<typeof verify>>) =>
  r.firstProblem ? [r.firstProblem.class, r.firstProblem.reason, r.firstProblem.file, r.firstProblem.line] : null;

describe('chain diagnosis on generated directories', () => {
  it('intact across days', async () => {
    const c = chain(['2026-03-01', '2026-03-02'], 10);
    const r = await verify(c.files);
    assert.equal(r.verdict, 'intact');
    assert.equal(r.entriesVerified, 20);
    assert.equal(r.chainHead?.hash, c.head);
  });

  it('an inserted entry is named as inserted', async () => {
    const c = chain(['2026-03-01'], 10);
    const forged = sealEntry(entry('2026-03-01', 99), c.hashes[3]).line.slice(0, -1);
    c.files['2026-03-01'].splice(5, 0, forged.replace('"alice"', '"mallory"'));
    const r = await verify(c.files);
    assert.deepEqual(first(r), ['tampered', 'inserted-entry', 'audit-2026-03-01.jsonl', 6]);
    assert.equal(r.findings.length, 1);
    assert.equal(r.entriesVerified, 10);
  });

  it('a replayed copy of an earlier entry at a file start is tampering, not a fork', async () => {
    const c = chain(['2026-03-01', '2026-03-02'], 5);
    c.files['2026-03-02'][0] = c.files['2026-03-01'][2];
    const r = await verify(c.files);
    assert.equal(r.findings[0].reason, 'replayed-entries');
    assert.equal(r.findings[0].class, 'tampered');
    assert.match(r.findings[0].message, /copy of audit-2026-03-01\.jsonl:3/);
  });

  it('a file that chains from an earlier entry is a fork, with the hash and where it was seen', async () => {
    // Writer A's tip was entry 3 of day 1 when it wrote day 2 (spec §10.9).
    const a = chain(['2026-03-01'], 8);
    const b = chain(['2026-03-02'], 4, a.hashes[2]);
    const r = await verify({ ...a.files, ...b.files });
    assert.deepEqual(first(r), ['fork', 'fork-earlier', 'audit-2026-03-02.jsonl', 1]);
    assert.equal(r.firstProblem?.chainsFrom, a.hashes[2]);
    assert.deepEqual(r.firstProblem?.seenAt, {
      file: 'audit-2026-03-01.jsonl',
      line: 3,
      offset: r.firstProblem?.seenAt?.offset,
    });
    assert.equal(judgeVerify(r).exitCode, 5);
    assert.equal(r.entriesVerified, 12);
  });

  it('pre-integrity entries before a chain that starts at genesis are a note, not tampering', async () => {
    const plain = [pyDumps(entry('2026-02-28', 1)), pyDumps(entry('2026-02-28', 2))];
    const c = chain(['2026-03-01'], 4);
    const r = await verify({ '2026-02-28': plain, ...c.files });
    assert.equal(r.verdict, 'intact');
    assert.ok(r.notes.some((n) => n.kind === 'pre-integrity' && n.file === 'audit-2026-02-28.jsonl'));
    assert.equal(r.files[0].preIntegrityEntries, 2);
    // …but not in a file that also holds hashed entries: a pre-integrity file holds none, and an
    // unhashed line prepended to a hashed file looks the same as an upgrade mid-day (issue #15).
    const mixed = await verify({ '2026-03-01': [plain[0], ...c.files['2026-03-01']] });
    assert.deepEqual(first(mixed), ['tampered', 'unhashed-entries', 'audit-2026-03-01.jsonl', 1]);
    assert.equal(mixed.entriesVerified, 4);
    assert.equal(mixed.files[0].preIntegrityEntries, 0);
  });

  it('a whole first file with its hashes stripped is tampering when the next file does not start at genesis', async () => {
    const c = chain(['2026-03-01', '2026-03-02'], 4);
    const stripped = c.files['2026-03-01'].map((l) => l.replace(/, "_integrity_hash": "[0-9a-f]{64}"/, ''));
    const r = await verify({ '2026-03-01': stripped, '2026-03-02': c.files['2026-03-02'] });
    assert.deepEqual(first(r), ['tampered', 'hash-stripped', 'audit-2026-03-01.jsonl', 4]);
    assert.ok(!r.notes.some((n) => n.kind === 'pre-integrity'));
  });

  it('entries written with integrity off mid-history (hash missing) are tampering; the chain continues around them', async () => {
    const c = chain(['2026-03-01'], 6);
    const lines = c.files['2026-03-01'];
    lines.splice(3, 0, pyDumps(entry('2026-03-01', 50)));
    const r = await verify(c.files);
    assert.deepEqual(first(r), ['tampered', 'unhashed-entries', 'audit-2026-03-01.jsonl', 4]);
    assert.equal(r.findings.length, 1);
    assert.match(r.findings[0].message, /chain skips around them/);
    assert.ok(!r.notes.some((n) => n.kind === 'resync'));
    // Hashes stripped from chained entries: the entry after them does not chain around them.
    const s = chain(['2026-03-01'], 6);
    s.files['2026-03-01'][3] = s.files['2026-03-01'][3].replace(/, "_integrity_hash": "[0-9a-f]{64}"/, '');
    const stripped = await verify(s.files);
    assert.deepEqual(first(stripped), ['tampered', 'missing-hash', 'audit-2026-03-01.jsonl', 4]);
  });

  it('a torn write followed by the next entry on the same line is recovered as incomplete', async () => {
    const c = chain(['2026-03-01'], 6);
    const lines = c.files['2026-03-01'];
    const torn = sealEntry(entry('2026-03-01', 77), c.hashes[2]).line.slice(0, 90);
    lines[3] = torn + lines[3];
    const r = await verify(c.files);
    assert.deepEqual(first(r), ['incomplete', 'torn-write-recovered', 'audit-2026-03-01.jsonl', 4]);
    assert.equal(r.findings.length, 1);
    assert.equal(r.entriesVerified, 6);
  });

  it('history starting mid-chain (oldest files gone) is mid-chain, exit 6', async () => {
    const c = chain(['2026-03-01', '2026-03-02', '2026-03-03'], 3);
    delete c.files['2026-03-01'];
    const r = await verify(c.files);
    assert.deepEqual(first(r), ['mid-chain', 'history-mid-chain', 'audit-2026-03-02.jsonl', 1]);
    assert.equal(judgeVerify(r).exitCode, 6);
  });

  it('a .gz day in the middle of the chain is read transparently', async () => {
    const { gzipSync } = await import('node:zlib');
    const c = chain(['2026-03-01', '2026-03-02', '2026-03-03'], 3);
    const gz = gzipSync(c.files['2026-03-02'].map((l) => l + '\n').join(''));
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, 'audit-2026-03-01.jsonl'), c.files['2026-03-01'].map((l) => l + '\n').join(''));
      writeFileSync(join(t.dir, 'audit-2026-03-02.jsonl.gz'), gz);
      writeFileSync(join(t.dir, 'audit-2026-03-03.jsonl'), c.files['2026-03-03'].map((l) => l + '\n').join(''));
      const found = await discoverAuditFiles(t.dir);
      const r = await verifyDashboardChain(found.files);
      assert.equal(r.verdict, 'intact');
      assert.equal(r.entriesVerified, 9);
    } finally {
      t.cleanup();
    }
  });

  it('NaN, Infinity and integers beyond 64 bits hash exactly as CPython wrote them', async () => {
    // Lines as Python's json.dumps writes them (NaN and big ints are not JSON, but Loki Mode writes them).
    const body =
      '{"timestamp": "2026-03-01T00:00:00+00:00", "action": "x", "resource_type": "y", "details": ' +
      '{"n": NaN, "i": Infinity, "m": -Infinity, "big": 123456789012345678901234567890, "f": 1e+16}}';
    const { chainHash } = await import('../../../../src/core/chain/rule.js');
    const { canonicalize } = await import('../../../../src/core/pyjson/canonical.js');
    const h = chainHash(GENESIS_HASH, canonicalize(body));
    const line = body.slice(0, -1) + `, "_integrity_hash": "${h}"}`;
    const r = await verify({ '2026-03-01': [line] });
    assert.equal(r.verdict, 'intact');
    assert.equal(
      canonicalize(body),
      '{"action": "x", "details": {"big": 123456789012345678901234567890, "f": 1e+16, "i": Infinity, ' +
        '"m": -Infinity, "n": NaN}, "resource_type": "y", "timestamp": "2026-03-01T00:00:00+00:00"}',
    );
  });

  it("the walker's report has the fast path's keys in the same order (one shape for a caller that prints it)", async () => {
    const c = chain(['2026-03-01'], 6);
    const t = tempDir();
    try {
      const path = join(t.dir, 'audit-2026-03-01.jsonl');
      writeFileSync(path, c.files['2026-03-01'].map((l) => l + '\n').join(''));
      const files = (await discoverAuditFiles(t.dir)).files;
      const fast = await verifyDashboardChain(files);
      const intact = await walkChain(files);
      const lines = c.files['2026-03-01'];
      writeFileSync(path, [...lines.slice(0, 2), ...lines.slice(3)].map((l) => l + '\n').join(''));
      const broken = await walkChain((await discoverAuditFiles(t.dir)).files);
      assert.equal(intact.verdict, 'intact');
      assert.equal(broken.verdict, 'tampered');
      const keys = ['verdict', 'files', 'findings', 'notes', 'entriesVerified', 'chainHead', 'genesisFile', 'found'];
      assert.deepEqual(Object.keys(fast), keys);
      assert.deepEqual(Object.keys(intact), keys);
      assert.deepEqual(Object.keys(broken), keys);
    } finally {
      t.cleanup();
    }
  });
});
