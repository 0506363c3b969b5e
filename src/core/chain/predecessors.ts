/**
 * The chain predecessor of each entry: the stored hash its own hash was computed from (spec §3:
 * `hash_n = sha256(hash_{n-1} + canonical_n)`), so that a copy of one entry (a SIEM record)
 * can be re-checked against the one before it. The predecessor is the last line before the
 * entry, in chain order (spec §1.1, across files: §3.2), that holds a stored hash by the rule of
 * stored-hash.ts (what the writer takes as its tip, spec §3.3), else the genesis; it does not
 * depend on which entries a filter lets through.
 *
 * The JS AuditLog (spec §5) stores its predecessor in each entry (`previousHash`); the agent and
 * session audits have no chain (null).
 */
import type { ReadEntry } from '../read/entries.js';
import { GENESIS_HASH } from './rule.js';
import { storedHashOfRecord } from './stored-hash.js';

/**
 * Gives each entry, read in chain order, its predecessor's stored hash (`prevHash`). Every entry
 * read must pass through {@link PredecessorTracker.see} — also those a filter then drops.
 */
export class PredecessorTracker {
  private last: string;

  /** @param before the last stored hash before the first entry to be seen (null: the genesis) */
  constructor(before: string | null) {
    this.last = before ?? GENESIS_HASH;
  }

  /** Sets `e.prevHash` and moves past `e`; returns `e`. */
  see(e: ReadEntry): ReadEntry {
    const schema = e.view.schema;
    if (schema === 'js-auditlog') {
      const p = e.record.previousHash;
      e.prevHash = typeof p === 'string' ? p : null;
      return e;
    }
    if (schema === 'agent-audit' || schema === 'session-audit') {
      e.prevHash = null;
      return e;
    }
    e.prevHash = this.last;
    this.last = storedHashOfRecord(e.record) ?? this.last;
    return e;
  }
}
