/**
 * `verify`'s options from its flags and environment: the head anchors (`--expect-head`, signed
 * checkpoints read with their key, the copy forwarded to Loki), Loki Mode's retention setting,
 * `--start-hash`. The only place that reads verify's key files and `LOKI_AUDIT_*` variables.
 */
import { Errors } from '@oclif/core';
import { existsSync, readFileSync } from 'node:fs';
import {
  checkpointAnchors,
  CheckpointError,
  ed25519VerifyingKey,
  hmacKey,
  readCheckpoints,
} from '../core/chain/anchors/checkpoints.js';
import type { HeadAnchor } from '../core/chain/anchors/heads.js';
import type { CheckpointsChecked, VerifyDirectoryOptions, WitnessSummary } from '../core/chain/directory.js';
import type { Finding, Note } from '../core/chain/report.js';
import { discoverAuditFiles } from '../core/read/files.js';
import { Exit } from './exit-codes.js';
import { retentionFiles } from './loki-mode-env.js';
import { lokiStoreUrl, readLokiCheckpoints } from './checkpoint-store.js';

/** The verify flags read here. */
export interface VerifyFlags {
  'expect-head'?: string[];
  'start-hash'?: string;
  checkpoints?: string;
  'public-key'?: string;
  'hmac-key-file'?: string;
  'against-loki'?: string;
  tenant?: string;
  'loki-selector'?: string;
  since?: string;
  until?: string;
  'loki-timestamp'?: 'entry' | 'ingest';
  'loki-entry-limit'?: number;
  'loki-max-query-length'?: string;
  'retention-files'?: number;
  'max-line-bytes': number;
}

const HEX64 = /^[0-9a-f]{64}$/;

function usage(message: string): never {
  throw new Errors.CLIError(message, { exit: Exit.usage });
}

/**
 * Anchors, findings and notes from outside the chain, and the settings taken from the
 * environment.
 * @throws CLIError (usage, exit 2) for a bad hash, key or store; (io, exit 3) when Loki cannot be read.
 */
export async function verifyOptionsFromFlags(
  flags: VerifyFlags,
  dir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<
  Pick<VerifyDirectoryOptions, 'anchors' | 'anchorFindings' | 'extraNotes' | 'retentionFiles' | 'checkpoints'> & {
    startHash?: string;
    witness?: WitnessSummary;
  }
> {
  const startHash = flags['start-hash'];
  if (startHash !== undefined && !HEX64.test(startHash)) usage('--start-hash must be 64 lowercase hex digits');
  for (const h of flags['expect-head'] ?? [])
    if (!HEX64.test(h)) usage(`--expect-head ${h}: must be 64 lowercase hex digits`);
  const anchors: HeadAnchor[] = (flags['expect-head'] ?? []).map((hash) => ({ hash, source: '--expect-head' }));
  const anchorFindings: Finding[] = [];
  const extraNotes: Note[] = [];
  let checkpoints: CheckpointsChecked | undefined;
  let witness: WitnessSummary | undefined;
  if (flags.checkpoints) {
    const fromCheckpoints = await checkpointsFromFlags(flags.checkpoints, flags, env);
    anchors.push(...fromCheckpoints.anchors);
    anchorFindings.push(...fromCheckpoints.findings);
    checkpoints = fromCheckpoints.checked;
    if (checkpoints.checked === 0)
      extraNotes.push({
        kind: 'no-checkpoints',
        message:
          `checkpoint store ${flags.checkpoints} ` +
          (lokiStoreUrl(flags.checkpoints) || existsSync(flags.checkpoints)
            ? 'holds no checkpoint'
            : 'does not exist') +
          ': ' +
          `nothing outside the log was checked (write one with loki-audit checkpoint --key KEY --store ` +
          `${flags.checkpoints})`,
      });
  }
  if ((flags.since || flags.until || flags['loki-timestamp']) && !flags['against-loki'])
    usage('--since, --until and --loki-timestamp limit the comparison with Loki: they need --against-loki URL');
  if (flags['against-loki']) {
    const w = await compareWithLokiFromFlags(flags['against-loki'], flags, dir, env);
    anchorFindings.push(...w.findings);
    extraNotes.push(...w.notes);
    witness = {
      url: flags['against-loki'],
      local: w.local,
      inLoki: w.inLoki,
      matched: w.matched,
      duplicates: w.duplicates,
      ...w.counts,
    };
  }
  return {
    anchors,
    anchorFindings,
    extraNotes,
    checkpoints,
    retentionFiles: flags['retention-files'] ?? retentionFiles(env),
    startHash,
    witness,
  };
}

/**
 * The signed checkpoints of `store`, checked with the key of `--public-key` or `--hmac-key-file`,
 * and what the store held.
 */
async function checkpointsFromFlags(
  store: string,
  flags: VerifyFlags,
  env: NodeJS.ProcessEnv,
): Promise<ReturnType<typeof checkpointAnchors> & { checked: CheckpointsChecked }> {
  const publicKey = flags['public-key'];
  const hmacFile = flags['hmac-key-file'];
  if (!publicKey && !hmacFile) usage('--checkpoints needs --public-key FILE (Ed25519) or --hmac-key-file FILE');
  try {
    const key = publicKey ? ed25519VerifyingKey(readFileSync(publicKey)) : hmacKey(readFileSync(hmacFile as string));
    const stored = lokiStoreUrl(store) ? await readLokiCheckpoints(store, flags.tenant, env) : readCheckpoints(store);
    const r = checkpointAnchors(stored, key);
    const times = r.anchors.map((a) => a.where?.time).filter((t): t is string => typeof t === 'string');
    const newest = times.length ? times.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a)) : null;
    return { ...r, checked: { store, checked: stored.length, newest } };
  } catch (err) {
    if (err instanceof Errors.CLIError) throw err;
    if (err instanceof CheckpointError || (err as NodeJS.ErrnoException).code) usage((err as Error).message);
    throw err;
  }
}

/**
 * `--loki-max-query-length`: a Prometheus duration (`720h`, `30d`, `1h30m`), in ms.
 * @throws CLIError (usage) for anything else.
 */
function windowMs(text: string, parse: (t: string) => number | null): number {
  const ms = parse(text.trim());
  if (ms === null || ms <= 0)
    usage(`--loki-max-query-length ${text}: not a duration (e.g. 720h, 30d, 1h30m; Loki's max_query_length)`);
  return ms;
}

/** Loki as a witness: what was forwarded there and is not here (or changed here), and the reverse. */
async function compareWithLokiFromFlags(url: string, flags: VerifyFlags, dir: string, env: NodeJS.ProcessEnv) {
  // Loaded only here: the Loki client and the target configuration are not needed by a plain verify.
  const { compareWithCopy } = await import('../core/chain/anchors/witness.js');
  const { LokiQueryClient, LokiQueryError, promDurationMs } = await import('../sinks/loki/query.js');
  const { ForwardConfigError, lokiAuth, noCredentialsInUrl } = await import('./forward-targets.js');
  const { parseTimeSpec, TimeSpecError } = await import('../core/query/time.js');
  const { chosenTimeZone } = await import('./filter-flags.js');
  try {
    noCredentialsInUrl(url, '--against-loki');
  } catch (err) {
    usage((err as Error).message);
  }
  const now = new Date();
  let since: number | undefined;
  let until: number | undefined;
  try {
    const zone = chosenTimeZone({}, env);
    if (flags.since) since = parseTimeSpec(flags.since, now, { zone }).getTime();
    if (flags.until) until = parseTimeSpec(flags.until, now, { end: true, zone }).getTime();
  } catch (err) {
    if (err instanceof TimeSpecError) usage(err.message);
    throw err;
  }
  if (since !== undefined && until !== undefined && since >= until)
    usage(`empty window: --since ${flags.since} is not before --until ${flags.until}`);
  const maxQueryLengthMs = flags['loki-max-query-length']
    ? windowMs(flags['loki-max-query-length'], promDurationMs)
    : undefined;
  try {
    const copy = new LokiQueryClient({
      url,
      tenant: flags.tenant,
      auth: lokiAuth(undefined, undefined, undefined, env),
      selector: flags['loki-selector'],
      pageSize: flags['loki-entry-limit'],
      maxQueryLengthMs,
    });
    const found = await discoverAuditFiles(dir);
    const r = await compareWithCopy(
      found.files,
      copy,
      { since, until, timestamp: flags['loki-timestamp'] },
      flags['max-line-bytes'],
    );
    return r;
  } catch (err) {
    if (err instanceof LokiQueryError || err instanceof ForwardConfigError)
      throw new Errors.CLIError(err.message, { exit: Exit.io });
    throw err;
  }
}
