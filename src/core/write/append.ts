/**
 * Appending entries to a Loki Mode audit directory the way Loki Mode's writer does
 * (`dashboard/audit.py` `log_event`, spec §3.3), so that loki-audit and Loki Mode can write the
 * same directory at the same time and leave one chain:
 *
 * 1. the UTC day's file `audit-YYYY-MM-DD.jsonl`; size rotation to `audit-DAY.HHMMSS.jsonl`
 *    when it reached `LOKI_AUDIT_MAX_SIZE_MB` (10) — done under the lock here (Loki Mode does
 *    it without one); loki-audit never deletes files (Loki Mode's retention does);
 * 2. an exclusive `flock(2)` on the day's file — the same lock Python's `fcntl.flock` takes;
 * 3. inside the lock, the chain head re-read from the file (the last line that is an object with
 *    a hash), else from the newest earlier file, else the genesis hash;
 * 4. the hash over `json.dumps(entry, sort_keys=True)` and the line `json.dumps(entry)`, appended
 *    and fsync'ed; then the lock is released.
 *
 * After a crash (spec §10.8, §10.17) the file can end in a torn line. Loki Mode's writer appends
 * onto it, so its next append cannot parse that line and chains from the entry before it again;
 * loki-audit first ends the torn line with a newline (in the same write as the entry), so the
 * fragment stays a line of its own that every writer's tip search skips and verify reads as a
 * torn write (`incomplete`). A line that is a fragment with an entry appended onto it (Loki
 * Mode's doing) yields that entry as the head when it chains from the entry before the line, as
 * verify's torn-write recovery reads it.
 *
 * Node has no flock(2): util-linux `flock(1)` takes the lock on loki-audit's own descriptor of
 * the file, passed to it (flock locks belong to the open file description, so the lock is held
 * until loki-audit closes the file, and it excludes Python's fcntl.flock). Without flock(1),
 * loki-audit appends unlocked, as Loki Mode does when locking fails.
 *
 * The day file is opened O_APPEND|O_CREAT|O_NOFOLLOW (safe-files.ts): a symbolic link planted at
 * `audit-YYYY-MM-DD.jsonl` is refused, never written through, and the file locked is the file
 * written (checked again once the lock is held: another writer may have rotated it meanwhile).
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, fstatSync, lstatSync, mkdirSync, readSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { chainHash, GENESIS_HASH } from '../chain/rule.js';
import { entryAtEnd } from '../chain/sequential/classify.js';
import { dashboardLineKindOf, lastGapOf, type FileTip } from '../chain/stored-hash.js';
import { compareChainOrder, discoverAuditFiles } from '../read/files.js';
import { pyStrip } from '../pyjson/canonical.js';
import type { PyValue } from '../pyjson/dumps.js';
import { appendAll, openForAppend } from '../runtime/safe-files.js';
import { pyIsoformat, sealEntry } from './seal.js';

/** What `append` writes. */
export interface AppendResult {
  file: string;
  hash: string;
  prev: string;
  rotatedTo: string | null;
  locked: boolean;
}

let flockPath: string | null | undefined;
function findFlock(): string | null {
  if (flockPath === undefined) {
    const r = spawnSync('sh', ['-c', 'command -v flock'], { encoding: 'utf8' });
    flockPath = r.status === 0 ? r.stdout.trim() : null;
  }
  return flockPath;
}

/**
 * Takes `flock -x` on the file open at `fd`: flock(1) locks its copy of the descriptor, which
 * shares the open file description, so the lock stays until `fd` is closed.
 * @returns false when there is no flock(1) (unlocked, as Loki Mode when locking fails)
 * @throws Error when the lock is not had within `timeoutS`
 */
async function lockFd(fd: number, path: string, timeoutS: number): Promise<boolean> {
  const flock = findFlock();
  if (!flock) return false;
  await new Promise<void>((resolve, reject) => {
    const child = spawn(flock, ['-x', '-w', String(timeoutS), '3'], { stdio: ['ignore', 'ignore', 'pipe', fd] });
    let err = '';
    child.stderr?.on('data', (b) => (err += b));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0
        ? resolve()
        : reject(
            new Error(
              `could not lock ${path}${code === 1 ? ` within ${timeoutS} s` : ''}: ` +
                `${err.trim() || `flock exited ${code}`}`,
            ),
          ),
    );
  });
  return true;
}

/**
 * Opens the day file `path` for appending (a link or special file is refused) and locks it. When
 * the name no longer leads to the file locked (another writer rotated it while this one waited),
 * it starts again on the file now at `path`.
 * @throws UnsafeFileError, DiskFullError, Error (lock timeout, I/O)
 */
async function openLocked(path: string, timeoutS: number): Promise<{ fd: number; locked: boolean }> {
  for (let attempt = 0; ; attempt++) {
    const fd = openForAppend(path, { mode: 0o666, read: true });
    try {
      const locked = await lockFd(fd, path, timeoutS);
      const held = fstatSync(fd);
      const now = lstatSync(path, { throwIfNoEntry: false });
      if (now && now.ino === held.ino && now.dev === held.dev) return { fd, locked };
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    closeSync(fd);
    if (attempt >= 5)
      throw new Error(`${path} was replaced each time it was locked (${attempt + 1} times): not appending`);
  }
}

/**
 * A line after a file's last hash that ends with an entry (a torn write with the next entry
 * appended onto it, spec §10.17).
 */
interface MergedEntry {
  canonical: string;
  stored: string;
}

/**
 * The tip of a plain chain file (read through `fd` when given): its last stored hash by the one
 * rule (core/chain/stored-hash.ts, the writer's tip search of spec §3.3, from the file's end
 * backwards), and the newest line after it that ends with an entry.
 * @throws NodeJS.ErrnoException when the file cannot be read.
 */
function tipOf(path: string, fd?: number): Promise<FileTip<MergedEntry>> {
  return lastGapOf<MergedEntry>({ path, gz: false }, (line) => dashboardLineKindOf(line), { fd, keep: mergedEntry });
}

/** {@link MergedEntry} of a line, or null. */
function mergedEntry(line: Buffer): MergedEntry | null {
  const text = pyStrip(line.toString('utf8'));
  const tail = text ? entryAtEnd(text) : null;
  return tail ? { canonical: tail.canonical, stored: tail.stored } : null;
}

/**
 * The head a file's tip gives (`before`: the head before the file, when the file has no hash):
 * a merged line's entry when it chains from the hash before that line (as verify's torn-write
 * recovery reads it), else the last stored hash.
 */
function headIn(tip: FileTip<MergedEntry>, before: string | null): string | null {
  const base = tip.hash ?? before;
  if (tip.kept && base !== null && chainHash(base, tip.kept.canonical) === tip.kept.stored) return tip.kept.stored;
  return tip.hash;
}

/** Whether the file open at `fd` (of `size` bytes) ends inside a line: a torn write (spec §10.8). */
function endsTorn(fd: number, size: number): boolean {
  if (size === 0) return false;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  return last[0] !== 0x0a && last[0] !== 0x0d; // CPython's universal newlines end a line at CR too
}

/** The chain head before `file`: the last hash of the newest earlier plain chain file. */
async function headBefore(dir: string, file: string): Promise<string> {
  const found = await discoverAuditFiles(dir, { requireFiles: false });
  const earlier = found.files.filter((f) => !f.gz && compareChainOrder(f.name, file) < 0).reverse();
  for (const f of earlier) {
    const h = headIn(await tipOf(f.path), null);
    if (h) return h;
  }
  return GENESIS_HASH;
}

const HHMMSS = (d: Date) => d.toISOString().slice(11, 19).replace(/:/g, '');

/** The audit directory to append to does not exist, and creating it was not asked for. */
export class AppendDirError extends Error {
  constructor(readonly dir: string) {
    super(`audit directory ${dir} does not exist`);
    this.name = 'AppendDirError';
  }
}

/**
 * Appends one entry (writer schema, in the writer's key order) to the directory's chain.
 * `entry.timestamp` is set to now when absent. `create: false`: a directory that does not exist
 * is an error (a mistyped `--dir` must not start a new chain elsewhere); default: created.
 * @throws AppendDirError when `dir` does not exist and `create` is false.
 * @throws Error when the lock cannot be taken or the file cannot be written.
 */
export async function appendEntry(
  dir: string,
  entry: { [key: string]: PyValue },
  options: { maxSizeBytes?: number; lockTimeoutS?: number; now?: Date; create?: boolean } = {},
): Promise<AppendResult> {
  const now = options.now ?? new Date();
  const { timestamp, _integrity_hash: _ignored, ...rest } = entry;
  void _ignored;
  const body: { [key: string]: PyValue } = {
    timestamp: typeof timestamp === 'string' ? timestamp : pyIsoformat(BigInt(now.getTime()) * 1000n),
    ...rest,
  };
  if (options.create === false && !existsSync(dir)) throw new AppendDirError(dir);
  mkdirSync(dir, { recursive: true });
  const day = now.toISOString().slice(0, 10);
  const name = `audit-${day}.jsonl`;
  const path = join(dir, name);
  const timeoutS = options.lockTimeoutS ?? 10;
  // Descriptors whose locks are held, closed (unlocked) last: after rotation both the rotated
  // piece and the fresh file stay locked until the entry is written.
  const held: number[] = [];
  try {
    let { fd, locked } = await openLocked(path, timeoutS);
    held.push(fd);
    let rotatedTo: string | null = null;
    const max = options.maxSizeBytes ?? 10 * 1048576;
    const size = fstatSync(fd).size;
    if (size >= max && size > 0) {
      rotatedTo = `audit-${day}.${HHMMSS(now)}.jsonl`;
      if (lstatSync(join(dir, rotatedTo), { throwIfNoEntry: false }))
        throw new Error(
          `${rotatedTo} exists: not overwriting it (Loki Mode would, spec §10.10); try again in a second`,
        );
      renameSync(path, join(dir, rotatedTo));
      ({ fd, locked } = await openLocked(path, timeoutS));
      held.push(fd);
    }
    const tip = await tipOf(path, fd);
    // The head before this file, needed only when the file holds no hash.
    const before =
      tip.hash !== null
        ? null
        : rotatedTo
          ? (headIn(await tipOf(join(dir, rotatedTo), held[0]), null) ?? (await headBefore(dir, rotatedTo)))
          : await headBefore(dir, name);
    const prev = headIn(tip, before) ?? (before as string);
    const sealed = sealEntry(body, prev);
    // A torn last line is ended first, in the same write: the fragment stays a line of its own.
    appendAll(fd, (endsTorn(fd, fstatSync(fd).size) ? '\n' : '') + sealed.line, path);
    return { file: name, hash: sealed.hash, prev, rotatedTo, locked };
  } finally {
    for (const fd of held.reverse()) closeSync(fd);
  }
}

/** Whether appends will be locked (util-linux flock(1) found). */
export function canLock(): boolean {
  return findFlock() !== null;
}
