/**
 * Forward configuration from flags, environment and a config file (`.loki/config.yaml`).
 *
 * Precedence: flags, then the config file's `forward` section, then Loki Mode's own
 * environment (`LOKI_AUDIT_SYSLOG_HOST`, `_PORT`, `_PROTO`, spec §6.3). From Loki Mode's
 * `enterprise.audit` keys, `level` (minimum level) and `exclude_events` apply as filters.
 * Secrets (Loki password, bearer token) come only from the environment or from files, never
 * from argv, and are never printed.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { ForwardTarget } from '../core/forward/target.js';
import type { LokiAuth } from '../sinks/loki/client.js';
import { LokiConfigError } from '../sinks/loki/client.js';
import { LokiTarget } from '../sinks/loki/target.js';
import type { SyslogTarget } from '../sinks/syslog/target.js';
import { FACILITIES } from '../formats/syslog.js';
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
  labels?: Record<string, string>;
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

/** What the config file may hold. */
export interface ConfigFile {
  enterprise?: { audit?: { level?: string; exclude_events?: string[]; syslog_enabled?: boolean } };
  forward?: {
    dir?: string;
    state?: string;
    dead_letter?: string;
    targets?: Array<LokiSection | SyslogSection | SplunkHecSection>;
  };
}

/**
 * Reads the config file: `path` if given (must exist), else `.loki/config.yaml` in the
 * current directory if present.
 * @throws ForwardConfigError
 */
export async function loadConfigFile(path: string | undefined): Promise<ConfigFile> {
  const file = path ?? (existsSync('.loki/config.yaml') ? '.loki/config.yaml' : null);
  if (!file) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ForwardConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  // Loaded only when there is a config file (the YAML parser costs every run memory).
  const { parse: parseYaml } = await import('yaml');
  try {
    const doc = parseYaml(text) as ConfigFile | null;
    return doc ?? {};
  } catch (err) {
    throw new ForwardConfigError(`config file ${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
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
      `${what}: credentials in a URL would show in process lists and logs: use LOKI_AUDIT_LOKI_USERNAME/PASSWORD, LOKI_AUDIT_LOKI_TOKEN or the *-file flags`,
    );
}

/**
 * Builds the targets. The syslog sink (and with it TLS, UDP) is loaded only for a syslog target.
 * @throws ForwardConfigError (also for what the sinks refuse: bad URL, label, certificate file)
 */
export async function buildTargets(
  flags: TargetFlags,
  config: ConfigFile,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ForwardTarget[]> {
  try {
    return await buildWith(flags, config, env);
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
          { facility: facility(flags.facility), hostname: flags.hostname },
          flags['batch-entries'],
        ),
      );
    }
    if (flags['splunk-hec'])
      targets.push(
        await splunkHecTarget(
          '--splunk-hec',
          {
            url: flags['splunk-hec'],
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
        ),
      );
    return targets;
  }
  for (const [i, t] of (config.forward?.targets ?? []).entries()) {
    if ('loki' in t && t.loki) {
      noCredentialsInUrl(t.loki, `config forward.targets[${i}].loki`);
      targets.push(
        new LokiTarget(
          {
            url: t.loki,
            tenant: t.tenant,
            labels: t.labels,
            auth: lokiAuth(t.username, t.password_file, t.bearer_token_file, env),
            reloadAuth: () => lokiAuth(t.username, t.password_file, t.bearer_token_file, env),
            timeoutMs: t.timeout_ms,
            timestampMode: t.timestamp,
          },
          { entries: t.batch_entries, bytes: t.batch_bytes },
        ),
      );
    } else if ('syslog' in t && t.syslog) {
      noCredentialsInUrl(t.syslog, `config forward.targets[${i}].syslog`);
      targets.push(
        await syslogTarget(
          {
            url: t.syslog,
            framing: t.framing,
            ca: t.ca && expand(t.ca),
            cert: t.cert && expand(t.cert),
            key: t.key && expand(t.key),
            servername: t.servername,
          },
          { facility: facility(t.facility), hostname: t.hostname },
        ),
      );
    } else if ('splunk_hec' in t && t.splunk_hec) {
      targets.push(
        await splunkHecTarget(
          `config forward.targets[${i}].splunk_hec`,
          {
            url: t.splunk_hec,
            tokenFile: t.token_file,
            index: t.index,
            sourcetype: t.sourcetype,
            ack: t.ack === true,
            channel: t.channel,
            ca: t.ca,
            timeoutMs: t.timeout_ms,
            ackTimeoutMs: t.ack_timeout_ms,
          },
          env,
          { entries: t.batch_entries, bytes: t.batch_bytes },
        ),
      );
    } else {
      throw new ForwardConfigError(
        `config forward.targets: each target needs "loki: URL", "syslog: URL" or "splunk_hec: URL", got ${JSON.stringify(Object.keys(t))}`,
      );
    }
  }
  if (targets.length) return targets;
  // Loki Mode's own Splunk HEC settings (spec §11): the URL's presence enables it.
  const hecUrl = splunkHecEnv(env).url;
  if (hecUrl)
    targets.push(
      await splunkHecTarget(
        'LOKI_SPLUNK_HEC_URL',
        {
          url: hecUrl,
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
      ),
    );
  // Loki Mode's own syslog settings (spec §6.3): anything but "tcp" means UDP.
  if (env.LOKI_AUDIT_SYSLOG_HOST) {
    const proto = env.LOKI_AUDIT_SYSLOG_PROTO === 'tcp' ? 'tcp' : 'udp';
    const port = env.LOKI_AUDIT_SYSLOG_PORT || '514';
    noCredentialsInUrl(`${proto}://${env.LOKI_AUDIT_SYSLOG_HOST}:${port}`, 'LOKI_AUDIT_SYSLOG_HOST');
    targets.push(
      await syslogTarget(
        { url: `${proto}://${env.LOKI_AUDIT_SYSLOG_HOST}:${port}`, framing: flags.framing },
        { facility: facility(flags.facility) },
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
