/**
 * The torn-write rules (torn-rules.ts), each on a case it recognises and an attack it must not
 * excuse: a torn write is incomplete only when the chain goes on from the last whole entry before
 * it; a fragment standing in for a removed entry, junk, or an entry that does not chain is not.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalizeEntry } from '../../../../src/core/pyjson/canonical.js';
import type { FileReport, Finding } from '../../../../src/core/chain/report.js';
import { GENESIS_HASH, HASH_KEYS } from '../../../../src/core/chain/rule.js';
import type { ChainEntry } from '../../../../src/core/chain/sequential/diagnosis.js';
import {
  diagnoseEndedTorn,
  diagnoseTorn,
  ENDED_TORN_RULES,
  TORN_RULES,
  tornOwnLineFinding,
  tornSameLineFinding,
  tornSibling,
  type EndedTornContext,
  type TornContext,
} from '../../../../src/core/chain/sequential/torn-rules.js';
import { sealEntry } from '../../../../src/core/write/seal.js';

function asEntry(text: string, line: number): ChainEntry {
  const p = canonicalizeEntry(text, { hashKeys: HASH_KEYS });
  assert.equal(typeof p.hashValue, 'string');
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
const unterminated = (s: { line: string }) => s.line.slice(0, -1);

// The chain: a, b (b chains from a). `removed` chains from b and is gone; `after` chains from it.
const a = sealEntry({ action: 'create', seq: 1 }, GENESIS_HASH);
const b = sealEntry({ action: 'update', seq: 2 }, a.hash);
const removed = sealEntry({ action: 'delete', seq: 3 }, b.hash);
const after = sealEntry({ action: 'update', seq: 4 }, removed.hash);
/** What the writer appends after a torn write: an entry chaining from the last whole entry (b). */
const next = sealEntry({ action: 'update', seq: 3 }, b.hash);
const fragment = unterminated(removed).slice(0, 40);
const loc = { file: 'a.jsonl', line: 3, offset: 300 };

const line = (text: string, over: Partial<TornContext> = {}): TornContext => ({
  loc,
  text,
  length: Buffer.byteLength(text),
  terminated: true,
  prev: b.hash,
  beforeChain: false,
  waiting: false,
  ...over,
});
const rule = (name: string) => {
  const r = TORN_RULES.find((x) => x.name === name);
  assert.ok(r, name);
  return r;
};
const endedRule = (name: string) => {
  const r = ENDED_TORN_RULES.find((x) => x.name === name);
  assert.ok(r, name);
  return r;
};

describe('torn-write rules (torn-rules.ts TORN_RULES)', () => {
  it('every rule cites the spec, and the last explains anything', () => {
    for (const r of [...TORN_RULES, ...ENDED_TORN_RULES]) assert.match(r.source, /^spec §\d+/, r.name);
    assert.deepEqual(TORN_RULES.at(-1)!.diagnose(line('anything')), { action: 'malformed' });
    assert.deepEqual(ENDED_TORN_RULES.at(-1)!.diagnose({ lines: [], base: b.hash, next: null }), {
      action: 'tampered',
    });
  });

  describe('a final line cut off', () => {
    const r = rule('a final line cut off: a write in progress or a crash');
    it('recognises a final line without a newline: incomplete', () => {
      const v = r.diagnose(line(fragment, { terminated: false }));
      assert.equal(v?.action, 'last-line');
      const f = (v as { finding: Finding }).finding;
      assert.deepEqual([f.class, f.reason, f.line], ['incomplete', 'torn-last-line', 3]);
      assert.match(f.message, /^final line is incomplete \(no newline, 40 bytes, not a whole entry\)/);
    });
    it('does not excuse a whole line that is not JSON (an edit mid-file)', () => {
      assert.equal(r.diagnose(line(fragment)), null);
      assert.equal(r.diagnose(line('{"action": "update", "seq": 2, oops}')), null);
    });
  });

  describe('a torn write, the next append on the same line', () => {
    const r = rule('a torn write, the next append on the same line');
    it('recognises a fragment followed by an entry chaining from the last whole entry', () => {
      const v = r.diagnose(line(fragment + unterminated(next)));
      assert.equal(v?.action, 'same-line');
      const s = v as Extract<typeof v, { action: 'same-line' }>;
      assert.deepEqual([s.base, s.entry.stored], [b.hash, next.hash]);
      assert.deepEqual([s.finding.class, s.finding.reason], ['incomplete', 'torn-write-recovered']);
      assert.match(s.finding.message, /^a write was cut off \(40 bytes/);
    });
    it('does not excuse an entry on the line that does not chain from the entry before it', () => {
      // Entries removed before it: `after` chains from the removed entry, not from b.
      assert.equal(r.diagnose(line(fragment + unterminated(after))), null);
      // An edited entry keeping its old hash.
      const edited = unterminated(next).replace('"update"', '"delete"');
      assert.equal(r.diagnose(line(fragment + edited)), null);
      // Nothing to chain from: after a line that could not be checked.
      assert.equal(r.diagnose(line(fragment + unterminated(next), { prev: null })), null);
    });
  });

  describe('a torn write on a line of its own', () => {
    const r = rule('a torn write on a line of its own, ended by the next writer');
    it('recognises a prefix of an entry, or NUL bytes: decided by the next line, from the entry before it', () => {
      assert.deepEqual(r.diagnose(line(fragment)), { action: 'wait', base: b.hash });
      assert.deepEqual(r.diagnose(line('\0\0\0\0')), { action: 'wait', base: b.hash });
      assert.deepEqual(r.diagnose(line(fragment, { prev: null, beforeChain: true })), {
        action: 'wait',
        base: GENESIS_HASH,
      });
      assert.deepEqual(r.diagnose(line(fragment, { prev: null, waiting: true })), { action: 'wait' });
    });
    it('does not excuse junk, a whole line with trailing data, or a fragment after an unreadable line', () => {
      assert.equal(r.diagnose(line('rm -rf / # not json')), null);
      assert.equal(r.diagnose(line(unterminated(next) + ' trailing')), null);
      assert.equal(r.diagnose(line(fragment, { prev: null })), null);
    });
  });

  it('diagnoseTorn takes the first rule that recognises the line', () => {
    const tail = fragment + unterminated(next);
    assert.equal(diagnoseTorn(line(tail, { terminated: false })).action, 'last-line');
    assert.equal(diagnoseTorn(line(tail)).action, 'same-line');
    assert.equal(diagnoseTorn(line(fragment)).action, 'wait');
    assert.equal(diagnoseTorn(line('junk')).action, 'malformed');
    assert.throws(() => diagnoseTorn(line('junk'), []), /no rule explained/);
  });
});

describe('torn lines of their own, decided by the line after them (ENDED_TORN_RULES)', () => {
  const lines = [
    { loc, text: fragment },
    { loc: { ...loc, line: 4, offset: 400 }, text: '\0\0' },
  ];
  const ended = (next: EndedTornContext['next']): EndedTornContext => ({ lines, base: b.hash, next });

  describe('nothing after the torn lines', () => {
    const r = endedRule('nothing after the torn lines: the last writes were cut off');
    it('recognises the end of the chain: each line a torn write', () => {
      assert.deepEqual(r.diagnose(ended('end')), {
        action: 'recovered',
        findings: [tornOwnLineFinding(lines[0].loc, fragment), tornOwnLineFinding(lines[1].loc, '\0\0')],
      });
    });
    it('does not excuse them before a line that is no entry', () => {
      assert.equal(r.diagnose(ended(null)), null);
    });
  });

  describe('the next entry chains from the entry before them', () => {
    const r = endedRule('the next entry chains from the entry before the torn lines: the writer went on');
    it('recognises the writer going on from the last whole entry', () => {
      assert.equal(r.diagnose(ended(asEntry(unterminated(next), 5)))?.action, 'recovered');
    });
    it('does not excuse a fragment standing in for a removed entry (the next entry chains from it)', () => {
      assert.equal(r.diagnose(ended(asEntry(unterminated(after), 5))), null);
      assert.deepEqual(diagnoseEndedTorn(ended(asEntry(unterminated(after), 5))), { action: 'tampered' });
    });
  });

  it('diagnoseEndedTorn takes the first rule that recognises them', () => {
    assert.equal(diagnoseEndedTorn(ended('end')).action, 'recovered');
    assert.equal(diagnoseEndedTorn(ended(null)).action, 'tampered');
    assert.throws(() => diagnoseEndedTorn(ended(null), []), /no rule explained/);
  });
});

describe('torn-write findings and siblings', () => {
  it('tell NUL bytes (a power loss) from a cut-off write', () => {
    assert.match(tornSameLineFinding(loc, '\0\0\0{"a": 1}', 3).message, /^3 NUL bytes/);
    assert.match(tornSameLineFinding(loc, '{"a": {"a": 1}', 5).message, /^a write was cut off \(5 bytes/);
    assert.match(tornOwnLineFinding(loc, '\0\0').message, /^2 NUL bytes .* on a line of their own/);
    assert.equal(tornOwnLineFinding(loc, '{"a": ').class, 'incomplete');
  });

  it('a sibling chains from the entry before the torn write: said once in its finding; others are not siblings', () => {
    const finding = tornSameLineFinding(loc, fragment + unterminated(next), 40);
    const message = finding.message;
    const torn = { base: b.hash, finding, siblings: 0 };
    // What the writer appends next, re-reading the file and skipping the merged line.
    const sibling = sealEntry({ action: 'update', seq: 5 }, b.hash);
    assert.equal(tornSibling(asEntry(unterminated(after), 5), torn), false, 'chains from a removed entry');
    assert.equal(finding.message, message);
    assert.equal(tornSibling(asEntry(unterminated(sibling), 5), torn), true);
    assert.equal(tornSibling(asEntry(unterminated(sibling), 6), torn), true);
    assert.equal(torn.siblings, 2);
    assert.equal(finding.message.split('skips the merged line').length, 2, 'the note is added once');
  });
});
