/**
 * The forwarder's state file, like Promtail's positions file: per target, the last entry the
 * target acknowledged — file, inode, byte offsets, line, and the SHA-256 of the line's bytes
 * (plus its chain hash). On restart the forwarder resumes right after it, once it has checked
 * that the same bytes are still at that offset: a rewritten file is reported, never silently
 * re-sent. Written atomically (temporary file, fsync, rename).
 */
import type { Checkpoint } from '../chain/anchors/checkpoints.js';
import { sha256Hex } from '../chain/rule.js';
import type { PositionCheckpoints } from './checkpoints.js';
import { writeJsonAtomicAsync } from '../runtime/atomic.js';
import { DiskFullError, UnsafeFileError } from '../runtime/safe-files.js';
import { loadStateFile } from '../runtime/state-file.js';
import type { AuditFile } from '../read/files.js';
import { openAuditFile, scanLines } from '../read/lines.js';

/** Where a target stands: just after this entry. */
export interface Position {
  file: string;
  /** Inode of the file when the entry was read (follows renames by size rotation). */
  ino: number | null;
  /** Byte offset of the entry's first byte, and just after its line terminator. */
  entryOffset: number;
  offset: number;
  line: number;
  /** sha256 hex of the entry line's bytes (without terminator). */
  lineSha256: string;
  /** The entry's chain hash, if it has one. */
  chainHash: string | null;
  /** When this position was acknowledged (ISO 8601). */
  at: string;
  /** With `forward --checkpoint-every`, for the counting target: its count and chain state here (checkpoints.ts). */
  checkpoints?: PositionCheckpoints;
}

export interface StateFile {
  version: 1;
  /** The audit directory these positions belong to (absolute). */
  dir: string;
  targets: Record<string, Position>;
  /** A checkpoint signed and not yet in its store: pushed first by the next run (checkpoints.ts). */
  pendingCheckpoint?: Checkpoint | null;
}

/** The state file cannot be used: unreadable, corrupt, another directory, or positions that no longer match. */
export class StateError extends Error {
  constructor(
    readonly code: 'corrupt' | 'other-directory' | 'mismatch' | 'io',
    message: string,
  ) {
    super(message);
    this.name = 'StateError';
  }
}

/** sha256 hex of a line's bytes. */
export function lineDigest(bytes: Buffer): string {
  return sha256Hex(bytes);
}

/**
 * Reads the state file; a missing file is an empty state.
 * @throws StateError when it is corrupt or belongs to another directory.
 */
export function loadState(path: string, dir: string): StateFile {
  const s = loadStateFile<StateFile>(path, {
    kind: 'forward state',
    version: 1,
    dir,
    corruptHint: 'remove it to forward from the start, or restore it',
    check: (v) => {
      const targets = (v as { targets?: unknown }).targets;
      if (typeof targets !== 'object' || targets === null) return 'no positions of targets';
      for (const [id, p] of Object.entries(targets as Record<string, Position>)) {
        if (
          typeof p?.file !== 'string' ||
          typeof p.offset !== 'number' ||
          typeof p.entryOffset !== 'number' ||
          typeof p.lineSha256 !== 'string' ||
          typeof p.line !== 'number'
        )
          return `position of target ${id} is malformed`;
      }
      return true;
    },
    error: (problem, message) => new StateError(problem, message),
  });
  return s ?? { version: 1, dir, targets: {} };
}

/**
 * Writes the state file atomically, mode 600 (runtime/atomic.ts), its fsyncs off the event loop;
 * the text is `state` as it is at the call.
 * @throws (rejects) UnsafeFileError (a link or special file at `path`) and DiskFullError as they
 *   are; StateError on other I/O errors.
 */
export async function saveState(path: string, state: StateFile): Promise<void> {
  try {
    await writeJsonAtomicAsync(path, state);
  } catch (err) {
    if (err instanceof UnsafeFileError || err instanceof DiskFullError) throw err;
    throw new StateError('io', `cannot write state file ${path}: ${(err as Error).message}`);
  }
}

/** Reads the (newline-terminated) line starting at `offset` in `file`; null when there is none. */
export async function lineAt(file: AuditFile, offset: number): Promise<Buffer | null> {
  try {
    const start = file.gz ? 0 : offset;
    for await (const raw of scanLines(openAuditFile(file.path, start), { startOffset: start })) {
      if (raw.offset < offset) continue;
      if (raw.offset > offset) return null;
      return raw.terminated ? raw.bytes : null;
    }
  } catch {
    return null;
  }
  return null;
}

/**
 * Finds where a saved position is now: the same file, or — after size rotation renamed it, or
 * an operator gzipped it — another file of the same day holding the same bytes at the same
 * offset. Returns the index in `files` of the file to continue in, with the position.
 * @throws StateError('mismatch') when the entry is nowhere: the file was rewritten or removed.
 */
export async function locate(files: AuditFile[], p: Position): Promise<{ index: number; position: Position }> {
  const day = p.file.slice(0, 'audit-YYYY-MM-DD'.length);
  const candidates = files
    .map((f, index) => ({ f, index }))
    .filter(({ f }) => f.name === p.file || f.name.startsWith(day))
    .sort((a, b) => (a.f.name === p.file ? -1 : b.f.name === p.file ? 1 : 0));
  for (const { f, index } of candidates) {
    const bytes = await lineAt(f, p.entryOffset);
    if (bytes && lineDigest(bytes) === p.lineSha256) return { index, position: { ...p, file: f.name } };
  }
  throw new StateError(
    'mismatch',
    `the last forwarded entry (${p.file}:${p.line}, offset ` +
      `${p.entryOffset}${p.chainHash ? `, chain hash ${p.chainHash.slice(0, 12)}…` : ''}) is no longer ` +
      `in the directory: the file was rewritten or removed. Nothing was re-sent`,
  );
}
