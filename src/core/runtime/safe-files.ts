/**
 * The one way loki-audit creates and writes its own files (forward's state, verify's state, the
 * dead-letter file, checkpoints, keys, the audit day file it appends to). It runs as root from
 * cron and systemd, in directories other users may write to, so a name it is about to write can
 * be a planted symbolic link (writing through it would let root overwrite any file), a FIFO (a
 * write would hang), or on a full disk (half a file would be worse than none):
 *
 * - a file that is replaced goes through a temporary file with a random name in the same
 *   directory, created `O_CREAT|O_EXCL|O_NOFOLLOW` mode 600, written, fsync'ed and renamed over
 *   the target (rename(2) replaces a link, never follows it); a target that is a link or not a
 *   regular file is refused;
 * - a file that is never replaced (a checkpoint, a key) is created `O_CREAT|O_EXCL|O_NOFOLLOW`
 *   in place (no temporary file: a write-once store could not delete it);
 * - a file appended to is opened `O_APPEND|O_CREAT|O_NOFOLLOW|O_NONBLOCK` and must be a regular
 *   file; an append that fails is cut back to the size before it.
 *
 * A full disk (ENOSPC, EDQUOT) is a {@link DiskFullError} naming the path, raised once nothing is
 * left half-written; a link or special file where a file belongs is an {@link UnsafeFileError}.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants as fs,
  fstatSync,
  fsync,
  fsyncSync,
  ftruncateSync,
  lstatSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';

/** A name loki-audit was to write is a symbolic link, or something other than a regular file. */
export class UnsafeFileError extends Error {
  constructor(
    readonly path: string,
    readonly why: 'symlink' | 'not-a-file',
    what = 'a symbolic link',
  ) {
    super(
      why === 'symlink'
        ? `refusing to write ${path}: it is a symbolic link (loki-audit ` +
            `never writes through a link; remove it or give the real path)`
        : `refusing to write ${path}: it is ${what}, not a regular file`,
    );
    this.name = 'UnsafeFileError';
  }
}

/** The disk (or the user's quota) is full; what was being written is not left half-written. */
export class DiskFullError extends Error {
  constructor(
    readonly path: string,
    readonly code: 'ENOSPC' | 'EDQUOT',
    /** Whether the file is as it was before the write (false: cleaning up failed too). */
    readonly restored = true,
  ) {
    super(
      `disk full writing ${path} ` +
        `(${code === 'EDQUOT' ? 'EDQUOT, disk quota exceeded' : 'ENOSPC, no space left on device'}): ` +
        (restored ? 'nothing was half-written' : 'the partial write could not be removed either'),
    );
    this.name = 'DiskFullError';
  }
}

/** The target of an exclusive creation exists. */
export class FileExistsError extends Error {
  constructor(readonly path: string) {
    super(`${path} exists: not replacing it`);
    this.name = 'FileExistsError';
  }
}

/** Whether an error is a full disk or quota. */
export function isDiskFull(err: unknown): err is NodeJS.ErrnoException & { code: 'ENOSPC' | 'EDQUOT' } {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/**
 * The error to raise for a failed write of `path`: a {@link DiskFullError} for ENOSPC and EDQUOT,
 * an {@link UnsafeFileError} for ELOOP (O_NOFOLLOW met a link), else `err` itself.
 */
export function writeError(err: unknown, path: string, restored = true): Error {
  if (err instanceof DiskFullError || err instanceof UnsafeFileError) return err;
  if (isDiskFull(err)) return new DiskFullError(path, err.code, restored);
  if ((err as NodeJS.ErrnoException)?.code === 'ELOOP') return new UnsafeFileError(path, 'symlink');
  return err as Error;
}

/** What a file system object is, for messages. */
function kindOf(s: Stats): string {
  if (s.isDirectory()) return 'a directory';
  if (s.isFIFO()) return 'a FIFO';
  if (s.isSocket()) return 'a socket';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/**
 * Refuses a target that is a symbolic link or exists as anything but a regular file.
 * @throws UnsafeFileError
 */
export function refuseUnsafeTarget(path: string): void {
  let s: Stats;
  try {
    s = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (s.isSymbolicLink()) throw new UnsafeFileError(path, 'symlink');
  if (!s.isFile()) throw new UnsafeFileError(path, 'not-a-file', kindOf(s));
}

/**
 * A new temporary file next to `target`: `.NAME.<random>.tmp`, created O_CREAT|O_EXCL|O_NOFOLLOW
 * (an existing name, link or not, is never opened), write-only.
 * @throws NodeJS.ErrnoException (EACCES, ENOENT …) or DiskFullError
 */
export function createTempFile(target: string, mode = 0o600): { fd: number; path: string } {
  const flags = fs.O_WRONLY | fs.O_CREAT | fs.O_EXCL | fs.O_NOFOLLOW;
  for (let attempt = 0; ; attempt++) {
    const path = join(dirname(target), `.${basename(target)}.${randomBytes(8).toString('hex')}.tmp`);
    try {
      return { fd: openSync(path, flags, mode), path };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 8) continue;
      throw writeError(err, target);
    }
  }
}

/** Writes all of `data` at the file's current position (write(2) may write less than asked). */
function writeAll(fd: number, data: Uint8Array): void {
  for (let done = 0; done < data.length;) done += writeSync(fd, data, done, data.length - done);
}

/** Opens `dir` to fsync it; null when it cannot be opened (nothing to make durable then). */
function openDirectory(dir: string): number | null {
  try {
    return openSync(dir, fs.O_RDONLY | fs.O_DIRECTORY);
  } catch {
    return null;
  }
}

/** Makes a rename or creation in `dir` durable; a file system that cannot sync directories is left as is. */
function syncDirectory(dir: string): void {
  const fd = openDirectory(dir);
  if (fd === null) return;
  try {
    fsyncSync(fd);
  } catch {
    // EINVAL on file systems without directory fsync
  } finally {
    closeSync(fd);
  }
}

/** {@link syncDirectory} with the fsync on libuv's thread pool. */
async function syncDirectoryAsync(dir: string): Promise<void> {
  const fd = openDirectory(dir);
  if (fd === null) return;
  try {
    await fsyncAsync(fd);
  } catch {
    // EINVAL on file systems without directory fsync
  } finally {
    closeSync(fd);
  }
}

const fsyncAsync = promisify(fsync);

const bytesOf = (data: string | Uint8Array): Uint8Array => (typeof data === 'string' ? Buffer.from(data) : data);

/**
 * Replaces `path` with `data`, all or nothing: a temporary file ({@link createTempFile}), fsync,
 * rename over `path`. A crash or a failure leaves the old file (or none) and no temporary file.
 * @throws UnsafeFileError when `path` is a link or not a regular file; DiskFullError;
 *   NodeJS.ErrnoException on other I/O errors.
 */
export function replaceFile(path: string, data: string | Uint8Array, mode = 0o600): void {
  const tmp = stageReplacement(path, data, mode);
  try {
    fsyncSync(tmp.fd);
  } catch (err) {
    abandonReplacement(tmp, path, err);
  }
  commitReplacement(tmp, path);
  syncDirectory(dirname(path));
}

/**
 * {@link replaceFile} with its two fsyncs (the file's, the directory's) on libuv's thread pool, so
 * the event loop goes on meanwhile (forward saves its positions this way, while the next batch is
 * with the target). Same guarantees and errors (as rejections).
 */
export async function replaceFileAsync(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const tmp = stageReplacement(path, data, mode);
  try {
    await fsyncAsync(tmp.fd);
  } catch (err) {
    abandonReplacement(tmp, path, err);
  }
  commitReplacement(tmp, path);
  await syncDirectoryAsync(dirname(path));
}

/** A refused target, or a temporary file beside it holding `data` (not yet synced). */
function stageReplacement(path: string, data: string | Uint8Array, mode: number): { fd: number; path: string } {
  refuseUnsafeTarget(path);
  const tmp = createTempFile(path, mode);
  try {
    writeAll(tmp.fd, bytesOf(data));
  } catch (err) {
    abandonReplacement(tmp, path, err);
  }
  return tmp;
}

/** Closes and renames the synced temporary file over `path`. */
function commitReplacement(tmp: { fd: number; path: string }, path: string): void {
  try {
    closeSync(tmp.fd);
    renameSync(tmp.path, path);
  } catch (err) {
    rmSync(tmp.path, { force: true });
    throw writeError(err, path);
  }
}

/** Closes and removes the temporary file after `err`, then throws it as {@link writeError} does. */
function abandonReplacement(tmp: { fd: number; path: string }, path: string, err: unknown): never {
  closeSync(tmp.fd);
  rmSync(tmp.path, { force: true });
  throw writeError(err, path);
}

/**
 * Creates `path` holding `data`; never replaces anything (O_CREAT|O_EXCL|O_NOFOLLOW). A failed
 * write removes the file again.
 * @throws FileExistsError when `path` exists; UnsafeFileError when it is a link; DiskFullError;
 *   NodeJS.ErrnoException on other I/O errors.
 */
export function createFile(path: string, data: string | Uint8Array, mode = 0o600): void {
  let fd: number;
  try {
    fd = openSync(path, fs.O_WRONLY | fs.O_CREAT | fs.O_EXCL | fs.O_NOFOLLOW, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      refuseUnsafeTarget(path);
      throw new FileExistsError(path);
    }
    throw writeError(err, path);
  }
  try {
    writeAll(fd, bytesOf(data));
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    let removed = true;
    try {
      rmSync(path);
    } catch {
      removed = false;
    }
    throw writeError(err, path, removed);
  }
  closeSync(fd);
  syncDirectory(dirname(path));
}

/**
 * Opens `path` for appending, creating it with `mode` (O_APPEND|O_CREAT|O_NOFOLLOW, and
 * O_NONBLOCK so that a planted FIFO fails instead of hanging); `read` opens it read-write.
 * @returns the file descriptor (the caller closes it)
 * @throws UnsafeFileError when `path` is a link or not a regular file; DiskFullError;
 *   NodeJS.ErrnoException on other I/O errors.
 */
export function openForAppend(path: string, { mode = 0o600, read = false }: { mode?: number; read?: boolean } = {}) {
  const access = read ? fs.O_RDWR : fs.O_WRONLY;
  let fd: number;
  try {
    fd = openSync(path, access | fs.O_APPEND | fs.O_CREAT | fs.O_NOFOLLOW | fs.O_NONBLOCK, mode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ENXIO: a FIFO without a reader; EISDIR: a directory.
    if (code === 'ENXIO' || code === 'EISDIR') refuseUnsafeTarget(path);
    throw writeError(err, path);
  }
  const s = fstatSync(fd);
  if (!s.isFile()) {
    closeSync(fd);
    throw new UnsafeFileError(path, 'not-a-file', kindOf(s));
  }
  return fd;
}

/**
 * Appends all of `data` to the file open at `fd` (from {@link openForAppend}) and fsyncs it. When
 * that fails, the bytes written are cut off again (if no one else wrote meanwhile), so that a full
 * disk never leaves half a line.
 * @throws DiskFullError (with `restored`); NodeJS.ErrnoException on other I/O errors.
 */
export function appendAll(fd: number, data: string | Uint8Array, path: string): void {
  const bytes = bytesOf(data);
  const before = fstatSync(fd).size;
  let done = 0;
  try {
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
    fsyncSync(fd);
  } catch (err) {
    let restored = done === 0;
    if (!restored) {
      try {
        if (fstatSync(fd).size === before + done) {
          ftruncateSync(fd, before);
          restored = true;
        }
      } catch {
        // left as it is; said in the error
      }
    }
    throw writeError(err, path, restored);
  }
}
