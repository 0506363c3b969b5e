import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalizeEntry } from '../../../../src/core/pyjson/canonical.js';
import type { FileReport } from '../../../../src/core/chain/report.js';
import { GENESIS_HASH, HASH_KEYS } from '../../../../src/core/chain/rule.js';
import type { ChainEntry } from '../../../../src/core/chain/sequential/diagnosis.js';
import {
  diagnoseUnhashed,
  UNHASHED_RULES,
  type UnhashedContext,
} from '../../../../src/core/chain/sequential/line-rules.js';
import { sealEntry } from '../../../../src/core/write/seal.js';

function asEntry(text: string, line: number): ChainEntry {
  const p = canonicalizeEntry(text, { hashKeys: HASH_KEYS });
  return {
    loc: { file: 'a.jsonl', line, offset: line * 100 },
    text,
    canonical: p.canonical,
    stored: p.hashValue as string,
    numberKeyObjects: [],
    fileFirst: false,
    fileIndex: 0,
    fileReport: {} as FileReport,
  };
}
const a = sealEntry({ seq: 1 }, GENESIS_HASH);
const b = sealEntry({ seq: 2 }, a.hash); // chains around the unhashed run between a and b
const B = asEntry(b.line.slice(0, -1), 4);
const first = { file: 'a.jsonl', line: 2, offset: 200 };
const run = (over: Partial<UnhashedContext>): UnhashedContext => ({ first, count: 2, next: B, prev: a.hash, ...over });
const rule = (name: string) => {
  const r = UNHASHED_RULES.find((x) => x.name === name);
  assert.ok(r, name);
  return r;
};

describe('rules for entries without a hash (line-rules.ts UNHASHED_RULES)', () => {
  it('every rule cites the spec', () => {
    for (const r of UNHASHED_RULES) assert.match(r.source, /^spec §\d+/, r.name);
  });

  describe('hashes removed from chained entries', () => {
    const r = rule('hashes removed from chained entries');
    it('recognises a next entry that does not chain from before the run', () => {
      const v = r.diagnose(run({ prev: sealEntry({ seq: 0 }, GENESIS_HASH).hash }));
      assert.equal(v?.finding.reason, 'missing-hash');
      assert.equal(v?.breaksChain, true);
      assert.equal(r.diagnose(run({ prev: null }))?.finding.reason, 'missing-hash');
    });
    it('does not fire when the chain skips around the run, or nothing follows', () => {
      assert.equal(r.diagnose(run({})), null);
      assert.equal(r.diagnose(run({ next: null, prev: 'x' })), null);
      assert.equal(r.diagnose(run({ next: 'unknown', prev: 'x' })), null);
    });
  });

  describe('integrity off for a while', () => {
    const r = rule('integrity off for a while: the chain skips around them');
    it('recognises the chain skipping around the run: tampered, not verifiable', () => {
      const v = r.diagnose(run({}));
      assert.equal(v?.finding.class, 'tampered');
      assert.equal(v?.finding.reason, 'unhashed-entries');
      assert.match(v?.finding.message ?? '', /^2 entries without a hash, and the chain skips around them/);
      assert.equal(v?.breaksChain, undefined);
    });
    it('does not fire without an entry after the run', () => {
      assert.equal(r.diagnose(run({ next: null })), null);
      assert.equal(r.diagnose(run({ next: 'unknown' })), null);
    });
  });

  describe('before a line that cannot be checked / at the end', () => {
    it('say where the run ended, and stay tampered', () => {
      const unknown = rule('entries without a hash before a line that cannot be checked');
      assert.equal(unknown.diagnose(run({})), null);
      assert.match(unknown.diagnose(run({ next: 'unknown' }))?.finding.message ?? '', /inside the chain/);
      const end = rule('entries without a hash at the end of the chain');
      const v = end.diagnose(run({ next: null, count: 1 }));
      assert.match(v?.finding.message ?? '', /^1 entry without a hash at the end of the chain/);
      assert.equal(v?.finding.class, 'tampered');
    });
  });

  it('diagnoseUnhashed takes the first rule that recognises the run', () => {
    assert.equal(diagnoseUnhashed(run({ prev: null })).finding.reason, 'missing-hash');
    assert.equal(diagnoseUnhashed(run({})).finding.reason, 'unhashed-entries');
    assert.throws(() => diagnoseUnhashed(run({}), []), /no rule explained/);
  });
});
