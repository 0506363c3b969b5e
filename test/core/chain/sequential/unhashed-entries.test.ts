/**
 * The walker's bookkeeping of entries without a hash (unhashed-entries.ts), each decision on a
 * case it recognises and an attack it must not excuse: entries before the chain are
 * pre-integrity (spec §10.6) only in a file of their own; inside the chain the entry after the
 * run decides (line-rules.ts UNHASHED_RULES, spec §10.15).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalizeEntry } from '../../../../src/core/pyjson/canonical.js';
import type { FileReport, Location } from '../../../../src/core/chain/report.js';
import { GENESIS_HASH, HASH_KEYS } from '../../../../src/core/chain/rule.js';
import type { ChainEntry } from '../../../../src/core/chain/sequential/diagnosis.js';
import { UnhashedEntries } from '../../../../src/core/chain/sequential/unhashed-entries.js';
import { sealEntry } from '../../../../src/core/write/seal.js';

const report = (file: string): FileReport => ({
  file,
  path: `/x/${file}`,
  schema: 'none',
  lines: 0,
  entriesVerified: 0,
  preIntegrityEntries: 0,
  verdict: 'intact',
  lastHash: null,
  bytes: 0,
  completeBytes: 0,
  lastEntryOffset: null,
  lastEntrySha256: null,
});
const at = (file: string, line: number): Location => ({ file, line, offset: line * 100 });

function asEntry(line: string, loc: Location, fileReport: FileReport): ChainEntry {
  const text = line.slice(0, -1);
  const p = canonicalizeEntry(text, { hashKeys: HASH_KEYS });
  return {
    loc,
    text,
    canonical: p.canonical,
    stored: p.hashValue as string,
    numberKeyObjects: [],
    fileFirst: true,
    fileIndex: 1,
    fileReport,
  };
}

const A = 'audit-2026-11-01.jsonl';
const B = 'audit-2026-11-02.jsonl';
const first = sealEntry({ action: 'create', seq: 1 }, GENESIS_HASH);
const second = sealEntry({ action: 'update', seq: 2 }, first.hash);

describe('entries without a hash before the chain starts (UnhashedEntries)', () => {
  it('recognises a pre-integrity file before the first hashed one: a note, counted in its file', () => {
    const u = new UnhashedEntries();
    const ra = report(A);
    u.add(at(A, 1), ra, false);
    u.add(at(A, 2), ra, false);
    assert.equal(u.prepended(asEntry(first.line, at(B, 1), report(B))), null);
    assert.equal(ra.preIntegrityEntries, 2);
    assert.deepEqual(u.lastPreIntegrity, at(A, 2));
    const n = u.note();
    assert.deepEqual([n?.kind, n?.file, n?.line], ['pre-integrity', A, 1]);
    assert.match(n?.message ?? '', /^2 entries without a hash before the chain starts/);
  });

  it('does not excuse entries inserted before the first hashed entry of the same file: tampered, not pre-integrity', () => {
    const u = new UnhashedEntries();
    const ra = report(A);
    const rb = report(B);
    u.add(at(A, 1), ra, false); // a pre-integrity file of its own
    u.add(at(B, 1), rb, false);
    u.add(at(B, 2), rb, false);
    const f = u.prepended(asEntry(first.line, at(B, 3), rb));
    assert.deepEqual([f?.class, f?.reason, f?.file, f?.line], ['tampered', 'unhashed-entries', B, 1]);
    assert.match(f?.message ?? '', /^2 entries without a hash before the first hashed entry of the same file/);
    assert.deepEqual([ra.preIntegrityEntries, rb.preIntegrityEntries], [1, 0]);
    assert.match(u.note()?.message ?? '', /^1 entry without a hash before the chain starts/);
  });

  it('entries taken for pre-integrity that were not (hashes stripped): no note, no count', () => {
    const u = new UnhashedEntries();
    const ra = report(A);
    u.add(at(A, 1), ra, false);
    u.notPreIntegrity([ra]);
    assert.equal(ra.preIntegrityEntries, 0);
    assert.equal(u.lastPreIntegrity, null);
    assert.equal(u.note(), null);
  });
});

describe('entries without a hash inside the chain (UnhashedEntries)', () => {
  it('recognises a run the chain skips around: one finding for the run, the chain goes on', () => {
    const u = new UnhashedEntries();
    const rb = report(B);
    assert.equal(u.close(null, first.hash), null, 'no run, no verdict');
    u.add(at(B, 2), rb, true);
    u.add(at(B, 3), rb, true);
    assert.equal(u.open, true);
    assert.equal(rb.preIntegrityEntries, 0);
    const v = u.close(asEntry(second.line, at(B, 4), rb), first.hash);
    assert.equal(u.open, false);
    assert.deepEqual([v?.finding.reason, v?.finding.line, v?.breaksChain], ['unhashed-entries', 2, undefined]);
    assert.equal(u.close(null, first.hash), null, 'the run is closed once');
  });

  it('does not excuse a run whose next entry does not chain from before it: hashes removed, the chain broken', () => {
    const u = new UnhashedEntries();
    const rb = report(B);
    u.add(at(B, 2), rb, true);
    const other = sealEntry({ action: 'delete', seq: 9 }, second.hash); // chains from an entry not there
    const v = u.close(asEntry(other.line, at(B, 3), rb), first.hash);
    assert.deepEqual([v?.finding.class, v?.finding.reason, v?.breaksChain], ['tampered', 'missing-hash', true]);
  });
});
