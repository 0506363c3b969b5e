/**
 * What a target forwards from: the lines of the audit files from its saved position to their
 * end, then (with follow) as they are written. The files are the queue: nothing is read ahead,
 * and nothing waits in memory but the chunk being read.
 *
 * Plain files are read into one reused buffer and their lines are views of it: a line is valid
 * only until the next chunk is asked for; a consumer that keeps a line longer keeps a copy
 * ({@link detach}).
 */
import { stat } from 'node:fs/promises';
import { storedHash } from '../chain/stored-hash.js';
import { followDirectory } from '../follow/directory.js';
import type { ReadProblem, ReadProgress } from '../read/entries.js';
import { sizeOf } from '../read/entries.js';
import type { AuditFile } from '../read/files.js';
import type { RawLine } from '../read/lines.js';
import { readErrorText } from '../read/open.js';
import { LineSplitter, lineBatches, openAuditFile, readChunks } from '../read/lines.js';
import type { Position } from './positions.js';
import { lineDigest } from './positions.js';

/** A line read for forwarding, with the file it is in. */
export interface SourceLine {
  raw: RawLine;
  file: string;
  /** Inode of a plain file when it was read (null for .gz, or a file gone since: see {@link inodeOf}). */
  ino: number | null;
}

/**
 * The inode of `path`, or null when there is no file there any more (ENOENT: rotated or removed
 * since its line was read; the position then names the file without an inode).
 * @throws NodeJS.ErrnoException for any other stat error (EACCES, ENOTDIR, EIO): not a gone file.
 */
export async function inodeOf(path: string): Promise<number | null> {
  try {
    return (await stat(path)).ino;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export interface SourceOptions {
  dir: string;
  /** The directory's audit files in chain order. */
  files: AuditFile[];
  /** Where to start: an index in `files` and the saved position in that file (null: its start). */
  from: { index: number; position: Position | null };
  /** After the last file, follow the directory as it is written. */
  follow: boolean;
  maxLineBytes: number;
  signal?: AbortSignal;
  pollMs?: number;
  /**
   * A file that could not be read (corrupt gzip, permission, not a regular file): told here, and
   * the files after it are read on (their entries are not held back by one bad day).
   */
  onUnreadable?: (problem: ReadProblem) => void;
}

/**
 * The whole lines from `from` on, a read chunk's lines at a time (one asynchronous step per
 * chunk, not per line); ends at the end of the files, or with follow when `signal` aborts.
 */
export async function* source(o: SourceOptions): AsyncGenerator<SourceLine[]> {
  let last: { file: AuditFile; end: number; next: number } | null = null;
  for (let i = o.from.index; i < o.files.length; i++) {
    if (o.signal?.aborted) return;
    const f = o.files[i];
    const read = { line: 0 };
    let end: { end: number; next: number } | null;
    try {
      end = yield* fileLines(f, i === o.from.index ? o.from.position : null, o.maxLineBytes, read, o.signal);
    } catch (err) {
      if (typeof (err as NodeJS.ErrnoException).code !== 'string') throw err;
      o.onUnreadable?.({
        kind: 'problem',
        file: f.name,
        line: read.line + 1,
        offset: 0,
        code: 'io-error',
        message: readErrorText(f.name, err),
      });
      continue;
    }
    if (!end) return;
    last = { file: f, ...end };
  }
  if (!o.follow) return;
  const start = last && !last.file.gz ? { file: last.file.name, offset: last.end, line: last.next } : undefined;
  const { dir, maxLineBytes, signal, pollMs } = o;
  for await (const ev of followDirectory({ dir, start, maxLineBytes, signal, pollMs })) {
    if (ev.type === 'line') {
      const ino = await inodeOf(`${dir}/${ev.line.file}`);
      yield [{ raw: ev.line, file: ev.line.file, ino }];
    }
  }
}

/**
 * The whole lines of one file after `resume` (null: all of them). Returns where they end and
 * the number of the next line, or null when `signal` aborted the read. `read.line`: the last
 * line handed out (for an error's place).
 * @throws NodeJS.ErrnoException / NotRegularFileError when the file cannot be read.
 */
async function* fileLines(
  f: AuditFile,
  resume: Position | null,
  maxLineBytes: number,
  read: { line: number },
  signal?: AbortSignal,
): AsyncGenerator<SourceLine[], { end: number; next: number } | null> {
  const ino = f.gz ? null : await inodeOf(f.path);
  // A .gz file is decompressed from its start, the lines before the position skipped.
  const start = resume && !f.gz ? resume.offset : 0;
  const skipTo = resume && f.gz ? resume.offset : 0;
  const firstLine = resume ? resume.line + 1 : 1;
  let end = start;
  let next = firstLine;
  // Plain files: one reused read buffer, the lines views of it (a fresh buffer per read, or a
  // copy per line, left garbage waiting for the collector).
  const chunks = f.gz ? openAuditFile(f.path, start) : readChunks(f.path, start, Infinity, 64 * 1024);
  // Empty lines are counted by the splitter, not handed out (10 M blank lines took 30 s).
  const splitter = new LineSplitter({
    maxLineBytes,
    startOffset: start,
    firstLine: f.gz && resume ? 1 : firstLine,
    volatile: f.gz ? false : 'parts',
    skipEmptyLines: true,
  });
  let torn = false;
  for await (const raws of lineBatches(chunks, splitter)) {
    const lines: SourceLine[] = [];
    for (const raw of raws) {
      if (raw.offset < skipTo) continue;
      torn ||= !raw.terminated;
      if (!raw.terminated) break; // a write in progress: taken when whole (follow) or next run
      end = raw.offset + raw.length + (raw.crlf ? 2 : 1);
      next = raw.line + 1;
      read.line = raw.line;
      lines.push({ raw, file: f.name, ino });
    }
    if (lines.length) yield lines;
    if (signal?.aborted) return null;
  }
  // Empty lines after the last line handed out are whole lines too.
  if (!torn && splitter.position > end) {
    end = splitter.position;
    next = splitter.nextLine;
  }
  return { end, next };
}

/** The position just after `s`: where a target stands once `s` is acknowledged (`at`: now). */
export function positionAfter(s: SourceLine): Position {
  const r = s.raw;
  return {
    file: s.file,
    ino: s.ino,
    entryOffset: r.offset,
    offset: r.offset + r.length + (r.crlf ? 2 : 1),
    line: r.line,
    lineSha256: lineDigest(r.bytes),
    chainHash: storedHash(r.bytes.toString('utf8')),
    at: new Date().toISOString(),
  };
}

/** `s` with a copy of its bytes, still valid once the read buffer they are a view of is reused. */
export function detach(s: SourceLine): SourceLine {
  return { ...s, raw: { ...s.raw, bytes: Buffer.from(s.raw.bytes) } };
}

/**
 * How far a reader of `files` is at a line, for the progress display: the sizes of the files
 * before its file plus its offset in it (capped: offsets in a .gz file count decompressed bytes).
 * File sizes are taken at the first call.
 */
export function progressIn(files: AuditFile[]): (line: SourceLine) => ReadProgress {
  let sizes: number[] | null = null;
  const index = new Map(files.map((f, i) => [f.name, i]));
  return (line) => {
    sizes ??= files.map((f) => sizeOf(f.path));
    const i = index.get(line.file) ?? 0;
    const before = sizes.slice(0, i).reduce((a, b) => a + b, 0);
    return {
      filesDone: i,
      files: files.length,
      bytesDone: before + Math.min(line.raw.offset + line.raw.length, sizes[i]),
      bytesTotal: sizes.reduce((a, b) => a + b, 0),
    };
  };
}
