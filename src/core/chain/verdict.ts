/**
 * Verdict classes of `verify`, their exit codes and their order of severity.
 * Exit codes are a stable interface (cron depends on them): see docs/verify.md.
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

/** Exit code of each class (0 intact; 2 is oclif's usage error; 3 also means no readable audit directory). */
export const EXIT_CODES: Readonly<Record<VerdictClass, number>> = {
  intact: 0,
  tampered: 1,
  'io-error': 3,
  incomplete: 4,
  fork: 5,
  'mid-chain': 6,
  quirk: 7,
  unreadable: 8,
  'anchor-mismatch': 12,
};

/** Exit code for usage errors (oclif's own) and for a missing or empty audit directory. */
export const EXIT_USAGE = 2;
export const EXIT_IO = 3;

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

/** One line of explanation per class, for humans. */
export const CLASS_TITLES: Readonly<Record<VerdictClass, string>> = {
  intact: 'intact',
  tampered: 'TAMPERED',
  unreadable: 'unreadable line',
  'anchor-mismatch': 'ANCHOR MISMATCH',
  'io-error': 'unreadable file',
  'mid-chain': 'history starts mid-chain',
  fork: 'writer fork',
  incomplete: 'incomplete last line',
  quirk: 'Loki Mode writer quirk',
};
