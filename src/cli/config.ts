/**
 * The one configuration of every command, in layers (docs/config.md): each file's settings are
 * the defaults of the flags they name, and a higher layer wins key by key:
 *
 *   1. `/etc/loki-audit/config.yaml` (the system's; `LOKI_AUDIT_SYSTEM_CONFIG` moves it, for tests)
 *   2. `$XDG_CONFIG_HOME/loki-audit/config.yaml`, else `~/.config/loki-audit/config.yaml` (XDG Base
 *      Directory Specification 0.8: a relative `XDG_CONFIG_HOME` is ignored)
 *   3. `.loki/config.yaml`, the project's (Loki Mode's own file): the nearest one in the current
 *      directory or above it, as git finds its repository
 *   4. `--config FILE`, else `LOKI_AUDIT_CONFIG` (must exist)
 *   5. the environment variables of {@link SETTINGS} (`LOKI_AUDIT_DIR`, `LOKI_AUDIT_MAX_FILES`, `TZ`)
 *   6. flags, which always win
 *
 * `forward.targets` is taken whole from the highest file that has it; each flag then wins over
 * its key in every target (forward-targets.ts). Files are YAML (the `yaml` package, loaded only
 * when a file exists), checked with a valibot schema made from {@link SETTINGS}: a message names
 * the file, the line, the key and what it takes. Secrets are never in a config file (a key that
 * would hold one is refused: name a file, or use the environment); a config file anyone may write
 * is refused, and so is a discovered `.loki/config.yaml` that is neither the user's nor root's.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileKind } from '../core/read/open.js';
import { SECTIONS, SETTINGS, type Setting } from './config-keys.js';
import { checkTargetKeys, TARGET_KEYS } from './forward-config-keys.js';
import type { ConfigFile } from './forward-targets.js';
import { expandPath } from './paths.js';
import { closest } from './suggest.js';

/** A configuration file that cannot be used: its message names the file, line and key. Exit 2. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Which layer a file is. */
export type LayerKind = 'system' | 'user' | 'project' | 'explicit';

/** A config file read, lowest layer first. */
export interface ConfigLayer {
  kind: LayerKind;
  path: string;
}

/** A value of a file and where it is: the file and its 1-based line. */
export interface Sourced<T = unknown> {
  value: T;
  file: string;
  line: number | null;
}

/** The files merged. */
export interface LoadedConfig {
  /** The files read, lowest layer first. */
  layers: ConfigLayer[];
  /** Each setting's value from the highest file that sets it (paths absolute), by key. */
  values: Map<string, Sourced>;
  /** `forward.targets` of the highest file that has them (paths absolute). */
  targets: Sourced<Array<Record<string, unknown>>> | null;
  /**
   * Loki Mode's keys that forward applies, by key below `enterprise`: `audit.level`,
   * `audit.exclude_events` (filters) and `siem.syslog` (a syslog target, taken whole).
   */
  enterprise: Map<string, Sourced>;
  /** Secret files named in a file that every user can read, one line each. */
  warnings: string[];
}

/** Largest config file read, bytes: a config file is a page of YAML, not a log. */
const MAX_CONFIG_BYTES = 1 << 20;

/** A key name that would hold a secret in the file itself. */
const SECRET_KEY = /^(password|passwd|token|bearer_token|secret|api_key|hec_token|private_key)$/i;

/** The default system file, and the variable that moves it (documented as for tests only). */
const SYSTEM_CONFIG = '/etc/loki-audit/config.yaml';

/** The user's file: `$XDG_CONFIG_HOME/loki-audit/config.yaml`, else `~/.config/loki-audit/config.yaml`. */
export function userConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  // XDG Base Directory Specification: "If an implementation encounters a relative path in any of
  // these variables it should consider the path invalid and ignore it."
  const base = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.config');
  return join(base, 'loki-audit', 'config.yaml');
}

/** The nearest `.loki/config.yaml` in `cwd` or a directory above it, or null. */
export function projectConfigPath(cwd: string): string | null {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const p = join(dir, '.loki', 'config.yaml');
    try {
      statSync(p);
      return p;
    } catch {
      // Not here: one directory up.
    }
    if (dirname(dir) === dir) return null;
  }
}

/** The files to read, lowest layer first; `explicit` (--config, LOKI_AUDIT_CONFIG) must exist. */
export function configLayers(options: {
  explicit?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}): Array<ConfigLayer & { required: boolean }> {
  const env = options.env ?? process.env;
  const out: Array<ConfigLayer & { required: boolean }> = [
    { kind: 'system', path: env.LOKI_AUDIT_SYSTEM_CONFIG || SYSTEM_CONFIG, required: false },
    { kind: 'user', path: userConfigPath(env), required: false },
  ];
  const project = projectConfigPath(options.cwd ?? process.cwd());
  if (project) out.push({ kind: 'project', path: project, required: false });
  const explicit = options.explicit ?? (env.LOKI_AUDIT_CONFIG ? expandPath(env.LOKI_AUDIT_CONFIG, env) : undefined);
  if (explicit) out.push({ kind: 'explicit', path: explicit, required: true });
  // One file in two layers (--config .loki/config.yaml) is read once, as the higher.
  return out.filter((l, i) => !out.slice(i + 1).some((m) => m.path === l.path));
}

/**
 * The text of one config file, if it exists (an optional layer that is absent: null).
 * Read only when it is a regular file (a FIFO would block every command), at most 1 MiB, nobody
 * else may write it, and a discovered project file must be the user's or root's.
 * @throws ConfigError
 */
function readConfigText(layer: ConfigLayer & { required: boolean }): string | null {
  let fd: number;
  try {
    fd = openSync(layer.path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!layer.required && (code === 'ENOENT' || code === 'ENOTDIR')) return null;
    throw new ConfigError(`cannot read config file ${layer.path}: ${code ?? (err as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ConfigError(`config file ${layer.path} is ${fileKind(st)}, not a regular file`);
    if (st.size > MAX_CONFIG_BYTES)
      throw new ConfigError(`config file ${layer.path} is ${st.size} bytes: larger than a config file (1 MiB)`);
    if (st.mode & 0o002)
      throw new ConfigError(
        `config file ${layer.path} is writable by every user (mode ${(st.mode & 0o777).toString(8)}): ` +
          `anyone could change what is verified and where entries go; chmod o-w ${layer.path}`,
      );
    const uid = process.getuid?.();
    if (layer.kind === 'project' && uid !== undefined && st.uid !== uid && st.uid !== 0)
      throw new ConfigError(
        `config file ${layer.path} belongs to user ${st.uid}, not to you: a .loki/config.yaml found above ` +
          `the current directory is read only when it is yours or root's; to trust it, give it with --config`,
      );
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

type Yaml = typeof import('yaml');
type Schema = typeof import('./config-schema.js');

/** Loki Mode's keys below `enterprise` that loki-audit reads (docs/config.md). */
const ENTERPRISE_KEYS = ['audit.level', 'audit.exclude_events', 'siem.syslog'] as const;

/** A file's data and the line of each key path in it. */
interface ParsedFile {
  data: Record<string, unknown>;
  /** The line of the value at `path` (or of the key `key` under it), or null. */
  lineOf(path: ReadonlyArray<string | number>, key?: string): number | null;
}

function parseFile(yaml: Yaml, file: string, text: string): ParsedFile {
  const lc = new yaml.LineCounter();
  const doc = yaml.parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const lineAt = (offset: number | undefined) => (offset === undefined ? null : lc.linePos(offset).line);
  if (doc.errors.length) {
    const e = doc.errors[0];
    throw new ConfigError(`${file}:${lineAt(e.pos[0]) ?? 1}: not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new ConfigError(`${file}: a config file is a map of settings (dir:, verify:, forward: …)`);
  return {
    data: data as Record<string, unknown>,
    lineOf(path, key) {
      const node = (path.length ? doc.getIn(path, true) : doc.contents) as {
        range?: [number, number, number];
        items?: Array<{ key?: { value?: unknown; range?: [number, number, number] } }>;
      } | null;
      if (key !== undefined && node?.items) {
        const pair = node.items.find((p) => p.key?.value === key);
        return lineAt(pair?.key?.range?.[0]);
      }
      return lineAt(node?.range?.[0]);
    },
  };
}

/** `verify.max_age`, `forward.targets[0].tenant`. */
function dotted(path: ReadonlyArray<string | number>): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i ? `.${k}` : k)).join('');
}

/** What the key `name` under `parent` could have been meant as. */
function knownKeys(parent: ReadonlyArray<string | number>): string[] {
  if (parent.length === 0) return ['dir', ...SECTIONS, 'enterprise'];
  if (parent.length === 1 && parent[0] === 'forward')
    return [...SETTINGS.filter((s) => s.key.startsWith('forward.')).map((s) => s.key.slice(8)), 'targets'];
  if (parent.length === 1)
    return SETTINGS.filter((s) => s.key.startsWith(`${parent[0]}.`)).map((s) => s.key.split('.')[1]);
  return [];
}

function unknownKeyMessage(where: string, parent: ReadonlyArray<string | number>, name: string): string {
  const full = dotted([...parent, name]);
  if (SECRET_KEY.test(name))
    return (
      `${where}: config ${full}: secrets are not kept in config files: put it in a file ` +
      `(mode 600) and name the file (password_file, token_file), or use the environment`
    );
  const near = closest(name, knownKeys(parent));
  return (
    `${where}: config ${full}: unknown ` +
    `key${near ? ` (did you mean ${dotted([...parent, near])}?)` : ''}; see docs/config.md`
  );
}

/**
 * Checks one file against the schema and forward's target keys.
 * @throws ConfigError naming `file:line`, the key and what it takes.
 */
function checkFile(schema: Schema, file: string, kind: LayerKind, parsed: ParsedFile): void {
  // Loki Mode's file holds its own top-level keys; one a letter or two from a section of ours is a typo.
  if (kind === 'project') {
    const ours = knownKeys([]);
    for (const name of Object.keys(parsed.data))
      if (!ours.includes(name) && closest(name, ours))
        throw new ConfigError(unknownKeyMessage(`${file}:${parsed.lineOf([], name) ?? 1}`, [], name));
  }
  const issue = schema.firstIssue(parsed.data, kind === 'project');
  if (issue) {
    const path = issue.path;
    if (issue.type === 'strict_object' && path.length) {
      const name = String(path[path.length - 1]);
      const parent = path.slice(0, -1);
      const at = `${file}:${parsed.lineOf(parent, name) ?? 1}`;
      throw new ConfigError(unknownKeyMessage(at, parent, name));
    }
    const at = `${file}:${parsed.lineOf(path) ?? 1}`;
    throw new ConfigError(
      `${at}: config ${path.length ? dotted(path) : '(the file)'}: ` +
        `must be ${issue.message}, got ${JSON.stringify(issue.input)}`,
    );
  }
  const targets = (parsed.data.forward as { targets?: unknown[] } | undefined)?.targets ?? [];
  for (const [i, t] of targets.entries()) {
    const where = `config forward.targets[${i}]`;
    const at = `${file}:${parsed.lineOf(['forward', 'targets', i]) ?? 1}`;
    if (t && typeof t === 'object')
      for (const name of Object.keys(t))
        if (SECRET_KEY.test(name))
          throw new ConfigError(
            unknownKeyMessage(
              `${file}:${parsed.lineOf(['forward', 'targets', i], name) ?? 1}`,
              ['forward', 'targets', i],
              name,
            ),
          );
    try {
      checkTargetKeys(t, where);
    } catch (err) {
      throw new ConfigError(`${at}: ${(err as Error).message}`);
    }
  }
}

/**
 * A path of a file made absolute: `~` and `$HOME` expanded, a relative one from the file's
 * directory; a checkpoint store in Loki (`loki://…`, `loki+https://…`) is kept as written.
 */
function filePath(value: string, file: string, env: NodeJS.ProcessEnv): string {
  if (/^loki(\+https)?:\/\//i.test(value)) return value;
  return /^(~|\$HOME|\$\{HOME\})(\/|$)/.test(value) ? expandPath(value, env) : resolve(dirname(file), value);
}

function getPath(data: Record<string, unknown>, key: string): unknown {
  let v: unknown = data;
  for (const k of key.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** A secret file named in a config file that others can read, as a warning line (or null). */
function readableSecret(path: string, key: string, file: string): string | null {
  try {
    const st = statSync(path);
    if (!(st.mode & 0o004)) return null;
    return `${path} (config ${key} in ${file}) is readable by every user: chmod 600 ${path}`;
  } catch {
    return null; // Missing or unreadable: the command that reads it says so.
  }
}

/**
 * Reads and merges the config files.
 * @param options.explicit `--config FILE` (absolute); else `LOKI_AUDIT_CONFIG` is used
 * @throws ConfigError for a file that cannot be read, is not YAML, or breaks the schema
 */
export async function loadConfig(
  options: { explicit?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const out: LoadedConfig = { layers: [], values: new Map(), targets: null, enterprise: new Map(), warnings: [] };
  let yaml: Yaml | null = null;
  let schema: Schema | null = null;
  for (const layer of configLayers({ ...options, env })) {
    const text = readConfigText(layer);
    if (text === null) continue;
    // Loaded only when there is a file: most runs have none, and the parsers cost every run memory.
    yaml ??= await import('yaml');
    schema ??= await import('./config-schema.js');
    const parsed = parseFile(yaml, layer.path, text);
    checkFile(schema, layer.path, layer.kind, parsed);
    out.layers.push({ kind: layer.kind, path: layer.path });
    for (const s of SETTINGS) {
      const raw = getPath(parsed.data, s.key);
      if (raw === undefined) continue;
      const value = s.type === 'path' ? filePath(raw as string, layer.path, env) : raw;
      out.values.set(s.key, { value, file: layer.path, line: parsed.lineOf(s.key.split('.')) });
      if (s.secretFile) {
        const w = readableSecret(value as string, s.key, layer.path);
        if (w) out.warnings.push(w);
      }
    }
    const targets = (parsed.data.forward as { targets?: Array<Record<string, unknown>> } | undefined)?.targets;
    if (targets !== undefined) {
      const resolved = targets.map((t, i) => {
        const kind = ['loki', 'syslog', 'splunk_hec'].find((k) => k in t);
        const copy: Record<string, unknown> = { ...t };
        for (const k of TARGET_KEYS)
          if (k.kind === kind && k.type === 'path' && typeof copy[k.key] === 'string') {
            copy[k.key] = filePath(copy[k.key] as string, layer.path, env);
            if (/_file$|^key$/.test(k.key)) {
              const w = readableSecret(copy[k.key] as string, `forward.targets[${i}].${k.key}`, layer.path);
              if (w) out.warnings.push(w);
            }
          }
        return copy;
      });
      out.targets = { value: resolved, file: layer.path, line: parsed.lineOf(['forward', 'targets']) };
    }
    for (const key of ENTERPRISE_KEYS) {
      const value = getPath(parsed.data, `enterprise.${key}`);
      if (value !== undefined)
        out.enterprise.set(key, { value, file: layer.path, line: parsed.lineOf(['enterprise', ...key.split('.')]) });
    }
  }
  return out;
}

/** The merged files in the shape forward's target builder reads (forward-targets.ts). */
export function forwardConfig(config: LoadedConfig): ConfigFile {
  const e = (key: string) => config.enterprise.get(key)?.value as never;
  return {
    enterprise: {
      audit: { level: e('audit.level'), exclude_events: e('audit.exclude_events') },
      siem: { syslog: e('siem.syslog') },
    },
    forward: {
      state: config.values.get('forward.state')?.value as string | undefined,
      dead_letter: config.values.get('forward.dead_letter')?.value as string | undefined,
      targets: config.targets?.value as NonNullable<ConfigFile['forward']>['targets'],
    },
  };
}

/** Where a setting's value came from. */
export type SettingSource =
  | { kind: 'flag' }
  | { kind: 'env'; name: string }
  | { kind: 'file'; file: string; line: number | null }
  | { kind: 'default' };

/** `flag`, `env TZ`, `/etc/loki-audit/config.yaml:3`, `default`. */
function sourceText(s: SettingSource): string {
  if (s.kind === 'env') return `env ${s.name}`;
  if (s.kind === 'file') return s.line === null ? s.file : `${s.file}:${s.line}`;
  return s.kind;
}

/**
 * A setting's effective value and its source: the flag when given, else its variable when set,
 * else the highest file's value, else none (the command's default).
 */
function resolveSetting(
  s: Setting,
  config: LoadedConfig,
  flag: { given: boolean; value?: unknown },
  env: NodeJS.ProcessEnv = process.env,
): { value: unknown; source: SettingSource } {
  if (flag.given) return { value: flag.value, source: { kind: 'flag' } };
  if (s.env && env[s.env]) return { value: env[s.env], source: { kind: 'env', name: s.env } };
  const f = config.values.get(s.key);
  if (f) return { value: f.value, source: { kind: 'file', file: f.file, line: f.line } };
  return { value: undefined, source: { kind: 'default' } };
}

/** The part of an oclif flag definition that decides whether a config value may apply. */
export interface FlagRules {
  exclusive?: string[];
  dependsOn?: string[];
  /** A repeatable flag (verify's `--dir`): a file's one value becomes a list of one. */
  multiple?: boolean;
}

/**
 * Sets each flag of `command` that was not given from the files (the flag's own default is
 * replaced). A value is not applied when its variable is set (the command reads it, and it wins),
 * when a flag exclusive with it is set (`--stdin` and `max_age`), or when a flag it depends on is
 * not (`max_checkpoint_age` without a store). `dir` is not applied with the directory argument or
 * a project's `--stream` (js, agent, session: the current directory).
 * @param given whether a flag was on the command line (not its default)
 * @returns the settings applied, for `--debug`-style reporting and tests
 */
export function applyConfig(
  command: string,
  flags: Record<string, unknown>,
  given: (flag: string) => boolean,
  rules: Readonly<Record<string, FlagRules>>,
  config: LoadedConfig,
  context: { dirArgument: boolean },
  env: NodeJS.ProcessEnv = process.env,
): Setting[] {
  const applied: Setting[] = [];
  const set = (name: string) =>
    flags[name] !== undefined && flags[name] !== false && (given(name) || applied.some((s) => s.flag === name));
  for (const s of SETTINGS) {
    if (!s.commands.includes(command) || !(s.flag in rules) || given(s.flag)) continue;
    if (s.env && env[s.env]) continue;
    const f = config.values.get(s.key);
    if (!f) continue;
    if (s.key === 'dir' && (context.dirArgument || (flags.stream !== undefined && flags.stream !== 'dashboard')))
      continue;
    const r = rules[s.flag];
    if (r.exclusive?.some(set)) continue;
    if (r.dependsOn && !r.dependsOn.every(set)) continue;
    flags[s.flag] = r.multiple && !Array.isArray(f.value) ? [f.value] : f.value;
    applied.push(s);
  }
  return applied;
}

/** One setting as `loki-audit config` shows it. */
export interface EffectiveSetting {
  key: string;
  /** The flag it is the default of: `--max-age`. */
  flag: string;
  commands: readonly string[];
  /** The value in effect, or null (the command's own default). */
  value: unknown;
  /** `flag`, `env NAME`, `FILE:LINE` or `default`. */
  source: string;
}

/** What `loki-audit config` prints (and `--json` gives). */
export interface EffectiveConfig {
  /** The files read, lowest layer first. */
  files: ConfigLayer[];
  settings: EffectiveSetting[];
  /** forward's targets from the files, secrets masked, and where they are. */
  targets: { source: string; list: Array<Record<string, unknown>> } | null;
  /** Loki Mode's `enterprise.*` keys forward applies. */
  enterprise: Array<{ key: string; value: unknown; source: string }>;
  /** The secret variables: whether each is set (their values are never shown). */
  secrets: Array<{ env: string; set: boolean }>;
  warnings: string[];
}

/** The variables holding secrets (or a basic auth user): shown as set or not, never their value. */
const SECRET_ENV = [
  'LOKI_AUDIT_LOKI_USERNAME',
  'LOKI_AUDIT_LOKI_PASSWORD',
  'LOKI_AUDIT_LOKI_TOKEN',
  'LOKI_SPLUNK_HEC_TOKEN',
] as const;

/** The mask shown for a secret's value. */
const MASK = '********';

/** Keys of a target whose value is masked (basic auth's user; secrets themselves are never in a file). */
const MASKED_TARGET_KEYS = new Set(['username']);

/**
 * Every setting's effective value and source, the targets (masked), and the secret variables.
 * @param flags the flags given on the command line (`dir`, `color`), by name
 */
export function effectiveConfig(
  config: LoadedConfig,
  flags: Readonly<Record<string, unknown>>,
  env: NodeJS.ProcessEnv = process.env,
): EffectiveConfig {
  const settings = SETTINGS.map((s) => {
    const r = resolveSetting(s, config, { given: flags[s.flag] !== undefined, value: flags[s.flag] }, env);
    return {
      key: s.key,
      flag: `--${s.flag}`,
      commands: s.commands,
      value: r.value ?? null,
      source: sourceText(r.source),
    };
  });
  const t = config.targets;
  return {
    files: config.layers,
    settings,
    targets: t && {
      source: sourceText({ kind: 'file', file: t.file, line: t.line }),
      list: t.value.map((x) =>
        Object.fromEntries(Object.entries(x).map(([k, v]) => [k, MASKED_TARGET_KEYS.has(k) ? MASK : v])),
      ),
    },
    enterprise: [...config.enterprise].map(([key, v]) => ({
      key: `enterprise.${key}`,
      value: v.value,
      source: sourceText({ kind: 'file', file: v.file, line: v.line }),
    })),
    secrets: SECRET_ENV.map((name) => ({ env: name, set: !!env[name] })),
    warnings: config.warnings,
  };
}
