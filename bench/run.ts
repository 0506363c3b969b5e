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
 * Sections: `npm run bench` runs all; `npm run bench -- search` (or summary, verify, export,
 * follow, forward; several allowed) only those. The selective-search table has rows per query
 * shape (each literal filter flag alone and AND-combinations): `search -c` beside `grep -cF` of
 * its rarest literal, `search -o raw | wc -l` beside `grep -F` of it into `wc -l`, and jq;
 * filters without a literal beside jq only. jq runs once per row
 * (BENCH_JQ_RUNS): it is the slow side, and a best of one only flatters it.
 *
 * Environment: BENCH_ENTRIES (default 1000000), BENCH_DAYS (4), BENCH_RUNS (rounds, 3),
 * BENCH_JQ_RUNS (1), BENCH_SHAPE: the generator's shape of the data (see SHAPES: writer,
 * documented, long-details, small-pieces, gz-days; BENCH_SCHEMA=documented still means
 * documented). The table's first line says which shape was run. BENCH_KEEP_CA=1 keeps
 * NODE_EXTRA_CA_CERTS for the timed commands (see TIMED_ENV).
 *
 * Also here: `npx tsx bench/heap-check.ts` checks that constrainHeap still caps V8's new space
 * on this Node (a V8 internal, so a check to run when Node changes rather than a test).
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
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
const JQ_RUNS = Number(process.env.BENCH_JQ_RUNS ?? 1);
const SECTIONS = new Set(process.argv.slice(2).length ? process.argv.slice(2) : ['all']);
const on = (section: string) => SECTIONS.has('all') || SECTIONS.has(section);

/** The shapes of directory users have, as the generator makes them (scripts/sample.ts). */
const SHAPES = {
  /** Loki Mode's writer schema, 10 MiB rotation (Loki Mode's default). */
  writer: { schema: 'writer', maxFileBytes: 10 * 1024 * 1024 },
  /** The schema the Loki Mode docs describe (event, level, actor). */
  documented: { schema: 'documented', maxFileBytes: 10 * 1024 * 1024 },
  /** Writer schema with a 4 KiB `details.body` in one entry of ten. */
  'long-details': { schema: 'writer', maxFileBytes: 10 * 1024 * 1024, longDetails: { share: 0.1, bytes: 4096 } },
  /** Writer schema rotated at 256 KiB: hundreds of small pieces per day. */
  'small-pieces': { schema: 'writer', maxFileBytes: 256 * 1024 },
  /** Writer schema, every day's last piece gzipped, as operators' logrotate leaves them. */
  'gz-days': { schema: 'writer', maxFileBytes: 10 * 1024 * 1024, gzipAllDays: true },
} as const satisfies Record<
  string,
  {
    schema: 'writer' | 'documented';
    maxFileBytes: number;
    longDetails?: { share: number; bytes: number };
    gzipAllDays?: boolean;
  }
>;
type ShapeName = keyof typeof SHAPES;
const SHAPE_NAME: ShapeName =
  process.env.BENCH_SHAPE && process.env.BENCH_SHAPE in SHAPES
    ? (process.env.BENCH_SHAPE as ShapeName)
    : process.env.BENCH_SCHEMA === 'documented'
      ? 'documented'
      : 'writer';
if (process.env.BENCH_SHAPE && !(process.env.BENCH_SHAPE in SHAPES))
  throw new Error(`BENCH_SHAPE must be one of ${Object.keys(SHAPES).join(', ')}`);
const SHAPE: (typeof SHAPES)[ShapeName] = SHAPES[SHAPE_NAME];
const SCHEMA = SHAPE.schema;
const DATA = dataDir(ENTRIES);

function dataDir(entries: number): string {
  return join(ROOT, 'bench', 'data', `${SHAPE_NAME}-${entries}-${DAYS}`);
}

/** Generates (once) a seeded directory of `entries` entries over DAYS days, in the shape asked for. */
function ensureData(dir: string, entries: number): void {
  if (existsSync(join(dir, '.complete'))) return;
  process.stderr.write(`generating ${entries} ${SHAPE_NAME} entries over ${DAYS} days in ${dir} …\n`);
  const per = Math.ceil(entries / DAYS);
  const shape: { maxFileBytes: number; longDetails?: { share: number; bytes: number }; gzipAllDays?: boolean } = SHAPE;
  generateSample(dir, {
    seed: 7,
    schema: SCHEMA,
    startDate: '2026-10-01',
    perDay: Array.from({ length: DAYS }, (_, i) => Math.min(per, entries - i * per)),
    maxFileBytes: shape.maxFileBytes,
    trickyShare: 0.05,
    longDetails: shape.longDetails,
    gzipDays: shape.gzipAllDays ? Array.from({ length: DAYS }, (_, i) => i) : undefined,
  });
  writeFileSync(join(dir, '.complete'), '');
}

/** The search rows: counting (beside grep -cF) and printing every match (beside grep -F into wc -l). */
const SEARCH_COUNT = 'loki-audit search -c';
const SEARCH_PRINT = 'loki-audit search -o raw';
const GREP_PRINT = 'grep -F (into wc -l)';

/**
 * A search shape of the selective table: loki-audit's flags, the rarest literal of the line
 * (for `grep -cF`; none for a filter without one) and the same test in jq.
 */
interface SearchShape {
  flags: string;
  literal?: string;
  jq: string;
}

// Writer schema (scripts/sample.ts): kill 1.5%, api_key 1.2%, each user ~12%, a task id 1/1000 of tasks.
const SELECTIVE_WRITER: SearchShape[] = [
  {
    flags: '--event auth.login',
    literal: '"action": "login", "resource_type": "auth"',
    jq: '.action=="login" and .resource_type=="auth"',
  },
  { flags: '--action kill', literal: '"action": "kill"', jq: '.action=="kill"' },
  { flags: '--resource-type api_key', literal: '"resource_type": "api_key"', jq: '.resource_type=="api_key"' },
  { flags: '--user jürgen', literal: '"user_id": "j\\u00fcrgen"', jq: '.user_id=="jürgen"' },
  { flags: '--actor ci-bot', literal: '"user_id": "ci-bot"', jq: '.user_id=="ci-bot"' },
  {
    flags: '--field details.path=/api/v1/tasks/29',
    literal: '"path": "/api/v1/tasks/29"',
    jq: '.details.path=="/api/v1/tasks/29"',
  },
  {
    flags: '--field details.task_id=task-417',
    literal: '"task_id": "task-417"',
    jq: '.details.task_id=="task-417"',
  },
  {
    flags: '--grep /api/v1/sessions/42',
    literal: '/api/v1/sessions/42',
    jq: 'tostring|contains("/api/v1/sessions/42")',
  },
  { flags: '--user bob --action kill', literal: '"action": "kill"', jq: '.user_id=="bob" and .action=="kill"' },
  {
    flags: '--actor alice --field details.path=/api/v1/tasks/29',
    literal: '"path": "/api/v1/tasks/29"',
    jq: '.user_id=="alice" and .details.path=="/api/v1/tasks/29"',
  },
  {
    flags: '--user ops@example.com --action login --resource-type auth',
    literal: '"action": "login"',
    jq: '.user_id=="ops@example.com" and .action=="login" and .resource_type=="auth"',
  },
  {
    flags: '--user bob --field ip_address=::1',
    literal: '"user_id": "bob"',
    jq: '.user_id=="bob" and .ip_address=="::1"',
  },
  // No literal: beside jq only.
  { flags: "--grep 'sessions/4[0-9]\"'", jq: 'tostring|test("sessions/4[0-9]\\"")' },
  { flags: '--level =error', jq: '.success==false' },
  {
    flags: '--since 2026-10-02T10:00:00Z --until 2026-10-02T12:00:00Z',
    jq: '.timestamp >= "2026-10-02T10:00" and .timestamp < "2026-10-02T12:00"',
  },
];

// The documented schema (event, level, actor as user:NAME / token:NAME / agent:NAME).
const SELECTIVE_DOCUMENTED: SearchShape[] = [
  { flags: '--event auth.login', literal: '"event": "auth.login"', jq: '.event=="auth.login"' },
  { flags: '--event agent.kill', literal: '"event": "agent.kill"', jq: '.event=="agent.kill"' },
  { flags: '--actor user:ci-bot', literal: '"actor": "user:ci-bot"', jq: '.actor=="user:ci-bot"' },
  {
    flags: '--field details.path=/api/v1/tasks/29',
    literal: '"path": "/api/v1/tasks/29"',
    jq: '.details.path=="/api/v1/tasks/29"',
  },
  {
    flags: '--field details.task_id=task-417',
    literal: '"task_id": "task-417"',
    jq: '.details.task_id=="task-417"',
  },
  {
    flags: '--grep /api/v1/sessions/42',
    literal: '/api/v1/sessions/42',
    jq: 'tostring|contains("/api/v1/sessions/42")',
  },
  {
    flags: '--actor user:bob --event agent.kill',
    literal: '"event": "agent.kill"',
    jq: '.actor=="user:bob" and .event=="agent.kill"',
  },
  {
    flags: '--actor user:alice --event auth.login --field details.source=cli',
    literal: '"event": "auth.login"',
    jq: '.actor=="user:alice" and .event=="auth.login" and .details.source=="cli"',
  },
  { flags: '--level =error', jq: '.level=="error"' },
  {
    flags: '--since 2026-10-02T10:00:00Z --until 2026-10-02T12:00:00Z',
    jq: '(.timestamp|.[0:16]) >= "2026-10-02T10:00" and (.timestamp|.[0:16]) < "2026-10-02T12:00"',
  },
];

interface Timing {
  seconds: number;
  rssMb: number;
  output: string;
}

/**
 * The environment of every timed command. NODE_EXTRA_CA_CERTS makes every Node process parse
 * that file's certificates before any of its code runs (on the VM where this was written, 144
 * certificates, ~50 ms of each start: 416 M of 865 M instructions of a small search under
 * callgrind), while grep, jq and sha256sum pay nothing; no command timed here opens a TLS
 * connection. So it is unset for them unless BENCH_KEEP_CA=1, and the table says so and what it
 * costs a Node start here ({@link caCost}).
 */
const KEEP_CA = process.env.BENCH_KEEP_CA === '1';
const TIMED_ENV: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
if (!KEEP_CA) delete TIMED_ENV.NODE_EXTRA_CA_CERTS;

/** ms of `node -e 0` with and without NODE_EXTRA_CA_CERTS (best of 5 each), or null when it is not set. */
function caCost(): { file: string; withMs: number; withoutMs: number } | null {
  const file = process.env.NODE_EXTRA_CA_CERTS;
  if (!file) return null;
  const best = (env: NodeJS.ProcessEnv) => {
    let ms = Infinity;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      spawnSync(process.execPath, ['-e', '0'], { env });
      ms = Math.min(ms, performance.now() - t);
    }
    return Math.round(ms);
  };
  const without = { ...process.env };
  delete without.NODE_EXTRA_CA_CERTS;
  return { file, withMs: best(process.env), withoutMs: best(without) };
}

/** Runs a shell command under GNU time: wall seconds, peak RSS (of the slowest process), stdout tail. */
function timed(cmd: string, runs = RUNS): Timing {
  let best: Timing | null = null;
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(
      'bash',
      ['-o', 'pipefail', '-c', `/usr/bin/time -f '@@TIME %e %M' bash -c ${JSON.stringify(cmd)}`],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: TIMED_ENV },
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
 * Reads every file of `dir` once (untimed), so that the command timed next finds them in the
 * page cache as the others did: this machine's proactive reclaim (DAMON, `kdamond`) evicts cold
 * page cache within minutes (fincore: 9 MB of the 431 MB bench directory resident after a
 * pause), and the first command of a round then read from disk while the ones after it did not
 * (verify, first in each round, 1.70 s against 1.36 s in a run of its own).
 */
function warmCache(dir: string): void {
  const buf = Buffer.allocUnsafe(1 << 20);
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    const fd = openSync(path, 'r');
    try {
      while (readSync(fd, buf, 0, buf.length, null) > 0);
    } finally {
      closeSync(fd);
    }
  }
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
  /** Rounds run (jq: BENCH_JQ_RUNS). */
  runs: number;
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

/**
 * Forward of `dir` to a loopback Loki receiver in this process: entries accepted, wall seconds,
 * the forwarder's peak RSS and CPU seconds (GNU time), and the receiver's CPU seconds (this
 * process's, over the run), so that the rate can be read as the forwarder's.
 */
async function forwardRate(
  dir: string,
): Promise<{ entries: number; seconds: number; rssMb: number; cpuSeconds: number; receiverCpuSeconds: number }> {
  // Validates every push as Loki does, keeps nothing (a store of 1M entries made the receiver the bottleneck).
  const rx = new LokiReceiver({ store: false });
  await rx.start();
  const state = join(ROOT, 'bench', 'data', `forward-state-${Date.now()}.json`);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    const c = spawn(
      '/usr/bin/time',
      [
        '-f',
        '@@TIME %e %M %U %S',
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
  const cpu = process.cpuUsage(cpu0);
  await rx.stop();
  rmSync(state, { force: true });
  rmSync(state.replace(/\.json$/, '.dead-letter.jsonl'), { force: true });
  const m = /@@TIME [\d.]+ (\d+) ([\d.]+) ([\d.]+)/.exec(stderr);
  return {
    entries: rx.accepted,
    seconds,
    rssMb: m ? Math.round(Number(m[1]) / 1024) : NaN,
    cpuSeconds: m ? Number(m[2]) + Number(m[3]) : NaN,
    receiverCpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

async function main(): Promise<void> {
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  ensureData(DATA, ENTRIES);
  const spinBefore = spinMs();
  const ca = caCost();
  const SMALL = dataDir(Math.round(ENTRIES / 10));
  ensureData(SMALL, Math.round(ENTRIES / 10));
  const bytes = dirBytes(DATA);
  const la = `node ${BIN}`;
  const hasJq = spawnSync('jq', ['--version']).status === 0;
  const hasPy = spawnSync('python3', ['--version']).status === 0;
  const rows: Row[] = [];
  // Every command once per round, RUNS rounds, best time per row: commands and their
  // baselines take turns, so a machine that slows down under minutes of load (this one does)
  // does not favour whichever runs first. Peak RSS: the highest of the rounds.
  const tasks: Array<{ row: Row; cmd: (dir: string, files: string) => string; ours: boolean; runs: number }> = [];
  const add = (task: string, tool: string, cmd: (dir: string, files: string) => string, ours = false, runs = RUNS) => {
    const row: Row = { task, tool, seconds: Infinity, rssMb: 0, runs };
    rows.push(row);
    tasks.push({ row, cmd, ours, runs });
  };
  const w = SCHEMA === 'writer';
  // The baselines read what the files hold: zcat -f for a shape with .gz days.
  const gz = SHAPE_NAME === 'gz-days';
  const feed = (f: string) => `${gz ? 'zcat -f' : 'cat'} ${f}`;
  const filesOf = (d: string) => `${d}/audit-*.jsonl${gz ? '*' : ''}`;
  const jqBroad = w ? `'select(.success==false)'` : `'select(.level=="error")'`;
  const jqEvent = w ? '(.resource_type + "." + .action)' : '.event';
  const jqFailed = w ? '.success==false' : '.level=="error"';
  const jqActor = w ? '(.user_id // "anonymous")' : '.actor';
  const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

  if (on('verify')) {
    add('verify', 'loki-audit verify', (d) => `${la} verify --dir ${d} --quiet; echo exit=$?`, true);
    add('verify', 'sha256sum', (_d, f) => `${feed(f)} | sha256sum`);
    add('verify', 'openssl dgst -sha256', (_d, f) => `${feed(f)} | openssl dgst -sha256`);
    if (!gz) {
      add('verify', 'node floor: createHash per line', (d) => `node --import tsx ${ROOT}/bench/hash-floor.ts ${d}`);
      add(
        'verify',
        'node floor: crypto.hash per line',
        (d) => `node --import tsx ${ROOT}/bench/hash-floor.ts ${d} hash`,
      );
    }
    if (hasPy) add('verify', 'python chain rule', (d) => `python3 ${ROOT}/bench/chain.py ${d}`);
  }
  if (on('search')) {
    // Selective shapes: loki-audit's flags, the rarest literal for grep -cF, the jq test.
    // Counting beside counting (search -c, grep -cF) and printing beside printing (each
    // matching line into wc -l): grep -F spends as long again writing 125,000 lines to a pipe.
    for (const s of w ? SELECTIVE_WRITER : SELECTIVE_DOCUMENTED) {
      const task = `search ${s.flags}`;
      add(task, SEARCH_COUNT, (d) => `${la} search --dir ${d} ${s.flags} -c`, true);
      if (s.literal) add(task, 'grep -cF', (_d, f) => `${feed(f)} | grep -cF ${q(s.literal!)}`);
      add(task, SEARCH_PRINT, (d) => `${la} search --dir ${d} ${s.flags} -o raw | wc -l`, true);
      if (s.literal) add(task, GREP_PRINT, (_d, f) => `${feed(f)} | grep -F ${q(s.literal!)} | wc -l`);
      if (hasJq) add(task, 'jq', (_d, f) => `${feed(f)} | jq -c ${q(`select(${s.jq})`)} | wc -l`, false, JQ_RUNS);
    }
    add('search broad', SEARCH_PRINT, (d) => `${la} search --dir ${d} --outcome failure -o raw | wc -l`, true);
    if (hasJq) add('search broad', 'jq', (_d, f) => `${feed(f)} | jq -c ${jqBroad} | wc -l`, false, JQ_RUNS);
  }
  if (on('summary')) {
    // With the chain status (the default) and without it.
    add('summary', 'loki-audit summary', (d) => `${la} summary --dir ${d} --all | wc -l`, true);
    add('summary', 'loki-audit summary --no-chain', (d) => `${la} summary --dir ${d} --all --no-chain | wc -l`, true);
    if (hasJq)
      add(
        'summary',
        'jq',
        (_d, f) =>
          `${feed(f)} | jq -rn '[inputs] | {total: length, failed: (map(select(${jqFailed})) | ` +
          `length), by_event: (group_by(${jqEvent}) | map({(.[0] | ${jqEvent}): length}) | add), ` +
          `by_actor: (group_by(${jqActor}) | map({(.[0] | ${jqActor}): length}) | add)}' | wc -l`,
        false,
        JQ_RUNS,
      );
  }
  if (on('export')) {
    add('export', 'loki-audit export syslog', (d) => `${la} export --dir ${d} -o syslog | wc -l`, true);
    add('export', 'loki-audit export csv', (d) => `${la} export --dir ${d} -o csv | wc -l`, true);
  }

  for (let round = 1; round <= RUNS; round++) {
    for (const { row, cmd, runs } of tasks) {
      if (round > runs) continue;
      process.stderr.write(`round ${round}/${RUNS}: ${row.task}: ${row.tool} …\n`);
      warmCache(DATA);
      const t = timed(cmd(DATA, filesOf(DATA)), 1);
      row.rssMb = Math.max(row.rssMb, Math.round(t.rssMb));
      if (t.seconds < row.seconds) {
        row.seconds = t.seconds;
        row.note = t.output.slice(0, 60);
      }
    }
  }
  // Memory must not grow with the directory: the same commands on one 10× smaller.
  for (const { row, cmd, ours } of tasks)
    if (ours) {
      warmCache(SMALL);
      row.rssSmallMb = Math.round(timed(cmd(SMALL, filesOf(SMALL)), 1).rssMb);
    }

  const latency = on('follow')
    ? await followLatency(join(ROOT, 'bench', 'data', `follow-${Date.now()}`), 100).catch(() => [] as number[])
    : [];
  const p = (q: number) =>
    latency.length ? latency[Math.min(latency.length - 1, Math.floor(q * latency.length))] : NaN;
  // Forward: best rate of the rounds (peak RSS: the highest); an error only if every round failed.
  const rates: Array<{
    entries: number;
    seconds: number;
    rssMb: number;
    cpuSeconds: number;
    receiverCpuSeconds: number;
  }> = [];
  let fwdError = on('forward') ? '' : 'not run';
  for (let round = 1; on('forward') && round <= RUNS; round++) {
    process.stderr.write(`round ${round}/${RUNS}: forward: loopback Loki receiver …\n`);
    warmCache(DATA);
    await forwardRate(DATA).then(
      (f) => rates.push(f),
      (e) => (fwdError = String(e)),
    );
  }
  const fwd: {
    entries: number;
    seconds: number;
    rssMb: number;
    cpuSeconds: number;
    receiverCpuSeconds: number;
    error?: string;
  } = rates.length
    ? { ...rates.reduce((a, b) => (b.seconds < a.seconds ? b : a)), rssMb: Math.max(...rates.map((r) => r.rssMb)) }
    : { entries: 0, seconds: NaN, rssMb: NaN, cpuSeconds: NaN, receiverCpuSeconds: NaN, error: fwdError };

  const spinAfter = spinMs();

  const floor = (task: string, tool: string) => rows.find((r) => r.task === task && r.tool === tool)?.seconds;
  const ratio = (r: Row) => {
    const base =
      r.task === 'verify'
        ? floor('verify', 'sha256sum')
        : r.task.startsWith('search')
          ? ((r.tool === SEARCH_PRINT ? floor(r.task, GREP_PRINT) : floor(r.task, 'grep -cF')) ?? floor(r.task, 'jq'))
          : floor(r.task, 'jq');
    return base && base > 0 ? r.seconds / base : NaN;
  };
  // How many times faster than jq on the same task (loki-audit rows).
  const jqRatio = (r: Row) => {
    const jq = floor(r.task, 'jq');
    return r.tool.startsWith('loki-audit') && jq ? jq / r.seconds : NaN;
  };
  const verifyRow = rows.find((r) => r.tool === 'loki-audit verify');
  const nodeFloor = Math.min(
    floor('verify', 'node floor: createHash per line') ?? Infinity,
    floor('verify', 'node floor: crypto.hash per line') ?? Infinity,
  );
  const per = (a: number | undefined, b: number | undefined) =>
    a && b && Number.isFinite(b) ? (a / b).toFixed(2) : '–';
  const lines = [
    `loki-audit bench: shape ${SHAPE_NAME} (of ${Object.keys(SHAPES).join(', ')}; BENCH_SHAPE), ` +
      `sections ${[...SECTIONS].join(' ')}, ${ENTRIES} ${SCHEMA}-schema entries, ${DAYS} ` +
      `days, ${(bytes / 1048576).toFixed(0)} MiB, ${readdirSync(DATA).length - 1} files, node ` +
      `${process.version}, ${cpus().length} cores, best of ${RUNS}, ${new Date().toISOString()}`,
    '',
    '| task | tool | seconds | × baseline | jq ÷ this | MB/s | peak RSS MB | RSS at 1/10 size |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.task} | ${r.tool} | ${r.seconds.toFixed(2)} | ` +
        `${Number.isNaN(ratio(r)) ? '' : ratio(r).toFixed(2)} | ` +
        `${Number.isNaN(jqRatio(r)) ? '' : jqRatio(r).toFixed(1)} | ` +
        `${(bytes / 1048576 / r.seconds).toFixed(0)} | ${r.rssMb} | ${r.rssSmallMb ?? ''} |`,
    ),
    '',
    `tail --follow latency, append to output: p50 ${p(0.5).toFixed(1)} ms, p95 ` +
      `${p(0.95).toFixed(1)} ms, max ${p(1).toFixed(1)} ms (${latency.length} samples)`,
    `verify ÷ sha256sum ${per(verifyRow?.seconds, floor('verify', 'sha256sum'))}, ÷ openssl dgst ` +
      `-sha256 ${per(verifyRow?.seconds, floor('verify', 'openssl dgst -sha256'))}, ÷ node floor ` +
      `(best of createHash and crypto.hash per line, one thread) ${per(verifyRow?.seconds, nodeFloor)}`,
    fwd.error
      ? `forward: ${fwd.error}`
      : `forward to the loopback Loki receiver (gzip, ingest timestamps): ${fwd.entries} entries in ` +
        `${fwd.seconds.toFixed(1)} s = ${Math.round(fwd.entries / fwd.seconds)} entries/s, peak RSS ${fwd.rssMb} ` +
        `MB, forwarder CPU ${fwd.cpuSeconds.toFixed(1)} s, receiver CPU ${fwd.receiverCpuSeconds.toFixed(1)} s ` +
        `(${Math.round((100 * fwd.receiverCpuSeconds) / (fwd.receiverCpuSeconds + fwd.cpuSeconds))}% of the two)`,
    `machine speed check (fixed loop, lower is faster): ${spinBefore} ms before the rounds, ${spinAfter} ms after`,
    ca
      ? `NODE_EXTRA_CA_CERTS=${ca.file} is set here: node -e 0 takes ${ca.withMs} ms with it, ${ca.withoutMs} ms ` +
        (KEEP_CA ? 'without; kept for the timed commands (BENCH_KEEP_CA=1)' : 'without; unset for the timed commands')
      : 'NODE_EXTRA_CA_CERTS is not set',
    '',
    `Baselines (× baseline): verify vs sha256sum over the same bytes; search -c vs \`grep ` +
      `-cF\` of the shape's rarest literal, search -o raw into wc -l vs grep -F of it into wc -l ` +
      `(shapes without a literal, and broad: vs jq); ` +
      `summary vs jq. jq ÷ this: how many times faster than jq (jq: best of ${JQ_RUNS}). ` +
      `Each command is timed with the directory's files just read into the page cache (untimed).`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  const out = join(
    ROOT,
    'bench',
    'results',
    `${new Date().toISOString().slice(0, 10)}-${SHAPE_NAME}-${ENTRIES}` +
      `${SECTIONS.has('all') ? '' : '-' + [...SECTIONS].join('-')}.json`,
  );
  writeFileSync(
    out,
    JSON.stringify(
      {
        entries: ENTRIES,
        shape: SHAPE_NAME,
        sections: [...SECTIONS],
        schema: SCHEMA,
        days: DAYS,
        runs: RUNS,
        bytes,
        node: process.version,
        rows: rows.map((r) => ({ ...r, ratio: ratio(r), jqRatio: jqRatio(r) })),
        followLatencyMs: { p50: p(0.5), p95: p(0.95), max: p(1), samples: latency.length },
        forward: fwd,
        spinMs: { before: spinBefore, after: spinAfter },
        nodeExtraCaCerts: ca && { ...ca, keptForTimedCommands: KEEP_CA },
      },
      null,
      2,
    ) + '\n',
  );
  process.stderr.write(`wrote ${out}\n`);
}

await main();
