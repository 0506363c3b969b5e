/**
 * `search` and `summary` over Grafana Loki (`--from-loki URL`): the flags, the LogQL query made
 * from the filter (core/query/logql.ts), the query client (the witness's paged reader,
 * src/sinks/loki/query.ts) with forward's credentials (LOKI_AUDIT_LOKI_USERNAME, _PASSWORD,
 * _TOKEN, or the `--loki-*-file` flags: never on the command line), and Loki's failures as
 * forward's exit codes (9 unreachable, 15 credentials, 16 path, 18 refused, 20 TLS trust).
 */
import { Errors, Flags } from '@oclif/core';
import { Exit } from './exit-codes.js';
import { pathFlag } from './paths.js';
import type { FilterSpec } from '../core/query/filters.js';
import type { ForwardedCopy } from '../core/chain/anchors/witness.js';
import { filterToLogQL } from '../core/query/logql.js';

const group = 'LOKI';

/** The flags of a command that reads Loki instead of a directory. */
export const lokiSourceFlags = {
  'from-loki': Flags.string({
    summary:
      'Read the entries `forward` sent to this Loki (base URL) ' +
      'instead of a directory: the same filters, as a LogQL query.',
    helpGroup: group,
  }),
  'print-logql': Flags.boolean({
    summary: 'Print the LogQL query the filters make (for Grafana) and exit 0, querying nothing.',
    helpGroup: group,
  }),
  host: Flags.string({
    multiple: true,
    summary: 'With --from-loki: only entries forwarded from this host (the host label; glob, comma list).',
    helpGroup: group,
  }),
  tenant: Flags.string({ summary: 'With --from-loki: Loki tenant (X-Scope-OrgID).', helpGroup: group }),
  'loki-selector': Flags.string({
    summary: 'With --from-loki: base stream selector (default {service_name="loki-audit"}).',
    helpGroup: group,
  }),
  'loki-timestamp': Flags.option({
    options: ['entry', 'ingest'] as const,
    summary:
      'With --from-loki: how forward stamped the entries (its --timestamp): ' +
      "entry (default) or ingest (Loki's time is the delivery time).",
    helpGroup: group,
  })(),
  'loki-entry-limit': Flags.integer({
    summary: "With --from-loki: entries per query (Loki's max_entries_limit_per_query, default 5000).",
    min: 1,
    helpGroup: group,
  }),
  'loki-max-query-length': Flags.string({
    summary: "With --from-loki: longest time range per query (Loki's max_query_length, default 720h).",
    helpGroup: group,
  }),
  'loki-username': Flags.string({
    summary: 'With --from-loki: basic auth user (password from LOKI_AUDIT_LOKI_PASSWORD or --loki-password-file).',
    helpGroup: group,
  }),
  'loki-password-file': pathFlag({ summary: 'File holding the basic auth password.', helpGroup: group }),
  'loki-token-file': pathFlag({ summary: 'File holding a bearer token (or LOKI_AUDIT_LOKI_TOKEN).', helpGroup: group }),
};

export interface LokiSourceFlags {
  'from-loki'?: string;
  'print-logql'?: boolean;
  host?: string[];
  tenant?: string;
  'loki-selector'?: string;
  'loki-timestamp'?: 'entry' | 'ingest';
  'loki-entry-limit'?: number;
  'loki-max-query-length'?: string;
  'loki-username'?: string;
  'loki-password-file'?: string;
  'loki-token-file'?: string;
}

const NEEDS_URL = [
  'host',
  'tenant',
  'loki-selector',
  'loki-timestamp',
  'loki-entry-limit',
  'loki-max-query-length',
  'loki-username',
  'loki-password-file',
  'loki-token-file',
] as const;

function usage(message: string): never {
  throw new Errors.CLIError(message, { exit: Exit.usage });
}

/** Where search or summary reads: Loki (with its query), or, when null, the directory. */
export interface LokiSource {
  url: string;
  /** The LogQL log query sent (and printed by `--print-logql`). */
  query: string;
  copy: ForwardedCopy;
  timestamp?: 'entry' | 'ingest';
}

/** `--host a,b --host c` as globs. */
function hostGlobs(hosts: string[] | undefined): string[] | undefined {
  const list = hosts?.flatMap((h) => h.split(',').map((p) => p.trim())).filter((p) => p !== '');
  return list?.length ? list : undefined;
}

/**
 * The LogQL query of `spec` with the Loki flags (selector, hosts).
 * @throws CLIError (usage) for a selector that is not one.
 */
export async function logqlFromFlags(spec: FilterSpec, flags: LokiSourceFlags): Promise<string> {
  const { FilterError } = await import('../core/query/filters.js');
  try {
    return filterToLogQL(spec, { selector: flags['loki-selector'], hosts: hostGlobs(flags.host) });
  } catch (err) {
    if (err instanceof FilterError) usage(err.message);
    throw err;
  }
}

/**
 * Loki as the source of entries, when `--from-loki` is given; null otherwise (the directory).
 * The Loki client and forward's credential reading are loaded only then.
 * @throws CLIError: usage (2) for a Loki flag without --from-loki, credentials in the URL or a
 *   bad duration; usage for credentials that cannot be read (as forward).
 */
export async function lokiSourceFromFlags(
  spec: FilterSpec,
  flags: LokiSourceFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LokiSource | null> {
  const url = flags['from-loki'];
  if (url === undefined) {
    const stray = NEEDS_URL.find((n) => flags[n] !== undefined);
    if (stray) usage(`--${stray} is for reading Loki: it needs --from-loki URL`);
    return null;
  }
  const { LokiQueryClient, promDurationMs } = await import('../sinks/loki/query.js');
  const { ForwardConfigError, lokiAuth, noCredentialsInUrl } = await import('./forward-targets.js');
  const query = await logqlFromFlags(spec, flags);
  let maxQueryLengthMs: number | undefined;
  if (flags['loki-max-query-length'] !== undefined) {
    const ms = promDurationMs(flags['loki-max-query-length'].trim());
    if (ms === null || ms <= 0)
      usage(
        `--loki-max-query-length ${flags['loki-max-query-length']}: ` +
          `not a duration (e.g. 720h, 30d, 1h30m; Loki's max_query_length)`,
      );
    maxQueryLengthMs = ms;
  }
  try {
    noCredentialsInUrl(url, '--from-loki');
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') usage(`--from-loki must be an http(s) URL: ${url}`);
  } catch (err) {
    if (err instanceof Errors.CLIError) throw err;
    usage(err instanceof ForwardConfigError ? err.message : `--from-loki: not a URL: ${url}`);
  }
  let auth;
  try {
    auth = lokiAuth(flags['loki-username'], flags['loki-password-file'], flags['loki-token-file'], env);
  } catch (err) {
    if (err instanceof ForwardConfigError) usage(err.message);
    throw err;
  }
  const copy = new LokiQueryClient({
    url,
    tenant: flags.tenant,
    auth,
    selector: query,
    pageSize: flags['loki-entry-limit'],
    maxQueryLengthMs,
  });
  return { url, query, copy, timestamp: flags['loki-timestamp'] };
}

/** Forward's exit code for each way a Loki query fails (src/sinks/loki/query.ts). */
const FAILURE_EXIT = {
  unreachable: Exit.targetUnreachable,
  credentials: Exit.targetCredentials,
  path: Exit.targetPath,
  'tls-trust': Exit.targetTlsTrust,
  refused: Exit.targetRefused,
} as const;

/**
 * `items` with a Loki query failure turned into a CLIError with forward's exit code for it
 * (`loki-audit: error: Loki answered HTTP 401: …`, exit 15).
 */
export async function* lokiFailuresAsExit<T>(items: AsyncIterable<T>): AsyncGenerator<T> {
  const { LokiQueryError } = await import('../sinks/loki/query.js');
  try {
    yield* items;
  } catch (err) {
    if (err instanceof LokiQueryError)
      throw new Errors.CLIError(err.message, { exit: FAILURE_EXIT[err.failure] ?? Exit.targetRefused });
    throw err;
  }
}
