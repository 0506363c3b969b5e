/**
 * Seeded generator of realistic Loki Mode audit directories (writer schema, or the documented
 * schema), written with Loki Mode's own chain rule and file layout: UTC day files, size
 * rotation into `audit-DAY.HHMMSS.jsonl` pieces, optionally old days gzipped as operators'
 * logrotate does. Used for `examples/audit/`, the tests and the benchmarks.
 */
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { GENESIS_HASH } from '../src/core/chain/rule.js';
import { CHAIN_FILE_RE } from '../src/core/read/files.js';
import type { PyValue } from '../src/core/pyjson/dumps.js';
import { PyFloat } from '../src/core/pyjson/dumps.js';
import { pyIsoformat, sealEntry } from '../src/core/write/seal.js';

/** mulberry32: a small, fast, seeded PRNG (deterministic output for a given seed). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SampleOptions {
  seed?: number;
  /** First UTC day, `YYYY-MM-DD`. */
  startDate?: string;
  /** Entries per day, one number per day. */
  perDay?: number[];
  /** Size at which the live file is rotated, bytes (Loki Mode: LOKI_AUDIT_MAX_SIZE_MB, 10 MiB). */
  maxFileBytes?: number;
  /** Indexes of days whose files are gzipped afterwards. */
  gzipDays?: number[];
  /** Share of entries with tricky values (unicode, control characters, floats, big ints). */
  trickyShare?: number;
  schema?: 'writer' | 'documented';
  /**
   * Long `details`: in a `share` (0–1) of entries, a `details.body` of about `bytes` characters
   * (words, some non-ASCII, as a pasted stack trace or prompt would be).
   */
  longDetails?: { share: number; bytes: number };
}

const ACTIONS: Array<[string, string, number]> = [
  // resource_type, action, weight
  ['api', 'request', 14],
  ['api', 'response', 10],
  ['api', 'error', 3],
  ['task', 'create', 8],
  ['task', 'start', 8],
  ['task', 'complete', 8],
  ['task', 'fail', 2],
  ['session', 'start', 4],
  ['session', 'stop', 3],
  ['session', 'pause', 1],
  ['session', 'resume', 1],
  ['auth', 'login', 5],
  ['auth', 'logout', 3],
  ['auth', 'fail', 1],
  ['token', 'create', 1],
  ['token', 'revoke', 1],
  ['project', 'create', 2],
  ['project', 'delete', 1],
  ['agent', 'kill', 1],
  ['run', 'cancel', 1],
  ['api_key', 'rotate', 1],
  ['policy', 'update', 1],
];
const USERS = ['alice', 'bob', 'ci-bot', 'ops@example.com', 'jürgen', '李雷', null, null];
const TOKENS = ['3f9a1c0b7d2e', 'b41d00e9a7c5', '9e2f7a6c1d03'];
const AGENTS = ['python-httpx/0.27.0', 'curl/8.5.0', 'Mozilla/5.0 (X11; Linux x86_64)', 'loki-sdk-ts/1.4.0', null];
const IPS = ['127.0.0.1', '10.0.4.17', '2001:db8::5', '::1', null];
const ERRORS = [
  'permission denied',
  'timeout after 30s',
  'quota exceeded — try later',
  'validation failed: "name" is required',
];
const TRICKY: PyValue[] = [
  { note: 'tab\there\nnewline\r\u001b[31mred\u001b[0m' },
  { formula: '=HYPERLINK("http://x","click")', csv: '+1,-2;@SUM(A1)' },
  {
    ratio: new PyFloat(1.0),
    tiny: new PyFloat(1e-5),
    huge: new PyFloat(1e16),
    sum: new PyFloat(0.30000000000000004),
    neg_zero: new PyFloat(-0),
  },
  { beyond_js: 9007199254740993n, big: 123456789012345678901234567890n },
  { rtl: 'שלום', emoji: '😀 rocket 🚀', sep: 'a\u2028b', bom: '\ufeffx', accents: 'café naïve' },
  { nested: { list: [1, 2.5, 'three', null, false, { k: [[]] }], empty: {} } },
];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

function weighted(r: () => number): [string, string] {
  const total = ACTIONS.reduce((n, a) => n + a[2], 0);
  let x = r() * total;
  for (const [t, a, w] of ACTIONS) {
    if ((x -= w) < 0) return [t, a];
  }
  return ['api', 'request'];
}

/** One entry object, in the writer's key order (spec §2.1). */
export function makeEntry(
  r: () => number,
  micros: bigint,
  seq: number,
  trickyShare: number,
  schema: 'writer' | 'documented',
  longDetails?: { share: number; bytes: number },
): { [key: string]: PyValue } {
  const [resourceType, action] = weighted(r);
  const fails = action === 'fail' || action === 'error' || r() < 0.06;
  const details: { [key: string]: PyValue } = { source: pick(r, ['api', 'cli', 'dashboard']), seq };
  if (resourceType === 'api')
    Object.assign(details, {
      path: `/api/v1/${pick(r, ['projects', 'tasks', 'sessions'])}/${Math.floor(r() * 100)}`,
      status: fails ? 500 : 200,
      duration_ms: new PyFloat(Math.round(r() * 100000) / 100),
    });
  if (resourceType === 'task') details.task_id = `task-${Math.floor(r() * 1000)}`;
  if (r() < trickyShare) Object.assign(details, pick(r, TRICKY) as object);
  if (longDetails && r() < longDetails.share) details.body = longText(r, longDetails.bytes);
  const user = pick(r, USERS);
  const token = user === null && r() < 0.5 ? null : pick(r, TOKENS);
  const timestamp = pyIsoformat(micros);
  if (schema === 'documented') {
    const event = `${resourceType}.${action}`;
    return {
      timestamp: new Date(Number(micros / 1000n)).toISOString(),
      event,
      level: fails
        ? 'error'
        : ['delete', 'kill', 'stop', 'login', 'logout'].includes(action)
          ? 'warning'
          : r() < 0.1
            ? 'debug'
            : 'info',
      actor: user ? `user:${user}` : token ? `token:${token}` : 'agent:orchestrator',
      details: fails ? { ...details, error: pick(r, ERRORS) } : details,
      metadata: { hostname: 'dev-machine', pid: 4242, version: '5.42.2' },
    };
  }
  return {
    timestamp,
    action,
    resource_type: resourceType,
    resource_id: r() < 0.7 ? `${resourceType}-${Math.floor(r() * 60)}` : null,
    user_id: user,
    token_id: token,
    ip_address: pick(r, IPS),
    user_agent: pick(r, AGENTS),
    success: !fails,
    error: fails ? pick(r, ERRORS) : null,
    details,
  };
}

const WORDS = ['at', 'task', 'runner', 'Traceback', 'line', 'módulo', 'ошибка', 'None', '"quoted"', 'path\\to', '\t'];

/** About `bytes` characters of words (for {@link SampleOptions.longDetails}). */
function longText(r: () => number, bytes: number): string {
  let s = '';
  while (s.length < bytes) s += pick(r, WORDS) + (r() < 0.1 ? '\n' : ' ');
  return s;
}

function hhmmss(micros: bigint): string {
  return new Date(Number(micros / 1000n)).toISOString().slice(11, 19).replace(/:/g, '');
}

/**
 * Writes a sample audit directory. Deterministic for the same options. Returns the chain head.
 * The directory is emptied of audit files first.
 */
export function generateSample(
  dir: string,
  options: SampleOptions = {},
): { head: string; entries: number; files: string[] } {
  const r = prng(options.seed ?? 20261116);
  const perDay = options.perDay ?? [60, 80, 400, 90, 70];
  const maxBytes = options.maxFileBytes ?? 10 * 1024 * 1024;
  const schema = options.schema ?? 'writer';
  const hashKey = schema === 'writer' ? '_integrity_hash' : 'chain_hash';
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir)) if (CHAIN_FILE_RE.test(name)) rmSync(join(dir, name));
  let prev = GENESIS_HASH;
  let entries = 0;
  const start = Date.parse((options.startDate ?? '2026-11-16') + 'T00:00:00Z');
  for (let day = 0; day < perDay.length; day++) {
    const date = new Date(start + day * 86_400_000).toISOString().slice(0, 10);
    const live = join(dir, `audit-${date}.jsonl`);
    const n = perDay[day];
    // Spread entries over the day in increasing order, microsecond precision.
    const dayMicros = BigInt(start + day * 86_400_000) * 1000n;
    let t = dayMicros + BigInt(Math.floor(r() * 600e6));
    const step = Math.floor((86_000e6 - 600e6) / Math.max(n, 1));
    for (let i = 0; i < n; i++) {
      t += BigInt(1 + Math.floor(r() * step * 1.9));
      // Loki Mode's isoformat drops .ffffff when microseconds are 0: make some whole seconds.
      const micros = r() < 0.03 ? t - (t % 1000000n) : t;
      const entry = makeEntry(r, micros, entries + 1, options.trickyShare ?? 0.08, schema, options.longDetails);
      if (existsSync(live) && statSync(live).size >= maxBytes)
        renameSync(live, join(dir, `audit-${date}.${hhmmss(micros)}.jsonl`));
      const sealed = sealEntry(entry, prev, hashKey);
      appendFileSync(live, sealed.line);
      prev = sealed.hash;
      entries++;
    }
    if ((options.gzipDays ?? []).includes(day) && existsSync(live)) {
      writeFileSync(live + '.gz', gzipSync(readFileSync(live), { level: 9 }));
      rmSync(live);
    }
  }
  return {
    head: prev,
    entries,
    files: readdirSync(dir)
      .filter((n) => CHAIN_FILE_RE.test(n))
      .sort(),
  };
}
