/**
 * Opening an audit file for reading, only if it is a regular file inside its directory.
 *
 * An audit directory is attacker-reachable: a FIFO named like an audit file made every command
 * hang (opening a FIFO blocks until a writer comes), a symlink to `/dev/zero` or `/dev/urandom`
 * never ended and grew memory, a symlink out of the directory read any file. So before a byte is
 * read: `lstat` (a symlink must resolve inside the file's own directory), then `open` with
 * `O_NONBLOCK` (a FIFO swapped in after the check does not block the open) and `fstat` on the
 * descriptor (what is read is what was checked: a regular file). Anything else is refused with
 * {@link NotRegularFileError}, which every command reports as an unreadable file.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, sep } from 'node:path';

/** A path that is not a regular file inside its directory; `code` is `ENOTREG`. */
export class NotRegularFileError extends Error {
  readonly code = 'ENOTREG';
  /**
   * @param path the path refused
   * @param what what it is instead (`a FIFO, not a regular file`;
   *   `a symbolic link to /dev/zero, outside the audit directory`)
   */
  constructor(
    readonly path: string,
    readonly what: string,
  ) {
    super(`${basename(path)} is ${what}: not read`);
    this.name = 'NotRegularFileError';
  }
}

/** What a non-regular file is, in words. */
export function fileKind(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/**
 * Opens `path` read-only, never blocking, and returns the descriptor of a regular file.
 * @throws NotRegularFileError for a FIFO, socket, device or directory, or a symbolic link that
 *   leaves the file's directory; NodeJS.ErrnoException (ENOENT, EACCES, ELOOP …) from the system.
 */
export function openRegularFile(path: string): number {
  const l = checkRegularFile(path);
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  let st: Stats;
  try {
    st = fstatSync(fd);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  if (!st.isFile()) {
    closeSync(fd);
    throw new NotRegularFileError(
      path,
      `${l.isSymbolicLink() ? 'a symbolic link to ' : ''}${fileKind(st)}, not a regular file`,
    );
  }
  return fd;
}

/**
 * The checks of {@link openRegularFile} without opening: `lstat`, a symlink's target inside the
 * file's directory, and (through the link) a regular file. Returns the `lstat` result.
 * @throws NotRegularFileError, NodeJS.ErrnoException
 */
export function checkRegularFile(path: string): Stats {
  const l = lstatSync(path);
  if (l.isSymbolicLink()) {
    const target = realpathSync(path);
    const home = realpathSync(dirname(path));
    if (dirname(target) !== home && !target.startsWith(home + sep))
      throw new NotRegularFileError(path, `a symbolic link to ${target}, outside the audit directory`);
    const st = statSync(path);
    if (!st.isFile()) throw new NotRegularFileError(path, `a symbolic link to ${fileKind(st)}, not a regular file`);
  } else if (!l.isFile()) {
    throw new NotRegularFileError(path, `${fileKind(l)}, not a regular file`);
  }
  return l;
}

/**
 * One line for a file that could not be read: `cannot read NAME: WHY`, without the path twice
 * or Node's syscall noise (`EACCES: permission denied`, `corrupt gzip data (Z_DATA_ERROR: …)`,
 * `a FIFO, not a regular file`).
 */
export function readErrorText(name: string, err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (err instanceof NotRegularFileError) return `cannot read ${name}: ${err.what}`;
  const message = (e?.message ?? String(err)).replace(/, \w+ '[^']*'$/, '');
  if (typeof e?.code === 'string' && e.code.startsWith('Z_'))
    return `cannot read ${name}: corrupt gzip data (${e.code}: ${message})`;
  if (typeof e?.code === 'string' && !message.startsWith(e.code)) return `cannot read ${name}: ${e.code}: ${message}`;
  return `cannot read ${name}: ${message}`;
}
