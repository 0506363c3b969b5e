/**
 * `npm run bench`: builds a large audit directory once (seeded, either schema, tricky values,
 * size rotation), then times loki-audit side by side with the tools a user would otherwise use
 * on the same files, in one run: sha256sum, a plain Python chain verifier, grep, jq. Peak RSS
 * from GNU time, also on a directory 10× smaller (memory must not grow with the directory).
 * Prints a table with ratios and writes it to bench/results/<date>-<entries>.json.
 *
 * Every command runs once per round, in turn with its baselines; each row keeps its best time
 * (and its highest RSS) over the rounds.
 *
 * Environment: BENCH_ENTRIES (default 1000000), BENCH_DAYS (4), BENCH_RUNS (rounds, 3),
 * BENCH_SCHEMA (writer | documented).
 *
 * Also here: `npx tsx bench/heap-check.ts` checks that constrainHeap still caps V8's new space
 * on this Node (a V8 internal, so a check to run when Node changes rather than a test).
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { generateSample } from '../scripts/sample.js';
import { GENESIS_HASH } from '../src/core/chain/rule.js';
import { sealEntry } from '../src/core/write/seal.js';
import { LokiReceiver } from '../test/helpers/loki-receiver.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'run.js');
const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 1_000_000);
const DAYS = Number(process.env.BENCH_DAYS ?? 4);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SCHEMA = process.env.BENCH_SCHEMA === 'documented' ? 'documented' : 'writer';
const DATA = dataDir(ENTRIES);

function dataDir(entries: number): string {
  return join(ROOT, 'bench', 'data', `${SCHEMA === 'writer' ? 'writer' : 'documented'}-${entries}-${DAYS}`);
}

/** Generates (once) a seeded directory of `entries` entries over DAYS days, rotated at 10 MiB. */
function ensureData(dir: string, entries: number): void {
  if (existsSync(join(dir, '.complete'))) return;
  process.stderr.write(`generating ${entries} ${SCHEMA} entries over ${DAYS} days in ${dir} …\n`);
  const per = Math.ceil(entries / DAYS);
  generateSample(dir, {
    seed: 7,
    schema: SCHEMA,
    startDate: '2026-10-01',
    perDay: Array.from({ length: DAYS }, (_, i) => Math.min(per, entries - i * per)),
    maxFileBytes: 10 * 1024 * 1024,
    trickyShare: 0.05,
  });
  writeFileSync(join(dir, '.complete'), '');
}

interface Timing {
  seconds: number;
  rssMb: number;
  output: string;
}

/** Runs a shell command under GNU time: wall seconds, peak RSS (of the slowest process), stdout tail. */
function timed(cmd: string, runs = RUNS): Timing {
  let best: Timing | null = null;
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(
      'bash',
      ['-o', 'pipefail', '-c', `/usr/bin/time -f '@@TIME %e %M' bash -c ${JSON.stringify(cmd)}`],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
    );
    const m = /@@TIME ([\d.]+) (\d+)/.exec(r.stderr);
    if (!m) throw new Error(`cannot time ${cmd}: ${r.stderr}`);
    const t = {
      seconds: Number(m[1]),
      rssMb: Number(m[2]) / 1024,
      output: r.stdout.trim().split('\n').slice(-1)[0] ?? '',
    };
    if (!best || t.seconds < best.seconds) best = t;
  }
  return best!;
}

/**
 * Machine speed check: ms for a fixed single-threaded loop in a fresh node. Taken before and
 * after the rounds; a large difference means the machine slowed down (or sped up) meanwhile.
 */
function spinMs(): number {
  const r = spawnSync(
    process.execPath,
    [
      '-e',
      'const t=performance.now();let x=0;for(let i=0;i<2e8;i++)x+=i%7;console.log(Math.round(performance.now()-t),x>0)',
    ],
    { encoding: 'utf8' },
  );
  return Number(r.stdout.split(' ')[0]);
}

function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

interface Row {
  task: string;
  tool: string;
  seconds: number;
  rssMb: number;
  /** Peak RSS of the same command on the directory 10× smaller. */
  rssSmallMb?: number;
  note?: string;
}

async function followLatency(dir: string, samples: number): Promise<number[]> {
  mkdirSync(dir, { recursive: true });
  const live = join(dir, 'audit-2099-01-01.jsonl');
  writeFileSync(live, '');
  const child = spawn(process.execPath, [BIN, 'tail', '--dir', dir, '-f', '-n', '0', '-o', 'jsonl'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
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
    const s = sealEntry(
      {
        timestamp: new Date().toISOString().replace('Z', '+00:00'),
        action: 'update',
        resource_type: 'task',
        resource_id: null,
        user_id: 'bench',
        token_id: null,
        ip_address: null,
        user_agent: null,
        success: true,
        error: null,
        details: { bench_seq: i },
      },
      prev,
    );
    prev = s.hash;
    sent.set(i, performance.now());
    appendFileSync(live, s.line);
    await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
  }
  await new Promise((r) => setTimeout(r, 1000));
  child.kill('SIGINT');
  await Promise.race([new Promise((r) => child.once('exit', r)), new Promise((r) => setTimeout(r, 2000))]);
  rmSync(dir, { recursive: true, force: true });
  const lat: number[] = [];
  for (const [i, t0] of sent) if (seen.has(i)) lat.push(seen.get(i)! - t0);
  return lat.sort((a, b) => a - b);
}

async function forwardRate(dir: string): Promise<{ entries: number; seconds: number; rssMb: number }> {
  // Validates every push as Loki does, keeps nothing (a store of 1M entries made the receiver the bottleneck).
  const rx = new LokiReceiver({ store: false });
  await rx.start();
  const state = join(ROOT, 'bench', 'data', `forward-state-${Date.now()}.json`);
  const t0 = performance.now();
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    const c = spawn(
      '/usr/bin/time',
      [
        '-f',
        '@@TIME %e %M',
        process.execPath,
        BIN,
        'forward',
        '--dir',
        dir,
        '--loki',
        rx.url,
        '--timestamp',
        'ingest',
        '--state',
        state,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`forward exited ${code}: ${stderr}`))));
  });
  const seconds = (performance.now() - t0) / 1000;
  await rx.stop();
  rmSync(state, { force: true });
  rmSync(state.replace(/\.json$/, '.dead-letter.jsonl'), { force: true });
  const m = /@@TIME [\d.]+ (\d+)/.exec(stderr);
  return { entries: rx.accepted, seconds, rssMb: m ? Math.round(Number(m[1]) / 1024) : NaN };
}

async function main(): Promise<void> {
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  ensureData(DATA, ENTRIES);
  const spinBefore = spinMs();
  const SMALL = dataDir(Math.round(ENTRIES / 10));
  ensureData(SMALL, Math.round(ENTRIES / 10));
  const bytes = dirBytes(DATA);
  const files = `${DATA}/audit-*.jsonl`;
  const la = `node ${BIN}`;
  const hasJq = spawnSync('jq', ['--version']).status === 0;
  const hasPy = spawnSync('python3', ['--version']).status === 0;
  const rows: Row[] = [];
  // Every command once per round, RUNS rounds, best time per row: commands and their
  // baselines take turns, so a machine that slows down under minutes of load (this one does)
  // does not favour whichever runs first. Peak RSS: the highest of the rounds.
  const tasks: Array<{ row: Row; cmd: (dir: string, files: string) => string; ours: boolean }> = [];
  const add = (task: string, tool: string, cmd: (dir: string, files: string) => string, ours = false) => {
    const row: Row = { task, tool, seconds: Infinity, rssMb: 0 };
    rows.push(row);
    tasks.push({ row, cmd, ours });
  };
  const w = SCHEMA === 'writer';
  const selective = w ? `'"action": "login", "resource_type": "auth"'` : `'"event": "auth.login"'`;
  const jqSelective = w ? `'select(.action=="login" and .resource_type=="auth")'` : `'select(.event=="auth.login")'`;
  const jqBroad = w ? `'select(.success==false)'` : `'select(.level=="error")'`;
  const jqEvent = w ? '(.resource_type + "." + .action)' : '.event';
  const jqFailed = w ? '.success==false' : '.level=="error"';
  const jqActor = w ? '(.user_id // "anonymous")' : '.actor';

  add('verify', 'loki-audit verify', (d) => `${la} verify --dir ${d} --quiet; echo exit=$?`, true);
  add('verify', 'sha256sum (floor)', (_d, f) => `cat ${f} | sha256sum`);
  if (hasPy) add('verify', 'python chain rule', (d) => `python3 ${ROOT}/bench/chain.py ${d}`);
  add(
    'search selective',
    'loki-audit search',
    (d) => `${la} search --dir ${d} --event auth.login -o raw | wc -l`,
    true,
  );
  add('search selective', 'grep -c', (_d, f) => `cat ${f} | grep -c ${selective}`);
  if (hasJq) add('search selective', 'jq', (_d, f) => `jq -c ${jqSelective} ${f} | wc -l`);
  add('search broad', 'loki-audit search', (d) => `${la} search --dir ${d} --outcome failure -o raw | wc -l`, true);
  if (hasJq) add('search broad', 'jq', (_d, f) => `jq -c ${jqBroad} ${f} | wc -l`);
  add('summary', 'loki-audit summary', (d) => `${la} summary --dir ${d} --all --no-chain | wc -l`, true);
  if (hasJq)
    add(
      'summary',
      'jq',
      (_d, f) =>
        `jq -rn '[inputs] | {total: length, failed: (map(select(${jqFailed})) | length), by_event: (group_by(${jqEvent}) | map({(.[0] | ${jqEvent}): length}) | add), by_actor: (group_by(${jqActor}) | map({(.[0] | ${jqActor}): length}) | add)}' ${f} | wc -l`,
    );
  add('export', 'loki-audit export syslog', (d) => `${la} export --dir ${d} -o syslog | wc -l`, true);
  add('export', 'loki-audit export csv', (d) => `${la} export --dir ${d} -o csv | wc -l`, true);

  for (let round = 1; round <= RUNS; round++) {
    for (const { row, cmd } of tasks) {
      process.stderr.write(`round ${round}/${RUNS}: ${row.task}: ${row.tool} …\n`);
      const t = timed(cmd(DATA, files), 1);
      row.rssMb = Math.max(row.rssMb, Math.round(t.rssMb));
      if (t.seconds < row.seconds) {
        row.seconds = t.seconds;
        row.note = t.output.slice(0, 60);
      }
    }
  }
  // Memory must not grow with the directory: the same commands on one 10× smaller.
  for (const { row, cmd, ours } of tasks)
    if (ours) row.rssSmallMb = Math.round(timed(cmd(SMALL, `${SMALL}/audit-*.jsonl`), 1).rssMb);

  const latency = await followLatency(join(ROOT, 'bench', 'data', `follow-${Date.now()}`), 100).catch(
    () => [] as number[],
  );
  const p = (q: number) =>
    latency.length ? latency[Math.min(latency.length - 1, Math.floor(q * latency.length))] : NaN;
  // Forward: best rate of the rounds (peak RSS: the highest); an error only if every round failed.
  const rates: Array<{ entries: number; seconds: number; rssMb: number }> = [];
  let fwdError = '';
  for (let round = 1; round <= RUNS; round++) {
    process.stderr.write(`round ${round}/${RUNS}: forward: loopback Loki receiver …\n`);
    await forwardRate(DATA).then(
      (f) => rates.push(f),
      (e) => (fwdError = String(e)),
    );
  }
  const fwd: { entries: number; seconds: number; rssMb: number; error?: string } = rates.length
    ? { ...rates.reduce((a, b) => (b.seconds < a.seconds ? b : a)), rssMb: Math.max(...rates.map((r) => r.rssMb)) }
    : { entries: 0, seconds: NaN, rssMb: NaN, error: fwdError };

  const spinAfter = spinMs();

  const floor = (task: string, tool: string) => rows.find((r) => r.task === task && r.tool === tool)?.seconds;
  const ratio = (r: Row) => {
    const base =
      r.task === 'verify'
        ? floor('verify', 'sha256sum (floor)')
        : r.task.startsWith('search')
          ? (floor(r.task, 'grep -c') ?? floor(r.task, 'jq'))
          : floor(r.task, 'jq');
    return base && base > 0 ? r.seconds / base : NaN;
  };
  // How many times faster than jq on the same task (loki-audit rows).
  const jqRatio = (r: Row) => {
    const jq = floor(r.task, 'jq');
    return r.tool.startsWith('loki-audit') && jq ? jq / r.seconds : NaN;
  };
  const lines = [
    `loki-audit bench: ${ENTRIES} ${SCHEMA} entries, ${DAYS} days, ${(bytes / 1048576).toFixed(0)} MiB, ${readdirSync(DATA).length - 1} files, node ${process.version}, ${cpus().length} cores, best of ${RUNS}, ${new Date().toISOString()}`,
    '',
    '| task | tool | seconds | × baseline | jq ÷ this | MB/s | peak RSS MB | RSS at 1/10 size |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.task} | ${r.tool} | ${r.seconds.toFixed(2)} | ${Number.isNaN(ratio(r)) ? '' : ratio(r).toFixed(2)} | ${Number.isNaN(jqRatio(r)) ? '' : jqRatio(r).toFixed(1)} | ${(bytes / 1048576 / r.seconds).toFixed(0)} | ${r.rssMb} | ${r.rssSmallMb ?? ''} |`,
    ),
    '',
    `tail --follow latency, append to output: p50 ${p(0.5).toFixed(1)} ms, p95 ${p(0.95).toFixed(1)} ms, max ${p(1).toFixed(1)} ms (${latency.length} samples)`,
    `forward to the loopback Loki receiver (gzip, ingest timestamps): ${fwd.entries} entries in ${fwd.seconds.toFixed(1)} s = ${Math.round(fwd.entries / fwd.seconds)} entries/s, peak RSS ${fwd.rssMb} MB`,
    `machine speed check (fixed loop, lower is faster): ${spinBefore} ms before the rounds, ${spinAfter} ms after`,
    '',
    'Baselines (× baseline): verify vs sha256sum over the same bytes; search vs grep -c (selective) or jq (broad); summary vs jq. jq ÷ this: how many times faster than jq.',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  const out = join(ROOT, 'bench', 'results', `${new Date().toISOString().slice(0, 10)}-${SCHEMA}-${ENTRIES}.json`);
  writeFileSync(
    out,
    JSON.stringify(
      {
        entries: ENTRIES,
        schema: SCHEMA,
        days: DAYS,
        runs: RUNS,
        bytes,
        node: process.version,
        rows: rows.map((r) => ({ ...r, ratio: ratio(r), jqRatio: jqRatio(r) })),
        followLatencyMs: { p50: p(0.5), p95: p(0.95), max: p(1), samples: latency.length },
        forward: fwd,
        spinMs: { before: spinBefore, after: spinAfter },
      },
      null,
      2,
    ) + '\n',
  );
  process.stderr.write(`wrote ${out}\n`);
}

await main();
