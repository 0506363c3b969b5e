/**
 * Where checkpoints are kept: a directory (`--store DIR`, `--checkpoints DIR`), or Loki, written
 * `loki://HOST:PORT[/PATH]` (plain HTTP) or `loki+https://HOST:PORT[/PATH]` (the Loki base URL
 * with its scheme replaced, so a store is one value in both commands). Credentials as forward
 * takes them (LOKI_AUDIT_LOKI_TOKEN, or LOKI_AUDIT_LOKI_USERNAME/PASSWORD), never in the URL.
 * Loki's errors become forward's target exit codes (9 unreachable, 15 credentials, 16 path).
 */
import { Errors, Flags } from '@oclif/core';
import { parseCheckpoint, type Checkpoint } from '../core/chain/anchors/checkpoints.js';
import { Exit } from './exit-codes.js';
import { expandPath } from './paths.js';
import { ForwardConfigError, lokiAuth, noCredentialsInUrl } from './forward-targets.js';

/** The Loki base URL of a `loki://` or `loki+https://` store, else null (a directory). */
export function lokiStoreUrl(store: string): string | null {
  const m = /^loki(\+https)?:\/\/(.+)$/i.exec(store);
  return m ? `${m[1] ? 'https' : 'http'}://${m[2]}` : null;
}

/** A checkpoint store flag: a `loki://` URL as given, a directory path expanded (`~`, relative). */
export const storeFlag = Flags.custom<string>({
  parse: async (input) => (lokiStoreUrl(input) ? input : expandPath(input)),
});

/** Checkpoints read from Loki cover this far back (the file store has no such bound). */
const LOKI_CHECKPOINTS_SINCE_MS = 400 * 86_400_000;

function lokiConfig(store: string, tenant: string | undefined, env: NodeJS.ProcessEnv) {
  const url = lokiStoreUrl(store)!;
  try {
    noCredentialsInUrl(url, 'the checkpoint store');
    new URL(url);
    return { url, tenant, auth: lokiAuth(undefined, undefined, undefined, env) };
  } catch (err) {
    if (err instanceof ForwardConfigError || err instanceof TypeError)
      throw new Errors.CLIError(`checkpoint store ${store}: ${(err as Error).message}`, { exit: Exit.usage });
    throw err;
  }
}

function lokiFailure(err: unknown): never {
  const status = (err as { status?: number }).status;
  const exit =
    status === 401 || status === 403
      ? Exit.targetCredentials
      : status === 404
        ? Exit.targetPath
        : Exit.targetUnreachable;
  throw new Errors.CLIError((err as Error).message, { exit });
}

/**
 * Pushes `c` to the Loki store `store`; returns a description of where it went.
 * @throws CLIError: usage (2) for a bad URL or credentials; 9, 15, 16 when Loki refuses or is down.
 */
export async function pushLokiCheckpoint(
  store: string,
  c: Checkpoint,
  tenant: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const config = lokiConfig(store, tenant, env);
  const { pushCheckpoint, checkpointHost, CHECKPOINT_JOB } = await import('../sinks/loki/checkpoints.js');
  await pushCheckpoint(config, c).catch(lokiFailure);
  return `${config.url} {service_name="${CHECKPOINT_JOB}", host=${JSON.stringify(checkpointHost())}}`;
}

/**
 * This host's checkpoints in the Loki store `store` (the last {@link LOKI_CHECKPOINTS_SINCE_MS}),
 * oldest first, in the shape a file store is read in (`path`: where each is, for messages).
 * @throws CheckpointError for an entry that is not a checkpoint; CLIError as {@link pushLokiCheckpoint}.
 */
export async function readLokiCheckpoints(
  store: string,
  tenant: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  now = Date.now(),
): Promise<Array<{ path: string; checkpoint: Checkpoint }>> {
  const config = lokiConfig(store, tenant, env);
  const { readCheckpointEntries } = await import('../sinks/loki/checkpoints.js');
  const start = BigInt(now - LOKI_CHECKPOINTS_SINCE_MS) * 1_000_000n;
  const end = BigInt(now + 10 * 60_000) * 1_000_000n;
  const entries = await readCheckpointEntries(config, start, end).catch(lokiFailure);
  return entries.map((e) => ({ path: e.where, checkpoint: parseCheckpoint(e.text, e.where) }));
}
