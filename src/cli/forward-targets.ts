/**
 * Forward configuration from flags, environment and the config files (src/cli/config.ts).
 *
 * Which targets: `--loki`/`--syslog` flags, else the config file's `forward.targets`, else Loki
 * Mode's own environment (`LOKI_AUDIT_SYSLOG_HOST`, `_PORT`, `_PROTO`, spec §6.3). The settings of
 * a config-file target: each flag given wins over its key for every target of the flag's kind,
 * then the key, then the default (the keys: forward-config-keys.ts, docs/forward.md). From Loki Mode's
 * `enterprise.audit` keys, `level` (minimum level) and `exclude_events` apply as filters.
 * Secrets (Loki password, bearer token) come only from the environment or from files, never
 * from argv, and are never printed.
 */
import { readFileSync } from 'node:fs';
import type { ForwardTarget } from '../core/forward/target.js';
import type { LokiAuth } from '../sinks/loki/client.js';
import { LokiConfigError } from '../sinks/loki/client.js';
import { LokiTarget } from '../sinks/loki/target.js';
import type { SyslogTarget } from '../sinks/syslog/target.js';
import { FACILITIES } from '../formats/syslog.js';
import { checkTargetKeys, type TargetKind } from './forward-config-keys.js';
import { cefDevice } from './loki-mode-env.js';
import { expandPath as expand } from './paths.js';
import { splunkHecEnv } from './loki-mode-env.js';
import type { HecTargetConfig } from '../sinks/splunk/target.js';

/** A configuration problem, reported as a usage error. */
export class ForwardConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForwardConfigError';
  }
}

interface LokiSection {
  loki: string;
  tenant?: string;
  labels?: Record<string, string | number | boolean>;
  username?: string;
  password_file?: string;
  bearer_token_file?: string;
  timeout_ms?: number;
  timestamp?: 'entry' | 'ingest';
  batch_entries?: number;
  batch_bytes?: number;
}
interface SyslogSection {
  syslog: string;
  framing?: 'octet-counting' | 'lf';
  ca?: string;
  cert?: string;
  key?: string;
  servername?: string;
  facility?: string;
  hostname?: string;
  timeout_ms?: number;
  batch_entries?: number;
  /** rfc5424 (default), rfc3164, cef, leef: as `--syslog-format`. */
  format?: string;
}

/** A Splunk HEC target of the config file (token from `token_file` or LOKI_SPLUNK_HEC_TOKEN). */
interface SplunkHecSection {
  splunk_hec: string;
  token_file?: string;
  index?: string;
  sourcetype?: string;
  ack?: boolean;
  channel?: string;
  ca?: string;
  timeout_ms?: number;
  ack_timeout_ms?: number;
  batch_entries?: number;
  batch_bytes?: number;
}

/**
 * `--syslog-format` / a syslog target's `format:` (Loki Mode's `enterprise.siem.syslog.format`
 * has the first two, spec §11).
 */
export const SYSLOG_FORMATS = ['rfc5424', 'rfc3164', 'cef', 'leef'] as const;
export type SyslogFormat = (typeof SYSLOG_FORMATS)[number];

/** What the config file may hold. */
export interface ConfigFile {
  enterprise?: {
    audit?: { level?: string; exclude_events?: string[]; syslog_enabled?: boolean };
    /** Loki Mode's syslog settings (spec §11): a target when nothing else names one. */
    siem?: {
      syslog?: {
        host?: string;
        port?: number;
        protocol?: 'udp' | 'tcp';
        facility?: string;
        format?: 'rfc5424' | 'rfc3164';
      };
    };
  };
  forward?: {
    dir?: string;
    state?: string;
    dead_letter?: string;
    targets?: Array<LokiSection | SyslogSection | SplunkHecSection>;
  };
}

function readSecret(
  what: string,
  file: string | undefined,
  envName: string,
  env: NodeJS.ProcessEnv,
): string | undefined {
  if (file) {
    try {
      return readFileSync(expand(file), 'utf8').trim();
    } catch (err) {
      throw new ForwardConfigError(
        `cannot read ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  }
  const v = env[envName];
  return v ? v : undefined;
}

/** Flags that shape targets. */
export interface TargetFlags {
  loki?: string[];
  syslog?: string[];
  tenant?: string;
  label?: string[];
  'loki-username'?: string;
  'loki-password-file'?: string;
  'loki-token-file'?: string;
  timeout?: number;
  timestamp?: 'entry' | 'ingest';
  'batch-entries'?: number;
  'batch-bytes'?: number;
  framing?: 'octet-counting' | 'lf';
  ca?: string;
  cert?: string;
  key?: string;
  facility?: string;
  hostname?: string;
  'splunk-hec'?: string;
  'splunk-hec-token-file'?: string;
  'splunk-hec-index'?: string;
  'splunk-hec-sourcetype'?: string;
  'splunk-hec-ack'?: boolean;
  'splunk-hec-channel'?: string;
  'syslog-format'?: SyslogFormat;
  /** loki-audit's version: CEF/LEEF Device Version. */
  version?: string;
}

function parseLabels(list: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list ?? []) {
    const eq = l.indexOf('=');
    if (eq <= 0) throw new ForwardConfigError(`--label needs NAME=VALUE, got "${l}"`);
    out[l.slice(0, eq)] = l.slice(eq + 1);
  }
  return out;
}

/** A YAML map's values as strings (`env: prod`, `shard: 3`). */
function stringValues(m: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m ?? {})) out[k] = String(v);
  return out;
}

/**
 * A config-file Loki target's credentials with the flags over them. The two kinds replace each
 * other: a token flag drops the file's basic auth keys, a basic auth flag drops its token file
 * (else flag and key together would be "both kinds", an error); within a kind, key by key.
 */
function lokiAuthSettings(
  flags: TargetFlags,
  t: LokiSection,
): { username?: string; passwordFile?: string; tokenFile?: string } {
  const basicFlag = flags['loki-username'] !== undefined || flags['loki-password-file'] !== undefined;
  const tokenFlag = flags['loki-token-file'] !== undefined;
  return {
    username: flags['loki-username'] ?? (tokenFlag ? undefined : t.username),
    passwordFile: flags['loki-password-file'] ?? (tokenFlag ? undefined : t.password_file),
    tokenFile: flags['loki-token-file'] ?? (basicFlag ? undefined : t.bearer_token_file),
  };
}

export function lokiAuth(
  username: string | undefined,
  passwordFile: string | undefined,
  tokenFile: string | undefined,
  env: NodeJS.ProcessEnv,
): LokiAuth {
  const password = readSecret('Loki password', passwordFile, 'LOKI_AUDIT_LOKI_PASSWORD', env);
  const token = readSecret('Loki bearer token', tokenFile, 'LOKI_AUDIT_LOKI_TOKEN', env);
  const user = username ?? env.LOKI_AUDIT_LOKI_USERNAME;
  if (token && (user || password))
    throw new ForwardConfigError(
      'basic auth (username/password) and a bearer token are mutually exclusive: configure one',
    );
  if (token) return { kind: 'bearer', token };
  if (user || password) {
    if (!user || !password)
      throw new ForwardConfigError(
        'basic auth needs both a username and a password (LOKI_AUDIT_LOKI_PASSWORD or --loki-password-file)',
      );
    return { kind: 'basic', username: user, password };
  }
  return { kind: 'none' };
}

// What the WHATWG URL parser drops before parsing: leading and trailing C0 controls and spaces,
// and every tab and newline (URL Standard, basic URL parser, steps 1-3).
// eslint-disable-next-line no-control-regex
const URL_TRIM = /^[\u0000-\u0020]+|[\u0000-\u0020]+$|[\t\n\r]/g;
// An `@` before the path, query or fragment, however many slashes (or none, or backslashes) follow
// the scheme: userinfo as the URL parser of any scheme, or a lax hand-written one, could read it.
const USERINFO = /^[a-z][a-z0-9+.-]*:[\\/]*[^/\\?#]*@/i;

/**
 * Refuses a target URL that carries a user name or password: it would show in process lists,
 * shell history and logs. Read as the WHATWG URL parser (`new URL`, what the Loki client and
 * fetch use) reads it, so `http:/u:pw@host`, `http:\\u:pw@host`, `http:u:pw@host`, a tab inside
 * the text or leading spaces hide nothing; a text it does not read as having credentials but
 * with an `@` before its path (`tcp:/u:pw@host`) is refused as well. The message never repeats
 * the URL.
 * @param what where the URL came from (`--loki`, `config forward.targets[0].syslog`)
 * @throws ForwardConfigError
 */
export function noCredentialsInUrl(url: string, what: string): void {
  let credentials = false;
  try {
    const u = new URL(url);
    credentials = u.username !== '' || u.password !== '';
  } catch {
    // Not a URL to the WHATWG parser: the lax test below still applies.
  }
  if (credentials || USERINFO.test(url.replace(URL_TRIM, '')))
    throw new ForwardConfigError(
      `${what}: credentials in a URL would show in process lists and logs: use ` +
        `LOKI_AUDIT_LOKI_USERNAME/PASSWORD, LOKI_AUDIT_LOKI_TOKEN or the *-file flags`,
    );
}

/**
 * Builds the targets. The syslog sink (and with it TLS, UDP) is loaded only for a syslog target.
 * @throws ForwardConfigError (also for what the sinks refuse: bad URL, label, certificate file;
 *   and for two targets with one id, e.g. file targets a flag made alike)
 */
export async function buildTargets(
  flags: TargetFlags,
  config: ConfigFile,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ForwardTarget[]> {
  try {
    const targets = await buildWith(flags, config, env);
    // Two targets with one id would share a position (and get every entry twice).
    for (const [i, a] of targets.entries()) {
      const j = targets.findIndex((b, k) => k > i && b.id === a.id);
      if (j >= 0) {
        await Promise.all(targets.map((x) => x.close()));
        throw new ForwardConfigError(
          `${flags.loki?.length || flags.syslog?.length ? 'targets' : 'config forward.targets'}[${i}] ` +
            `and [${j}] are the same target (${a.id}) once the flags apply: give each its own URL or tenant`,
        );
      }
    }
    return targets;
  } catch (err) {
    if (err instanceof LokiConfigError) throw new ForwardConfigError(err.message);
    throw err;
  }
}

/**
 * A Splunk HEC target, the sink loaded on first use: the token from its file or
 * LOKI_SPLUNK_HEC_TOKEN (read again after HEC refuses it), index and sourcetype defaulting to
 * LOKI_SPLUNK_HEC_INDEX and LOKI_SPLUNK_HEC_SOURCETYPE, the CA file read here.
 * @throws ForwardConfigError
 */
async function splunkHecTarget(
  what: string,
  config: Omit<HecTargetConfig, 'token' | 'ca'> & { tokenFile?: string; ca?: string },
  env: NodeJS.ProcessEnv,
  batch: { entries?: number; bytes?: number },
): Promise<ForwardTarget> {
  noCredentialsInUrl(config.url, what);
  const hec = splunkHecEnv(env);
  const token = () => readSecret('Splunk HEC token', config.tokenFile, 'LOKI_SPLUNK_HEC_TOKEN', env);
  const first = token();
  if (!first)
    throw new ForwardConfigError(
      `${what}: no HEC token: set LOKI_SPLUNK_HEC_TOKEN or give --splunk-hec-token-file FILE`,
    );
  let ca: Buffer | undefined;
  if (config.ca) {
    try {
      ca = readFileSync(expand(config.ca));
    } catch (err) {
      throw new ForwardConfigError(
        `cannot read CA file ${config.ca}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  }
  const sink = await import('../sinks/splunk/target.js');
  const { HecConfigError } = await import('../sinks/splunk/client.js');
  try {
    return new sink.HecTarget(
      {
        ...config,
        index: config.index ?? hec.index,
        sourcetype: config.sourcetype ?? hec.sourcetype,
        token: first,
        reloadToken: () => token() ?? first,
        ca,
      },
      batch,
    );
  } catch (err) {
    if (err instanceof HecConfigError) throw new ForwardConfigError(`${what}: ${err.message}`);
    throw err;
  }
}

/** A Splunk HEC target at `url` (from `--splunk-hec` or LOKI_SPLUNK_HEC_URL) with the flags' settings. */
function hecTargetFromFlags(
  what: string,
  url: string,
  flags: TargetFlags,
  env: NodeJS.ProcessEnv,
): Promise<ForwardTarget> {
  return splunkHecTarget(
    what,
    {
      url,
      tokenFile: flags['splunk-hec-token-file'],
      index: flags['splunk-hec-index'],
      sourcetype: flags['splunk-hec-sourcetype'],
      ack: flags['splunk-hec-ack'],
      channel: flags['splunk-hec-channel'],
      ca: flags.ca,
      timeoutMs: flags.timeout,
    },
    env,
    { entries: flags['batch-entries'], bytes: flags['batch-bytes'] },
  );
}

/** A syslog target, the sink loaded on first use; what it refuses becomes a ForwardConfigError. */
async function syslogTarget(...args: ConstructorParameters<typeof SyslogTarget>): Promise<ForwardTarget> {
  const sink = await import('../sinks/syslog/target.js');
  try {
    return new sink.SyslogTarget(...args);
  } catch (err) {
    if (err instanceof sink.SyslogConfigError) throw new ForwardConfigError(err.message);
    throw err;
  }
}

async function buildWith(flags: TargetFlags, config: ConfigFile, env: NodeJS.ProcessEnv): Promise<ForwardTarget[]> {
  const targets: ForwardTarget[] = [];
  const facility = (name: string | undefined) => {
    if (!name) return undefined;
    const f = FACILITIES[name];
    if (f === undefined) throw new ForwardConfigError(`unknown syslog facility "${name}"`);
    return f;
  };
  const syslogFormat = (name: string | undefined, what: string) => {
    if (name === undefined) return undefined;
    if (!(SYSLOG_FORMATS as readonly string[]).includes(name))
      throw new ForwardConfigError(`${what}: unknown syslog format "${name}" (${SYSLOG_FORMATS.join(', ')})`);
    return name as SyslogFormat;
  };
  // LOKI_CEF_VENDOR / LOKI_CEF_PRODUCT (spec §11), for the cef and leef formats.
  const device = { ...cefDevice(env), version: flags.version ?? '0.0.0' };
  const fromFlags = (flags.loki?.length ?? 0) + (flags.syslog?.length ?? 0) > 0 || !!flags['splunk-hec'];
  if (fromFlags) {
    for (const url of flags.loki ?? []) {
      noCredentialsInUrl(url, '--loki');
      targets.push(
        new LokiTarget(
          {
            url,
            tenant: flags.tenant,
            labels: parseLabels(flags.label),
            auth: lokiAuth(flags['loki-username'], flags['loki-password-file'], flags['loki-token-file'], env),
            reloadAuth: () =>
              lokiAuth(flags['loki-username'], flags['loki-password-file'], flags['loki-token-file'], env),
            timeoutMs: flags.timeout,
            timestampMode: flags.timestamp,
          },
          { entries: flags['batch-entries'], bytes: flags['batch-bytes'] },
        ),
      );
    }
    for (const url of flags.syslog ?? []) {
      noCredentialsInUrl(url, '--syslog');
      targets.push(
        await syslogTarget(
          { url, framing: flags.framing, ca: flags.ca, cert: flags.cert, key: flags.key, timeoutMs: flags.timeout },
          { facility: facility(flags.facility), hostname: flags.hostname, layout: flags['syslog-format'], device },
          flags['batch-entries'],
        ),
      );
    }
    if (flags['splunk-hec']) targets.push(await hecTargetFromFlags('--splunk-hec', flags['splunk-hec'], flags, env));
    return targets;
  }
  // Targets of the config file: each flag given wins over its key, for every target of its kind
  // (--tenant for every Loki target, --framing for every syslog one); --label adds labels (a
  // name given in both takes the flag's value). docs/forward.md#configuration.
  const flagLabels = parseLabels(flags.label);
  const fileTargets: unknown = config.forward?.targets ?? [];
  if (!Array.isArray(fileTargets)) throw new ForwardConfigError('config forward.targets: must be a list of targets');
  for (const [i, raw] of fileTargets.entries()) {
    const where = `config forward.targets[${i}]`;
    let kind: TargetKind;
    try {
      kind = checkTargetKeys(raw, where);
    } catch (err) {
      throw new ForwardConfigError((err as Error).message);
    }
    if (kind === 'loki') {
      const t = raw as LokiSection;
      noCredentialsInUrl(t.loki, `${where}.loki`);
      const auth = lokiAuthSettings(flags, t);
      const labels = { ...stringValues(t.labels), ...flagLabels };
      targets.push(
        new LokiTarget(
          {
            url: t.loki,
            tenant: flags.tenant ?? t.tenant,
            labels,
            auth: lokiAuth(auth.username, auth.passwordFile, auth.tokenFile, env),
            reloadAuth: () => lokiAuth(auth.username, auth.passwordFile, auth.tokenFile, env),
            timeoutMs: flags.timeout ?? t.timeout_ms,
            timestampMode: flags.timestamp ?? t.timestamp,
          },
          { entries: flags['batch-entries'] ?? t.batch_entries, bytes: flags['batch-bytes'] ?? t.batch_bytes },
        ),
      );
    } else if (kind === 'syslog') {
      const t = raw as SyslogSection;
      noCredentialsInUrl(t.syslog, `${where}.syslog`);
      const path = (flag: string | undefined, key: string | undefined) => flag ?? (key && expand(key));
      targets.push(
        await syslogTarget(
          {
            url: t.syslog,
            framing: flags.framing ?? t.framing,
            ca: path(flags.ca, t.ca),
            cert: path(flags.cert, t.cert),
            key: path(flags.key, t.key),
            servername: t.servername,
            timeoutMs: flags.timeout ?? t.timeout_ms,
          },
          {
            facility: facility(flags.facility ?? t.facility),
            hostname: flags.hostname ?? t.hostname,
            layout: flags['syslog-format'] ?? syslogFormat(t.format, `${where}.format`),
            device,
          },
          flags['batch-entries'] ?? t.batch_entries,
        ),
      );
    } else {
      const t = raw as SplunkHecSection;
      targets.push(
        await splunkHecTarget(
          `${where}.splunk_hec`,
          {
            url: t.splunk_hec,
            tokenFile: flags['splunk-hec-token-file'] ?? t.token_file,
            index: flags['splunk-hec-index'] ?? t.index,
            sourcetype: flags['splunk-hec-sourcetype'] ?? t.sourcetype,
            ack: flags['splunk-hec-ack'] === true || t.ack === true,
            channel: flags['splunk-hec-channel'] ?? t.channel,
            ca: flags.ca ?? t.ca,
            timeoutMs: flags.timeout ?? t.timeout_ms,
            ackTimeoutMs: t.ack_timeout_ms,
          },
          env,
          { entries: flags['batch-entries'] ?? t.batch_entries, bytes: flags['batch-bytes'] ?? t.batch_bytes },
        ),
      );
    }
  }
  if (targets.length) return targets;
  // Loki Mode's own Splunk HEC settings (spec §11): the URL's presence enables it.
  const hecUrl = splunkHecEnv(env).url;
  if (hecUrl) targets.push(await hecTargetFromFlags('LOKI_SPLUNK_HEC_URL', hecUrl, flags, env));
  // Loki Mode's own syslog settings (spec §6.3): anything but "tcp" means UDP.
  if (env.LOKI_AUDIT_SYSLOG_HOST) {
    const proto = env.LOKI_AUDIT_SYSLOG_PROTO === 'tcp' ? 'tcp' : 'udp';
    const port = env.LOKI_AUDIT_SYSLOG_PORT || '514';
    noCredentialsInUrl(`${proto}://${env.LOKI_AUDIT_SYSLOG_HOST}:${port}`, 'LOKI_AUDIT_SYSLOG_HOST');
    targets.push(
      await syslogTarget(
        {
          url: `${proto}://${env.LOKI_AUDIT_SYSLOG_HOST}:${port}`,
          framing: flags.framing,
          timeoutMs: flags.timeout,
        },
        { facility: facility(flags.facility), hostname: flags.hostname, layout: flags['syslog-format'], device },
        flags['batch-entries'],
      ),
    );
  }
  // Loki Mode's `.loki/config.yaml` `enterprise.siem.syslog` (spec §11), below its environment:
  // UDP unless `protocol: tcp`, port 514, as LOKI_AUDIT_SYSLOG_* (spec §6.3).
  const siem = config.enterprise?.siem?.syslog;
  if (targets.length === 0 && siem?.host) {
    const url = `${siem.protocol === 'tcp' ? 'tcp' : 'udp'}://${siem.host}:${siem.port ?? 514}`;
    noCredentialsInUrl(url, 'config enterprise.siem.syslog.host');
    targets.push(
      await syslogTarget(
        { url, framing: flags.framing, timeoutMs: flags.timeout },
        {
          facility: facility(flags.facility ?? siem.facility),
          hostname: flags.hostname,
          layout: flags['syslog-format'] ?? siem.format,
          device,
        },
        flags['batch-entries'],
      ),
    );
  }
  return targets;
}

/** Filters from Loki Mode's `enterprise.audit` keys that apply to forwarding. */
export function auditKeysFilter(config: ConfigFile): { level?: string; excludeEvents?: string[] } {
  const a = config.enterprise?.audit ?? {};
  return { level: a.level, excludeEvents: Array.isArray(a.exclude_events) ? a.exclude_events.map(String) : undefined };
}
