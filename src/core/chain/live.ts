/**
 * Checking entries one by one as they are appended (`tail --follow --verify`), against the
 * running chain head (spec §3).
 */
import { canonicalizeEntry, type CanonicalResult as CanonicalEntry } from '../pyjson/canonical.js';
import { chainHash, GENESIS_HASH, HASH_KEYS } from './rule.js';

/** Result of checking one appended entry against the running chain head. */
export interface LiveCheck {
  ok: boolean;
  /** Why not, for a line that breaks the chain. */
  reason?: 'hash-mismatch' | 'fork-genesis' | 'missing-hash' | 'malformed-json' | 'not-an-object';
  expected?: string;
  stored?: string;
}

/**
 * Checks entries one by one as they are appended (`tail --follow --verify`): each must chain
 * from the previous one. After a break it re-anchors on the entry's stored hash, so one break
 * is reported once. Costs one canonicalization and one SHA-256 per entry.
 */
export class LiveChainChecker {
  /** @param head the stored hash of the last entry already on disk, or null when none is known. */
  constructor(private head: string | null) {}

  /** The current chain head. */
  get chainHead(): string | null {
    return this.head;
  }

  check(text: string): LiveCheck {
    let parsed: CanonicalEntry;
    try {
      parsed = canonicalizeEntry(text, { hashKeys: HASH_KEYS });
    } catch {
      return { ok: false, reason: 'malformed-json' };
    }
    if (!parsed.isObject) return { ok: false, reason: 'not-an-object' };
    const stored = parsed.hashValue;
    if (typeof stored !== 'string') return { ok: false, reason: 'missing-hash' };
    const prev = this.head ?? GENESIS_HASH;
    const expected = chainHash(prev, parsed.canonical);
    this.head = stored;
    if (expected === stored) return { ok: true };
    if (prev !== GENESIS_HASH && chainHash(GENESIS_HASH, parsed.canonical) === stored)
      return { ok: false, reason: 'fork-genesis', expected, stored };
    return { ok: false, reason: 'hash-mismatch', expected, stored };
  }
}
