/**
 * Writing a file so that it is either complete or absent: data goes to a temporary file in the
 * same directory, which is renamed over the target only after a successful close. A failed or
 * interrupted export never leaves half a file. The temporary file is made by safe-files.ts
 * (a random name, O_CREAT|O_EXCL|O_NOFOLLOW), like every file loki-audit writes.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { access, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { once } from 'node:events';
import { createTempFile, replaceFile, replaceFileAsync, writeError } from './safe-files.js';

/** The target exists and overwriting was not allowed. */
export class TargetExistsError extends Error {
  constructor(readonly path: string) {
    super(`${path} exists: use --force to replace it`);
    this.name = 'TargetExistsError';
  }
}

export interface AtomicFile {
  stream: WriteStream;
  /** Flushes, closes and renames into place. */
  commit(): Promise<void>;
  /** Removes the temporary file. */
  abort(): Promise<void>;
}

/**
 * Opens `path` for an all-or-nothing write.
 * @throws TargetExistsError when `path` exists and `force` is false.
 */
export async function openAtomic(path: string, { force = false }: { force?: boolean } = {}): Promise<AtomicFile> {
  if (!force) {
    try {
      await access(path);
      throw new TargetExistsError(path);
    } catch (err) {
      if (err instanceof TargetExistsError) throw err;
    }
  }
  const tmp = createTempFile(path, 0o640);
  const stream = createWriteStream(tmp.path, { fd: tmp.fd });
  // A write that fails (ENOSPC) destroys the stream; the error is raised by commit().
  let failed: Error | null = null;
  stream.on('error', (err) => (failed ??= err));
  return {
    stream,
    async commit() {
      try {
        if (!stream.destroyed) {
          stream.end();
          await once(stream, 'close');
        }
        if (failed) throw failed;
        await rename(tmp.path, path);
      } catch (err) {
        await rm(tmp.path, { force: true });
        throw writeError(err, path);
      }
    },
    async abort() {
      stream.destroy();
      await rm(tmp.path, { force: true });
    },
  };
}

/**
 * Replaces a small JSON file atomically (safe-files.ts `replaceFile`: a temporary file with a
 * random name, fsync, rename; a crash leaves the old or the new file, never half of one), creating
 * its directory (mode 700). Mode 600: state files say what a host logs.
 * @throws UnsafeFileError when `path` is a link or not a regular file; DiskFullError;
 *   NodeJS.ErrnoException on other I/O errors.
 */
export function writeJsonAtomic(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  replaceFile(path, JSON.stringify(value, null, 2) + '\n');
}

/**
 * {@link writeJsonAtomic} with the fsyncs on libuv's thread pool (safe-files.ts
 * `replaceFileAsync`). The text is taken from `value` at the call, not when the write ends.
 * @throws (rejects) as {@link writeJsonAtomic}.
 */
export async function writeJsonAtomicAsync(path: string, value: unknown): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  await replaceFileAsync(path, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Replaces a small text file atomically (safe-files.ts `replaceFile`: a temporary file with a
 * random name in the same directory, created O_EXCL|O_NOFOLLOW so a planted link is never
 * written through, fsync, rename over `path`). The directory must exist.
 * @param mode permissions of the new file (default 600).
 * @throws UnsafeFileError when `path` is a link or not a regular file; DiskFullError;
 *   NodeJS.ErrnoException on other I/O errors.
 */
export function writeFileAtomic(path: string, text: string, mode = 0o600): void {
  replaceFile(path, text, mode);
}
