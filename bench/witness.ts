/**
 * `npx tsx bench/witness.ts` (after `npm run build`): the memory of `verify --against-loki` as
 * the history grows. Generates a seeded directory of BENCH_ENTRIES entries (default 1 000 000)
 * over the 4 days before today (inside Loki's 168h), forwards it with the real `forward` to the
 * test receiver (its compact store, Loki's default limits: 5000 entries and 721h per query),
 * then runs `verify --against-loki` under GNU time: wall seconds, peak RSS, the queries asked.
 * The same on a directory 10× smaller, and a plain `verify` of the large one, for comparison.
 * Writes bench/results/<date>-witness-<entries>.json.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSample } from '../scripts/sample.js';
import { LokiReceiver } from '../test/helpers/loki-receiver.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'run.js');
const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 1_000_000);
const DAYS = 4;
const startDate = new Date(Date.now() - DAYS * 86_400_000).toISOString().slice(0, 10);

function ensureData(entries: number): string {
  const dir = join(ROOT, 'bench', 'data', `witness-${entries}-${startDate}`);
  if (existsSync(join(dir, '.complete'))) return dir;
  process.stderr.write(`generating ${entries} entries from ${startDate} in ${dir} …\n`);
  const per = Math.ceil(entries / DAYS);
  generateSample(dir, {
    seed: 11,
    startDate,
    perDay: Array.from({ length: DAYS }, (_, i) => Math.min(per, entries - i * per)),
    maxFileBytes: 10 * 1024 * 1024,
  });
  writeFileSync(join(dir, '.complete'), '');
  return dir;
}

/** Runs the CLI under GNU time; resolves with its exit code, seconds, peak RSS (MB) and stdout. */
function timedCli(args: string[]): Promise<{ code: number; seconds: number; rssMb: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn('/usr/bin/time', ['-f', '@@TIME %e %M', process.execPath, BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    c.on('error', reject);
    c.on('close', (code) => {
      const m = /@@TIME ([\d.]+) (\d+)/.exec(stderr);
      if (!m) return reject(new Error(`no timing for ${args.join(' ')}: ${stderr}`));
      resolve({ code: code ?? -1, seconds: Number(m[1]), rssMb: Math.round(Number(m[2]) / 1024), stdout });
    });
  });
}

async function measure(entries: number) {
  const dir = ensureData(entries);
  const rx = new LokiReceiver({ store: 'compact' });
  await rx.start();
  const state = join(ROOT, 'bench', 'data', `witness-state-${process.pid}.json`);
  try {
    const fwd = await timedCli(['forward', '--dir', dir, '--loki', rx.url, '--state', state]);
    if (fwd.code !== 0 || rx.storedCount !== entries)
      throw new Error(`forward exited ${fwd.code}, ${rx.storedCount} stored of ${entries}`);
    rx.queries.length = 0;
    const w = await timedCli(['verify', '--dir', dir, '--against-loki', rx.url, '--json']);
    const report = JSON.parse(w.stdout) as { verdict: string; witness: Record<string, number> };
    const plain = await timedCli(['verify', '--dir', dir, '--json']);
    return {
      entries,
      forward: { seconds: fwd.seconds, rssMb: fwd.rssMb },
      witness: {
        exit: w.code,
        seconds: w.seconds,
        rssMb: w.rssMb,
        queries: rx.queries.length,
        largestLimit: Math.max(...rx.queries.map((q) => q.limit)),
        counts: report.witness,
      },
      plainVerify: { exit: plain.code, seconds: plain.seconds, rssMb: plain.rssMb },
    };
  } finally {
    await rx.stop();
    rmSync(state, { force: true });
    rmSync(state.replace(/\.json$/, '.dead-letter.jsonl'), { force: true });
  }
}

async function main(): Promise<void> {
  if (spawnSync('/usr/bin/time', ['true']).status !== 0) throw new Error('GNU time (/usr/bin/time) is needed');
  const small = await measure(Math.round(ENTRIES / 10));
  process.stderr.write(`${JSON.stringify(small)}\n`);
  const large = await measure(ENTRIES);
  process.stderr.write(`${JSON.stringify(large)}\n`);
  const out = { date: new Date().toISOString(), node: process.version, runs: [small, large] };
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const file = join(ROOT, 'bench', 'results', `${out.date.slice(0, 10)}-witness-${ENTRIES}.json`);
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  console.log(`${file}\n${JSON.stringify(out, null, 2)}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
