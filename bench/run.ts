/**
 * `npm run bench`: builds a large audit directory once (seeded, writer schema, tricky values,
 * size rotation), then times loki-audit side by side with the tools a user would otherwise use
 * on the same files, in one run: sha256sum, a plain Python chain verifier, grep, jq. Peak RSS
 * from GNU time. Prints a table with ratios and writes it to bench/results/<date>.json.
 *
 * Environment: BENCH_ENTRIES (default 1000000), BENCH_DAYS (4), BENCH_RUNS (best of, 1).
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSample } from '../scripts/sample.js';
import { GENESIS_HASH } from '../src/core/chain.js';
import { sealEntry } from '../src/core/writer.js';
import { LokiReceiver } from '../test/helpers/loki-receiver.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'run.js');
const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 1_000_000);
const DAYS = Number(process.env.BENCH_DAYS ?? 4);
const RUNS = Number(process.env.BENCH_RUNS ?? 1);
const DATA = join(ROOT, 'bench', 'data', `writer-${ENTRIES}-${DAYS}`);

interface Timing {
  seconds: number;
  rssMb: number;
  output: string;
}

/** Runs a shell command under GNU time: wall seconds, peak RSS (of the slowest process), stdout tail. */
function timed(cmd: string): Timing {
  let best: Timing | null = null;
  for (let i = 0; i < RUNS; i++) {
    const r = spawnSync('bash', ['-o', 'pipefail', '-c', `/usr/bin/time -f '@@TIME %e %M' bash -c ${JSON.stringify(cmd)}`], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } });
    const m = /@@TIME ([\d.]+) (\d+)/.exec(r.stderr);
    if (!m) throw new Error(`cannot time ${cmd}: ${r.stderr}`);
    const t = { seconds: Number(m[1]), rssMb: Number(m[2]) / 1024, output: r.stdout.trim().split('\n').slice(-1)[0] ?? '' };
    if (!best || t.seconds < best.seconds) best = t;
  }
  return best!;
}

function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

interface Row {
  task: string;
  tool: string;
  seconds: number;
  rssMb: number;
  note?: string;
}

async function followLatency(dir: string, samples: number): Promise<number[]> {
  mkdirSync(dir, { recursive: true });
  const live = join(dir, 'audit-2099-01-01.jsonl');
  writeFileSync(live, '');
  const child = spawn(process.execPath, [BIN, 'tail', '--dir', dir, '-f', '-n', '0', '-o', 'jsonl'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const seen = new Map<number, number>();
  let buf = '';
  child.stdout.on('data', (b: Buffer) => {
    buf += b.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const m = /"bench_seq": (\d+)/.exec(line);
      if (m) seen.set(Number(m[1]), performance.now());
    }
  });
  await new Promise((r) => setTimeout(r, 1500));
  let prev = GENESIS_HASH;
  const sent = new Map<number, number>();
  for (let i = 0; i < samples; i++) {
    const s = sealEntry({ timestamp: new Date().toISOString().replace('Z', '+00:00'), action: 'update', resource_type: 'task', resource_id: null, user_id: 'bench', token_id: null, ip_address: null, user_agent: null, success: true, error: null, details: { bench_seq: i } }, prev);
    prev = s.hash;
    sent.set(i, performance.now());
    appendFileSync(live, s.line);
    await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
  }
  await new Promise((r) => setTimeout(r, 1000));
  child.kill('SIGINT');
  const lat: number[] = [];
  for (const [i, t0] of sent) if (seen.has(i)) lat.push(seen.get(i)! - t0);
  return lat.sort((a, b) => a - b);
}

async function forwardRate(dir: string): Promise<{ entries: number; seconds: number }> {
  const rx = new LokiReceiver();
  await rx.start();
  const state = join(ROOT, 'bench', 'data', `forward-state-${Date.now()}.json`);
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const c = spawn(process.execPath, [BIN, 'forward', '--dir', dir, '--loki', rx.url, '--timestamp', 'ingest', '--state', state], { stdio: 'ignore' });
    c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`forward exited ${code}`))));
  });
  const seconds = (performance.now() - t0) / 1000;
  await rx.stop();
  return { entries: rx.stored.length, seconds };
}

async function main(): Promise<void> {
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  if (!existsSync(join(DATA, '.complete'))) {
    process.stderr.write(`generating ${ENTRIES} entries over ${DAYS} days in ${DATA} …\n`);
    const per = Math.ceil(ENTRIES / DAYS);
    generateSample(DATA, { seed: 7, startDate: '2026-10-01', perDay: Array.from({ length: DAYS }, (_, i) => Math.min(per, ENTRIES - i * per)), maxFileBytes: 10 * 1024 * 1024, trickyShare: 0.05 });
    writeFileSync(join(DATA, '.complete'), '');
  }
  const bytes = dirBytes(DATA);
  const files = `${DATA}/audit-*.jsonl`;
  const la = `node ${BIN}`;
  const hasJq = spawnSync('jq', ['--version']).status === 0;
  const hasPy = spawnSync('python3', ['--version']).status === 0;
  const rows: Row[] = [];
  const add = (task: string, tool: string, cmd: string, note?: string) => {
    process.stderr.write(`${task}: ${tool} …\n`);
    const t = timed(cmd);
    rows.push({ task, tool, seconds: t.seconds, rssMb: Math.round(t.rssMb), note: note ?? t.output.slice(0, 60) });
  };

  add('verify', 'loki-audit verify', `${la} verify --dir ${DATA} --quiet; echo exit=$?`);
  add('verify', 'sha256sum (floor)', `cat ${files} | sha256sum`);
  if (hasPy) add('verify', 'python chain rule', `python3 ${ROOT}/bench/chain.py ${DATA}`);
  add('search selective', 'loki-audit search', `${la} search --dir ${DATA} --event auth.login -o raw | wc -l`);
  add('search selective', 'grep -c', `cat ${files} | grep -c '"action": "login", "resource_type": "auth"'`);
  if (hasJq) add('search selective', 'jq', `jq -c 'select(.action=="login" and .resource_type=="auth")' ${files} | wc -l`);
  add('search broad', 'loki-audit search', `${la} search --dir ${DATA} --outcome failure -o raw | wc -l`);
  if (hasJq) add('search broad', 'jq', `jq -c 'select(.success==false)' ${files} | wc -l`);
  add('summary', 'loki-audit summary', `${la} summary --dir ${DATA} --all --no-chain | wc -l`);
  if (hasJq) add('summary', 'jq', `jq -rn '[inputs] | {total: length, failed: (map(select(.success==false)) | length), by_event: (group_by(.resource_type + "." + .action) | map({(.[0].resource_type + "." + .[0].action): length}) | add), by_actor: (group_by(.user_id) | map({(.[0].user_id // "anonymous"): length}) | add)}' ${files} | wc -l`);
  add('export', 'loki-audit export syslog', `${la} export --dir ${DATA} --format syslog | wc -l`);
  add('export', 'loki-audit export csv', `${la} export --dir ${DATA} --format csv | wc -l`);

  const latency = await followLatency(join(ROOT, 'bench', 'data', `follow-${Date.now()}`), 100).catch(() => [] as number[]);
  const p = (q: number) => (latency.length ? latency[Math.min(latency.length - 1, Math.floor(q * latency.length))] : NaN);
  const fwd = await forwardRate(DATA).catch((e) => ({ entries: 0, seconds: NaN, error: String(e) }));

  const floor = (task: string, tool: string) => rows.find((r) => r.task === task && r.tool === tool)?.seconds;
  const ratio = (r: Row) => {
    const base = r.task === 'verify' ? floor('verify', 'sha256sum (floor)') : r.task.startsWith('search') ? (floor(r.task, 'grep -c') ?? floor(r.task, 'jq')) : floor(r.task, 'jq');
    return base && base > 0 ? r.seconds / base : NaN;
  };
  const lines = [
    `loki-audit bench: ${ENTRIES} entries, ${DAYS} days, ${(bytes / 1048576).toFixed(0)} MiB, ${readdirSync(DATA).length - 1} files, node ${process.version}, ${new Date().toISOString()}`,
    '',
    '| task | tool | seconds | × baseline | MB/s | peak RSS MB |',
    '|---|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.task} | ${r.tool} | ${r.seconds.toFixed(2)} | ${Number.isNaN(ratio(r)) ? '' : ratio(r).toFixed(2)} | ${(bytes / 1048576 / r.seconds).toFixed(0)} | ${r.rssMb} |`),
    '',
    `tail --follow latency, append to output: p50 ${p(0.5).toFixed(1)} ms, p95 ${p(0.95).toFixed(1)} ms, max ${p(1).toFixed(1)} ms (${latency.length} samples)`,
    `forward to the loopback Loki receiver (gzip, ingest timestamps): ${fwd.entries} entries in ${fwd.seconds.toFixed(1)} s = ${Math.round(fwd.entries / fwd.seconds)} entries/s`,
    '',
    'Baselines: verify vs sha256sum over the same bytes; search vs grep -c (selective) or jq (broad); summary vs jq.',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  const out = join(ROOT, 'bench', 'results', `${new Date().toISOString().slice(0, 10)}-${ENTRIES}.json`);
  writeFileSync(out, JSON.stringify({ entries: ENTRIES, days: DAYS, bytes, node: process.version, rows: rows.map((r) => ({ ...r, ratio: ratio(r) })), followLatencyMs: { p50: p(0.5), p95: p(0.95), max: p(1), samples: latency.length }, forward: fwd }, null, 2) + '\n');
  process.stderr.write(`wrote ${out}\n`);
}

await main();
