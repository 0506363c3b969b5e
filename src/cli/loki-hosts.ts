/**
 * `verify --against-loki URL --host H` and `--all-hosts`: each host's chain as stored in Loki,
 * with no local files (core/chain/anchors/host-chain.ts), one verdict per host and the most
 * severe exit code. Flags and environment → options; Loki's errors → exit codes.
 */
import { Errors } from '@oclif/core';
import { checkHostChain, type HostChainResult, type LokiHostsReport } from '../core/chain/anchors/host-chain.js';
import { SEVERITY } from '../core/chain/verdict.js';
import { parseTimeSpec, TimeSpecError } from '../core/query/time.js';
import { Exit, VERDICT_EXIT } from './exit-codes.js';
import { chosenTimeZone } from './filter-flags.js';
import { ForwardConfigError, lokiAuth, noCredentialsInUrl } from './forward-targets.js';

/** The flags read here. */
export interface LokiHostsFlags {
  'against-loki'?: string;
  host?: string;
  'all-hosts'?: boolean;
  tenant?: string;
  'loki-selector'?: string;
  since?: string;
  until?: string;
  'loki-entry-limit'?: number;
  'loki-max-query-length'?: string;
}

/** Default start of the range read: 90 days back (`--since`). */
const HOSTS_DEFAULT_SINCE_MS = 90 * 86_400_000;

function usage(message: string): never {
  throw new Errors.CLIError(message, { exit: Exit.usage });
}

/** Loki's refusal as forward's target exit codes: 401/403 credentials, 404 path, else unreachable. */
function lokiErrorExit(status: number | undefined): number {
  if (status === 401 || status === 403) return Exit.targetCredentials;
  if (status === 404) return Exit.targetPath;
  return Exit.targetUnreachable;
}

/**
 * Checks `--host H` (or every host Loki has for the selector, `--all-hosts`).
 * @param maxAgeMs `--max-age` in ms.
 * @throws CLIError: usage (2) for bad flags; io (3) when `--host` has no entry in the range;
 *   9 (unreachable, or an HTTP error), 15 (401/403), 16 (404) when Loki cannot be read.
 */
export async function verifyLokiHosts(
  flags: LokiHostsFlags,
  maxAgeMs: number | undefined,
  env: NodeJS.ProcessEnv = process.env,
  now = Date.now(),
): Promise<LokiHostsReport> {
  const url = flags['against-loki'];
  if (!url) usage('--host and --all-hosts check the chains stored in Loki: they need --against-loki URL');
  if (flags.host !== undefined && flags['all-hosts'])
    usage('--host H checks one host, --all-hosts every one: not both');
  if (flags.host === '') usage('--host needs a host name (the host label forward sent)');
  const { LokiQueryClient, LokiQueryError, promDurationMs, withLabel, DEFAULT_SELECTOR } =
    await import('../sinks/loki/query.js');
  try {
    noCredentialsInUrl(url, '--against-loki');
  } catch (err) {
    usage((err as Error).message);
  }
  let since = now - HOSTS_DEFAULT_SINCE_MS;
  // Loki holds nothing stamped later than now + creation_grace_period (10m).
  let until = now + 10 * 60_000;
  try {
    const zone = chosenTimeZone({}, env);
    if (flags.since) since = parseTimeSpec(flags.since, new Date(now), { zone }).getTime();
    if (flags.until) until = parseTimeSpec(flags.until, new Date(now), { end: true, zone }).getTime();
  } catch (err) {
    if (err instanceof TimeSpecError) usage(err.message);
    throw err;
  }
  if (since >= until)
    usage(`empty window: --since ${flags.since ?? '90d'} is not before --until ${flags.until ?? 'now'}`);
  let maxQueryLengthMs: number | undefined;
  if (flags['loki-max-query-length']) {
    const ms = promDurationMs(flags['loki-max-query-length'].trim());
    if (ms === null || ms <= 0)
      usage(`--loki-max-query-length ${flags['loki-max-query-length']}: not a duration (e.g. 720h, 30d, 1h30m)`);
    maxQueryLengthMs = ms;
  }
  const selector = flags['loki-selector'] ?? DEFAULT_SELECTOR;
  const startNs = BigInt(Math.floor(since)) * 1_000_000n;
  const endNs = BigInt(Math.ceil(until)) * 1_000_000n;
  const client = (sel: string) =>
    new LokiQueryClient({
      url,
      tenant: flags.tenant,
      auth: lokiAuth(undefined, undefined, undefined, env),
      selector: sel,
      pageSize: flags['loki-entry-limit'],
      maxQueryLengthMs,
    });
  try {
    const names = flags.host !== undefined ? [flags.host] : await client(selector).labelValues('host', startNs, endNs);
    if (names.length === 0)
      throw new Errors.CLIError(
        `no host label in Loki for ${selector} from ${new Date(since).toISOString()} ` +
          `to ${new Date(until).toISOString()}: nothing forwarded there`,
        { exit: Exit.io },
      );
    const hosts: LokiHostsReport['hosts'] = [];
    for (const host of names) {
      const r = await checkHostChain(host, client(withLabel(selector, 'host', host)), startNs, endNs, {
        maxAgeMs,
        now,
      });
      if (r.entries === 0 && flags.host !== undefined)
        throw new Errors.CLIError(
          `no entries of host ${JSON.stringify(host)} in Loki from ${new Date(since).toISOString()} ` +
            `to ${new Date(until).toISOString()} (selector ${selector})`,
          {
            exit: Exit.io,
            suggestions: ['every host that forwarded: loki-audit verify --against-loki URL --all-hosts'],
          },
        );
      hosts.push({ ...r, exitCode: VERDICT_EXIT[r.verdict] });
    }
    const summary = { intact: 0, tampered: 0, incomplete: 0, 'stale-head': 0 };
    for (const h of hosts) summary[h.verdict]++;
    const worst = hosts.reduce<HostChainResult['verdict']>(
      (w, h) => (SEVERITY.indexOf(h.verdict) < SEVERITY.indexOf(w) ? h.verdict : w),
      'intact',
    );
    const exitCode = VERDICT_EXIT[worst];
    return {
      url,
      since: new Date(since).toISOString(),
      until: new Date(until).toISOString(),
      hosts,
      summary,
      exitCode,
      ok: exitCode === Exit.ok,
    };
  } catch (err) {
    if (err instanceof LokiQueryError) throw new Errors.CLIError(err.message, { exit: lokiErrorExit(err.status) });
    if (err instanceof ForwardConfigError) usage(err.message);
    throw err;
  }
}
