/**
 * The layered config files (src/cli/config.ts) on real files in a temp dir: which files are
 * layers, in which order, the project file found upward, a value from the highest file, relative
 * paths from the file's directory, and when a value fills a flag (not given, no variable set, not
 * exclusive with a flag given, its dependencies set, `dir` not with the directory argument).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  applyConfig,
  configLayers,
  ConfigError,
  loadConfig,
  projectConfigPath,
  userConfigPath,
} from '../../src/cli/config.js';
import { tempDir } from '../helpers/cli.js';

describe('config: layers', () => {
  let t: { dir: string; cleanup: () => void };
  let env: NodeJS.ProcessEnv;
  const write = (rel: string, text: string) => {
    const p = join(t.dir, rel);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, text, { mode: 0o600 });
    return p;
  };
  beforeEach(() => {
    t = tempDir();
    env = { HOME: join(t.dir, 'home'), LOKI_AUDIT_SYSTEM_CONFIG: join(t.dir, 'etc', 'config.yaml') };
  });
  afterEach(() => t.cleanup());

  it('the user file is under XDG_CONFIG_HOME, else ~/.config; a relative XDG_CONFIG_HOME is ignored', () => {
    assert.equal(userConfigPath({ HOME: '/h', XDG_CONFIG_HOME: '/x' }), '/x/loki-audit/config.yaml');
    assert.equal(userConfigPath({ HOME: '/h' }), '/h/.config/loki-audit/config.yaml');
    assert.equal(userConfigPath({ HOME: '/h', XDG_CONFIG_HOME: 'rel/dir' }), '/h/.config/loki-audit/config.yaml');
  });

  it('the project file is the nearest .loki/config.yaml at or above the current directory', () => {
    const deep = join(t.dir, 'p', 'a', 'b');
    mkdirSync(deep, { recursive: true });
    const outer = write('.loki/config.yaml', 'verify: {}\n');
    assert.equal(projectConfigPath(deep), outer);
    const inner = write('p/a/.loki/config.yaml', 'verify: {}\n');
    assert.equal(projectConfigPath(deep), inner);
    assert.equal(projectConfigPath(join(t.dir, 'p')), outer);
  });

  it('layers in order: system, user, project, explicit (LOKI_AUDIT_CONFIG, or --config over it)', () => {
    const cwd = join(t.dir, 'proj');
    mkdirSync(cwd);
    write('proj/.loki/config.yaml', '');
    const kinds = (o: Parameters<typeof configLayers>[0]) => configLayers(o).map((l) => `${l.kind}:${l.path}`);
    assert.deepEqual(kinds({ env, cwd }), [
      `system:${join(t.dir, 'etc', 'config.yaml')}`,
      `user:${join(t.dir, 'home', '.config', 'loki-audit', 'config.yaml')}`,
      `project:${join(cwd, '.loki', 'config.yaml')}`,
    ]);
    const viaEnv = kinds({ env: { ...env, LOKI_AUDIT_CONFIG: '/c/env.yaml' }, cwd });
    assert.equal(viaEnv.at(-1), 'explicit:/c/env.yaml');
    const viaFlag = kinds({ env: { ...env, LOKI_AUDIT_CONFIG: '/c/env.yaml' }, cwd, explicit: '/c/flag.yaml' });
    assert.equal(viaFlag.at(-1), 'explicit:/c/flag.yaml');
    assert.equal(viaFlag.filter((l) => l.includes('env.yaml')).length, 0, '--config replaces LOKI_AUDIT_CONFIG');
  });

  it('key by key, the highest file wins; each value keeps its file and line', async () => {
    const cwd = join(t.dir, 'proj');
    mkdirSync(cwd);
    write('etc/config.yaml', 'verify:\n  max_age: 30h\n  retention_files: 2\n');
    write('home/.config/loki-audit/config.yaml', '# user\nverify:\n  retention_files: 4\n');
    const c = await loadConfig({ env, cwd });
    assert.deepEqual(c.values.get('verify.max_age'), {
      value: '30h',
      file: join(t.dir, 'etc', 'config.yaml'),
      line: 2,
    });
    assert.deepEqual(c.values.get('verify.retention_files'), {
      value: 4,
      file: join(t.dir, 'home', '.config', 'loki-audit', 'config.yaml'),
      line: 3,
    });
  });

  it("relative paths are taken from the file's directory, ~ from HOME", async () => {
    const f = write('etc/config.yaml', 'verify:\n  state: state/v.json\n  checkpoints: ~/cp\n');
    const c = await loadConfig({ env, cwd: t.dir });
    assert.equal(c.values.get('verify.state')?.value, join(t.dir, 'etc', 'state', 'v.json'));
    assert.equal(c.values.get('verify.checkpoints')?.value, join(t.dir, 'home', 'cp'));
    assert.ok(f);
  });

  it('an explicit file must exist; an absent optional layer is skipped', async () => {
    await assert.rejects(
      loadConfig({ env, cwd: t.dir, explicit: join(t.dir, 'nope.yaml') }),
      (e: Error) => e instanceof ConfigError && /cannot read config file .*nope\.yaml: ENOENT/.test(e.message),
    );
    assert.deepEqual((await loadConfig({ env, cwd: t.dir })).layers, []);
  });

  it('forward.targets come whole from the highest file that has them, paths resolved', async () => {
    write('etc/config.yaml', 'forward:\n  targets:\n    - loki: http://a\n    - loki: http://b\n');
    write(
      'home/.config/loki-audit/config.yaml',
      'forward:\n  targets:\n    - syslog: tls://s:6514\n      ca: ca.pem\n',
    );
    const c = await loadConfig({ env, cwd: t.dir });
    assert.deepEqual(c.targets?.value, [
      { syslog: 'tls://s:6514', ca: join(t.dir, 'home', '.config', 'loki-audit', 'ca.pem') },
    ]);
    assert.equal(c.targets?.line, 3);
  });
});

describe('config: which flags a value fills', () => {
  const config = (values: Record<string, unknown>) => ({
    layers: [],
    values: new Map(Object.entries(values).map(([k, value]) => [k, { value, file: '/c.yaml', line: 1 }])),
    targets: null,
    enterprise: new Map(),
    warnings: [],
  });
  const rules = {
    dir: {},
    'max-age': { exclusive: ['stdin'] },
    'max-checkpoint-age': { dependsOn: ['checkpoints'] },
    checkpoints: {},
    'retention-files': {},
    stdin: {},
  };

  it('fills a flag not given; a flag given wins', () => {
    const flags: Record<string, unknown> = { 'max-age': '2h' };
    const c = config({ 'verify.max_age': '26h', 'verify.retention_files': 3 });
    applyConfig('verify', flags, (n) => n === 'max-age', rules, c, { dirArgument: false }, {});
    assert.deepEqual(flags, { 'max-age': '2h', 'retention-files': 3 });
  });

  it('a variable set wins over the file (the command reads it); an empty one does not', () => {
    const c = config({ 'verify.retention_files': 3, dir: '/from/file' });
    const a: Record<string, unknown> = {};
    applyConfig('verify', a, () => false, rules, c, { dirArgument: false }, { LOKI_AUDIT_MAX_FILES: '7' });
    assert.deepEqual(a, { dir: '/from/file' });
    const b: Record<string, unknown> = {};
    applyConfig('verify', b, () => false, rules, c, { dirArgument: false }, { LOKI_AUDIT_MAX_FILES: '' });
    assert.deepEqual(b, { dir: '/from/file', 'retention-files': 3 });
  });

  it('not with a flag given that excludes it, not without a flag it depends on', () => {
    const c = config({ 'verify.max_age': '26h', 'verify.max_checkpoint_age': '2h' });
    const a: Record<string, unknown> = { stdin: true };
    applyConfig('verify', a, (n) => n === 'stdin', rules, c, { dirArgument: false }, {});
    assert.deepEqual(a, { stdin: true }, 'max_age is exclusive with --stdin; no store for max_checkpoint_age');
    const withStore = config({ 'verify.checkpoints': '/cp', 'verify.max_checkpoint_age': '2h' });
    const b: Record<string, unknown> = {};
    applyConfig('verify', b, () => false, rules, withStore, { dirArgument: false }, {});
    assert.deepEqual(b, { checkpoints: '/cp', 'max-checkpoint-age': '2h' }, 'the store from the file counts');
  });

  it('dir: not with the directory argument, nor with a project stream; only for commands that have the flag', () => {
    const c = config({ dir: '/from/file', 'checkpoint.store': '/s' });
    const a: Record<string, unknown> = {};
    applyConfig('verify', a, () => false, rules, c, { dirArgument: true }, {});
    assert.deepEqual(a, {});
    const b: Record<string, unknown> = { stream: 'js' };
    applyConfig('verify', b, () => false, rules, c, { dirArgument: false }, {});
    assert.deepEqual(b, { stream: 'js' });
    const d: Record<string, unknown> = {};
    applyConfig('verify', d, () => false, rules, c, { dirArgument: false }, {});
    assert.deepEqual(d, { dir: '/from/file' }, "checkpoint.store is checkpoint's, not verify's");
  });
});
