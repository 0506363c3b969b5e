/**
 * contrib/systemd/ and contrib/cron/ are what operators copy to their hosts, so they are tested
 * as shipped: `systemd-analyze verify` (Debian's systemd) accepts every unit without a warning,
 * and every command line in them runs against a copy of the bundled sample, with only the
 * host's paths moved into a temporary directory, so a renamed flag breaks this test.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LokiReceiver } from '../helpers/loki-receiver.js';
import { assertExit, BIN, ROOT, runCli, tempDir, type CliResult } from '../helpers/cli.js';

const SYSTEMD = join(ROOT, 'contrib', 'systemd');
const CRON = join(ROOT, 'contrib', 'cron', 'loki-audit');
const INSTALLED = '/usr/local/bin/loki-audit';
const ANALYZE = spawnSync('systemd-analyze', ['--version']).status === 0;

const units = readdirSync(SYSTEMD).filter((n) => /\.(service|timer)$/.test(n));

/** `Key=value` lines of a unit file's sections (comments and blank lines dropped). */
function unitKeys(text: string): Array<[string, string]> {
  return text
    .split('\n')
    .filter((l) => /^[A-Za-z]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]);
}

/** The command lines a unit or the crontab runs, as written. */
function commandsOf(): Array<{ where: string; env: Record<string, string>; argv: string[] }> {
  const out: Array<{ where: string; env: Record<string, string>; argv: string[] }> = [];
  for (const name of units.filter((n) => n.endsWith('.service'))) {
    const keys = unitKeys(readFileSync(join(SYSTEMD, name), 'utf8'));
    const env: Record<string, string> = {};
    for (const [k, v] of keys) if (k === 'Environment') env[v.slice(0, v.indexOf('='))] = v.slice(v.indexOf('=') + 1);
    for (const [k, v] of keys) if (k === 'ExecStart') out.push({ where: name, env, argv: v.split(/\s+/) });
  }
  const env: Record<string, string> = {};
  for (const line of readFileSync(CRON, 'utf8').split('\n')) {
    if (/^[A-Z_]+=/.test(line)) env[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    const m = /^(\S+\s+){5}(\S+)\s+(.*)$/.exec(line);
    if (!m || line.startsWith('#') || /^[A-Z_]+=/.test(line)) continue;
    assert.equal(m[2], 'loki', `crontab line names the user: ${line}`);
    const cmd = m[3].replace(/\s*>\s*\/dev\/null$/, '');
    out.push({ where: 'contrib/cron/loki-audit', env: { ...env }, argv: cmd.split(/\s+/) });
  }
  return out;
}

describe(
  'contrib/systemd units',
  { skip: ANALYZE ? false : 'systemd-analyze missing (.ci/run installs systemd)' },
  () => {
    let tmp: ReturnType<typeof tempDir>;
    before(() => {
      tmp = tempDir('loki-audit-units-');
      // Documentation=man:… is checked by running man(1): the pages built into dist/man.
      mkdirSync(join(tmp.dir, 'man', 'man1'), { recursive: true });
      for (const p of readdirSync(join(ROOT, 'dist', 'man')))
        cpSync(join(ROOT, 'dist', 'man', p), join(tmp.dir, 'man', 'man1', p));
    });
    after(() => tmp.cleanup());

    /** systemd-analyze verify on copies of `files`, the binary's path pointed at this checkout. */
    function analyze(files: Record<string, string>): { status: number | null; output: string } {
      const d = join(tmp.dir, `units-${Math.random().toString(36).slice(2)}`);
      mkdirSync(d);
      for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text.replaceAll(INSTALLED, BIN));
      const r = spawnSync('systemd-analyze', ['verify', ...Object.keys(files).map((n) => join(d, n))], {
        env: { ...process.env, MANPATH: join(tmp.dir, 'man'), SYSTEMD_LOG_COLOR: '0' },
        encoding: 'utf8',
      });
      return { status: r.status, output: `${r.stdout}${r.stderr}` };
    }

    it('ships verify and checkpoint services with timers, and a forward service', () => {
      assert.deepEqual(units.sort(), [
        'loki-audit-checkpoint.service',
        'loki-audit-checkpoint.timer',
        'loki-audit-forward.service',
        'loki-audit-verify.service',
        'loki-audit-verify.timer',
      ]);
    });

    it('systemd-analyze verify accepts every unit without a warning', () => {
      const files = Object.fromEntries(units.map((n) => [n, readFileSync(join(SYSTEMD, n), 'utf8')]));
      const r = analyze(files);
      assert.equal(r.status, 0, r.output);
      assert.equal(r.output, '', 'no warning either');
    });

    it('the check catches a misspelt hardening option and a missing binary (it can fail)', () => {
      const text = readFileSync(join(SYSTEMD, 'loki-audit-verify.service'), 'utf8');
      const typo = analyze({
        'loki-audit-verify.service': text.replace('ProtectSystem=strict', 'ProtectSytem=strict'),
      });
      assert.match(typo.output, /Unknown key 'ProtectSytem'/);
      const missing = analyze({ 'loki-audit-verify.service': text.replaceAll(INSTALLED, '/nonexistent/loki-audit') });
      assert.notEqual(missing.status, 0);
      assert.match(missing.output, /is not executable/);
    });

    it('is hardened: strict file system, no new privileges, only the paths it writes', () => {
      for (const name of units.filter((n) => n.endsWith('.service'))) {
        const keys = new Map(unitKeys(readFileSync(join(SYSTEMD, name), 'utf8')));
        assert.equal(keys.get('ProtectSystem'), 'strict', name);
        assert.equal(keys.get('NoNewPrivileges'), 'yes', name);
        assert.equal(
          keys.get('UMask'),
          '0022',
          `${name}: node_exporter reads the metrics file; secrets are mode 600 anyway`,
        );
        assert.ok(keys.has('ReadWritePaths'), name);
        assert.ok(keys.get('User') && keys.get('User') !== 'root', `${name} runs as its own user`);
        assert.ok(keys.get('ExecStart')?.startsWith(`${INSTALLED} `), `${name}: absolute path to the binary`);
      }
      const fwd = new Map(unitKeys(readFileSync(join(SYSTEMD, 'loki-audit-forward.service'), 'utf8')));
      assert.equal(fwd.get('Restart'), 'on-failure');
      // A configuration error is not retried for ever.
      for (const code of ['2', '15', '20'])
        assert.ok(fwd.get('RestartPreventExitStatus')?.split(' ').includes(code), code);
      const timer = new Map(unitKeys(readFileSync(join(SYSTEMD, 'loki-audit-verify.timer'), 'utf8')));
      assert.equal(timer.get('Persistent'), 'true', 'a night missed while the host was off runs at boot');
    });
  },
);

describe('the command lines of contrib/systemd and contrib/cron run as written', () => {
  let tmp: ReturnType<typeof tempDir>;
  /** A Loki for each forward command (a second run's entries would be dropped as duplicates). */
  let rx: LokiReceiver;
  before(() => {
    tmp = tempDir('loki-audit-unit-cmds-');
  });
  after(() => tmp.cleanup());

  /** The host's paths, moved under the test's directory; the sample stands for the audit directory. */
  function localize(c: { env: Record<string, string>; argv: string[] }, run: string) {
    const root = join(tmp.dir, run);
    const audit = join(root, 'audit');
    cpSync(join(ROOT, 'examples', 'audit'), audit, { recursive: true });
    for (const d of ['state/loki-audit', 'textfile', 'worm/loki-audit-checkpoints', 'etc'])
      mkdirSync(join(root, d), { recursive: true });
    const keyFile = join(root, 'etc', 'checkpoint.key');
    writeFileSync(join(root, 'etc', 'loki.token'), 'test-token\n', { mode: 0o600 });
    const moves: Array<[string | RegExp, string]> = [
      ['%S', join(root, 'state')],
      ['/var/lib/loki-audit', join(root, 'state', 'loki-audit')],
      ['/var/lib/prometheus/node-exporter', join(root, 'textfile')],
      ['/mnt/worm', join(root, 'worm')],
      ['/etc/loki-audit/checkpoint.key', keyFile],
      ['/etc/loki-audit/loki.token', join(root, 'etc', 'loki.token')],
      ['https://logs.example.com', rx.url],
    ];
    const move = (s: string) => moves.reduce((acc, [from, to]) => acc.replaceAll(from as string, to), s);
    const argv = c.argv.map(move);
    for (const a of argv) {
      assert.ok(!/["'$`\\]/.test(a), `no shell quoting in shipped command lines: ${a}`);
      assert.ok(!/^\/(etc|var|mnt|home|usr)\//.test(a) || a === INSTALLED, `every host path is moved: ${a}`);
    }
    assert.equal(argv[0], INSTALLED, 'the binary by its absolute path');
    const env = { ...c.env, LOKI_AUDIT_DIR: audit };
    return { root, audit, keyFile, args: argv.slice(1), env };
  }

  for (const c of commandsOf()) {
    const what = `${c.where}: ${c.argv.slice(1, 2).join(' ')}${c.argv.includes('--follow') ? ' --follow' : ''}`;
    it(what, async (t) => {
      rx = new LokiReceiver();
      await rx.start();
      t.after(() => rx.stop());
      const l = localize(c, `${c.where.replace(/\W/g, '-')}-${c.argv[1]}`);
      assert.equal(c.env.LOKI_AUDIT_DIR, '/home/loki/.loki/dashboard/audit', 'Loki Mode writes there (spec §2)');
      if (c.argv[1] === 'forward') {
        // Loki refuses entries older than a week (reject_old_samples), so forward gets a chain
        // of today's entries, written by Loki Mode's writer rules (append), not the sample.
        rmSync(l.audit, { recursive: true });
        const input = ['auth.login', 'task.complete', 'auth.logout']
          .map((e) => JSON.stringify({ event: e, user_id: 'dora' }))
          .join('\n');
        assertExit(await runCli(['append', '--dir', l.audit, '--create', '--stdin'], { input }), 0);
      }
      if (c.argv[1] === 'checkpoint') {
        const r = await runCli(['checkpoint', '--new-key', l.keyFile]);
        assert.equal(r.code, 0, r.stderr);
      }
      let r: CliResult;
      if (l.args.includes('--follow')) r = await follow(l.args, l.env, () => rx.stored.length === 3);
      else r = await runCli(l.args, { env: l.env });
      assert.equal(r.code, 0, `${l.args.join(' ')}\n${r.stdout}${r.stderr}`);
      if (c.argv[1] !== 'checkpoint' && c.argv[1] !== 'forward')
        assert.equal(r.stdout + r.stderr, '', '--quiet: nothing to mail');
      if (l.args.includes('--metrics-file')) {
        const metrics = l.args[l.args.indexOf('--metrics-file') + 1];
        assert.ok(existsSync(metrics), `metrics file written: ${metrics}`);
        assert.match(readFileSync(metrics, 'utf8'), /^loki_audit_/m);
      }
      if (c.argv[1] === 'checkpoint')
        assert.ok(readdirSync(join(l.root, 'worm', 'loki-audit-checkpoints')).length > 0, 'a checkpoint stored');
      if (c.argv[1] === 'forward') assert.equal(rx.stored.length, 3, 'every entry reached Loki');
    });
  }

  /** Starts a --follow command, waits until `ready`, stops it as systemd does (SIGTERM). */
  async function follow(args: string[], env: Record<string, string>, ready: () => boolean): Promise<CliResult> {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    for (const k of Object.keys(childEnv)) if (k.startsWith('LOKI_AUDIT_')) delete childEnv[k];
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...childEnv, ...env }, cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    let exited = false;
    void closed.then(() => (exited = true));
    await rx.waitFor(() => exited || ready(), { describe: () => `forward --follow to deliver; its stderr: ${stderr}` });
    assert.ok(!exited, `forward --follow ended before delivering: ${stderr}`);
    child.kill('SIGTERM');
    return { code: await closed, stdout, stderr };
  }
});
