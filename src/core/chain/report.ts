/**
 * What verifying a chain reports: findings (problems, each with its verdict class and a stable
 * reason), notes (observations that fail only with `--strict`), per-file reports, the chain
 * head. Shared by the sequential verifier, the parallel fast path, the JS AuditLog verifier and
 * directory verification.
 */
import { missingDates, type AuditFile } from '../read/files.js';
import type { VerdictClass } from './verdict.js';
import type { Omitted } from './bounded.js';

/** A place in the directory. */
export interface Location {
  file: string;
  line: number;
  offset: number;
}

/** Why a finding was made (stable identifiers, for `--json`). */
export type FindingReason =
  | 'hash-mismatch'
  | 'inserted-entry'
  | 'reordered'
  | 'chain-break'
  | 'replayed-entries'
  | 'fork-clock-step'
  | 'fork-js-writers'
  | 'unhashed-field'
  | 'unhashed-entries'
  | 'duplicate-key'
  | 'missing-hash'
  | 'hash-stripped'
  | 'malformed-json'
  | 'fork-genesis'
  | 'fork-earlier'
  | 'history-mid-chain'
  | 'torn-last-line'
  | 'torn-write-recovered'
  | 'int-keys'
  | 'number-keys'
  | 'invalid-utf8'
  | 'not-an-object'
  | 'too-long'
  | 'int-too-long'
  | 'too-deep'
  | 'io-error'
  | 'head-missing'
  | 'checkpoint-signature'
  /** `--max-age`: the chain head is older than allowed, or has no readable time. */
  | 'stale-head'
  /** `--max-checkpoint-age`: the newest valid checkpoint is older than allowed, or there is none. */
  | 'stale-checkpoint'
  /** `--against-loki`: Loki holds the entry at this file and line with other bytes. */
  | 'loki-differs';

/** One problem found in the chain. */
export interface Finding extends Location {
  class: Exclude<VerdictClass, 'intact'>;
  reason: FindingReason;
  /** One line, naming what was seen. */
  message: string;
  /** The hash the verifier computed for this entry (content + expected predecessor). */
  expected?: string;
  /** The hash stored in the entry. */
  stored?: string;
  /** For forks: the hash the entry actually chains from, and where that hash is stored. */
  chainsFrom?: string;
  seenAt?: Location | null;
  /**
   * The entry at this place, read back after verifying (finding-entries.ts): absent when the
   * place is not a readable entry (an anchor, a torn or malformed line, a file gone).
   */
  entry?: FindingEntry;
}

/** An entry at a finding, through the one view (read/view.ts); every value as the log holds it (unescaped). */
export interface FindingEntry {
  /** The entry's own `timestamp` text ('' when missing). */
  timestamp: string;
  /** The view's event: `resource_type.action` (writer), `event` (documented), `what` (JS AuditLog). */
  event: string;
  /** The view's actor: `user_id`, `token:ID`, `actor`, `who`, else `anonymous`. */
  actor: string;
  /** The stored chain hash, or null when the entry has none. */
  hash: string | null;
  /** The field that holds it (`_integrity_hash`, `chain_hash`, `hash`), or null. */
  hashField: string | null;
  /** The timestamps of the entries before and after it in chain order, or null (none, or unreadable). */
  before: string | null;
  after: string | null;
}

/** Non-failing observations (they fail only with `--strict`). */
export interface Note {
  kind:
    | 'pre-integrity'
    | 'gap'
    | 'foreign'
    | 'rewritten'
    | 'resync'
    | 'no-final-newline'
    | 'not-forwarded'
    | 'retention'
    /** An entry whose hash field is not the one its file's entries use (`_integrity_hash` / `chain_hash`). */
    | 'mixed-schema'
    /** `--checkpoints` named a store that holds no checkpoint (missing or empty): nothing else was checked. */
    | 'no-checkpoints'
    /** A local entry missing from the copy forwarded to Loki, though later ones are there. */
    | 'not-in-loki'
    /** What the Loki witness counted but did not list. */
    | 'witness-omitted';
  message: string;
  file?: string;
  line?: number;
}

/** Per-file result. */
export interface FileReport {
  file: string;
  path: string;
  /** Hash field found in the file's entries. */
  schema: 'writer' | 'documented' | 'js-auditlog' | 'none' | 'mixed';
  lines: number;
  /** Entries whose hash was recomputed and matched. */
  entriesVerified: number;
  /** Entries without a hash before the chain starts (pre-integrity, Loki Mode < 5.38). */
  preIntegrityEntries: number;
  verdict: VerdictClass;
  /** Last stored hash in the file (the chain head after it), if any. */
  lastHash: string | null;
  bytes: number;
  /** End of the last complete (newline-terminated) line, and the last hashed entry's offset and bytes' SHA-256. */
  completeBytes: number;
  lastEntryOffset: number | null;
  lastEntrySha256: string | null;
}

/** Result of verifying one chain. */
export interface ChainReport {
  verdict: VerdictClass;
  files: FileReport[];
  findings: Finding[];
  notes: Note[];
  entriesVerified: number;
  /** Last stored hash of the chain and where it is. */
  chainHead: (Location & { hash: string }) | null;
  /** File whose first hashed entry starts the chain. */
  genesisFile: string | null;
  /** Where each hash of `lookFor` was found as an entry's stored hash. */
  found: Map<string, Location>;
  /** Findings and notes counted but not kept (bounded.ts); absent when all were kept. */
  omitted?: Omitted;
}

/** The note for days missing between the first and the last file, if any. */
export function gapNote(files: AuditFile[]): Note | null {
  const gaps = missingDates(files);
  if (!gaps.length) return null;
  const shown = gaps.length > 5 ? `${gaps.slice(0, 5).join(', ')} … (${gaps.length} days)` : gaps.join(', ');
  return { kind: 'gap', message: `no file for ${shown} between the first and the last day` };
}
