/**
 * A torn write whose line the next writer ended (loki-audit's `append` does, spec §10.17): the
 * fragment stays a line of its own, the chain goes on from the entry before it. Incomplete, not
 * tampered — also where `verify --state` resumes — while a prefix standing in for a removed entry,
 * or junk that is no prefix of an object, is still tampering.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tornFragment } from '../../../../src/core/chain/sequential/classify.js';
import { verifyDirectory } from '../../../../src/core/chain/directory.js';
import { GENESIS_HASH } from '../../../../src/core/chain/rule.js';
import type { PyValue } from '../../../../src/core/pyjson/dumps.js';
import { sealEntry } from '../../../../src/core/write/seal.js';
import { tempDir } from '../../../helpers/cli.js';

const FILE = 'audit-2026-03-01.jsonl';
const entry = (i: number): { [key: string]: PyValue } => ({
  timestamp: `2026-03-01T10:00:${String(i).padStart(2, '0')}.000001+00:00`,
  action: 'update',
  resource_type: 'task',
  resource_id: `task-${i}`,
  user_id: 'alice',
  token_id: null,
  ip_address: null,
  user_agent: null,
  success: true,
  error: null,
  details: { seq: i, note: 'é "quoted" \\ [1, {"x": 2}]' },
});

/** `n` sealed lines from `prev`, and the head after them. */
function seal(from: number, n: number, prev: string): { lines: string[]; head: string } {
  const lines: string[] = [];
  for (let i = from; i < from + n; i++) {
    const s = sealEntry(entry(i), prev);
    lines.push(s.line);
    prev = s.hash;
  }
  return { lines, head: prev };
}

async function verifyText(text: string) {
  const t = tempDir();
  try {
    writeFileSync(join(t.dir, FILE), text);
    return await verifyDirectory(t.dir);
  } finally {
    t.cleanup();
  }
}

const first = (r: Awaited<ReturnType<typeof verifyText>>) =>
  r.firstProblem ? [r.firstProblem.class, r.firstProblem.reason, r.firstProblem.line] : null;

describe('a torn line ended by the next writer', () => {
  it('every prefix of a writer line is a fragment; a whole line, junk and bad JSON are not', () => {
    const line = seal(1, 1, GENESIS_HASH).lines[0].slice(0, -1);
    for (let k = 1; k < line.length; k++) assert.ok(tornFragment(line.slice(0, k)), `prefix of ${k}`);
    assert.equal(tornFragment(line), false);
    for (const junk of ['{"a": 1}}', '{"a" 1', '{x', '{"a": tru e', '{"a": 1,}', 'x{', '{"a": "\u0001', '[1, 2'])
      assert.equal(tornFragment(junk), false, junk);
    assert.ok(tornFragment('\0'.repeat(300)), 'the NUL bytes of a power loss');
  });

  it('then entries chaining from the entry before it: incomplete, every whole entry verified', async () => {
    const a = seal(1, 3, GENESIS_HASH);
    const torn = seal(4, 1, a.head).lines[0];
    for (const cut of [1, 40, torn.length - 2]) {
      const b = seal(5, 3, a.head);
      const r = await verifyText(a.lines.join('') + torn.slice(0, cut) + '\n' + b.lines.join(''));
      assert.deepEqual(first(r), ['incomplete', 'torn-write-recovered', 4], `cut at ${cut}`);
      assert.equal(r.findings.length, 1);
      assert.equal(r.entriesVerified, 6);
      assert.match(
        r.findings[0].message,
        /the next writer ended its line; the chain goes on from the last whole entry/,
      );
    }
    const nul = await verifyText(a.lines.join('') + '\0'.repeat(200) + '\n' + seal(5, 2, a.head).lines.join(''));
    assert.deepEqual(first(nul), ['incomplete', 'torn-write-recovered', 4]);
  });

  it('a prefix standing in for a removed entry is still tampering (the next entry chains from the removed one)', async () => {
    const a = seal(1, 5, GENESIS_HASH);
    const lines = [...a.lines];
    lines[2] = lines[2].slice(0, 60) + '\n';
    const r = await verifyText(lines.join(''));
    assert.equal(r.verdict, 'tampered', JSON.stringify(r.findings));
    assert.deepEqual(first(r), ['tampered', 'malformed-json', 3]);
    // An entry removed after the fragment too: the next one chains from neither.
    const removed = [...a.lines.slice(0, 2), a.lines[2].slice(0, 60) + '\n', a.lines[4]];
    const r2 = await verifyText(removed.join(''));
    assert.deepEqual(first(r2), ['tampered', 'malformed-json', 3]);
    // The whole cut-off entry still there, its hash intact, and a fragment planted after it.
    const planted = [...a.lines.slice(0, 3), '{"timestamp": "2026-03-01T10:00:0\n', ...a.lines.slice(4)];
    const r3 = await verifyText(planted.join(''));
    assert.deepEqual(first(r3), ['tampered', 'malformed-json', 4]);
  });

  it('torn writes one after another (two crashes): one decision for them all', async () => {
    const a = seal(1, 3, GENESIS_HASH);
    const frag = (i: number, cut: number) => seal(i, 1, a.head).lines[0].slice(0, cut);
    const b = seal(6, 2, a.head);
    // Ended, ended, then entries from the entry before them: incomplete.
    let r = await verifyText(a.lines.join('') + frag(4, 30) + '\n' + frag(5, 70) + '\n' + b.lines.join(''));
    assert.equal(r.verdict, 'incomplete', JSON.stringify(r.findings));
    assert.deepEqual(
      r.findings.map((f) => [f.reason, f.line]),
      [
        ['torn-write-recovered', 4],
        ['torn-write-recovered', 5],
      ],
    );
    assert.equal(r.entriesVerified, 5);
    // Ended, then the next entry on the next fragment's line: incomplete.
    r = await verifyText(a.lines.join('') + frag(4, 30) + '\n' + frag(5, 70) + b.lines.join(''));
    assert.equal(r.verdict, 'incomplete', JSON.stringify(r.findings));
    assert.equal(r.entriesVerified, 5);
    // Ended, then a torn last line: incomplete.
    r = await verifyText(a.lines.join('') + frag(4, 30) + '\n' + frag(5, 70));
    assert.deepEqual(
      r.findings.map((f) => [f.class, f.reason, f.line]),
      [
        ['incomplete', 'torn-write-recovered', 4],
        ['incomplete', 'torn-last-line', 5],
      ],
    );
    // Ended, ended, then an entry that chains from a removed one: both tampered.
    const c = seal(4, 3, a.head);
    r = await verifyText(a.lines.join('') + frag(4, 30) + '\n' + frag(5, 70) + '\n' + c.lines.slice(1).join(''));
    assert.deepEqual(first(r), ['tampered', 'malformed-json', 4]);
    assert.ok(r.findings.some((f) => f.line === 5 && f.reason === 'malformed-json'));
  });

  it('junk that is no prefix of an object is still tampering', async () => {
    const a = seal(1, 3, GENESIS_HASH);
    const r = await verifyText(a.lines.join('') + '{"a": 1}}\n' + seal(4, 2, a.head).lines.join(''));
    assert.deepEqual(first(r), ['tampered', 'malformed-json', 4]);
  });

  it('verify --state resuming at a torn line (ended, or with the next entry on it): incomplete, not tampered', async () => {
    for (const merged of [false, true]) {
      const t = tempDir();
      try {
        const dir = join(t.dir, 'audit');
        const state = join(t.dir, 'state.json');
        const path = join(dir, FILE);
        const a = seal(1, 3, GENESIS_HASH);
        mkdirSync(dir);
        writeFileSync(path, a.lines.join('') + seal(4, 1, a.head).lines[0].slice(0, 50));
        let r = await verifyDirectory(dir, { statePath: state });
        assert.deepEqual(first(r), ['incomplete', 'torn-last-line', 4]);
        appendFileSync(path, (merged ? '' : '\n') + seal(5, 3, a.head).lines.join(''));
        r = await verifyDirectory(dir, { statePath: state });
        assert.equal(r.verdict, 'incomplete', `${merged ? 'merged' : 'ended'}: ${JSON.stringify(r.findings)}`);
        assert.equal(r.entriesVerified, 3, 'the new entries');
        r = await verifyDirectory(dir);
        assert.equal(r.verdict, 'incomplete', 'a full verify agrees');
      } finally {
        t.cleanup();
      }
    }
  });
});
