/**
 * The witness comparison (src/core/chain/anchors/witness.ts) on a real directory against a
 * copy given as a list: order differences within the lookahead, beyond it, duplicates,
 * --since/--until, and what is reported for each side.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateSample } from '../../../../scripts/sample.js';
import { compareWithCopy, type CopyEntry, type ForwardedCopy } from '../../../../src/core/chain/anchors/witness.js';
import { discoverAuditFiles, type AuditFile } from '../../../../src/core/read/files.js';
import { tempDir } from '../../../helpers/cli.js';

const copyOf = (entries: CopyEntry[]): ForwardedCopy & { asked: Array<[bigint, bigint]> } => {
  const asked: Array<[bigint, bigint]> = [];
  return {
    asked,
    async *entries(start, end) {
      asked.push([start, end]);
      for (const e of entries) if (e.tsNs >= start && e.tsNs < end) yield e;
    },
  };
};

describe('compareWithCopy', () => {
  let t: { dir: string; cleanup: () => void };
  let files: AuditFile[];
  let forwarded: CopyEntry[];
  before(async () => {
    t = tempDir();
    generateSample(t.dir, { seed: 5, startDate: '2026-11-20', perDay: [40, 40] });
    files = (await discoverAuditFiles(t.dir)).files;
    forwarded = readdirSync(t.dir)
      .filter((n) => n.endsWith('.jsonl'))
      .sort()
      .flatMap((n) =>
        readFileSync(join(t.dir, n), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line, i) => ({
            tsNs: BigInt(Date.parse(JSON.parse(line).timestamp)) * 1_000_000n,
            line,
            metadata: { file: n, line: String(i + 1), chain_hash: JSON.parse(line)._integrity_hash as string },
          })),
      );
  });
  after(() => t.cleanup());
  const now = Date.parse('2026-11-23T00:00:00Z');

  it('the same entries in the same order: all matched, nothing reported', async () => {
    const r = await compareWithCopy(files, copyOf(forwarded), { now });
    assert.deepEqual([r.local, r.inLoki, r.matched, r.findings.length, r.notes.length], [80, 80, 80, 0, 0]);
  });

  it('order differences within the lookahead are absorbed; beyond it they are reported', async () => {
    // Swap blocks of 6: each entry is at most 6 away from its place.
    const shuffled = forwarded.map((e, i) => ({ ...e, tsNs: forwarded[i ^ 7].tsNs }));
    shuffled.sort((a, b) => (a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : 0));
    let r = await compareWithCopy(files, copyOf(shuffled), { now, lookahead: 16 });
    assert.equal(r.matched, 80);
    assert.equal(r.findings.length, 0);
    // The copy reversed, with a lookahead of 4: reported rather than buffered.
    const reversed = forwarded.map((e, i) => ({ ...e, tsNs: forwarded[79 - i].tsNs })).reverse();
    r = await compareWithCopy(files, copyOf(reversed), { now, lookahead: 4 });
    assert.ok(r.matched < 80);
    assert.ok(r.counts.differs + r.counts.notInLocal > 0);
    // The same with a lookahead larger than the history: all matched.
    r = await compareWithCopy(files, copyOf(reversed), { now, lookahead: 100 });
    assert.equal(r.matched, 80);
  });

  it('an entry forwarded twice is a duplicate, not a finding', async () => {
    const twice = [
      ...forwarded.slice(0, 10),
      { ...forwarded[9], tsNs: forwarded[9].tsNs + 1n },
      ...forwarded.slice(10),
    ];
    const r = await compareWithCopy(files, copyOf(twice), { now });
    assert.equal(r.duplicates, 1);
    assert.equal(r.matched, 80);
    assert.equal(r.findings.length, 0);
  });

  it('missing on each side, and different bytes, by file and line; the unforwarded tail is one note', async () => {
    const copy = forwarded.slice(0, 70).filter((_, i) => i !== 20);
    copy[30] = { ...copy[30], line: copy[30].line.replace('"success": true', '"success": false') };
    assert.notEqual(copy[30].line, forwarded[31].line, 'the copy changed');
    copy.splice(5, 0, {
      tsNs: copy[5].tsNs,
      line: JSON.stringify({ timestamp: '2026-11-20T01:00:00+00:00', _integrity_hash: 'f'.repeat(64) }),
      metadata: { file: 'audit-2026-11-19.jsonl', line: '3', chain_hash: 'f'.repeat(64) },
    });
    const r = await compareWithCopy(files, copyOf(copy), { now });
    const by = (k: string) => r.notes.filter((n) => n.kind === k);
    assert.deepEqual(
      by('not-in-loki').map((n) => `${n.file}:${n.line}`),
      [`${forwarded[20].metadata.file}:${forwarded[20].metadata.line}`],
    );
    assert.match(by('not-forwarded')[0].message, /^10 local entries are not in Loki/);
    const differs = r.findings.filter((f) => f.reason === 'loki-differs');
    assert.deepEqual(
      differs.map((f) => `${f.file}:${f.line}`),
      [`${forwarded[31].metadata.file}:${forwarded[31].metadata.line}`],
    );
    const only = r.findings.filter((f) => f.reason === 'head-missing');
    assert.equal(only.length, 1);
    assert.equal(only[0].file, 'audit-2026-11-19.jsonl');
    assert.equal(only[0].line, 3);
    assert.deepEqual(r.counts, { notInLocal: 1, differs: 1, notInLoki: 1, notForwarded: 10 });
  });

  it('--since/--until limit the local side and the range asked of the copy', async () => {
    const since = Date.parse('2026-11-21T00:00:00Z');
    const copy = copyOf(forwarded);
    const r = await compareWithCopy(files, copy, { now, since, until: now });
    assert.equal(r.local, 40);
    assert.equal(r.matched, 40);
    assert.deepEqual(copy.asked, [[BigInt(since) * 1_000_000n, BigInt(now) * 1_000_000n]]);
    // With ingest timestamps the copy is read up to now + 10m, whatever --until says.
    const ingest = copyOf(forwarded.map((e, i) => ({ ...e, tsNs: BigInt(now - 80 + i) * 1_000_000n })));
    const ri = await compareWithCopy(files, ingest, { now, since, until: since + 86_400_000, timestamp: 'ingest' });
    assert.equal(ri.matched, 40);
    assert.equal(ingest.asked[0][1], BigInt(now + 600_000) * 1_000_000n);
  });
});
