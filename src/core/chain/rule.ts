/**
 * The chain rule's primitives (spec §3), shared by the sequential verifier (sequential/walker.ts) and the
 * parallel fast path (parallel/fast-path.ts, which also runs in worker threads and so keeps its imports
 * small).
 */
import * as crypto from 'node:crypto';

/** 64 ASCII zeros: the `prev` of the first entry ever written (spec §3). */
export const GENESIS_HASH = '0'.repeat(64);
/** Hash fields, in order of preference: the writer's, then the documented one (spec §2). */
export const HASH_KEYS = ['_integrity_hash', 'chain_hash'] as const;

// crypto.hash (Node >= 20.12): one call, no Hash object per entry.
const oneShot = (crypto as unknown as { hash?: (alg: string, data: string | Uint8Array, enc: 'hex') => string }).hash;

/** Lowercase hex SHA-256 of a string (UTF-8) or bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  if (oneShot) return oneShot('sha256', data, 'hex');
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** `sha256_hex(prev + canonical)`; both are ASCII. */
export function chainHash(prev: string, canonical: string): string {
  return sha256Hex(prev + canonical);
}
