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
  | 'quirk';

/** Most severe first. */
export const SEVERITY: readonly VerdictClass[] = [
  'tampered',
  'anchor-mismatch',
  'unreadable',
  'io-error',
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
