/**
 * The package as npm ships it: `npm pack` in an unbuilt copy of the repository (its prepack
 * builds dist/), then `npm install -g` of the tarball into a temporary prefix with no registry
 * (--offline: the bundle holds every runtime dependency, the package declares none), and the
 * installed CLI run from another directory, where no node_modules of the repository is in reach.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, tempDir, type CliResult } from '../helpers/cli.js';

const SAMPLE = join(ROOT, 'examples', 'audit');

/** The environment of a user's shell: none of the npm variables `npm test` sets, no LOKI_AUDIT_*. */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { NO_COLOR: '1', npm_config_update_notifier: 'false', npm_config_fund: 'false' };
  for (const [k, v] of Object.entries(process.env))
    if (!/^(npm_|LOKI_AUDIT_|NODE_OPTIONS$|NODE_PATH$|FORCE_COLOR$|INIT_CWD$)/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

function run(cmd: string, args: string[], cwd: string, env = userEnv()): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const npmVersion = spawnSync('npm', ['--version'], { encoding: 'utf8', env: userEnv() });
const skip = npmVersion.status === 0 ? false : 'npm is not on PATH';

describe('packaging: npm pack, npm install -g of the tarball, the installed CLI', { skip, timeout: 150_000 }, () => {
  const t = tempDir('loki-audit-pack-');
  const copy = join(t.dir, 'clone');
  const prefix = join(t.dir, 'prefix');
  const elsewhere = join(t.dir, 'elsewhere');
  const bin = join(prefix, 'bin', 'loki-audit');
  const installed = join(prefix, 'lib', 'node_modules', 'loki-audit');
  let packed: { filename: string; size: number; files: { path: string }[] };

  before(async () => {
    // A fresh clone as git has it (tracked and new files, not what .gitignore keeps out: no dist/),
    // with the repository's node_modules for the build tools.
    const files = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.equal(files.status, 0, files.stderr);
    for (const f of files.stdout.split('\0').filter(Boolean)) {
      if (!existsSync(join(ROOT, f))) continue; // deleted in the work tree
      mkdirSync(dirname(join(copy, f)), { recursive: true });
      cpSync(join(ROOT, f), join(copy, f));
    }
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    mkdirSync(elsewhere);
    assert.equal(existsSync(join(copy, 'dist')), false);

    const pack = await run('npm', ['pack', '--json', '--pack-destination', t.dir], copy);
    assert.equal(pack.code, 0, pack.stderr);
    [packed] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('[')));
    const install = await run(
      'npm',
      ['install', '-g', '--offline', '--no-audit', '--prefix', prefix, join(t.dir, packed.filename)],
      elsewhere,
    );
    assert.equal(install.code, 0, install.stderr);
  });
  after(() => t.cleanup());

  it('the tarball holds the built CLI and nothing of the sources or tests', () => {
    const paths = packed.files.map((f) => f.path).sort();
    for (const p of [
      'bin/run.js',
      'bin/load-cli.js',
      'dist/cli.cjs',
      'dist/cli.cjs.cache',
      'dist/verify-worker.js',
      'dist/fleet-worker.js',
    ])
      assert.ok(paths.includes(p), `${p} in ${paths.join(' ')}`);
    assert.ok(paths.includes('oclif.manifest.json'));
    for (const p of [
      'dist/man/loki-audit.1',
      'dist/man/loki-audit-verify.1',
      'docs/verify.md',
      'docs/exit-codes.md',
      'contrib/systemd/loki-audit-verify.service',
      'contrib/cron/loki-audit',
    ])
      assert.ok(paths.includes(p), p);
    assert.deepEqual(
      paths.filter((p) => /^(src|test|bench|scripts|examples|node_modules)\//.test(p)),
      [],
    );
    assert.ok(packed.size < 2_000_000, `tarball ${packed.size} bytes`);
  });

  it('the installed package declares no runtime dependencies and installs none', () => {
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    assert.deepEqual(pkg.dependencies ?? {}, {});
    assert.equal(existsSync(join(installed, 'node_modules')), false);
  });

  it('npm install -g links the man pages into PREFIX/share/man/man1', () => {
    for (const page of ['loki-audit.1', 'loki-audit-verify.1', 'loki-audit-completion.1'])
      assert.match(readFileSync(join(prefix, 'share', 'man', 'man1', page), 'utf8'), /^\.TH LOKI\\-AUDIT/m);
  });

  it('--version and --help run from another directory', async () => {
    const v = await run(bin, ['--version'], elsewhere);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /^loki-audit\/0\.\d+\.\d+ linux-x64 node-v\d+/);
    assert.equal(v.stderr, '');
    const h = await run(bin, ['--help'], elsewhere);
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /^Tamper-evident audit log toolkit/);
    for (const cmd of ['verify', 'summary', 'search', 'tail', 'export', 'append', 'checkpoint', 'forward'])
      assert.match(h.stdout, new RegExp(`^  ${cmd} `, 'm'));
    assert.equal(h.stderr, '');
  });

  it('verify runs on the sample from another directory, exit 0', async () => {
    const r = await run(bin, ['verify', '--dir', SAMPLE], elsewhere);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^intact: 8 file\(s\), 700 entries verified; chain head abdd7f1c3674… /m);
    assert.equal(r.stderr, '');
  });

  it("the installed verify worker (dist/verify-worker.js) loads and checks a file's chain", async () => {
    const file = join(SAMPLE, 'audit-2026-11-17.jsonl');
    const job = { path: file, gz: false, start: 0, end: statSync(file).size, maxLineBytes: 1 << 20, lookFor: [] };
    const script = `const { Worker } = require('node:worker_threads');
      const w = new Worker(${JSON.stringify(join(installed, 'dist', 'verify-worker.js'))});
      w.on('error', (e) => { console.error(e.message); process.exit(1); });
      w.on('message', (r) => { console.log(JSON.stringify({ ok: r.ok, entries: r.entries })); w.terminate(); });
      w.postMessage(${JSON.stringify(job)});`;
    const r = await run(process.execPath, ['-e', script], elsewhere);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { ok: true, entries: 80 });
  });
});
