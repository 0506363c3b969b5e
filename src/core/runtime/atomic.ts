/**
 * Writing a file so that it is either complete or absent: data goes to a temporary file in the
 * same directory, which is renamed over the target only after a successful close. A failed or
 * interrupted export never leaves half a file.
 */
import {
  closeSync,
  createWriteStream,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  writeSync,
  type WriteStream,
} from 'node:fs';
import { access, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { once } from 'node:events';

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
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const stream = createWriteStream(tmp, { flags: 'wx', mode: 0o640 });
  await once(stream, 'open');
  return {
    stream,
    async commit() {
      stream.end();
      await once(stream, 'close');
      await rename(tmp, path);
    },
    async abort() {
      stream.destroy();
      await rm(tmp, { force: true });
    },
  };
}

/**
 * Replaces a small JSON file atomically: temporary file, fsync, rename (a crash leaves the old
 * or the new file, never half of one). Mode 600: state files may say what a host logs.
 * @throws NodeJS.ErrnoException on I/O errors.
 */
export function writeJsonAtomic(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(value, null, 2) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
