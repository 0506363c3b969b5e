/**
 * `npx tsx bench/hostile.ts`: time and peak RSS of `verify` (and `summary`, `search`) on hostile
 * directories next to an ordinary one of the same size (issue #16.4: time proportional to the
 * size, at the order of magnitude of ordinary entries, peak RSS under 150 MB):
 *
 * - ordinary: seeded writer output (scripts/sample.ts), ~200 MB
 * - text garbage: 200 MB of base64 lines (every line a finding)
 * - binary garbage: 200 MB of seeded random bytes (invalid UTF-8, newlines at random)
 * - blank lines: 10,000,000 empty lines
 * - gzip of newlines: 1 GB of `\n` in a ~1 MB `.gz`
 * - gzip of zeros: 1 GB of NUL bytes without a newline, and 100 MB of them as one line
 *
 * Each command runs under GNU time in a fresh process (the bundled CLI: `npm run build` first),
 * best time of HOSTILE_RUNS (default 2) rounds, highest RSS. Writes the table to
 * bench/results/<date>-hostile.json. Data in bench/data/hostile (made once).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { generateSample, prng } from '../scripts/sample.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'run.js');
const DATA = join(ROOT, 'bench', 'data', 'hostile');
const RUNS = Number(process.env.HOSTILE_RUNS ?? 2);
const MB = 1_000_000;

function writeSeeded(path: string, bytes: number, fill: (buf: Buffer, r: () => number) => void): void {
  const r = prng(16);
  const fd = openSync(path, 'w');
  const buf = Buffer.alloc(1 << 20);
  for (let done = 0; done < bytes; done += buf.length) {
    fill(buf, r);
    writeSync(fd, buf, 0, Math.min(buf.length, bytes - done));
  }
  closeSync(fd);
}

async function gzipOf(path: string, total: number, byte: number, newlineAtEnd: boolean): Promise<void> {
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

async function ensureData(): Promise<Record<string, string>> {
  const dirs = {
    ordinary: join(DATA, 'ordinary'),
    'text garbage': join(DATA, 'text-garbage'),
    'binary garbage': join(DATA, 'binary-garbage'),
    'blank lines': join(DATA, 'blank'),
    'gzip of newlines': join(DATA, 'gzip-newlines'),
    'gzip of zeros': join(DATA, 'gzip-zeros'),
  };
  if (existsSync(join(DATA, '.complete'))) return dirs;
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  process.stderr.write(`generating hostile data in ${DATA} …\n`);
  generateSample(dirs.ordinary, { seed: 16, startDate: '2026-10-01', perDay: [330_000, 330_000], trickyShare: 0.05 });
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  writeSeeded(join(dirs['text garbage'], 'audit-2026-10-01.jsonl'), 200 * MB, (buf, r) => {
    for (let i = 0; i < buf.length; i++) buf[i] = i % 77 === 76 ? 0x0a : B64.charCodeAt((r() * 64) | 0);
  });
  writeSeeded(join(dirs['binary garbage'], 'audit-2026-10-01.jsonl'), 200 * MB, (buf, r) => {
    for (let i = 0; i < buf.length; i++) buf[i] = (r() * 256) | 0;
  });
  writeFileSync(join(dirs['blank lines'], 'audit-2026-10-01.jsonl'), Buffer.alloc(10_000_000, 0x0a));
  await gzipOf(join(dirs['gzip of newlines'], 'audit-2026-10-01.jsonl.gz'), 1000 * MB, 0x0a, false);
  await gzipOf(join(dirs['gzip of zeros'], 'audit-2026-10-01.jsonl.gz'), 1000 * MB, 0, false);
  await gzipOf(join(dirs['gzip of zeros'], 'audit-2026-10-02.jsonl.gz'), 100 * MB, 0, true);
  writeFileSync(join(DATA, '.complete'), '');
  return dirs;
}

interface Row {
  input: string;
  command: string;
  bytesOnDisk: number;
  seconds: number;
  rssMb: number;
  exit: number;
  outputBytes: number;
}

function run(args: string[]): { seconds: number; rssMb: number; exit: number; outputBytes: number } {
  let best = { seconds: Infinity, rssMb: 0, exit: -1, outputBytes: 0 };
  for (let i = 0; i < RUNS; i++) {
    const r = spawnSync('/usr/bin/time', ['-f', '@@TIME %e %M', process.execPath, BIN, ...args], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      env: { ...process.env, NO_COLOR: '1' },
    });
    const m = /@@TIME ([\d.]+) (\d+)/.exec(r.stderr);
    if (!m) throw new Error(`cannot time ${args.join(' ')}: ${r.stderr}`);
    const exit = /Command exited with non-zero status (\d+)/.exec(r.stderr);
    best = {
      seconds: Math.min(best.seconds, Number(m[1])),
      rssMb: Math.max(best.rssMb, Number(m[2]) / 1024),
      exit: exit ? Number(exit[1]) : 0,
      outputBytes: Buffer.byteLength(r.stdout) + Buffer.byteLength(r.stderr),
    };
  }
  return best;
}

const dirs = await ensureData();
const rows: Row[] = [];
for (const [input, dir] of Object.entries(dirs)) {
  const bytesOnDisk = readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  for (const command of [
    ['verify', '--json'],
    ['verify', '-q'],
    ['summary', '--json', '--since', '2000-01-01'],
    ['search', '--grep', 'needle', '-o', 'jsonl'],
  ]) {
    const r = run([...command, '--dir', dir]);
    rows.push({ input, command: command.join(' '), bytesOnDisk, ...r });
    process.stderr.write(
      `${input.padEnd(16)} ${command.join(' ').padEnd(34)} ${r.seconds.toFixed(2).padStart(7)} ` +
        `s ${r.rssMb.toFixed(0).padStart(5)} MB  exit ${r.exit}  ${r.outputBytes} B out\n`,
    );
  }
}
mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
const out = join(ROOT, 'bench', 'results', `${new Date().toISOString().slice(0, 10)}-hostile.json`);
writeFileSync(out, JSON.stringify({ node: process.version, runs: RUNS, rows }, null, 2) + '\n');
process.stderr.write(`wrote ${out}\n`);
