/**
 * `npx tsx bench/bigline.ts [MB …]`: the streaming chain hash of huge lines
 * (src/core/pyjson/streaming-canonical.ts) against `sha256sum` of the same file, with peak RSS.
 *
 * For each size (default 5, 50 and 200 MB) it writes a file of six entries sealed with the writer's
 * rule, one of which holds a string of that many MiB (mostly plain text, escapes every ~4 KB: the
 * line is a little larger), then, in fresh processes, per round: verifies the file with the
 * streaming hash (plain Node running the bundled module, so no TypeScript loader counts in its RSS),
 * hashes it with `sha256sum`, and verifies it with the in-memory path (the line as one string,
 * canonicalizeEntry, one SHA-256) for comparison. Each row keeps its best time over the rounds
 * (BIGLINE_RUNS, default 3) and its highest peak RSS. Times are the hashing only (inside the child),
 * or `sha256sum`'s wall time; files are in the page cache after the first round.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleStreaming, verifyInChild, writeBigLineFile, type ChildReport } from '../test/helpers/bigline.js';

const SIZES = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const RUNS = Number(process.env.BIGLINE_RUNS ?? 3);
const MiB = 1024 * 1024;

function sha256sum(file: string): number {
  const t = performance.now();
  const r = spawnSync('sha256sum', [file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sha256sum failed: ${r.stderr}`);
  return performance.now() - t;
}

function checked(report: ChildReport, hashes: string[], what: string): ChildReport {
  if (report.failures.length > 0 || report.stored.join() !== hashes.join())
    throw new Error(`${what} did not verify: ${JSON.stringify(report.failures)}`);
  return report;
}

const dir = mkdtempSync(join(tmpdir(), 'bigline-bench-'));
try {
  const streaming = bundleStreaming(dir);
  const inMemory = bundleStreaming(dir, 'canonical');
  const rows: string[][] = [];
  for (const mb of SIZES.length > 0 ? SIZES : [5, 50, 200]) {
    const file = join(dir, `audit-${mb}.jsonl`);
    const t = performance.now();
    const hashes = writeBigLineFile(file, mb * MiB);
    const bytes = statSync(file).size;
    process.stderr.write(
      `${mb} MiB string: wrote ${(bytes / MiB).toFixed(1)} MiB in ${(performance.now() - t) / 1000} s\n`,
    );
    let stream = { ms: Infinity, rss: 0, base: 0, longest: 0 };
    let memory = { ms: Infinity, rss: 0 };
    let sum = Infinity;
    for (let round = 0; round < RUNS; round++) {
      const s = checked(verifyInChild(streaming, file), hashes, 'streaming');
      stream = {
        ms: Math.min(stream.ms, s.ms),
        rss: Math.max(stream.rss, s.maxRss),
        base: Math.max(stream.base, s.baseRss),
        longest: s.longest,
      };
      sum = Math.min(sum, sha256sum(file));
      const m = checked(verifyInChild(inMemory, file, true), hashes, 'in-memory');
      memory = { ms: Math.min(memory.ms, m.ms), rss: Math.max(memory.rss, m.maxRss) };
    }
    const rate = (ms: number): string => ((bytes / MiB / ms) * 1000).toFixed(0);
    rows.push([
      `${mb} MiB`,
      (stream.longest / MiB).toFixed(1),
      `${stream.ms.toFixed(0)} (${rate(stream.ms)} MiB/s)`,
      `${sum.toFixed(0)} (${rate(sum)} MiB/s)`,
      (stream.ms / sum).toFixed(2),
      `${(stream.rss / MiB).toFixed(0)} (start ${(stream.base / MiB).toFixed(0)})`,
      `${memory.ms.toFixed(0)} ms, ${(memory.rss / MiB).toFixed(0)} MB`,
    ]);
  }
  const head = ['string', 'line MiB', 'streaming ms', 'sha256sum ms', 'ratio', 'streaming peak RSS MB', 'in-memory'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  console.log(`best of ${RUNS} rounds; node ${process.version}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
