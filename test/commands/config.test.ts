/**
 * One configuration for every command, run as a user would: each layer (a fake /etc through
 * LOKI_AUDIT_SYSTEM_CONFIG, a real HOME and XDG_CONFIG_HOME in a temp dir, a project
 * .loki/config.yaml found from a subdirectory, LOKI_AUDIT_CONFIG, --config, the environment,
 * flags) wins over the ones before it, shown by `loki-audit config --json` and by what verify
 * does; broken files stop with exit 2 and one line naming file, line and key; `config` masks
 * secrets; docs/config.md's table is the code's list.
 */
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { SETTINGS, commandsCell, typeCell } from '../../src/cli/config-keys.js';
import { assertExit, LOKI, ROOT, runCli, tempDir } from '../helpers/cli.js';

const AUDIT = join(ROOT, 'examples/audit');

interface View {
  files: Array<{ kind: string; path: string }>;
  settings: Array<{ key: string; value: unknown; source: string }>;
  targets: { source: string; list: Array<Record<string, unknown>> } | null;
  secrets: Array<{ env: string; set: boolean }>;
}

describe('config: layers, as every command reads them', () => {
  let t: { dir: string; cleanup: () => void };
  let env: NodeJS.ProcessEnv;
  let cwd: string;
  const write = (rel: string, text: string, mode = 0o600) => {
    const p = join(t.dir, rel);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, text);
    chmodSync(p, mode);
    return p;
  };
  beforeEach(() => {
    t = tempDir();
    cwd = join(t.dir, 'proj', 'sub', 'deeper');
    mkdirSync(cwd, { recursive: true });
    mkdirSync(join(t.dir, 'home'));
    env = { HOME: join(t.dir, 'home'), XDG_CONFIG_HOME: '', LOKI_AUDIT_SYSTEM_CONFIG: join(t.dir, 'etc/config.yaml') };
  });
  afterEach(() => t.cleanup());

  const view = async (args: string[] = [], extra: NodeJS.ProcessEnv = {}) => {
    const r = await runCli(['config', '--json', ...args], { env: { ...env, ...extra }, cwd });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as View;
  };
  const setting = (v: View, key: string) => {
    const s = v.settings.find((x) => x.key === key);
    assert.ok(s, key);
    return `${JSON.stringify(s.value)} ${s.source.replace(t.dir, '$T')}`;
  };

  it('each layer wins over the one before it, key by key', async () => {
    assert.equal(setting(await view(), 'verify.max_age'), 'null default');
    write('etc/config.yaml', 'verify:\n  max_age: 1h\n  retention_files: 1\n  state: s.json\n');
    let v = await view();
    assert.equal(setting(v, 'verify.max_age'), '"1h" $T/etc/config.yaml:2');
    assert.equal(setting(v, 'verify.state'), `"${t.dir}/etc/s.json" $T/etc/config.yaml:4`);
    write('home/.config/loki-audit/config.yaml', 'verify:\n  max_age: 2h\n');
    v = await view();
    assert.equal(setting(v, 'verify.max_age'), '"2h" $T/home/.config/loki-audit/config.yaml:2', '~/.config');
    assert.equal(setting(v, 'verify.retention_files'), '1 $T/etc/config.yaml:3', 'key by key');
    write('xdg/loki-audit/config.yaml', 'verify:\n  max_age: 3h\n');
    env.XDG_CONFIG_HOME = join(t.dir, 'xdg');
    v = await view();
    assert.equal(
      setting(v, 'verify.max_age'),
      '"3h" $T/xdg/loki-audit/config.yaml:2',
      'XDG_CONFIG_HOME over ~/.config',
    );
    write('proj/.loki/config.yaml', 'model: whatever   # Loki Mode key\nverify:\n  max_age: 4h\n');
    v = await view();
    assert.equal(setting(v, 'verify.max_age'), '"4h" $T/proj/.loki/config.yaml:3', 'found from proj/sub/deeper');
    write('env.yaml', 'verify:\n  max_age: 5h\n');
    env.LOKI_AUDIT_CONFIG = join(t.dir, 'env.yaml');
    assert.equal(setting(await view(), 'verify.max_age'), '"5h" $T/env.yaml:2');
    write('flag.yaml', '\nverify:\n  max_age: 6h\n');
    v = await view(['--config', join(t.dir, 'flag.yaml')]);
    assert.equal(setting(v, 'verify.max_age'), '"6h" $T/flag.yaml:3');
    assert.deepEqual(
      v.files.map((f) => `${f.kind} ${f.path.replace(t.dir, '$T')}`),
      [
        'system $T/etc/config.yaml',
        'user $T/xdg/loki-audit/config.yaml',
        'project $T/proj/.loki/config.yaml',
        'explicit $T/flag.yaml',
      ],
    );
    // The environment over every file; a flag over the environment.
    v = await view([], { LOKI_AUDIT_MAX_FILES: '9' });
    assert.equal(setting(v, 'verify.retention_files'), '"9" env LOKI_AUDIT_MAX_FILES');
    write('flag.yaml', 'dir: /from/file\n');
    v = await view(['--config', join(t.dir, 'flag.yaml')], { LOKI_AUDIT_DIR: '/from/env' });
    assert.equal(setting(v, 'dir'), '"/from/env" env LOKI_AUDIT_DIR');
    v = await view(['--config', join(t.dir, 'flag.yaml'), '--dir', '/from/flag'], { LOKI_AUDIT_DIR: '/from/env' });
    assert.equal(setting(v, 'dir'), '"/from/flag" flag');
  });

  it("a config value changes verify's verdict, and the flag overrides it", async () => {
    // examples/audit's head was written on 2026-11-20: older than a day, younger than 100000 days.
    write('etc/config.yaml', `dir: ${AUDIT}\nverify:\n  max_age: 1d\n`);
    const stale = await runCli(['verify', '--quiet'], { env, cwd });
    assertExit(stale, 21);
    assert.match(stale.stdout, /STALE chain head.*longer than --max-age 1d/);
    const fresh = await runCli(['verify', '--quiet', '--max-age', '100000d'], { env, cwd });
    assertExit(fresh, 0);
    assert.equal(fresh.stdout, '');
    // dir from the file; LOKI_AUDIT_DIR wins over it.
    const gone = await runCli(['verify', '--quiet'], { env: { ...env, LOKI_AUDIT_DIR: join(t.dir, 'nothing') }, cwd });
    assertExit(gone, 3);
    assert.match(gone.stderr, /nothing/);
    // --stdin excludes --max-age: the file's max_age does not apply to it.
    const chain = readFileSync(join(AUDIT, 'audit-2026-11-17.jsonl'), 'utf8');
    const stdin = await runCli(['verify', '--quiet', '--stdin', '--start-hash', 'f'.repeat(64)], {
      env,
      cwd,
      input: chain,
    });
    assert.doesNotMatch(stdin.stdout + stdin.stderr, /max-age|STALE/);
  });

  it('retention_files from the file makes oldest files gone retention, a note; the flag overrides it', async () => {
    // Loki Mode's retention ran inside a rotation: intact with LOKI_AUDIT_MAX_FILES=4 (docs/verify.md).
    const audit = join(LOKI, 'field/retention-with-days');
    assertExit(await runCli(['verify', '--quiet', audit], { env, cwd }), 6);
    write('etc/config.yaml', 'verify:\n  retention_files: 4\n');
    const kept = await runCli(['verify', '--quiet', audit], { env, cwd });
    assertExit(kept, 0);
    assert.equal(kept.stdout, '');
    assertExit(await runCli(['verify', '--quiet', '--retention-files', '1', audit], { env, cwd }), 6);
    assertExit(await runCli(['verify', '--quiet', audit], { env: { ...env, LOKI_AUDIT_MAX_FILES: '1' }, cwd }), 6);
  });

  it('a broken file stops every command with exit 2, naming file, line and key', async () => {
    const cases: Array<[string, RegExp]> = [
      [
        'verify:\n  max_aeg: 1h\n',
        /bad\.yaml:2: config verify\.max_aeg: unknown key \(did you mean verify\.max_age\?\)/,
      ],
      ['verfy:\n  max_age: 1h\n', /bad\.yaml:1: config verfy: unknown key \(did you mean verify\?\)/],
      [
        'verify:\n  retention_files: many\n',
        /bad\.yaml:2: config verify\.retention_files: must be an integer of at least 1, got "many"/,
      ],
      [
        'verify:\n  max_age: soon\n',
        /bad\.yaml:2: config verify\.max_age: must be a duration \(30m, 26h, 1h30m, 2d\), got "soon"/,
      ],
      [
        'output:\n  color: sometimes\n',
        /bad\.yaml:2: config output\.color: must be auto or always or never, got "sometimes"/,
      ],
      ['verify:\n  - [\n', /bad\.yaml:\d+: not valid YAML: /],
      ['- just\n- a list\n', /bad\.yaml: a config file is a map of settings/],
      [
        'forward:\n  targets:\n    - loki: http://127.0.0.1:9\n      tenat: acme\n',
        /bad\.yaml:3: config forward\.targets\[0\]: unknown key "tenat" for a loki target/,
      ],
      [
        'forward:\n  targets:\n    - loki: http://127.0.0.1:9\n      password: hunter2\n',
        /bad\.yaml:4: config forward\.targets\[0\]\.password: secrets are not kept in config files/,
      ],
    ];
    for (const [text, want] of cases) {
      const f = write('bad.yaml', text);
      for (const cmd of ['verify', 'summary', 'config']) {
        const r = assertExit(await runCli([cmd, '--config', f, '--dir', AUDIT], { env, cwd }), 2);
        assert.match(r.stderr, want, `${cmd} with ${JSON.stringify(text)}`);
        assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('loki-audit: error:')).length, 1);
        assert.doesNotMatch(r.stderr, /\n\s+at |hunter2/, 'no stack trace, no secret');
      }
    }
  });

  it(
    'a file anyone may write is refused; so is a project ' + 'file of another user, unless given with --config',
    async () => {
      const f = write('proj/.loki/config.yaml', 'verify:\n  max_age: 1h\n', 0o666);
      chmodSync(f, 0o666); // past the umask
      const r = assertExit(await runCli(['verify', AUDIT], { env, cwd }), 2);
      assert.match(r.stderr, /config\.yaml is writable by every user \(mode 666\).*chmod o-w/);
      chmodSync(f, 0o644);
      assertExit(await runCli(['verify', '--quiet', AUDIT], { env, cwd }), 21);
      if (process.getuid?.() !== 0) return; // chown needs root (CI runs as root)
      chownSync(f, 4242, 4242);
      const foreign = assertExit(await runCli(['verify', AUDIT], { env, cwd }), 2);
      assert.match(foreign.stderr, /belongs to user 4242, not to you.*give it with --config/);
      assertExit(await runCli(['verify', '--quiet', '--config', f, AUDIT], { env, cwd }), 21);
    },
  );

  it('config shows sources and never a secret; a secret file others can read is warned about', async () => {
    write('home/pw', 'hunter2\n', 0o644);
    write(
      'etc/config.yaml',
      'output:\n  color: never\nforward:\n  targets:\n    - loki: ' +
        'http://127.0.0.1:9\n      username: alice\n      password_file: ../home/pw\n',
    );
    const secrets = { LOKI_AUDIT_LOKI_TOKEN: 'tok-SECRET-123', LOKI_SPLUNK_HEC_TOKEN: '' };
    const r = await runCli(['config'], { env: { ...env, ...secrets }, cwd });
    assert.equal(r.code, 0, r.stderr);
    const all = r.stdout + r.stderr;
    for (const secret of ['tok-SECRET-123', 'hunter2', 'alice']) assert.ok(!all.includes(secret), secret);
    assert.match(r.stdout, /^output\.color +never +\S+\/etc\/config\.yaml:2$/m);
    assert.match(r.stdout, /^verify\.max_age +- +default$/m);
    assert.match(r.stdout, /\[0\] loki: http:\/\/127\.0\.0\.1:9, username: \*{8}, password_file: \S+\/home\/pw$/m);
    assert.match(r.stdout, /^ {2}LOKI_AUDIT_LOKI_TOKEN +set$/m);
    assert.match(r.stdout, /^ {2}LOKI_SPLUNK_HEC_TOKEN +not set$/m);
    assert.match(
      r.stderr,
      /warning: \S+\/home\/pw \(config forward\.targets\[0\]\.password_file in \S+\) is readable by every user: chmod 600/,
    );
    const j = JSON.parse((await runCli(['config', '--json'], { env: { ...env, ...secrets }, cwd })).stdout) as View;
    assert.deepEqual(j.targets?.list, [
      { loki: 'http://127.0.0.1:9', username: '********', password_file: join(t.dir, 'home/pw') },
    ]);
    assert.deepEqual(
      j.secrets.filter((s) => s.set).map((s) => s.env),
      ['LOKI_AUDIT_LOKI_TOKEN'],
    );
    chmodSync(join(t.dir, 'home/pw'), 0o600);
    const quiet = await runCli(['config'], { env, cwd });
    assert.equal(quiet.stderr, '');
  });

  it("the project file may hold Loki Mode's own keys, not a near miss of a section", async () => {
    write('proj/.loki/config.yaml', 'model: opus\nenterprise:\n  audit:\n    enabled: true\nverfy:\n  max_age: 1h\n');
    const r = assertExit(await runCli(['verify', AUDIT], { env, cwd }), 2);
    assert.match(r.stderr, /\.loki\/config\.yaml:5: config verfy: unknown key \(did you mean verify\?\)/);
    write('proj/.loki/config.yaml', 'model: opus\nenterprise:\n  audit:\n    enabled: true\nverify:\n  max_age: 1h\n');
    assertExit(await runCli(['verify', '--quiet', AUDIT], { env, cwd }), 21);
  });

  it("forward: Loki Mode's enterprise.siem.syslog is a target when nothing else names one; flags win", async () => {
    const f = write(
      'proj/.loki/config.yaml',
      'enterprise:\n  siem:\n    syslog:\n      host: 127.0.0.1\n      port: 9\n      protocol: ' +
        'tcp\n      facility: auth\n      format: rfc3164\n      severity: info\n',
    );
    const run = (...flags: string[]) =>
      runCli(['forward', '--dry-run', '--dir', AUDIT, '--state', join(t.dir, 's.json'), ...flags], { env, cwd });
    const r = await run();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /syslog:tcp:\/\/127\.0\.0\.1:9/);
    // auth = facility 4: PRI 4*8+6 = 38 for info, RFC 3164 (no version after the PRI).
    assert.match(r.stdout, /<3[4-9]>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d /);
    const flagged = await run('--facility', 'local0', '--syslog-format', 'rfc5424');
    assert.equal(flagged.code, 0, flagged.stderr);
    assert.match(flagged.stdout, /<13[0-9]>1 /, 'local0 = 16: PRI 128..135, RFC 5424 version 1');
    assert.doesNotMatch(flagged.stdout, /<3[4-9]>/);
    writeFileSync(f, 'enterprise:\n  siem:\n    syslog:\n      host: 127.0.0.1\n      port: 70000\n');
    const bad = assertExit(await run(), 2);
    assert.match(
      bad.stderr,
      /config\.yaml:5: config enterprise\.siem\.syslog\.port: must be a port number \(1 to 65535\), got 70000/,
    );
  });

  it('forward reads its targets from a project file found above the current directory', async () => {
    write(
      'proj/.loki/config.yaml',
      'forward:\n  targets:\n    - syslog: udp://127.0.0.1:9\n      hostname: from-project\n',
    );
    const r = await runCli(['forward', '--dry-run', '--dir', AUDIT, '--state', join(t.dir, 's.json')], { env, cwd });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /from-project/);
  });
});

describe('config: docs', () => {
  it("docs/config.md's table of settings is the code's list: key, type, flag, commands, env", () => {
    const doc = readFileSync(join(ROOT, 'docs/config.md'), 'utf8');
    const at = doc.indexOf('| key | type | flag | commands | env | meaning |');
    assert.ok(at >= 0, 'the table is in docs/config.md');
    const rows = doc
      .slice(at)
      .split('\n')
      .slice(2)
      .filter((l, i, all) => l.startsWith('|') && all.slice(0, i).every((x) => x.startsWith('|')))
      .map((l) =>
        l
          .slice(1, -1)
          .split(' | ')
          .map((c) => c.trim().replace(/^`|`$/g, '')),
      );
    assert.deepEqual(
      rows.map((r) => r.slice(0, 5)),
      SETTINGS.map((s) => [s.key, typeCell(s), `--${s.flag}`, commandsCell(s), s.env ?? '—']),
    );
  });
});
