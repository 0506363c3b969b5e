/**
 * Following an audit directory as Loki Mode writes it (spec §1): new lines of the live file,
 * then across midnight (a new day's file), size rotation (the live file renamed to
 * `audit-DAY.HHMMSS.jsonl`, a fresh one created), truncation, and deletion/re-creation.
 *
 * The file being read is held open and identified by inode, so a rename never loses the lines
 * written just before it: the old inode is drained to its end before moving to the next file
 * in chain order. A line is handed out only once its newline is written, so a write in
 * progress is never printed half. fs.watch wakes the loop at once; a poll every `pollMs`
 * covers file systems where watching does not work.
 */
import { closeSync, constants, lstatSync, watch, type FSWatcher } from 'node:fs';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { RawLine } from '../read/lines.js';
import { STREAM_FILE_NAMES, type StreamNames } from '../read/streams.js';
import { DEFAULT_MAX_LINE_BYTES, LineSplitter } from '../read/lines.js';
import { NotRegularFileError, openRegularFile } from '../read/open.js';

/** A line read while following, with the file it is in now. */
export interface FollowedLine extends RawLine {
  file: string;
}

/** Something the reader should be told: a switch to the next file, a truncation, a torn line. */
export interface FollowNotice {
  /**
   * `refused`: a file that is not a regular file inside the directory (read/open.ts), not followed.
   * `unreadable`: a file that could not be opened (gone meanwhile, a dangling link, EACCES, EMFILE):
   * retried every poll from the same place, and no later file is followed before it.
   */
  kind: 'switch' | 'truncated' | 'torn' | 'waiting' | 'refused' | 'unreadable';
  message: string;
  file: string;
}

export type FollowEvent = { type: 'line'; line: FollowedLine } | { type: 'notice'; notice: FollowNotice };

/** Where to start following. */
export interface FollowStart {
  /** File name in the directory. */
  file: string;
  /** Byte offset to start at (the end of what was already shown). */
  offset: number;
  /** Number of the line at that offset. */
  line: number;
}

export interface FollowOptions {
  dir: string;
  /** The files to follow and their order (default: the dashboard chain's plain files, spec §1). */
  names?: StreamNames;
  /** Start position; default: the end of the newest plain audit file. */
  start?: FollowStart;
  pollMs?: number;
  maxLineBytes?: number;
  signal?: AbortSignal;
}

interface Current {
  name: string;
  fh: FileHandle;
  ino: number;
  splitter: LineSplitter;
}

/** The files of `dir` that `names` matches, in its order (default: plain dashboard chain files, chain order). */
async function plainChainFiles(dir: string, names: StreamNames = STREAM_FILE_NAMES.dashboard): Promise<string[]> {
  let all: string[];
  try {
    all = await readdir(dir);
  } catch {
    return [];
  }
  return all.filter((n) => names.match(n)).sort((a, b) => names.compare(a, b));
}

/**
 * The end of the newest plain audit file (of the stream `names` lists): where following starts
 * when nothing else is given. Returns null when there is no such file yet.
 */
export async function currentEnd(dir: string, names?: StreamNames): Promise<FollowStart | null> {
  const files = await plainChainFiles(dir, names);
  if (!files.length) return null;
  const name = files[files.length - 1];
  const st = await stat(join(dir, name));
  return { file: name, offset: st.size, line: -1 };
}

/**
 * Follows `dir`, yielding whole new lines in chain order and notices, until `signal` aborts.
 * @throws never for missing files; a directory that disappears is waited for.
 */
export async function* followDirectory(options: FollowOptions): AsyncGenerator<FollowEvent> {
  const { dir, names } = options;
  const pollMs = options.pollMs ?? 250;
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const signal = options.signal;
  let cur: Current | null = null;
  let wake: (() => void) | null = null;
  let watcher: FSWatcher | null;
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  try {
    watcher = watch(dir, { persistent: false }, poke);
    watcher.on('error', () => undefined);
  } catch {
    watcher = null; // polling only
  }
  signal?.addEventListener('abort', poke);

  /** Files refused (not regular, or a symlink out of the directory), by name, with their inode then. */
  const refused = new Map<string, number>();
  /** After a refused successor: only a file after it in chain order may be followed next. */
  let floor: string | null = null;
  /**
   * Where to go on after a file that could not be opened: that file at that place if it is
   * there, else the first file after it. Null: follow the newest file.
   */
  let retry: FollowStart | null = null;
  const notices: FollowNotice[] = [];
  const isRefused = (name: string): boolean => {
    const ino = refused.get(name);
    if (ino === undefined) return false;
    try {
      if (lstatSync(join(dir, name)).ino === ino) return true;
    } catch {
      // gone
    }
    refused.delete(name); // replaced meanwhile: look again
    return false;
  };
  const openFile = async (name: string, offset: number, line: number): Promise<Current | null> => {
    const path = join(dir, name);
    try {
      // Only a regular file inside the directory (read/open.ts): a FIFO would block, a device never end.
      closeSync(openRegularFile(path));
      const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
      const st = await fh.stat();
      if (!st.isFile()) {
        await fh.close();
        throw new NotRegularFileError(path, 'not a regular file');
      }
      return {
        name,
        fh,
        ino: st.ino,
        splitter: new LineSplitter({ maxLineBytes: max, startOffset: offset, firstLine: line }),
      };
    } catch (err) {
      if (err instanceof NotRegularFileError) {
        try {
          refused.set(name, lstatSync(path).ino);
        } catch {
          // gone
        }
        notices.push({ kind: 'refused', message: err.message, file: name });
      } else if (retry?.file !== name) {
        const code = (err as NodeJS.ErrnoException).code ?? String(err);
        notices.push({ kind: 'unreadable', message: `cannot open ${name} (${code}): retrying`, file: name });
      }
      return null;
    }
  };

  const buf = Buffer.allocUnsafe(256 * 1024);
  /** Reads `c` from its position to the current end; returns whole lines. */
  const drain = async (c: Current): Promise<FollowedLine[]> => {
    const out: FollowedLine[] = [];
    let pos = c.splitter.position + c.splitter.pending;
    for (;;) {
      const { bytesRead } = await c.fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      for (const l of c.splitter.push(Buffer.from(buf.subarray(0, bytesRead)))) out.push({ ...l, file: c.name });
    }
    return out;
  };

  /** Opens `s.file` at `s.offset`; a failure is remembered in `floor` (refused) or `retry`. */
  const openAt = async (s: FollowStart): Promise<Current | null> => {
    const c = await openFile(s.file, s.offset, s.line > 0 ? s.line : 1);
    if (!c) {
      if (refused.has(s.file)) floor = s.file;
      retry = s;
      return null;
    }
    retry = null;
    if (s.line <= 0) {
      // Count the lines before the start so that line numbers are the file's own.
      let n = 1;
      let pos = 0;
      while (pos < s.offset) {
        const { bytesRead } = await c.fh.read(buf, 0, Math.min(buf.length, s.offset - pos), pos);
        if (bytesRead === 0) break;
        for (let i = 0; i < bytesRead; i++) if (buf[i] === 0x0a) n++;
        pos += bytesRead;
      }
      c.splitter.reset(s.offset, n);
    }
    return c;
  };

  try {
    if (options.start) {
      cur = await openAt(options.start);
    }
    let waitingNoticed = false;
    while (!signal?.aborted) {
      while (notices.length) yield { type: 'notice', notice: notices.shift() as FollowNotice };
      if (!cur) {
        const order = names ?? STREAM_FILE_NAMES.dashboard;
        const files = (await plainChainFiles(dir, names)).filter(
          (f) => !isRefused(f) && (floor === null || order.compare(f, floor) > 0),
        );
        const r = retry as FollowStart | null; // set by openAt (TS narrows a closure-set let to null)
        // After a file that could not be opened: it again, or the first after it (nothing skipped).
        const at = r
          ? files.includes(r.file)
            ? r
            : files
                .filter((f) => order.compare(f, r.file) > 0)
                .slice(0, 1)
                .map((f) => ({ file: f, offset: 0, line: 1 }))[0]
          : files.length
            ? { file: files[files.length - 1], offset: 0, line: 1 }
            : undefined;
        if (at) {
          cur = await openAt(at);
          if (cur)
            yield { type: 'notice', notice: { kind: 'switch', message: `following ${cur.name}`, file: cur.name } };
        } else if (!waitingNoticed && !notices.length) {
          waitingNoticed = true;
          yield { type: 'notice', notice: { kind: 'waiting', message: `waiting for audit files in ${dir}`, file: '' } };
        }
      }
      if (cur) {
        for (const l of await drain(cur)) yield { type: 'line', line: l };
        const st = await cur.fh.stat();
        if (st.size < cur.splitter.position) {
          yield {
            type: 'notice',
            notice: {
              kind: 'truncated',
              message:
                `${cur.name} was truncated (${st.size} < ` +
                `${cur.splitter.position} bytes): reading it again from the start`,
              file: cur.name,
            },
          };
          cur.splitter.reset(0, 1);
          continue;
        }
        const next = await successor(dir, cur, names);
        if (next) {
          // The writer has moved on: take the last lines of the old inode, then switch.
          for (const l of await drain(cur)) yield { type: 'line', line: l };
          if (cur.splitter.pending > 0) {
            yield {
              type: 'notice',
              notice: {
                kind: 'torn',
                message:
                  `${cur.name} ends with an incomplete line ` +
                  `(${cur.splitter.pending} bytes without newline): not shown`,
                file: cur.name,
              },
            };
          }
          await cur.fh.close();
          const from = cur.name;
          // Not opened: retried from its start, or (refused) a file after it is waited for.
          cur = await openAt({ file: next, offset: 0, line: 1 });
          if (cur)
            yield {
              type: 'notice',
              notice: { kind: 'switch', message: `${from} is complete; following ${next}`, file: next },
            };
          continue;
        }
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  } finally {
    watcher?.close();
    signal?.removeEventListener('abort', poke);
    await cur?.fh.close().catch(() => undefined);
  }
}

/**
 * The file after `cur` in chain order, if the writer has moved on to it: `cur` renamed by size
 * rotation (its inode under a `.HHMMSS` name), a new day's file, or `cur`'s name deleted and
 * created again.
 */
async function successor(
  dir: string,
  cur: Current,
  names: StreamNames = STREAM_FILE_NAMES.dashboard,
): Promise<string | null> {
  const files = await plainChainFiles(dir, names);
  let name: string | null = null;
  try {
    if ((await stat(join(dir, cur.name))).ino === cur.ino) name = cur.name;
  } catch {
    // renamed or deleted
  }
  if (name === null) {
    for (const f of files) {
      try {
        if ((await stat(join(dir, f))).ino === cur.ino) {
          name = f;
          break;
        }
      } catch {
        // gone meanwhile
      }
    }
    if (name !== null) cur.name = name;
  }
  if (name === null) {
    // Deleted: the next file is the first at or after its place (the same name created again counts).
    return files.find((f) => names.compare(f, cur.name) >= 0) ?? null;
  }
  const i = files.indexOf(name);
  return i >= 0 && i + 1 < files.length ? files[i + 1] : null;
}
