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
import type { AuditFile } from '../read/files.js';
import { decodeLine } from '../read/decode.js';
import { DEFAULT_MAX_LINE_BYTES, openAuditFile, scanLines } from '../read/lines.js';
import { GENESIS_HASH, HASH_KEYS } from './rule.js';
import { storedHash } from './stored-hash.js';

/**
 * The stored hash of a parsed entry by the rule of stored-hash.ts: the first of `HASH_KEYS`
 * present, when it is a non-empty string (else null, even if the other key is there).
 */
export function storedHashOf(record: Record<string, unknown>): string | null {
  for (const key of HASH_KEYS) {
    if (!(key in record)) continue;
    const v = record[key];
    return typeof v === 'string' && v !== '' ? v : null;
  }
  return null;
}

/**
 * The last stored hash in chain order before byte `offset` of `files[index]` (whole lines that
 * start before it; `Infinity`: the whole file), else in the files before it, newest first; null
 * when there is none (the predecessor is then the genesis). Streams each file it reads; an
 * unreadable earlier file is passed over (its entries cannot be known).
 */
export async function storedHashBefore(
  files: readonly AuditFile[],
  index: number,
  offset: number,
  maxLineBytes = DEFAULT_MAX_LINE_BYTES,
): Promise<string | null> {
  for (let i = Math.min(index, files.length - 1); i >= 0; i--) {
    const f = files[i];
    const end = i === index ? offset : Infinity;
    if (end <= 0) continue;
    let last: string | null = null;
    try {
      for await (const raw of scanLines(openAuditFile(f.path, 0, f.gz || end === Infinity ? undefined : end), {
        maxLineBytes,
      })) {
        if (raw.offset >= end) break;
        const d = decodeLine(raw, maxLineBytes);
        if (d.kind === 'text') last = storedHash(d.text) ?? last;
      }
    } catch {
      continue;
    }
    if (last !== null) return last;
  }
  return null;
}

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
    this.last = storedHashOf(e.record) ?? this.last;
    return e;
  }
}
