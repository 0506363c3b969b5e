/**
 * Every setting a loki-audit config file holds, as data: its dotted key, the flag it is the
 * default of, the commands whose flag it sets, its type, and the environment variable that wins
 * over the files. The loader's schema (config.ts), `loki-audit config` and docs/config.md's table
 * are made from this one list (a test compares the table with it). `forward.targets` is its own
 * section, checked by forward-config-keys.ts.
 */
import { EXPORT_FORMATS } from '../output/export.js';

/** The commands that read an audit directory (and the config file). */
const AUDIT_COMMANDS = ['verify', 'summary', 'search', 'tail', 'export', 'append', 'checkpoint', 'forward'] as const;

/**
 * `path` (`~`, `$HOME` expanded; relative to the file that holds it), `duration` (30m, 26h, 2d),
 * `zone` (Europe/Berlin, +05:30).
 */
export type SettingType = 'path' | 'integer' | 'duration' | 'boolean' | 'zone' | readonly string[];

export interface Setting {
  /** Dotted key in the file: `verify.max_age`. */
  key: string;
  /** The flag (long name, no dashes) whose default it is, for every command of {@link commands}. */
  flag: string;
  commands: readonly string[];
  type: SettingType;
  /** Smallest value of an integer. */
  min?: number;
  /** The environment variable that wins over every file (and loses to the flag), or null. */
  env: string | null;
  /** Names a file holding a secret (a key): never read by `config`, and it warns when others can read it. */
  secretFile?: boolean;
  /** What it sets, for docs/config.md. */
  doc: string;
}

const V = ['verify'];
const TIME = ['summary', 'search', 'tail', 'export', 'forward'];

/** The settings, in the order they are applied (a `dependsOn` flag's own setting comes first). */
export const SETTINGS: readonly Setting[] = [
  {
    key: 'dir',
    flag: 'dir',
    commands: AUDIT_COMMANDS,
    type: 'path',
    env: 'LOKI_AUDIT_DIR',
    doc: 'audit directory (not used with the directory argument or a project `--stream`)',
  },
  {
    key: 'output.color',
    flag: 'color',
    commands: AUDIT_COMMANDS,
    type: ['auto', 'always', 'never'],
    env: null,
    doc: 'colour: auto (a terminal without NO_COLOR), always, never',
  },
  {
    key: 'output.timezone',
    flag: 'timezone',
    commands: TIME,
    type: 'zone',
    env: 'TZ',
    doc: 'zone of times typed without an offset and of times shown',
  },
  { key: 'output.utc', flag: 'utc', commands: TIME, type: 'boolean', env: null, doc: 'times in UTC (`--utc`)' },
  { key: 'verify.state', flag: 'state', commands: V, type: 'path', env: null, doc: 'incremental state file' },
  { key: 'verify.checkpoints', flag: 'checkpoints', commands: V, type: 'path', env: null, doc: 'checkpoint store' },
  {
    key: 'verify.public_key',
    flag: 'public-key',
    commands: V,
    type: 'path',
    env: null,
    doc: 'Ed25519 public key (PEM) of the checkpoints',
  },
  {
    key: 'verify.hmac_key_file',
    flag: 'hmac-key-file',
    commands: V,
    type: 'path',
    env: null,
    secretFile: true,
    doc: 'shared secret file of HMAC checkpoints',
  },
  {
    key: 'verify.retention_files',
    flag: 'retention-files',
    commands: V,
    type: 'integer',
    min: 1,
    env: 'LOKI_AUDIT_MAX_FILES',
    doc: "Loki Mode's retention: oldest files gone while at most N+1 remain is a note",
  },
  {
    key: 'verify.max_age',
    flag: 'max-age',
    commands: V,
    type: 'duration',
    env: null,
    doc: 'a chain head older than this is exit 21',
  },
  {
    key: 'verify.max_checkpoint_age',
    flag: 'max-checkpoint-age',
    commands: V,
    type: 'duration',
    env: null,
    doc: 'a newest checkpoint older than this (or none) is exit 22; needs a checkpoint store',
  },
  {
    key: 'verify.metrics_file',
    flag: 'metrics-file',
    commands: V,
    type: 'path',
    env: null,
    doc: 'Prometheus textfile',
  },
  {
    key: 'checkpoint.store',
    flag: 'store',
    commands: ['checkpoint'],
    type: 'path',
    env: null,
    doc: 'checkpoint store',
  },
  {
    key: 'checkpoint.key',
    flag: 'key',
    commands: ['checkpoint'],
    type: 'path',
    env: null,
    secretFile: true,
    doc: 'Ed25519 private key (PEM) file',
  },
  {
    key: 'checkpoint.hmac_key_file',
    flag: 'hmac-key-file',
    commands: ['checkpoint'],
    type: 'path',
    env: null,
    secretFile: true,
    doc: 'shared secret file of HMAC checkpoints',
  },
  {
    key: 'checkpoint.metrics_file',
    flag: 'metrics-file',
    commands: ['checkpoint'],
    type: 'path',
    env: null,
    doc: 'Prometheus textfile',
  },
  { key: 'forward.state', flag: 'state', commands: ['forward'], type: 'path', env: null, doc: 'positions file' },
  {
    key: 'forward.dead_letter',
    flag: 'dead-letter',
    commands: ['forward'],
    type: 'path',
    env: null,
    doc: 'dead-letter file',
  },
  {
    key: 'forward.metrics_file',
    flag: 'metrics-file',
    commands: ['forward'],
    type: 'path',
    env: null,
    doc: 'Prometheus textfile',
  },
  {
    key: 'forward.checkpoint_every',
    flag: 'checkpoint-every',
    commands: ['forward'],
    type: 'integer',
    min: 1,
    env: null,
    doc: 'a signed checkpoint of the chain head after every N entries acknowledged',
  },
  {
    key: 'forward.checkpoint_store',
    flag: 'checkpoint-store',
    commands: ['forward'],
    type: 'path',
    env: null,
    doc: "where forward's checkpoints go: a directory or loki://HOST:PORT (default: the Loki target)",
  },
  {
    key: 'forward.checkpoint_key',
    flag: 'checkpoint-key',
    commands: ['forward'],
    type: 'path',
    env: null,
    secretFile: true,
    doc: "Ed25519 private key (PEM) file of forward's checkpoints",
  },
  {
    key: 'forward.checkpoint_hmac_key_file',
    flag: 'checkpoint-hmac-key-file',
    commands: ['forward'],
    type: 'path',
    env: null,
    secretFile: true,
    doc: "shared secret file of forward's HMAC checkpoints",
  },
  {
    key: 'search.output',
    flag: 'output',
    commands: ['search'],
    type: ['text', 'json', 'jsonl', 'raw'],
    env: null,
    doc: 'output format',
  },
  {
    key: 'tail.output',
    flag: 'output',
    commands: ['tail'],
    type: ['text', 'jsonl', 'raw', 'json'],
    env: null,
    doc: 'output format',
  },
  { key: 'export.output', flag: 'output', commands: ['export'], type: EXPORT_FORMATS, env: null, doc: 'output format' },
];

/** The sections of the file (`verify`, `output`, …) and, below them, their keys. */
export const SECTIONS: readonly string[] = [
  ...new Set(SETTINGS.filter((s) => s.key.includes('.')).map((s) => s.key.split('.')[0])),
];

/** What a setting's value must be, in words, for messages and docs/config.md. */
export function expectedType(s: Pick<Setting, 'type' | 'min'>): string {
  if (Array.isArray(s.type)) return (s.type as readonly string[]).join(' or ');
  switch (s.type) {
    case 'integer':
      return `an integer of at least ${s.min ?? 0}`;
    case 'boolean':
      return 'true or false';
    case 'duration':
      return 'a duration (30m, 26h, 1h30m, 2d)';
    case 'zone':
      return 'a time zone (Europe/Berlin, +05:30, UTC)';
    default:
      return 'a path';
  }
}

/** The type column of docs/config.md: `path`, `integer ≥ 1`, `auto \| always \| never`. */
export function typeCell(s: Pick<Setting, 'type' | 'min'>): string {
  if (Array.isArray(s.type)) return (s.type as readonly string[]).join(' \\| ');
  return s.type === 'integer' ? `integer ≥ ${s.min ?? 0}` : String(s.type);
}

/** The commands column of docs/config.md: `every command`, or their names. */
export function commandsCell(s: Pick<Setting, 'commands'>): string {
  return s.commands === AUDIT_COMMANDS ? 'every command' : s.commands.join(', ');
}
