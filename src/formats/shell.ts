/** Words for a POSIX shell: what loki-audit prints for a user to copy and run. */

/** A path or value as a POSIX shell reads it back: as is when plain, else in single quotes. */
export function shellQuote(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replaceAll("'", "'\\''")}'`;
}
