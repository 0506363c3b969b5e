/**
 * Every key a target of the config file's `forward.targets` takes, as data: its kind (a Loki or
 * a syslog target), value type, default, the flag that overrides it and the environment variable
 * it falls back to. The loader refuses any other key (a typo would otherwise be ignored
 * silently), and docs/forward.md's table of keys is compared with this list by a test.
 */
/** The kinds of target a config file defines, each named by its URL key. */
export type TargetKind = 'loki' | 'syslog' | 'splunk_hec';
const KINDS: readonly TargetKind[] = ['loki', 'syslog', 'splunk_hec'];

export interface TargetKey {
  kind: TargetKind;
  key: string;
  /** `url`, `string`, `path`, `integer`, `boolean`, `map` (NAME: VALUE), or the values it may take. */
  type: 'url' | 'string' | 'path' | 'integer' | 'boolean' | 'map' | readonly string[];
  /** Smallest value of an integer (the flag's minimum). */
  min?: number;
  /** The default, in words ("none" when unset means absent). */
  default: string;
  /** The flag that wins over the key for every target of its kind, or null. */
  flag: string | null;
  /** The environment variable used when neither the flag nor the key is set, or null. */
  env: string | null;
}

export const TARGET_KEYS: readonly TargetKey[] = [
  { kind: 'loki', key: 'loki', type: 'url', default: 'required', flag: null, env: null },
  { kind: 'loki', key: 'tenant', type: 'string', default: 'none', flag: '--tenant', env: null },
  { kind: 'loki', key: 'labels', type: 'map', default: 'none', flag: '--label', env: null },
  {
    kind: 'loki',
    key: 'username',
    type: 'string',
    default: 'none',
    flag: '--loki-username',
    env: 'LOKI_AUDIT_LOKI_USERNAME',
  },
  {
    kind: 'loki',
    key: 'password_file',
    type: 'path',
    default: 'none',
    flag: '--loki-password-file',
    env: 'LOKI_AUDIT_LOKI_PASSWORD',
  },
  {
    kind: 'loki',
    key: 'bearer_token_file',
    type: 'path',
    default: 'none',
    flag: '--loki-token-file',
    env: 'LOKI_AUDIT_LOKI_TOKEN',
  },
  { kind: 'loki', key: 'timeout_ms', type: 'integer', min: 100, default: '10000', flag: '--timeout', env: null },
  { kind: 'loki', key: 'timestamp', type: ['entry', 'ingest'], default: 'entry', flag: '--timestamp', env: null },
  { kind: 'loki', key: 'batch_entries', type: 'integer', min: 1, default: '10000', flag: '--batch-entries', env: null },
  {
    kind: 'loki',
    key: 'batch_bytes',
    type: 'integer',
    min: 1024,
    default: '1048576',
    flag: '--batch-bytes',
    env: null,
  },
  { kind: 'syslog', key: 'syslog', type: 'url', default: 'required', flag: null, env: null },
  {
    kind: 'syslog',
    key: 'framing',
    type: ['octet-counting', 'lf'],
    default: 'octet-counting',
    flag: '--framing',
    env: null,
  },
  { kind: 'syslog', key: 'ca', type: 'path', default: "the system's CAs", flag: '--ca', env: null },
  { kind: 'syslog', key: 'cert', type: 'path', default: 'none', flag: '--cert', env: null },
  { kind: 'syslog', key: 'key', type: 'path', default: 'none', flag: '--key', env: null },
  { kind: 'syslog', key: 'servername', type: 'string', default: "the URL's host", flag: null, env: null },
  { kind: 'syslog', key: 'facility', type: 'string', default: 'local0', flag: '--facility', env: null },
  { kind: 'syslog', key: 'hostname', type: 'string', default: 'this host', flag: '--hostname', env: null },
  {
    kind: 'syslog',
    key: 'format',
    type: ['rfc5424', 'rfc3164', 'cef', 'leef'],
    default: 'rfc5424',
    flag: '--syslog-format',
    env: null,
  },
  { kind: 'syslog', key: 'timeout_ms', type: 'integer', min: 100, default: '10000', flag: '--timeout', env: null },
  { kind: 'syslog', key: 'batch_entries', type: 'integer', min: 1, default: '500', flag: '--batch-entries', env: null },
  { kind: 'splunk_hec', key: 'splunk_hec', type: 'url', default: 'required', flag: null, env: 'LOKI_SPLUNK_HEC_URL' },
  {
    kind: 'splunk_hec',
    key: 'token_file',
    type: 'path',
    default: 'none',
    flag: '--splunk-hec-token-file',
    env: 'LOKI_SPLUNK_HEC_TOKEN',
  },
  {
    kind: 'splunk_hec',
    key: 'index',
    type: 'string',
    default: "the token's default index",
    flag: '--splunk-hec-index',
    env: 'LOKI_SPLUNK_HEC_INDEX',
  },
  {
    kind: 'splunk_hec',
    key: 'sourcetype',
    type: 'string',
    default: 'loki:audit',
    flag: '--splunk-hec-sourcetype',
    env: 'LOKI_SPLUNK_HEC_SOURCETYPE',
  },
  { kind: 'splunk_hec', key: 'ack', type: 'boolean', default: 'false', flag: '--splunk-hec-ack', env: null },
  {
    kind: 'splunk_hec',
    key: 'channel',
    type: 'string',
    default: 'a random GUID per run',
    flag: '--splunk-hec-channel',
    env: null,
  },
  { kind: 'splunk_hec', key: 'ca', type: 'path', default: "the system's CAs", flag: '--ca', env: null },
  { kind: 'splunk_hec', key: 'timeout_ms', type: 'integer', min: 100, default: '10000', flag: '--timeout', env: null },
  { kind: 'splunk_hec', key: 'ack_timeout_ms', type: 'integer', min: 100, default: '60000', flag: null, env: null },
  {
    kind: 'splunk_hec',
    key: 'batch_entries',
    type: 'integer',
    min: 1,
    default: '5000',
    flag: '--batch-entries',
    env: null,
  },
  {
    kind: 'splunk_hec',
    key: 'batch_bytes',
    type: 'integer',
    min: 1024,
    default: '1048576',
    flag: '--batch-bytes',
    env: null,
  },
];

/** What a key's value must be, in words, for messages. */
function expected(k: TargetKey): string {
  if (Array.isArray(k.type)) return (k.type as readonly string[]).join(' or ');
  if (k.type === 'integer') return `an integer of at least ${k.min ?? 0}`;
  if (k.type === 'boolean') return 'true or false';
  if (k.type === 'map') return 'a map of NAME: VALUE strings';
  return 'a string';
}

function valid(k: TargetKey, v: unknown): boolean {
  if (Array.isArray(k.type)) return (k.type as readonly string[]).includes(v as string);
  switch (k.type) {
    case 'integer':
      return Number.isInteger(v) && (v as number) >= (k.min ?? 0);
    case 'boolean':
      return typeof v === 'boolean';
    case 'map':
      return (
        typeof v === 'object' &&
        v !== null &&
        !Array.isArray(v) &&
        Object.values(v).every((x) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean')
      );
    default:
      return typeof v === 'string' && v !== '';
  }
}

/**
 * Checks one entry of `forward.targets` against {@link TARGET_KEYS}: exactly one of `loki`,
 * `syslog` and `splunk_hec`, no key of another kind or unknown, each value of its type.
 * @param where its place in the file, for messages (`config forward.targets[0]`)
 * @returns the target's kind
 * @throws Error with a message naming `where`, the key and what it takes (the caller wraps it)
 */
export function checkTargetKeys(t: unknown, where: string): TargetKind {
  const needs = '"loki: URL", "syslog: URL" or "splunk_hec: URL"';
  if (typeof t !== 'object' || t === null || Array.isArray(t))
    throw new Error(`${where}: a target is a map with ${needs}`);
  const o = t as Record<string, unknown>;
  const kinds = KINDS.filter((k) => k in o);
  if (kinds.length !== 1)
    throw new Error(`${where}: each target needs ${needs} (one of them), got ${JSON.stringify(Object.keys(o))}`);
  const kind = kinds[0];
  const keys = TARGET_KEYS.filter((k) => k.kind === kind);
  for (const [name, value] of Object.entries(o)) {
    const k = keys.find((x) => x.key === name);
    if (!k)
      throw new Error(
        `${where}: unknown key "${name}" for a ${kind} target (it takes: ` +
          `${keys.map((x) => x.key).join(', ')}; see docs/forward.md#configuration)`,
      );
    if (!valid(k, value)) throw new Error(`${where}.${name}: must be ${expected(k)}, got ${JSON.stringify(value)}`);
  }
  return kind;
}
