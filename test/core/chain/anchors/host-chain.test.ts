/**
 * checkHostChain on forwarded copies built in memory from sealed entries: chain order regardless
 * of arrival order, breaks, gaps, duplicates, mid-chain starts, and the bound on waiting entries.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkHostChain } from '../../../../src/core/chain/anchors/host-chain.js';
import type { CopyEntry, ForwardedCopy } from '../../../../src/core/chain/anchors/witness.js';
import { GENESIS_HASH } from '../../../../src/core/chain/rule.js';
import { sealEntry } from '../../../../src/core/write/seal.js';

const T0 = Date.parse('2026-11-01T00:00:00Z');

/** `n` sealed entries of one file, one second apart, as forward sends them. */
function chain(n: number, file = 'audit-2026-11-01.jsonl'): CopyEntry[] {
  const out: CopyEntry[] = [];
  let prev = GENESIS_HASH;
  for (let i = 0; i < n; i++) {
    const ts = new Date(T0 + i * 1000).toISOString();
    const { line, hash } = sealEntry({ timestamp: ts, event: 'auth.login', level: 'info', n: i }, prev);
    prev = hash;
    out.push({
      tsNs: BigInt(T0 + i * 1000) * 1_000_000n,
      line: line.trimEnd(),
      metadata: { file, line: String(i + 1), chain_hash: hash },
    });
  }
  return out;
}
const copyOf = (entries: CopyEntry[]): ForwardedCopy => ({
  async *entries() {
    yield* entries;
  },
});
const run = (entries: CopyEntry[], bound?: number) =>
  checkHostChain('h', copyOf(entries), 0n, 1n << 62n, { bound, now: T0 + 1000 * entries.length });

describe('checkHostChain', () => {
  it('an intact chain in order: all chain from the genesis, head is the last', async () => {
    const c = chain(200);
    const r = await run(c);
    assert.equal(r.verdict, 'intact');
    assert.equal(r.chained, 200);
    assert.equal(r.start, 'genesis');
    assert.equal(r.head?.hash, c.at(-1)!.metadata.chain_hash);
    assert.equal(r.head?.line, 200);
  });

  it('arrival out of chain order (pairs swapped, as two streams at one timestamp) is still intact', async () => {
    const c = chain(200);
    for (let i = 0; i + 1 < c.length; i += 2) [c[i], c[i + 1]] = [c[i + 1], c[i]];
    const r = await run(c);
    assert.equal(r.verdict, 'intact');
    assert.equal(r.chained, 200);
    assert.ok(r.peakWaiting <= 2, `${r.peakWaiting}`);
  });

  it('an edited line is one break at its position; the rest chains from its stored hash', async () => {
    const c = chain(100);
    c[49] = { ...c[49], line: c[49].line.replace('"n": 49', '"n": 4900') };
    const r = await run(c);
    assert.equal(r.verdict, 'tampered');
    assert.equal(r.breaks, 1);
    assert.deepEqual(r.findings[0].at, { file: 'audit-2026-11-01.jsonl', line: 50 });
    assert.equal(r.chained, 99);
  });

  it('deleted entries are one gap, found when Loki has no more, or when the bound is reached', async () => {
    const c = chain(300);
    c.splice(100, 20);
    let r = await run(c);
    assert.equal(r.verdict, 'incomplete');
    assert.equal(r.gaps, 1);
    assert.match(r.findings[0].message, /^lines 101–120 of audit-2026-11-01\.jsonl are not in Loki/);
    assert.equal(r.peakWaiting, 180); // everything after the gap waited: no bound reached
    r = await run(c, 16);
    assert.equal(r.gaps, 1);
    assert.equal(r.chained, 279);
    assert.ok(r.peakWaiting <= 17, `${r.peakWaiting}`);
  });

  it('a reordering wider than the bound is reported as a gap, not buffered', async () => {
    const c = chain(100);
    const [moved] = c.splice(10, 1);
    c.splice(60, 0, moved); // entry 11 arrives after entry 60
    assert.equal((await run(c)).verdict, 'intact');
    const r = await run(c, 8);
    assert.equal(r.verdict, 'incomplete');
    assert.ok(r.peakWaiting <= 9);
  });

  it('re-sent copies are duplicates; a range that begins mid-chain is a note, not a gap', async () => {
    const c = chain(50);
    const r = await run([...c.slice(10, 30), ...c.slice(20, 50)]);
    assert.equal(r.verdict, 'intact');
    assert.equal(r.duplicates, 10);
    assert.equal(r.start, 'mid-chain');
    assert.equal(r.chained, 39);
  });

  it('a head older than maxAgeMs is stale', async () => {
    const c = chain(10);
    const r = await checkHostChain('h', copyOf(c), 0n, 1n << 62n, { maxAgeMs: 60_000, now: T0 + 3_600_000 });
    assert.equal(r.verdict, 'stale-head');
    assert.equal(r.stale, true);
  });
});
