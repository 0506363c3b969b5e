/**
 * The walker's torn writes (torn-writes.ts) carrying out the torn-write rules through a host that
 * records what it is told: torn lines of their own wait for the line after them, the next
 * append on a torn line is accepted, and a torn line that stands for a removed entry is
 * malformed (tampered), never incomplete.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalizeEntry } from '../../../../src/core/pyjson/canonical.js';
import type { FileReport, Finding } from '../../../../src/core/chain/report.js';
import { GENESIS_HASH, HASH_KEYS } from '../../../../src/core/chain/rule.js';
import type { ChainEntry } from '../../../../src/core/chain/sequential/diagnosis.js';
import { TornWrites, type TornHost, type TornLine } from '../../../../src/core/chain/sequential/torn-writes.js';
import { sealEntry } from '../../../../src/core/write/seal.js';

const report = {} as FileReport;
const body = (s: { line: string }) => s.line.slice(0, -1);
const loc = (line: number) => ({ file: 'audit-2026-11-01.jsonl', line, offset: line * 100 });

function asEntry(s: { line: string }, line: number): ChainEntry {
  const p = canonicalizeEntry(body(s), { hashKeys: HASH_KEYS });
  return {
    loc: loc(line),
    text: body(s),
    canonical: p.canonical,
    stored: p.hashValue as string,
    numberKeyObjects: [],
    fileFirst: false,
    fileIndex: 0,
    fileReport: report,
  };
}

// a, b; `removed` chained from b and is gone, `after` chains from it; `next` is the writer's next append after b.
const a = sealEntry({ action: 'create', seq: 1 }, GENESIS_HASH);
const b = sealEntry({ action: 'update', seq: 2 }, a.hash);
const removed = sealEntry({ action: 'delete', seq: 3 }, b.hash);
const after = sealEntry({ action: 'update', seq: 4 }, removed.hash);
const next = sealEntry({ action: 'update', seq: 3 }, b.hash);
const fragment = body(removed).slice(0, 40);

/** What the host was told, in order. */
function recorder() {
  const told: string[] = [];
  const accepted: ChainEntry[] = [];
  const findings: Finding[] = [];
  const host: TornHost = {
    finding: (f) => {
      findings.push(f);
      told.push(`${f.reason}@${f.line}`);
    },
    malformed: (l) => {
      told.push(`malformed@${l.loc.line}`);
      return undefined;
    },
    acceptTail: (e) => {
      accepted.push(e);
      told.push(`accept@${e.loc.line}`);
    },
  };
  return { told, accepted, findings, torn: new TornWrites(host) };
}
const tornLine = (text: string, line: number): TornLine => ({ loc: loc(line), text, message: 'bad', hint: null });
const whole = (text: string) => ({ length: Buffer.byteLength(text), terminated: true });
const chainAt = (prev: string | null) => ({ prev, beforeChain: false });

describe('torn writes (torn-writes.ts TornWrites)', () => {
  it('a torn line of its own waits, and is a torn write when the next entry chains from the entry before it', async () => {
    const r = recorder();
    assert.equal(r.torn.line(tornLine(fragment, 3), whole(fragment), chainAt(b.hash), report), undefined);
    assert.equal(r.torn.waiting, true);
    assert.deepEqual(r.told, [], 'nothing is decided before the next line');
    assert.equal(r.torn.settle(asEntry(next, 4)), undefined);
    assert.equal(r.torn.waiting, false);
    assert.deepEqual(r.told, ['torn-write-recovered@3']);
    assert.equal(r.findings[0].class, 'incomplete');
  });

  it('does not excuse a torn line standing in for a removed entry: malformed, no incomplete finding', async () => {
    const r = recorder();
    r.torn.line(tornLine(fragment, 3), whole(fragment), chainAt(b.hash), report);
    r.torn.line(tornLine('\0\0\0', 4), whole('\0\0\0'), chainAt(b.hash), report);
    const settled = r.torn.settle(asEntry(after, 5));
    assert.ok(settled, 'tampered lines are carried out through the host (a promise)');
    await settled;
    assert.deepEqual(r.told, ['malformed@3', 'malformed@4']);
    assert.equal(r.torn.waiting, false);
  });

  it('the next append on a torn line is accepted, and later entries chaining from before it are siblings', () => {
    const r = recorder();
    const text = fragment + body(next);
    assert.equal(r.torn.line(tornLine(text, 3), whole(text), chainAt(b.hash), report), undefined);
    assert.deepEqual(r.told, ['torn-write-recovered@3', 'accept@3']);
    assert.deepEqual([r.accepted[0].stored, r.accepted[0].fileReport], [next.hash, report]);
    const sibling = sealEntry({ action: 'create', seq: 5 }, b.hash);
    assert.equal(r.torn.sibling(asEntry(sibling, 4)), true);
    assert.match(r.findings[0].message, /skips the merged line/);
    assert.equal(r.torn.sibling(asEntry(after, 5)), false, 'an entry chaining from a removed one is no sibling');
  });

  it('does not accept an entry on a torn line that does not chain from the entry before it', () => {
    const r = recorder();
    const text = fragment + body(after);
    r.torn.line(tornLine(text, 3), whole(text), chainAt(b.hash), report);
    assert.deepEqual(r.told, ['malformed@3']);
    assert.equal(r.accepted.length, 0);
    assert.equal(r.torn.sibling(asEntry(next, 4)), false, 'no torn write, so no siblings');
  });

  it('a final line cut off after torn lines of their own: those are torn writes (nothing says an entry is missing)', () => {
    const r = recorder();
    r.torn.line(tornLine(fragment, 3), whole(fragment), chainAt(b.hash), report);
    r.torn.line(tornLine(fragment, 4), { length: 40, terminated: false }, chainAt(b.hash), report);
    assert.deepEqual(r.told, ['torn-write-recovered@3', 'torn-last-line@4']);
  });

  it('junk after torn lines of their own: the torn lines are malformed first, then the junk', async () => {
    const r = recorder();
    r.torn.line(tornLine(fragment, 3), whole(fragment), chainAt(b.hash), report);
    await r.torn.line(tornLine('junk', 4), whole('junk'), chainAt(b.hash), report);
    assert.deepEqual(r.told, ['malformed@3', 'malformed@4']);
  });

  it('a torn line after a line that could not be checked (the chain position unknown) is malformed', () => {
    const r = recorder();
    r.torn.line(tornLine(fragment, 3), whole(fragment), chainAt(null), report);
    assert.deepEqual(r.told, ['malformed@3']);
    assert.equal(r.torn.waiting, false);
  });
});
