/**
 * Where `checkpoint` takes its signing key from: `--hmac-key-file`, `--key` (Ed25519 PEM), or
 * the PEM in `LOKI_AUDIT_CHECKPOINT_KEY` — files and the environment, never argv.
 */
import { Errors } from '@oclif/core';
import { readFileSync } from 'node:fs';
import { CheckpointError, ed25519SigningKey, hmacKey, type CheckpointKey } from '../core/chain/anchors/checkpoints.js';
import { Exit } from './exit-codes.js';

/**
 * The signing key.
 * @throws CLIError (usage, exit 2) when none is given, or it cannot be read or is not a key.
 */
export function signingKeyFromFlags(
  flags: { key?: string; 'hmac-key-file'?: string },
  env: NodeJS.ProcessEnv = process.env,
): CheckpointKey {
  try {
    if (flags['hmac-key-file']) return hmacKey(readFileSync(flags['hmac-key-file']));
    if (flags.key) return ed25519SigningKey(readFileSync(flags.key));
    if (env.LOKI_AUDIT_CHECKPOINT_KEY) return ed25519SigningKey(Buffer.from(env.LOKI_AUDIT_CHECKPOINT_KEY));
  } catch (err) {
    if (err instanceof CheckpointError || (err as NodeJS.ErrnoException).code)
      throw new Errors.CLIError((err as Error).message, { exit: Exit.usage });
    throw err;
  }
  throw new Errors.CLIError('a signing key is needed: --key FILE, --hmac-key-file FILE, or LOKI_AUDIT_CHECKPOINT_KEY', {
    exit: Exit.usage,
  });
}
