import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalizeEntry } from '../../../../src/core/pyjson/canonical.js';
import type { PyValue } from '../../../../src/core/pyjson/dumps.js';
import type { FileReport } from '../../../../src/core/chain/report.js';
import { chainHash, GENESIS_HASH, HASH_KEYS } from '../../../../src/core/chain/rule.js';
import {
  BREAK_RULES,
  diagnoseBreak,
  type BreakContext,
  type BreakRule,
  type ChainEntry,
  type FoundEntry,
} from '../../../../src/core/chain/sequential/diagnosis.js';
import { sealEntry } from '../../../../src/core/write/seal.js';

const report = { file: 'a.jsonl' } as FileReport;

/** The chain entry of line `text` (a whole entry with its hash). */
function asEntry(text: string, where: { line?: number; fileFirst?: boolean; fileIndex?: number } = {}): ChainEntry {
  const p = canonicalizeEntry(text, { hashKeys: HASH_KEYS });
  assert.equal(typeof p.hashValue, 'string');
  const line = where.line ?? 5;
  return {
    loc: { file: 'a.jsonl', line, offset: line * 100 },
    text,
    canonical: p.canonical,
    stored: p.hashValue as string,
    numberKeyObjects: p.numberKeyObjects,
    duplicateKeys: p.duplicateKeys,
    fileFirst: where.fileFirst ?? false,
    fileIndex: where.fileIndex ?? 0,
    fileReport: report,
  };
}

const seal = (seq: number, prev: string, where?: Parameters<typeof asEntry>[1], extra: Record<string, PyValue> = {}) =>
  asEntry(sealEntry({ action: 'update', seq, ...extra }, prev).line.slice(0, -1), where);

function ctx(e: ChainEntry, prev: string, over: Partial<BreakContext> = {}): BreakContext {
  return {
    e,
    prev,
    next: null,
    firstOfHistory: false,
    lastPreIntegrity: null,
    earlier: () => Promise.resolve({}),
    later: () => Promise.resolve({}),
    missingDatesBefore: () => [],
    ...over,
  };
}

function rule(reason: string): BreakRule {
  const r = BREAK_RULES.find((x) => x.name === reason);
  assert.ok(r, `no rule named ${reason}`);
  return r;
}

const found = (e: ChainEntry, fileIndex = 0): FoundEntry => ({ ...e.loc, hash: e.stored, fileIndex });

// A chain A → B → C from genesis, and a hash P the walker expected before a break.
const A = seal(1, GENESIS_HASH, { line: 1, fileFirst: true });
const B = seal(2, A.stored, { line: 2 });
const C = seal(3, B.stored, { line: 3 });
const P = chainHash(GENESIS_HASH, '{"other": 1}');

describe('break rules (diagnosis.ts BREAK_RULES)', () => {
  it('every rule cites the spec section it follows', () => {
    for (const r of BREAK_RULES) assert.match(r.source, /^spec §\d+(\.\d+)?(, §\d+(\.\d+)?)*$/, r.name);
    assert.equal(new Set(BREAK_RULES.map((r) => r.name)).size, BREAK_RULES.length);
  });

  describe('writer quirk: number-like keys sorted by value', () => {
    const r = rule('writer quirk: number-like dict keys sorted by value');
    // The writer sorted {10, 9} as integers before writing them as strings.
    const body = '{"action": "update", "details": {"10": "x", "9": "y"}}';
    const byValue = canonicalizeEntry(body, { hashKeys: HASH_KEYS, numberKeysByValue: () => true }).canonical;
    const stored = chainHash(B.stored, byValue);
    const quirky = asEntry(`${body.slice(0, -1)}, "_integrity_hash": "${stored}"}`);

    it('recognises the writer hashing integer keys in numeric order', async () => {
      const v = await r.diagnose(ctx(quirky, B.stored));
      assert.equal(v?.action, 'accept');
      assert.equal(v?.finding.class, 'quirk');
      assert.equal(v?.finding.reason, 'int-keys');
    });
    it('does not excuse an edited value in a number-keyed object', async () => {
      const edited = asEntry(quirky.text.replace('"x"', '"z"'));
      assert.equal(await r.diagnose(ctx(edited, B.stored)), null);
      // and the chain must come from the right predecessor
      assert.equal(await r.diagnose(ctx(quirky, A.stored)), null);
    });
  });

  describe('hashes stripped from the first entries', () => {
    const r = rule('hashes stripped from the first entries');
    const pre = { file: 'a.jsonl', line: 1, offset: 0 };
    it('recognises unhashed entries before a first hashed entry that does not chain from genesis', async () => {
      const v = await r.diagnose(ctx(C, GENESIS_HASH, { firstOfHistory: true, lastPreIntegrity: pre }));
      assert.equal(v?.action, 'anchor');
      assert.equal(v?.notPreIntegrity, true);
      assert.equal(v?.finding.reason, 'hash-stripped');
      assert.equal(v?.finding.line, 1);
    });
    it('does not fire inside the chain, nor without unhashed entries before it', async () => {
      assert.equal(await r.diagnose(ctx(C, A.stored, { lastPreIntegrity: pre })), null);
      assert.equal(await r.diagnose(ctx(C, GENESIS_HASH, { firstOfHistory: true })), null);
    });
  });

  describe('history starts mid-chain', () => {
    const r = rule('history starts mid-chain');
    it('recognises retention: the oldest entry present does not chain from genesis', async () => {
      const v = await r.diagnose(ctx(C, GENESIS_HASH, { firstOfHistory: true }));
      assert.equal(v?.finding.class, 'mid-chain');
      assert.equal(v?.action, 'anchor');
    });
    it('does not excuse a break inside the chain as retention', async () => {
      assert.equal(await r.diagnose(ctx(C, A.stored)), null);
    });
  });

  describe('earlier entries replayed', () => {
    const r = rule('earlier entries replayed (a copy of old history)');
    it('recognises a copy of an earlier entry (same stored hash)', async () => {
      const v = await r.diagnose(ctx(B, C.stored, { earlier: () => Promise.resolve({ duplicate: found(B) }) }));
      assert.equal(v?.action, 'replay');
      assert.equal(v?.finding.reason, 'replayed-entries');
      assert.equal(v?.replayOf?.line, 2);
    });
    it('does not take an entry that only chains from an earlier one for a replay', async () => {
      assert.equal(await r.diagnose(ctx(C, P, { earlier: () => Promise.resolve({ from: found(B) }) })), null);
    });
  });

  describe('two entries swapped', () => {
    const r = rule('two entries swapped');
    it('recognises C read before B: B chains from the expected hash, C from B', async () => {
      const v = await r.diagnose(ctx(C, A.stored, { next: B }));
      assert.equal(v?.action, 'swap');
      assert.equal(v?.finding.reason, 'reordered');
    });
    it('does not take an inserted entry for a swap (the next entry chains from prev, e not from it)', async () => {
      const forged = seal(99, GENESIS_HASH);
      assert.equal(await r.diagnose(ctx(forged, A.stored, { next: B })), null);
    });
  });

  describe('an entry inserted', () => {
    const r = rule('an entry inserted');
    it('recognises an entry whose next entry chains from the one before it', async () => {
      const forged = seal(99, GENESIS_HASH);
      const v = await r.diagnose(ctx(forged, A.stored, { next: B }));
      assert.equal(v?.action, 'accept-next');
      assert.equal(v?.finding.reason, 'inserted-entry');
    });
    it('does not fire when the next entry chains from the changed one (an edit, not an insert)', async () => {
      const edited = asEntry(B.text.replace('"seq": 2', '"seq": 7'));
      assert.equal(await r.diagnose(ctx(edited, A.stored, { next: C })), null);
      assert.equal(await r.diagnose(ctx(edited, A.stored)), null);
    });
  });

  describe('a restart lost its tip', () => {
    const r = rule('a restart lost its tip (chains from genesis)');
    const restart = seal(50, GENESIS_HASH, { line: 1, fileFirst: true, fileIndex: 1 });
    it("recognises a file's first entry chaining from genesis", async () => {
      const v = await r.diagnose(ctx(restart, C.stored));
      assert.equal(v?.finding.class, 'fork');
      assert.equal(v?.finding.reason, 'fork-genesis');
      assert.equal(v?.action, 'accept');
    });
    it('does not excuse a genesis entry inserted in the middle of a file', async () => {
      const mid = seal(50, GENESIS_HASH, { line: 4, fileFirst: false });
      assert.equal(await r.diagnose(ctx(mid, C.stored)), null);
    });
  });

  describe('two writers, or a restart, forked the chain', () => {
    const r = rule('two writers, or a restart, forked the chain');
    const fork = seal(50, A.stored, { line: 1, fileFirst: true, fileIndex: 1 });
    it("recognises a file's first entry chaining from an earlier entry", async () => {
      const v = await r.diagnose(ctx(fork, C.stored, { earlier: () => Promise.resolve({ from: found(A) }) }));
      assert.equal(v?.finding.reason, 'fork-earlier');
      assert.deepEqual(v?.finding.seenAt, { file: 'a.jsonl', line: 1, offset: 100 });
    });
    it('does not excuse entries removed inside a file (an entry chaining from an earlier one mid-file)', async () => {
      const mid = seal(50, A.stored, { line: 4 });
      let searched = false;
      const earlier = () => {
        searched = true;
        return Promise.resolve({ from: found(A) });
      };
      assert.equal(await r.diagnose(ctx(mid, C.stored, { earlier })), null);
      assert.equal(searched, false);
      assert.equal(await r.diagnose(ctx(fork, C.stored)), null);
    });
  });

  describe('a clock step', () => {
    const r = rule('a clock step: the entry chains from a later-named file');
    const first = seal(50, C.stored, { line: 1, fileFirst: true, fileIndex: 0 });
    it('recognises a first entry chaining from an entry of a later-named file', async () => {
      const v = await r.diagnose(ctx(first, GENESIS_HASH, { later: () => Promise.resolve({ from: found(C, 2) }) }));
      assert.equal(v?.finding.reason, 'fork-clock-step');
    });
    it('does not fire when no later file holds its predecessor, nor mid-file', async () => {
      assert.equal(await r.diagnose(ctx(first, GENESIS_HASH)), null);
      const mid = seal(50, C.stored, { line: 4 });
      assert.equal(await r.diagnose(ctx(mid, P, { later: () => Promise.resolve({ from: found(C, 2) }) })), null);
    });
  });

  describe('entries or files removed between files', () => {
    const r = rule('entries or files removed between files');
    const first = seal(50, P, { line: 1, fileFirst: true, fileIndex: 1 });
    it('recognises an unexplained break at a file start, naming the days without a file', async () => {
      const v = await r.diagnose(ctx(first, C.stored, { missingDatesBefore: () => ['2026-01-02'] }));
      assert.equal(v?.finding.class, 'tampered');
      assert.equal(v?.finding.reason, 'chain-break');
      assert.match(v?.finding.message ?? '', /no file for 2026-01-02/);
    });
    it('does not fire mid-file', async () => {
      assert.equal(await r.diagnose(ctx(seal(50, P, { line: 4 }), C.stored)), null);
    });
  });

  describe('the entry was changed, or the one before it removed', () => {
    const r = rule('the entry was changed, or the one before it removed');
    const edited = asEntry(B.text.replace('"seq": 2', '"seq": 7'));
    it('explains any break, as tampering, never accepting the entry', async () => {
      const v = await r.diagnose(ctx(edited, A.stored, { next: C }));
      assert.equal(v?.action, 'anchor');
      assert.equal(v?.finding.class, 'tampered');
      assert.match(v?.finding.message ?? '', /entries after it chain from its stored hash/);
      const alone = await r.diagnose(ctx(edited, A.stored));
      assert.equal(alone?.finding.reason, 'hash-mismatch');
      assert.doesNotMatch(alone?.finding.message ?? '', /entries after it/);
    });
  });

  describe('diagnoseBreak', () => {
    it('takes the first rule that explains the break (a swap before an insert)', async () => {
      const v = await diagnoseBreak(ctx(C, A.stored, { next: B }));
      assert.equal(v.finding.reason, 'reordered');
    });
    it('falls through to the edit when nothing else explains it', async () => {
      const v = await diagnoseBreak(ctx(seal(99, P, { line: 4 }), A.stored, { next: C }));
      assert.equal(v.finding.reason, 'hash-mismatch');
    });
    it('throws when the list has no rule that explains any break', async () => {
      await assert.rejects(diagnoseBreak(ctx(C, A.stored), []), /no rule explained the break/);
    });
  });
});
