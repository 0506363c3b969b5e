/**
 * Issue #16.4: memory and output stay bounded whatever the input. A file of garbage makes a
 * finding (or a warning) per line: verify keeps and prints the first 20 of each class and counts
 * the rest (text, --quiet, --json); search, summary and tail print the first 20 warnings and a
 * count. Millions of blank lines and gzip bombs (newlines, zeros) finish with flat memory.
 * Times are measured in bench/hostile.ts, not here.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createGzip } from 'node:zlib';
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { generateSample } from '../../scripts/sample.js';
import { assertExit, runCli, runMeasured, tempDir } from '../helpers/cli.js';

const KEPT = 20;

/** `n` lines of base64-like garbage (none of them JSON). */
function garbage(n: number, tag = 'x'): string {
  let s = '';
  for (let i = 0; i < n; i++) s += `${tag}GARBAGE${i}ZmFrZSBhdWRpdCBsaW5l\n`;
  return s;
}

async function gzipRepeated(path: string, byte: number, total: number, newlineAtEnd: boolean): Promise<void> {
  const gz = createGzip({ level: 9 });
  const out = gz.pipe(createWriteStream(path));
  const block = Buffer.alloc(1 << 20, byte);
  for (let done = 0; done < total; done += block.length)
    if (!gz.write(block.subarray(0, Math.min(block.length, total - done))))
      await new Promise((r) => gz.once('drain', r));
  if (newlineAtEnd) gz.write('\n');
  gz.end();
  await finished(out);
}

describe('hostile volumes: bounded findings, warnings and memory', { timeout: 300_000 }, () => {
  let t: { dir: string; cleanup: () => void };
  let garbageDir: string;
  let twoFiles: string;
  before(() => {
    t = tempDir();
    garbageDir = join(t.dir, 'garbage');
    generateSample(garbageDir, { seed: 3, startDate: '2026-05-01', perDay: [5] });
    appendFileSync(join(garbageDir, 'audit-2026-05-01.jsonl'), garbage(5000));
    // Two files of garbage: the second's findings are all past the cap, its verdict must still say so.
    twoFiles = join(t.dir, 'two');
    generateSample(twoFiles, { seed: 4, startDate: '2026-05-01', perDay: [5, 5] });
    const [first, second] = readdirSync(twoFiles).sort();
    appendFileSync(join(twoFiles, first), garbage(30, 'a'));
    appendFileSync(join(twoFiles, second), garbage(30, 'b'));
  });
  after(() => t.cleanup());

  it('verify --json: the first 20 findings of a class kept, every one counted', async () => {
    const r = assertExit(await runCli(['verify', '--dir', garbageDir, '--json']), 1);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.verdict, 'tampered');
    assert.equal(rep.findings.length, KEPT, JSON.stringify(rep.findings.slice(0, 3)));
    assert.equal(rep.problems, 5000);
    assert.deepEqual(rep.omitted, { findings: { tampered: 5000 - KEPT }, notes: {} });
    assert.equal(rep.firstProblem.line, 6);
    assert.ok(r.stdout.length < 20_000, `--json is ${r.stdout.length} bytes`);
  });

  it('verify text and --quiet: the kept findings, then how many more', async () => {
    for (const args of [[], ['--quiet']]) {
      const r = assertExit(await runCli(['verify', '--dir', garbageDir, ...args]), 1);
      const lines = r.stdout.trimEnd().split('\n');
      assert.ok(lines.length < 40, `${args.join(' ')}: ${lines.length} lines`);
      assert.match(r.stdout, /… and 4980 more TAMPERED finding\(s\) not shown \(the first 20 of each class are/);
      assert.match(lines[lines.length - 1], /5000 problems/);
      assert.equal(lines.filter((l) => /audit-2026-05-01\.jsonl:\d+ TAMPERED/.test(l)).length, KEPT);
    }
  });

  it('a file whose findings were all past the cap still fails', async () => {
    const r = assertExit(await runCli(['verify', '--dir', twoFiles, '--json']), 1);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.problems, 60);
    assert.ok(rep.findings.every((f: { file: string }) => f.file === rep.files[0].file));
    assert.deepEqual(
      rep.files.map((f: { verdict: string }) => f.verdict),
      ['tampered', 'tampered'],
    );
    const text = assertExit(await runCli(['verify', '--dir', twoFiles]), 1).stdout;
    assert.equal(text.match(/FAIL {4}audit-/g)?.length, 2, text);
  });

  it('search, export and summary: 20 warnings, then the count', async () => {
    // The garbage holds no error entry: search finds nothing (exit 1, like grep); the rest exit 0.
    for (const [args, code] of [
      [['search', '--level', 'error'], 1],
      [['export', '-o', 'jsonl'], 0],
      [['summary', '--since', '2000-01-01'], 0],
      [['tail', '-n', '3'], 0],
    ] as const) {
      const r = assertExit(await runCli([...args, '--dir', garbageDir]), code, args[0]);
      const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning: '));
      assert.equal(warnings.filter((l) => /GARBAGE|not JSON|malformed|Expecting/.test(l)).length, KEPT, r.stderr);
      assert.match(r.stderr, /warning: 4980 more line\(s\) that are not entries not shown \(the first 20 were/);
      if (args[0] === 'search' || args[0] === 'export')
        assert.match(r.stderr, /the last at audit-2026-05-01\.jsonl:5005\)/);
      assert.ok(warnings.length <= KEPT + 5, `${args[0]}: ${warnings.length} warnings\n${r.stderr.slice(0, 3000)}`);
    }
  });

  it('two million blank lines: intact, counted in a note, flat memory', async () => {
    const d = join(t.dir, 'blank');
    generateSample(d, { seed: 5, startDate: '2026-05-01', perDay: [4] });
    const file = join(d, 'audit-2026-05-01.jsonl');
    const lines = readdirSync(d);
    assert.deepEqual(lines, ['audit-2026-05-01.jsonl']);
    appendFileSync(file, Buffer.alloc(2_000_000, 0x0a));
    const r = await runMeasured(['verify', '--dir', d, '--json'], join(t.dir, 'rss-blank'));
    assert.equal(r.code, 0, r.stderr + r.stdout.slice(0, 2000));
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.entriesVerified, 4);
    assert.ok(
      rep.notes.some((n: { message: string }) => n.message.includes('2000000 blank line(s)')),
      JSON.stringify(rep.notes),
    );
    assert.ok(r.rssMb < 150, `peak RSS ${r.rssMb.toFixed(0)} MB`);
  });

  it('gzip bombs of newlines and of zeros: a verdict, flat memory', async () => {
    const d = join(t.dir, 'bombs');
    mkdirSync(d);
    generateSample(d, { seed: 6, startDate: '2026-05-03', perDay: [3] });
    await gzipRepeated(join(d, 'audit-2026-05-01.jsonl.gz'), 0x0a, 300_000_000, false);
    await gzipRepeated(join(d, 'audit-2026-05-02.jsonl.gz'), 0, 50_000_000, true);
    const r = await runMeasured(['verify', '--dir', d, '--json'], join(t.dir, 'rss-bombs'));
    assert.equal(r.code, 1, r.stderr + r.stdout.slice(0, 2000));
    const rep = JSON.parse(r.stdout);
    assert.deepEqual(rep.findings.map((f: { file: string; reason: string }) => `${f.file} ${f.reason}`).slice(0, 1), [
      'audit-2026-05-02.jsonl.gz malformed-json',
    ]);
    assert.ok(
      rep.notes.some((n: { message: string }) => n.message.includes('300000000 blank line(s)')),
      JSON.stringify(rep.notes),
    );
    assert.ok(r.rssMb < 150, `peak RSS ${r.rssMb.toFixed(0)} MB`);
  });

  it('search --reverse --limit 3 of a file of 150,000 matches holds 3, not all: flat memory', async () => {
    // Newest first reads a file forward and hands out its matches from the end: only the newest
    // offset + limit of them may be kept (all of them took 567 MB for 300,000 entries).
    const d = join(t.dir, 'reverse');
    mkdirSync(d);
    const file = join(d, 'audit-2026-05-01.jsonl');
    const N = 150_000;
    for (let start = 0; start < N; start += 10_000) {
      let chunk = '';
      for (let i = start; i < start + 10_000; i++)
        chunk +=
          `{"timestamp": "2026-05-01T00:00:00.${String(i).padStart(6, '0')}+00:00", "action": "login", ` +
          `"resource_type": "auth", "resource_id": "r${i}", "user_id": "u${i % 97}", "success": true, ` +
          `"details": {"seq": ${i}, "pad": "${'x'.repeat(240)}"}}\n`;
      appendFileSync(file, chunk);
    }
    const r = await runMeasured(
      ['search', '--dir', d, '--reverse', '--limit', '3', '--offset', '1', '-o', 'jsonl'],
      join(t.dir, 'rss-reverse'),
    );
    assert.equal(r.code, 0, r.stderr);
    const seqs = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).entry.details.seq);
    assert.deepEqual(seqs, [N - 2, N - 3, N - 4]);
    assert.ok(r.rssMb < 150, `peak RSS ${r.rssMb.toFixed(0)} MB`);
  });

  it('an intact directory keeps every note and finding (nothing omitted)', async () => {
    const d = join(t.dir, 'intact');
    generateSample(d, { seed: 7, startDate: '2026-05-01', perDay: [3, 3] });
    writeFileSync(join(d, 'notes.txt'), '');
    const rep = JSON.parse(assertExit(await runCli(['verify', '--dir', d, '--json']), 0).stdout);
    assert.equal(rep.omitted, undefined);
    assert.equal(rep.problems, 0);
  });
});
