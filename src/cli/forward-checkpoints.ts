/**
 * `forward --checkpoint-every N` from its flags (or the config file's `forward.checkpoint_*`
 * keys, docs/config.md): the signing key (`--checkpoint-key` or `--checkpoint-hmac-key-file`,
 * else the PEM in `LOKI_AUDIT_CHECKPOINT_KEY`: files and the environment, never argv), the store
 * (`--checkpoint-store DIR|loki://…`, default the forward's first Loki target, with its tenant and
 * credentials) and the target whose acknowledged entries are counted (that Loki target; with a
 * store of its own, the first Loki target, else the first target that acknowledges). The run
 * itself: src/core/forward/checkpoints.ts.
 */
import { Errors, Flags } from '@oclif/core';
import { readFileSync } from 'node:fs';
import type { Checkpoint } from '../core/chain/anchors/checkpoints.js';
import { storeCheckpoint } from '../core/chain/anchors/checkpoints.js';
import { ForwardCheckpoints, type CheckpointStore } from '../core/forward/checkpoints.js';
import type { StateFile } from '../core/forward/positions.js';
import type { DeliverResult, ForwardTarget } from '../core/forward/target.js';
import { DiskFullError, FileExistsError, UnsafeFileError } from '../core/runtime/safe-files.js';
import { CHECKPOINT_JOB, LokiCheckpointPusher, type LokiCheckpointConfig } from '../sinks/loki/checkpoints.js';
import { LokiTarget } from '../sinks/loki/target.js';
import { signingKeyFromFlags } from './checkpoint-keys.js';
import { lokiStoreUrl, storeFlag } from './checkpoint-store.js';
import { Exit } from './exit-codes.js';
import { ForwardConfigError, lokiAuth, noCredentialsInUrl } from './forward-targets.js';
import { pathFlag } from './paths.js';

export const forwardCheckpointFlags = {
  'checkpoint-every': Flags.integer({
    min: 1,
    summary:
      'After every N entries the target acknowledged, sign a checkpoint ' +
      'of the chain head and push it (docs/forward.md, "Checkpoints").',
    helpGroup: 'CHECKPOINTS',
  }),
  'checkpoint-store': storeFlag({
    summary:
      'Where the checkpoints go: a directory, or loki://HOST:PORT ' +
      "(loki+https:// for TLS); default the forward's Loki target.",
    helpGroup: 'CHECKPOINTS',
  }),
  'checkpoint-key': pathFlag({
    summary: 'Ed25519 private key (PEM) that signs the checkpoints (or LOKI_AUDIT_CHECKPOINT_KEY).',
    helpGroup: 'CHECKPOINTS',
  }),
  'checkpoint-hmac-key-file': pathFlag({
    summary: 'Shared secret file for HMAC-SHA256 checkpoints instead.',
    exclusive: ['checkpoint-key'],
    helpGroup: 'CHECKPOINTS',
  }),
};

export interface CheckpointFlags {
  'checkpoint-every'?: number;
  'checkpoint-store'?: string;
  'checkpoint-key'?: string;
  'checkpoint-hmac-key-file'?: string;
  tenant?: string;
  'loki-username'?: string;
  'loki-password-file'?: string;
  'loki-token-file'?: string;
  timeout?: number;
}

function usage(message: string): never {
  throw new Errors.CLIError(message, { exit: Exit.usage });
}

/**
 * The run's checkpoints, or undefined without `--checkpoint-every`.
 * @param dir the audit directory, absolute
 * @throws CLIError (usage, exit 2): no key, a key that cannot be read, no store (no Loki target
 *   and no --checkpoint-store), no target that acknowledges, a bad store URL or credentials.
 */
export function forwardCheckpoints(
  flags: CheckpointFlags,
  targets: readonly ForwardTarget[],
  dir: string,
  state: StateFile,
  env: NodeJS.ProcessEnv = process.env,
): ForwardCheckpoints | undefined {
  const every = flags['checkpoint-every'];
  if (every === undefined) {
    if (flags['checkpoint-store'] || flags['checkpoint-key'] || flags['checkpoint-hmac-key-file'])
      usage('--checkpoint-store and the checkpoint keys need --checkpoint-every N');
    return undefined;
  }
  const keyFile = flags['checkpoint-key'];
  const hmacFile = flags['checkpoint-hmac-key-file'];
  if (!keyFile && !hmacFile && !env.LOKI_AUDIT_CHECKPOINT_KEY)
    usage(
      '--checkpoint-every needs a signing key: --checkpoint-key FILE, ' +
        '--checkpoint-hmac-key-file FILE, or LOKI_AUDIT_CHECKPOINT_KEY',
    );
  const key = signingKeyFromFlags({ key: keyFile, 'hmac-key-file': hmacFile }, env);
  const loki = targets.find((t): t is LokiTarget => t instanceof LokiTarget);
  const given = flags['checkpoint-store'];
  let store: CheckpointStore;
  let counted: ForwardTarget | undefined;
  if (given) {
    store = lokiStoreUrl(given) ? lokiStore(lokiStoreConfig(given, flags, env)) : directoryStore(given);
    counted = loki ?? targets.find((t) => t.acknowledges);
    if (!counted)
      usage(
        '--checkpoint-every counts entries a target acknowledged: ' +
          'add a Loki, RELP or Splunk HEC (--splunk-hec-ack) target',
      );
  } else {
    if (!loki) usage("--checkpoint-every without --checkpoint-store goes to the forward's Loki target: there is none");
    const c = loki.client.config;
    store = lokiStore({ url: c.url, tenant: c.tenant, auth: c.auth, timeoutMs: c.timeoutMs });
    counted = loki;
  }
  return new ForwardCheckpoints({ every, key, store, target: counted.id, dir }, state);
}

/** A `loki://` store's Loki: its URL, `--tenant`, and forward's credentials. */
function lokiStoreConfig(store: string, flags: CheckpointFlags, env: NodeJS.ProcessEnv): LokiCheckpointConfig {
  const url = lokiStoreUrl(store)!;
  try {
    noCredentialsInUrl(url, '--checkpoint-store');
    new URL(url);
    return {
      url,
      tenant: flags.tenant,
      auth: lokiAuth(flags['loki-username'], flags['loki-password-file'], flags['loki-token-file'], env),
      timeoutMs: flags.timeout,
    };
  } catch (err) {
    if (err instanceof ForwardConfigError || err instanceof TypeError)
      return usage(`--checkpoint-store ${store}: ${(err as Error).message}`);
    throw err;
  }
}

/**
 * Checkpoints pushed to Loki (sinks/loki/checkpoints.ts), over one keep-alive connection; the
 * same checkpoint pushed again (after a crash) Loki keeps once.
 */
function lokiStore(config: LokiCheckpointConfig): CheckpointStore {
  const pusher = new LokiCheckpointPusher(config);
  return {
    name: `${config.url} {service_name="${CHECKPOINT_JOB}"}`,
    async push(c: Checkpoint): Promise<DeliverResult> {
      const r = await pusher.push(c);
      if (r.ok) return { ok: true };
      if (r.retryable) return { ok: false, retryable: true, error: r.error };
      // A 400 about "the entry" is the store's refusal here: the checkpoint is all there is.
      return { ok: false, retryable: false, refusal: r.refusal === 'entries' ? 'target' : r.refusal, error: r.error };
    },
    close: () => pusher.close(),
  };
}

/**
 * Checkpoints written to a directory (anchors/checkpoints.ts `storeCheckpoint`); the same
 * checkpoint already there (a push again after a crash) is stored.
 */
function directoryStore(dir: string): CheckpointStore {
  return {
    name: dir,
    async push(c: Checkpoint): Promise<DeliverResult> {
      try {
        storeCheckpoint(dir, c);
        return { ok: true };
      } catch (err) {
        const error = (err as Error).message;
        if (err instanceof FileExistsError) {
          let same = false;
          try {
            same = readFileSync(err.path, 'utf8') === JSON.stringify(c, null, 2) + '\n';
          } catch {
            // Unreadable: not known to be the same.
          }
          return same ? { ok: true } : { ok: false, retryable: false, refusal: 'target', error };
        }
        if (err instanceof DiskFullError) return { ok: false, retryable: true, error };
        if (err instanceof UnsafeFileError || (err as NodeJS.ErrnoException).code === 'EACCES')
          return { ok: false, retryable: false, refusal: 'target', error };
        return { ok: false, retryable: true, error };
      }
    },
  };
}
