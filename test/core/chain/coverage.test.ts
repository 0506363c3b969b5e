import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { generateSample } from '../../../scripts/sample.js';
import { ChainCoverage } from '../../../src/core/chain/coverage.js';
import { lastGapOf } from '../../../src/core/chain/stored-hash.js';
import { searchEntries } from '../../../src/core/query/search.js';
import type { FilterSpec } from '../../../src/core/query/filters.js';
import { discoverAuditFiles, type AuditFile } from '../../../src/core/read/files.js';
import { gapOfBytes, LineSplitter, type LineChainKind } from '../../../src/core/read/lines.js';

let dir: string;
let files: AuditFile[];
const HASH = (n: number) => String(n).padStart(64, '0');

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'la-coverage-'));
  // Two days over several 64 KiB blocks and 1 MiB reads, with tricky values.
  generateSample(dir, { seed: 11, startDate: '2026-03-01', perDay: [4000, 4000], trickyShare: 0.1 });
  files = (await discoverAuditFiles(dir)).files;
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Every entry's mark, keyed by file:line, for a search with `filter`. */
async function marks(filter: FilterSpec, reverse = false): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const item of searchEntries(dir, { filter, reverse }))
    if (item.kind === 'entry') out.set(`${item.file}:${item.line}`, String(item.unverified));
  return out;
}

/** Damages the second day: an edit, a removal masked by garbage, an unhashed insert, a BOM. */
function damage(): void {
  const path = join(dir, files[1].name);
  const lines = readFileSync(path, 'utf8').split('\n');
  const edited = lines.findIndex((l, i) => i >= 100 && l.includes('"success": true'));
  lines[edited] = lines[edited].replace('"success": true', '"success": false');
  lines.splice(2000, 2, '{"action": "login", "resource_type": "auth", garbage');
  lines.splice(3000, 0, '{"timestamp": "2026-03-02T12:00:00+00:00", "action": "login", "resource_type": "auth"}');
  writeFileSync(path, lines.join('\n'));
}

describe('ChainCoverage', () => {
  it('on intact writer output every entry is verified, read whole or through a needle search', async () => {
    const all = await marks({});
    assert.equal(all.size, 8000);
    assert.deepEqual(new Set(all.values()), new Set(['null']));
    const logins = await marks({ events: ['auth.login'] });
    assert.ok(logins.size > 100 && logins.size < 1000);
    assert.deepEqual(new Set(logins.values()), new Set(['null']));
  });

  it(
    'marks the same entries whether a needle search skips ' +
      'lines, a filter drops them, or files are read newest first',
    async () => {
      damage();
      const all = await marks({});
      const bad = [...all].filter(([, m]) => m !== 'null');
      // The edited entry, the entry after the garbage, the unhashed insert: and nothing else.
      assert.deepEqual(
        bad.map(([, m]) => m),
        ['does-not-chain', 'after-unreadable', 'no-hash'],
      );
      for (const [filter, reverse] of [
        [{ events: ['auth.login'] }, false],
        [{ users: ['alice'] }, false],
        [{ outcome: 'failure' }, false],
        [{ grep: '"resource_type": "auth"' }, true],
        [{}, true],
      ] as Array<[FilterSpec, boolean]>) {
        const some = await marks(filter, reverse);
        assert.ok(some.size > 0);
        for (const [k, m] of some) assert.equal(m, all.get(k), `${JSON.stringify(filter)} ${k}`);
      }
      // Each bad entry is found by a search that skips the line before it.
      for (const [k] of bad) {
        const [file, line] = k.split(':');
        const text = readFileSync(join(dir, file), 'utf8').split('\n')[Number(line) - 1];
        const ts = /"timestamp": "([^"]+)"/.exec(text)![1];
        const one = await marks({ grep: ts.replace(/[.+]/g, '\\$&') });
        assert.equal(one.get(k), all.get(k), k);
      }
    },
  );
});

describe('gaps of skipped lines', () => {
  const kinds: Record<string, LineChainKind> = {};
  const classify = (b: Buffer): LineChainKind => kinds[b.toString()] ?? { kind: 'blank' };
  kinds.h1 = { kind: 'hashed', hash: HASH(1) };
  kinds.h2 = { kind: 'hashed', hash: HASH(2) };
  kinds.u = { kind: 'unhashed' };
  kinds.x = { kind: 'unreadable' };

  it('gapOfBytes: the last hashed line, and whether an unreadable line follows it', () => {
    const g = (s: string) => gapOfBytes(Buffer.from(s), 0, s.length, classify);
    assert.deepEqual(g('h1\nh2\nu\n'), { hash: HASH(2), broken: false });
    assert.deepEqual(g('h1\nx\nh2\nx\nu\n'), { hash: HASH(2), broken: true });
    assert.deepEqual(g('h1\nu\n\n'), { hash: HASH(1), broken: false });
    assert.deepEqual(g('u\nx\n'), { hash: null, broken: true });
    assert.deepEqual(g('\n'), { hash: null, broken: false });
  });

  it('LineSplitter.pushSelected hands the skipped run to the next line it hands out, across chunks', () => {
    const s = new LineSplitter({ classifySkipped: classify });
    const needles = [{ bytes: Buffer.from('match') }];
    const out = [
      ...s.pushSelected(Buffer.from('h1\nx\nh2\nma'), needles),
      ...s.pushSelected(Buffer.from('tch\nh1\nx\nu\n'), needles),
      ...s.pushSelected(Buffer.from('match\nh2\n'), needles),
    ];
    assert.deepEqual(
      out.map((l) => [l.bytes.toString(), l.skippedBefore]),
      [
        ['match', { hash: HASH(2), broken: false }],
        ['match', { hash: HASH(1), broken: true }],
      ],
    );
    assert.deepEqual(s.takeSkippedGap(), { hash: HASH(2), broken: false });
    assert.equal(s.takeSkippedGap(), null);
    // Without a classifier nothing is tracked.
    const plain = new LineSplitter();
    assert.equal(plain.pushSelected(Buffer.from('h1\nmatch\n'), needles)[0].skippedBefore, undefined);
  });
});

describe('lastGapOf', () => {
  const tracker = new ChainCoverage([]);
  const classify = (b: Buffer) => tracker.classify(b);

  it('reads a plain file from its end: the last stored hash, over 64 KiB blocks, CRLF, garbage and a gzip copy alike', async () => {
    const f = files[0];
    const lines = readFileSync(f.path, 'utf8').split('\n').filter(Boolean);
    const last = (JSON.parse(lines.at(-1)!) as { _integrity_hash: string })._integrity_hash;
    assert.deepEqual(await lastGapOf(f, classify), { hash: last, broken: false, kept: null });
    const t = mkdtempSync(join(tmpdir(), 'la-gap-'));
    try {
      const at = (name: string, body: string | Buffer): AuditFile => {
        writeFileSync(join(t, name), body);
        return { ...f, name, path: join(t, name), gz: name.endsWith('.gz') };
      };
      const crlf = lines.join('\r\n') + '\r\n';
      assert.deepEqual(await lastGapOf(at('a.jsonl', crlf), classify), { hash: last, broken: false, kept: null });
      const tailGarbage = lines.join('\n') + '\n{"a": torn\n{"no": "hash"}\n\n';
      assert.deepEqual(await lastGapOf(at('b.jsonl', tailGarbage), classify), { hash: last, broken: true, kept: null });
      assert.deepEqual(await lastGapOf(at('c.jsonl.gz', gzipSync(tailGarbage)), classify), {
        hash: last,
        broken: true,
        kept: null,
      });
      // A last line longer than the limit (read over several blocks) is unreadable; the hash before it stays.
      const long = lines.join('\n') + '\n{"x": "' + 'y'.repeat(200_000) + '"}';
      assert.deepEqual(await lastGapOf(at('d.jsonl', long), classify, 100_000), {
        hash: last,
        broken: true,
        kept: null,
      });
      assert.deepEqual(await lastGapOf(at('e.jsonl', '{"no": "hash"}\n'), classify), {
        hash: null,
        broken: false,
        kept: null,
      });
      assert.deepEqual(await lastGapOf(at('f.jsonl', ''), classify), { hash: null, broken: false, kept: null });
    } finally {
      rmSync(t, { recursive: true, force: true });
    }
  });
});
