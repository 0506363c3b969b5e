import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { searchEntries, searchEntryBatches, type SearchOptions } from '../../../src/core/query/search.js';
import type { ReadItem } from '../../../src/core/read/entries.js';

// Three days of ~1.5 MB each: every file takes several 1 MiB reads, so matches come in several
// batches per file, and a malformed line sits in the middle of the second day.
let dir: string;
const PER_DAY = 6000;
const seqOf = (item: ReadItem) => (item.kind === 'entry' ? (item.record.details as { seq: number }).seq : -item.line);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'la-search-'));
  let seq = 0;
  for (const day of ['01', '02', '03']) {
    const lines: string[] = [];
    for (let i = 0; i < PER_DAY; i++) {
      seq++;
      const action = seq % 7 === 0 ? 'login' : 'read';
      lines.push(
        JSON.stringify({
          timestamp: `2026-02-${day}T00:00:00.${String(i).padStart(6, '0')}+00:00`,
          action,
          resource_type: 'auth',
          user_id: 'u' + (seq % 13),
          success: true,
          details: { seq, pad: 'x'.repeat(160) },
        }),
      );
      // can match: parsed and reported
      if (day === '02' && i === PER_DAY / 2) lines.push('{"action": "login", "resource_type": "auth", torn');
    }
    writeFileSync(join(dir, `audit-2026-02-${day}.jsonl`), lines.join('\n') + '\n');
  }
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function collect(options: SearchOptions): Promise<{ batches: number; empty: number; items: ReadItem[] }> {
  let batches = 0;
  let empty = 0;
  const items: ReadItem[] = [];
  for await (const batch of searchEntryBatches(dir, options)) {
    batches++;
    if (batch.length === 0) empty++;
    items.push(...batch);
  }
  return { batches, empty, items };
}

describe('searchEntryBatches', () => {
  it('hands out matches a chunk at a time, in order, never an empty batch, problems in place', async () => {
    const r = await collect({ filter: { events: ['auth.login'] } });
    const logins = Math.floor((3 * PER_DAY) / 7);
    assert.equal(r.items.filter((i) => i.kind === 'entry').length, logins);
    assert.ok(r.batches >= 6, `several batches per file (got ${r.batches})`);
    assert.equal(r.empty, 0);
    const seqs = r.items.map(seqOf);
    const problem = r.items.findIndex((i) => i.kind === 'problem');
    assert.ok(problem > 0, 'the malformed line is reported');
    assert.equal(r.items[problem].file, 'audit-2026-02-02.jsonl');
    // Entries before the problem are older than the line it is on, those after newer.
    assert.ok(seqs.slice(0, problem).every((s) => s <= PER_DAY + PER_DAY / 2));
    assert.ok(seqs.slice(problem + 1).every((s) => s > PER_DAY + PER_DAY / 2));
    const entries = seqs.filter((s) => s > 0);
    assert.deepEqual(
      entries,
      [...entries].sort((a, b) => a - b),
    );
  });

  it('--offset and --limit across batch and file boundaries equal a slice of the whole result', async () => {
    const all = (await collect({ filter: { events: ['auth.login'] } })).items
      .filter((i) => i.kind === 'entry')
      .map(seqOf);
    for (const [offset, limit] of [
      [0, 1],
      [5, 300],
      [850, 400],
      [1500, 5000],
      [2571, 10],
      [0, 0],
    ]) {
      const page = (await collect({ filter: { events: ['auth.login'] }, offset, limit })).items
        .filter((i) => i.kind === 'entry')
        .map(seqOf);
      assert.deepEqual(page, all.slice(offset, offset + limit), `offset ${offset} limit ${limit}`);
    }
  });

  it('--reverse gives the same matches newest first, with offset and limit', async () => {
    const all = (await collect({ filter: { events: ['auth.login'] } })).items
      .filter((i) => i.kind === 'entry')
      .map(seqOf);
    const rev = (await collect({ filter: { events: ['auth.login'] }, reverse: true })).items
      .filter((i) => i.kind === 'entry')
      .map(seqOf);
    assert.deepEqual(rev, [...all].reverse());
    const page = (await collect({ filter: { events: ['auth.login'] }, reverse: true, offset: 900, limit: 50 })).items
      .filter((i) => i.kind === 'entry')
      .map(seqOf);
    assert.deepEqual(page, [...all].reverse().slice(900, 950));
  });

  it('searchEntries is the same items one at a time', async () => {
    const batched = (await collect({ filter: { users: ['u3'] }, offset: 7, limit: 999 })).items.map(seqOf);
    const single: number[] = [];
    for await (const item of searchEntries(dir, { filter: { users: ['u3'] }, offset: 7, limit: 999 }))
      single.push(seqOf(item));
    assert.deepEqual(single, batched);
    assert.equal(single.filter((s) => s > 0).length, 999);
  });

  it('transientBytes: the same bytes when written out batch by batch; --reverse keeps real copies', async () => {
    const copies = async (options: SearchOptions, atOnce: boolean): Promise<string[]> => {
      const out: string[] = [];
      const kept: ReadItem[] = [];
      for await (const batch of searchEntryBatches(dir, options)) {
        for (const item of batch) {
          if (item.kind !== 'entry') continue;
          if (atOnce) out.push(item.bytes.toString());
          else kept.push(item);
        }
      }
      return atOnce ? out : kept.map((i) => (i.kind === 'entry' ? i.bytes.toString() : ''));
    };
    const filter = { events: ['auth.login'] };
    const plainBytes = await copies({ filter }, false);
    assert.equal(plainBytes.length, Math.floor((3 * PER_DAY) / 7));
    assert.deepEqual(await copies({ filter, transientBytes: true }, true), plainBytes);
    assert.deepEqual(await copies({ filter, transientBytes: true, reverse: true }, false), [...plainBytes].reverse());
  });
});
