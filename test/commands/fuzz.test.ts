/**
 * Property-based fuzzing of every command on mutated audit directories (issue #16.10).
 *
 * A valid directory (gzipped day, size-rotated pieces, live file) is mutated by a random
 * program: entries' values changed without re-hashing, lines removed, duplicated, swapped or
 * replaced with hostile lines (invalid UTF-8, control and bidi characters, deep nesting, huge
 * numbers, duplicate keys, NUL bytes), files truncated at any byte, bytes flipped, a .gz
 * corrupted, files removed, renamed or copied under another day. On the result, every command
 * must end within a time bound and a memory bound, with an exit code its row of the exit-code
 * table lists, without a stack trace, and without raw control characters from the data in text
 * output. `verify` must never say intact (exit 0) while an entry whose value was changed is
 * still in the directory.
 *
 * Reproduce a failure with the seed fast-check prints: `FUZZ_SEED=… npm test`. FUZZ_RUNS sets
 * the number of directories (default 8 for all commands, 4× that for verify alone).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { generateSample } from '../../scripts/sample.js';
import { EXIT_CODE_TABLE } from '../../src/cli/exit-codes.js';
import { BIN, ROOT, tempDir } from '../helpers/cli.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 8);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
/** With FUZZ_SEED, replays the one case fast-check's report names (`path`). */
const PATH = process.env.FUZZ_PATH;
/** Per command run: far above what these small directories need (~0.5 s), far below a hang. */
const TIME_LIMIT_MS = 30_000;
const RSS_LIMIT_MB = 200;

/** A file of the directory as lines (without their newlines); `gz` files are written compressed. */
interface ModelFile {
  name: string;
  gz: boolean;
  lines: string[];
  /** Byte-level damage applied after the lines are joined. */
  damage: ByteDamage[];
}

type ByteDamage =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'insert'; at: number; bytes: number[] };

/** Lines a hostile writer could put in a file. */
const HOSTILE_LINES: readonly string[] = [
  '',
  '   ',
  '{',
  '{"timestamp": "2026-01-01T00:00:00+00:00", "action": "x"',
  '[1, 2, 3]',
  '"a string"',
  '\u0000\u0000\u0000\u0000',
  '{"timestamp": "\u001b]52;c;aGFjaw==\u0007\u001b[2J", "action": "\u202eevil\u2066", "user_id": "\u0085\u009b31m"}',
  '{"a": 1, "a": 2}',
  '{"n": ' + '9'.repeat(5000) + '}',
  '['.repeat(3000) + ']'.repeat(3000),
  '{"d": ' + '{"d": '.repeat(2000) + '1' + '}'.repeat(2001),
  '{"x": NaN, "y": Infinity, "z": -Infinity}',
  '{"_integrity_hash": "' + '0'.repeat(64) + '"}',
  '\ufeff{"timestamp": "2026-01-01T00:00:00+00:00"}',
  'garbage QUJDRA== \t\r',
];

type Mutation =
  | { kind: 'change-value'; file: number; line: number; key: number; value: string }
  | { kind: 'remove-line'; file: number; line: number }
  | { kind: 'duplicate-line'; file: number; line: number }
  | { kind: 'swap-lines'; file: number; line: number; other: number }
  | { kind: 'hostile-line'; file: number; line: number; text: number; replace: boolean }
  | { kind: 'random-line'; file: number; line: number; text: string }
  | { kind: 'byte-damage'; file: number; damage: ByteDamage }
  | { kind: 'remove-file'; file: number }
  | { kind: 'copy-file'; file: number; day: number }
  | { kind: 'rename-file'; file: number; day: number };

const index = fc.nat({ max: 1_000_000 });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('change-value' as const),
    file: index,
    line: index,
    key: index,
    value: fc.string({ unit: 'binary', maxLength: 40 }),
  }),
  fc.record({ kind: fc.constant('remove-line' as const), file: index, line: index }),
  fc.record({ kind: fc.constant('duplicate-line' as const), file: index, line: index }),
  fc.record({ kind: fc.constant('swap-lines' as const), file: index, line: index, other: index }),
  fc.record({
    kind: fc.constant('hostile-line' as const),
    file: index,
    line: index,
    text: index,
    replace: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('random-line' as const),
    file: index,
    line: index,
    text: fc.string({ unit: 'binary', maxLength: 200 }),
  }),
  fc.record({
    kind: fc.constant('byte-damage' as const),
    file: index,
    damage: fc.oneof(
      fc.record({ kind: fc.constant('truncate' as const), at: index }),
      fc.record({ kind: fc.constant('flip' as const), at: index, bit: fc.nat({ max: 7 }) }),
      fc.record({
        kind: fc.constant('insert' as const),
        at: index,
        bytes: fc.array(fc.nat({ max: 255 }), { minLength: 1, maxLength: 16 }),
      }),
    ),
  }),
  fc.record({ kind: fc.constant('remove-file' as const), file: index }),
  fc.record({ kind: fc.constant('copy-file' as const), file: index, day: fc.nat({ max: 6 }) }),
  fc.record({ kind: fc.constant('rename-file' as const), file: index, day: fc.nat({ max: 6 }) }),
);
const program = fc.array(mutation, { minLength: 1, maxLength: 5 });

/** Changed entries: the text of each line whose value was changed (while it is still whole). */
type Changed = Set<string>;

function readModel(dir: string): ModelFile[] {
  return readdirSync(dir)
    .sort()
    .map((name) => {
      const bytes = readFileSync(join(dir, name));
      const text = (name.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
      return { name, gz: name.endsWith('.gz'), lines: text.split('\n').slice(0, -1), damage: [] };
    });
}

function dayName(day: number, gz: boolean): string {
  return `audit-2026-05-${String(10 + day).padStart(2, '0')}.jsonl${gz ? '.gz' : ''}`;
}

/** Applies `m` to the model; records lines whose values were changed. */
function apply(files: ModelFile[], m: Mutation, changed: Changed): void {
  if (files.length === 0) return;
  const f = files[m.file % files.length];
  const at = (n: number, extra = 0) => n % Math.max(1, f.lines.length + extra);
  switch (m.kind) {
    case 'change-value': {
      if (!f.lines.length) return;
      const i = at(m.line);
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(f.lines[i]) as Record<string, unknown>;
      } catch {
        return;
      }
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return;
      const keys = Object.keys(entry).filter((k) => k !== '_integrity_hash' && k !== 'chain_hash');
      if (!keys.length || !('_integrity_hash' in entry)) return;
      const key = keys[m.key % keys.length];
      if (entry[key] === m.value) return;
      changed.delete(f.lines[i]);
      entry[key] = m.value;
      f.lines[i] = JSON.stringify(entry);
      changed.add(f.lines[i]);
      return;
    }
    case 'remove-line':
      if (f.lines.length) f.lines.splice(at(m.line), 1);
      return;
    case 'duplicate-line':
      if (f.lines.length) f.lines.splice(at(m.line), 0, f.lines[at(m.line)]);
      return;
    case 'swap-lines': {
      if (f.lines.length < 2) return;
      const [i, j] = [at(m.line), at(m.other)];
      [f.lines[i], f.lines[j]] = [f.lines[j], f.lines[i]];
      return;
    }
    case 'hostile-line':
    case 'random-line': {
      const text = m.kind === 'hostile-line' ? HOSTILE_LINES[m.text % HOSTILE_LINES.length] : m.text;
      if (m.kind === 'hostile-line' && m.replace && f.lines.length) f.lines[at(m.line)] = text;
      else f.lines.splice(at(m.line, 1), 0, text.replace(/\n/g, ' '));
      return;
    }
    case 'byte-damage':
      f.damage.push(m.damage);
      return;
    case 'remove-file':
      files.splice(m.file % files.length, 1);
      return;
    case 'copy-file':
    case 'rename-file': {
      const name = dayName(m.day, f.gz);
      if (files.some((x) => x.name === name)) return;
      if (m.kind === 'rename-file') f.name = name;
      else files.push({ ...f, name, lines: [...f.lines], damage: [...f.damage] });
      return;
    }
  }
}

/** Writes the model into `dir`; returns whether a changed line is still whole in some file. */
function writeModel(dir: string, files: ModelFile[], changed: Changed): boolean {
  mkdirSync(dir, { recursive: true });
  let changedSurvives = false;
  for (const f of files) {
    const text = f.lines.length ? f.lines.join('\n') + '\n' : '';
    let bytes = Buffer.from(text, 'utf8');
    if (f.gz) bytes = gzipSync(bytes);
    for (const d of f.damage) {
      const at = bytes.length ? d.at % (bytes.length + 1) : 0;
      if (d.kind === 'truncate') bytes = bytes.subarray(0, at);
      else if (d.kind === 'flip' && at < bytes.length) {
        bytes = Buffer.from(bytes);
        bytes[at] ^= 1 << d.bit;
      } else if (d.kind === 'insert')
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(d.bytes), bytes.subarray(at)]);
    }
    writeFileSync(join(dir, f.name), bytes);
    if (!f.damage.length && f.lines.some((l) => changed.has(l))) changedSurvives = true;
  }
  return changedSurvives;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  rssMb: number;
  timedOut: boolean;
}

/** Runs the built CLI with a time limit; reports exit code, output, duration and peak RSS. */
function runBounded(args: string[], rssFile: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', REPORT_RSS_TO: rssFile };
    for (const k of Object.keys(env)) if (k.startsWith('LOKI_AUDIT_')) delete env[k];
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', join(ROOT, 'test', 'helpers', 'report-rss.mjs'), BIN, ...args], {
      env,
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, TIME_LIMIT_MS);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let rssMb = 0;
      try {
        rssMb = Number(readFileSync(rssFile, 'utf8')) / 1048576;
      } catch {
        // killed before exit: no figure
      }
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ms: Date.now() - started,
        rssMb,
        timedOut,
      });
    });
  });
}

/** The exit codes the table lists for `command`. */
function codesOf(command: string): Set<number> {
  return new Set(
    EXIT_CODE_TABLE.filter((r) => r.commands === 'all' || r.commands.includes(command)).map((r) => r.code),
  );
}

const STACK =
  /^\s+at \S.*(?::\d+:\d+\)?|\(native\))$|\b(?:TypeError|RangeError|ReferenceError|SyntaxError)\b|node:internal/m;
/** Raw C0 (but tab and newline), DEL, C1, bidi and invisible format characters: never printed from data. */
// eslint-disable-next-line no-control-regex -- finding raw control characters is the point
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069]/;

/** The commands run on each directory: [name, args, whether stdout is text for a terminal]. */
function commands(dir: string, state: string): Array<[string, string[], boolean]> {
  return [
    ['verify', ['verify', '--dir', dir], true],
    ['verify', ['verify', '--dir', dir, '--json'], false],
    ['summary', ['summary', '--dir', dir, '--since', '2000-01-01'], true],
    ['search', ['search', '--dir', dir, '--since', '2000-01-01', '--grep', 'a'], true],
    ['export', ['export', '--dir', dir, '--since', '2000-01-01', '-o', 'csv'], false],
    ['export', ['export', '--dir', dir, '--since', '2000-01-01', '-o', 'syslog'], false],
    ['tail', ['tail', '--dir', dir, '-n', '5'], true],
    ['forward', ['forward', '--dir', dir, '--dry-run', '--loki', 'http://127.0.0.1:9', '--state', state], true],
  ];
}

/** Runs the property; a failure names the seed, path and counterexample, and the assertion that failed. */
async function check<T>(property: fc.IAsyncPropertyWithHooks<T>, params: fc.Parameters<T>): Promise<void> {
  const out = await fc.check(property, { ...params, seed: SEED, path: SEED !== undefined ? PATH : undefined });
  if (out.failed) {
    const cause = out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance);
    assert.fail(
      `${fc.defaultReportMessage(out)}\nreplay: FUZZ_SEED=${out.seed} FUZZ_PATH=${out.counterexamplePath}\n${cause}`,
    );
  }
}

function describeRun(args: string[], r: Run, prog: Mutation[]): string {
  return (
    `loki-audit ${args.join(' ')}\nprogram: ${JSON.stringify(prog).slice(0, 2000)}\nexit ` +
    `${r.code} (signal ${r.signal}) in ${r.ms} ms, ${r.rssMb.toFixed(0)} ` +
    `MB\nstderr: ${r.stderr.slice(0, 3000)}\nstdout: ${r.stdout.slice(0, 1500)}`
  );
}

function assertBounded(name: string, args: string[], r: Run, prog: Mutation[]): void {
  const what = describeRun(args, r, prog);
  assert.ok(!r.timedOut, `did not finish in ${TIME_LIMIT_MS} ms: ${what}`);
  assert.ok(r.code !== null && codesOf(name).has(r.code), `exit code not in the table for ${name}: ${what}`);
  assert.doesNotMatch(r.stderr, STACK, `stack trace: ${what}`);
  assert.doesNotMatch(r.stdout, STACK, `stack trace: ${what}`);
  assert.ok(r.rssMb < RSS_LIMIT_MB, `peak RSS ${r.rssMb.toFixed(0)} MB: ${what}`);
}

describe('fuzz: every command on mutated directories', { timeout: 900_000 }, () => {
  let t: { dir: string; cleanup: () => void };
  let base: string;
  let n = 0;
  before(() => {
    t = tempDir('loki-audit-fuzz-');
    base = join(t.dir, 'base');
    // A gzipped day, a day in size-rotated pieces, a live day.
    generateSample(base, {
      seed: 1610,
      startDate: '2026-05-01',
      perDay: [12, 30, 12],
      maxFileBytes: 6000,
      gzipDays: [0],
    });
  });
  after(() => t.cleanup());

  function mutated(prog: Mutation[]): { dir: string; changedSurvives: boolean } {
    const dir = join(t.dir, `case-${++n}`);
    const files = readModel(base);
    const changed: Changed = new Set();
    for (const m of prog) apply(files, m, changed);
    const changedSurvives = writeModel(dir, files, changed);
    return { dir, changedSurvives };
  }

  it('no hang, no stack trace, a documented exit code, bounded memory, safe text', async () => {
    await check(
      fc.asyncProperty(program, async (prog) => {
        const { dir } = mutated(prog);
        try {
          for (const [name, args, text] of commands(dir, join(dir, '..', `state-${n}.json`))) {
            const r = await runBounded(args, join(t.dir, `rss-${n}`));
            assertBounded(name, args, r, prog);
            if (text) {
              assert.doesNotMatch(
                r.stdout,
                RAW_CONTROL,
                `raw control character on stdout: ${describeRun(args, r, prog)}`,
              );
              assert.doesNotMatch(
                r.stderr,
                RAW_CONTROL,
                `raw control character on stderr: ${describeRun(args, r, prog)}`,
              );
            }
            if (args.includes('--json') && r.code !== 2 && r.code !== 3) JSON.parse(r.stdout);
          }
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: RUNS, endOnFailure: true, interruptAfterTimeLimit: 600_000 },
    );
  });

  it('verify is never intact while a changed entry is in the directory', async () => {
    let checked = 0;
    await check(
      fc.asyncProperty(
        // Every program here changes at least one value.
        fc.tuple(program, fc.record({ file: index, line: index, key: index, value: fc.string({ maxLength: 20 }) })),
        async ([rest, change]) => {
          const prog: Mutation[] = [{ kind: 'change-value', ...change }, ...rest];
          const { dir, changedSurvives } = mutated(prog);
          try {
            const args = ['verify', '--dir', dir, '--json'];
            const r = await runBounded(args, join(t.dir, `rss-${n}`));
            assertBounded('verify', args, r, prog);
            if (changedSurvives) {
              checked++;
              assert.notEqual(r.code, 0, `a changed entry passed as intact: ${describeRun(args, r, prog)}`);
              assert.notEqual(JSON.parse(r.stdout).verdict, 'intact', describeRun(args, r, prog));
            }
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: RUNS * 4, endOnFailure: true, interruptAfterTimeLimit: 300_000 },
    );
    // The property was exercised, not skipped by every program.
    assert.ok(checked > 0, 'no program left a changed entry in place');
  });
});
