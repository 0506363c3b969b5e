/**
 * Verdict classes of `verify` and their order of severity. Their exit codes are the CLI's
 * (src/cli/exit-codes.ts), their titles the terminal output's (src/output/verify.ts).
 */

/** What verify concluded about one place in the chain, or about the whole directory. */
export type VerdictClass =
  /** Every entry's hash matches its content and its predecessor. */
  | 'intact'
  /** An entry's hash does not match its content, or entries/files were removed, inserted or reordered. */
  | 'tampered'
  /** A line that cannot be read as an entry: invalid UTF-8, not a JSON object, too large. */
  | 'unreadable'
  /**
   * An outside anchor disagrees: a checkpointed or expected head is not in the chain, or a checkpoint's
   * signature is invalid.
   */
  | 'anchor-mismatch'
  /** A file that cannot be opened or read (permission, I/O error, corrupt gzip). */
  | 'io-error'
  /** The oldest file present chains from a hash that is not there (older files removed, e.g. by retention). */
  | 'mid-chain'
  /** A file's first entry chains from the genesis hash or an earlier entry, not the previous file's last entry. */
  | 'fork'
  /** A torn write: the final line has no newline and is not a complete entry. */
  | 'incomplete'
  /** An entry that fails as stored but matches what Loki Mode's writer computes for non-string dict keys. */
  | 'quirk'
  /**
   * `--max-age`: the chain head is older than allowed: the writer went silent, or the newest
   * entries were removed.
   */
  | 'stale-head'
  /** `--max-checkpoint-age`: the newest signed checkpoint is older than allowed (or there is none). */
  | 'stale-checkpoint';

/**
 * Most severe first. Staleness ranks below what proves the chain altered or unreadable (a
 * tampered chain is reported as tampered however old its head) and above the writer's own
 * accidents (mid-chain, fork, torn line, quirk): a silent writer needs someone now.
 */
export const SEVERITY: readonly VerdictClass[] = [
  'tampered',
  'anchor-mismatch',
  'unreadable',
  'io-error',
  'stale-head',
  'stale-checkpoint',
  'mid-chain',
  'fork',
  'incomplete',
  'quirk',
  'intact',
];

/** The more severe of two classes. */
export function worse(a: VerdictClass, b: VerdictClass): VerdictClass {
  return SEVERITY.indexOf(a) <= SEVERITY.indexOf(b) ? a : b;
}
