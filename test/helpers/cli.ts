/** Runs the built CLI as a user would: a child process on real files. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'run.js');
export const FIXTURES = join(ROOT, 'test', 'fixtures');
export const LOKI = join(FIXTURES, 'loki-mode');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A config file path that does not exist: the system and user layers of runCli's children. */
export const NO_CONFIG = join(tmpdir(), 'loki-audit-no-config', 'none', 'config.yaml');

/** Runs `loki-audit ARGS` with a clean environment (no colour, no LOKI_AUDIT_DIR). */
export function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string | Buffer; cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    // The operator's own settings must not change what a test sees.
    for (const k of Object.keys(env)) if (k.startsWith('LOKI_AUDIT_') || k === 'TZ') delete env[k];
    // Nor the host's config files (docs/config.md): no system or user file unless a test gives one.
    env.LOKI_AUDIT_SYSTEM_CONFIG = NO_CONFIG;
    env.XDG_CONFIG_HOME = dirname(NO_CONFIG);
    Object.assign(env, options.env);
    delete env.FORCE_COLOR;
    const child = spawn(process.execPath, [BIN, ...args], {
      env,
      cwd: options.cwd ?? ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) =>
      resolvePromise({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
    child.stdin.end(options.input ?? '');
  });
}

/** Whether util-linux `script` is here to give a command a pseudo-terminal (.ci/run installs it). */
export const HAS_SCRIPT = spawnSync('script', ['--version']).status === 0;

/**
 * Runs `loki-audit ARGS` on a pseudo-terminal (util-linux `script`, whose `-e` passes on the exit
 * code), with runCli's clean environment: stdout and stderr are a terminal. `output` is what the
 * terminal got from both, with the terminal's CRLF line ends turned back into LF.
 *
 * A command that runs until Ctrl-C (`tail -f`) takes `until`: as soon as the output so far
 * satisfies it, the command gets SIGINT, as from Ctrl-C; `timeoutSeconds` is then only the bound
 * after which it gets SIGINT anyway, and `sawEvent` tells which of the two ended it.
 */
export function runCliOnTty(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutSeconds?: number; until?: (output: string) => boolean } = {},
): Promise<{ code: number | null; output: string; sawEvent: boolean }> {
  // No pager unless the test names one (a key set to undefined is removed: PAGER unset means less).
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', PAGER: 'cat' };
  for (const k of Object.keys(env)) if (k.startsWith('LOKI_AUDIT_') || k === 'TZ') delete env[k];
  Object.assign(env, options.env);
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  delete env.FORCE_COLOR;
  if (options.until && !options.timeoutSeconds) throw new Error('runCliOnTty: until needs timeoutSeconds as its bound');
  const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  // `timeout -s INT`: ends a command that runs until Ctrl-C (`tail -f`) as Ctrl-C would; it passes
  // on a SIGINT it gets itself, which is how `until` ends the command early.
  const timeout = options.timeoutSeconds ? ['timeout', '-s', 'INT', String(options.timeoutSeconds)] : [];
  const pidDir = options.until ? mkdtempSync(join(tmpdir(), 'loki-audit-tty-')) : '';
  const pidFile = join(pidDir, 'pid');
  const cmd =
    (options.until ? `echo $$ > ${quote(pidFile)}; exec ` : '') +
    [...timeout, process.execPath, BIN, ...args].map(quote).join(' ');
  return new Promise((resolvePromise, reject) => {
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let sawEvent = false;
    const text = () => Buffer.concat(out).toString('utf8').replace(/\r\n/g, '\n');
    const onData = (b: Buffer) => {
      out.push(b);
      if (!options.until || sawEvent || !options.until(text())) return;
      sawEvent = true;
      process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGINT');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      if (pidDir) rmSync(pidDir, { recursive: true, force: true });
      resolvePromise({ code, output: text(), sawEvent });
    });
  });
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = 'loki-audit-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Copies a fixture directory into a temp dir (for tests that change files). */
export function copyFixture(rel: string): { dir: string; cleanup: () => void } {
  const t = tempDir();
  cpSync(join(LOKI, rel), t.dir, { recursive: true });
  return t;
}

/**
 * Asserts a run's exit code, with the child's stderr (and the start of its stdout) in the failure
 * message; returns the run, so that `assertExit(await runCli([...]), 0)` fits on one line.
 */
export function assertExit(r: CliResult, code: number, what = ''): CliResult {
  assert.equal(
    r.code,
    code,
    `${what ? what + ': ' : ''}exit ${r.code}, expected ` +
      `${code}\nstderr: ${r.stderr}\nstdout: ${r.stdout.slice(0, 2000)}`,
  );
  return r;
}

/** Runs the built CLI, reporting its exit code, output and peak RSS (MB). */
export function runMeasured(
  args: string[],
  rssFile: string,
): Promise<{ code: number | null; stdout: string; stderr: string; rssMb: number }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, NO_COLOR: '1', REPORT_RSS_TO: rssFile };
    const child = spawn(process.execPath, ['--import', join(ROOT, 'test', 'helpers', 'report-rss.mjs'), BIN, ...args], {
      env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout, stderr, rssMb: Number(readFileSync(rssFile, 'utf8')) / 1048576 }),
    );
  });
}
