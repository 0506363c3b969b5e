/**
 * The one rule for "the hash stored in a line" (spec §2.1, §3): a line holds a stored chain hash
 * when Python's `json.loads` reads it as an object whose top-level `_integrity_hash` (else
 * `chain_hash`) is a non-empty string. That is what Loki Mode's writer looks for when it recovers
 * its tip (spec §3.3) and what the verifier checks; nested fields of the same name do not count.
 *
 * Here in its three forms (a line's text, a parsed entry, a line's bytes for marking entries
 * verified), with the two searches built on it: the last stored hash before a point, reading
 * forwards ({@link storedHashBefore}), and the tip of a file, reading from its end backwards
 * ({@link lastGapOf}, which `append` also uses to find the head it chains from).
 */
import { closeSync, fstatSync, readSync } from 'node:fs';
import { canonicalizeEntry } from '../pyjson/canonical.js';
import type { AuditFile } from '../read/files.js';
import { decodeLine } from '../read/decode.js';
import { openRegularFile } from '../read/open.js';
import type { LineChainKind, SkippedGap } from '../read/lines.js';
import { DEFAULT_MAX_LINE_BYTES, openAuditFile, scanLineBatches, scanLines } from '../read/lines.js';
import { HASH_KEYS } from './rule.js';

/** Bytes read at a time when reading a file backwards for its last stored hash. */
const BACK_BLOCK = 64 * 1024;

/**
 * What one line's text (decoded and stripped) holds of the dashboard chain: `hashed` with its
 * stored hash, `unhashed` (an object without a usable hash: none, empty or not a string), or
 * `unreadable` (not a JSON object: what it held cannot be known).
 */
export function dashboardLineKind(text: string): LineChainKind {
  let r;
  try {
    r = canonicalizeEntry(text, { hashKeys: HASH_KEYS });
  } catch {
    return { kind: 'unreadable' };
  }
  if (!r.isObject) return { kind: 'unreadable' };
  return typeof r.hashValue === 'string' && r.hashValue !== ''
    ? { kind: 'hashed', hash: r.hashValue }
    : { kind: 'unhashed' };
}

/**
 * The stored chain hash of one line (decoded and stripped), or null when it is not an object
 * with a non-empty string hash (malformed, not an object, no, an empty or a non-string hash
 * field: the writer's own test when it looks for its tip).
 */
export function storedHash(text: string): string | null {
  const k = dashboardLineKind(text);
  return k.kind === 'hashed' ? k.hash : null;
}

/**
 * The stored hash of an entry already parsed, by the same rule: the first of `HASH_KEYS`
 * present, when it is a non-empty string (else null, even if the other key is there).
 */
export function storedHashOfRecord(record: Record<string, unknown>): string | null {
  for (const key of HASH_KEYS) {
    if (!(key in record)) continue;
    const v = record[key];
    return typeof v === 'string' && v !== '' ? v : null;
  }
  return null;
}

/**
 * The last stored hash in chain order before byte `offset` of `files[index]` (whole lines that
 * start before it; `Infinity`: the whole file), else in the files before it, newest first; null
 * when there is none (the predecessor is then the genesis). Streams each file it reads; an
 * unreadable earlier file is passed over (its entries cannot be known).
 */
export async function storedHashBefore(
  files: readonly AuditFile[],
  index: number,
  offset: number,
  maxLineBytes = DEFAULT_MAX_LINE_BYTES,
): Promise<string | null> {
  for (let i = Math.min(index, files.length - 1); i >= 0; i--) {
    const f = files[i];
    const end = i === index ? offset : Infinity;
    if (end <= 0) continue;
    let last: string | null = null;
    try {
      for await (const raw of scanLines(openAuditFile(f.path, 0, f.gz || end === Infinity ? undefined : end), {
        maxLineBytes,
      })) {
        if (raw.offset >= end) break;
        const d = decodeLine(raw, maxLineBytes);
        if (d.kind === 'text') last = storedHash(d.text) ?? last;
      }
    } catch {
      continue;
    }
    if (last !== null) return last;
  }
  return null;
}

/** What one line's bytes hold of the dashboard chain ({@link dashboardLineKind}; `blank` for an empty line). */
export function dashboardLineKindOf(line: Buffer, maxLineBytes = DEFAULT_MAX_LINE_BYTES): LineChainKind {
  const d = decodeLine(
    { bytes: line, line: 0, offset: 0, length: line.length, terminated: true, tooLong: false, crlf: false },
    maxLineBytes,
  );
  if (d.kind === 'blank') return { kind: 'blank' };
  if (d.kind === 'undecodable') return { kind: 'unreadable' };
  return dashboardLineKind(d.text);
}

/**
 * The tip of a file with, optionally, what lies after it: `kept` is `keep`'s value for the
 * newest line after the last hashed one for which `keep` gives one (null: none).
 */
export interface FileTip<T> extends SkippedGap {
  kept: T | null;
}

/** Options of {@link lastGapOf}. */
export interface TipSearch<T> {
  /** Longest line read, in bytes (longer lines count as unreadable). */
  maxLineBytes?: number;
  /** Read through this open descriptor of the file (e.g. one `append` holds locked) instead of opening it. */
  fd?: number;
  /** Asked of each line after the tip (newest first when reading backwards); see {@link FileTip.kept}. */
  keep?: (line: Buffer) => T | null;
}

/**
 * What the end of `file` holds of its chain: the stored hash of its last hashed entry and
 * whether an unreadable line follows it (see {@link SkippedGap}), by `classify` (the dashboard
 * rule: {@link dashboardLineKindOf}). A plain file is read from its end backwards, a block at a
 * time, and only up to that entry; a `.gz` file, and one with classic-Mac line ends (spec
 * §10.24), from the start.
 * @throws NodeJS.ErrnoException or NotRegularFileError when the file cannot be read.
 */
export async function lastGapOf<T = never>(
  file: Pick<AuditFile, 'path' | 'gz'>,
  classify: (line: Buffer) => LineChainKind,
  search: TipSearch<T> | number = {},
): Promise<FileTip<T>> {
  const {
    maxLineBytes = DEFAULT_MAX_LINE_BYTES,
    fd: given,
    keep,
  } = typeof search === 'number' ? { maxLineBytes: search } : search;
  const fd = file.gz ? -1 : (given ?? openRegularFile(file.path));
  try {
    if (file.gz || crOnlyLines(fd)) {
      // Read from the start: a gzip stream has no end to start from; classic-Mac line ends
      // (spec §10.24) are split as the reader splits them.
      let g: FileTip<T> = { hash: null, broken: false, kept: null };
      for await (const lines of scanLineBatches(openAuditFile(file.path), { maxLineBytes })) {
        for (const raw of lines) {
          const k: LineChainKind = raw.tooLong ? { kind: 'unreadable' } : classify(raw.bytes);
          if (k.kind === 'hashed') g = { hash: k.hash, broken: false, kept: null };
          else if (k.kind === 'unreadable') g.broken = true;
          if (k.kind !== 'hashed' && keep && !raw.tooLong) g.kept = keep(raw.bytes) ?? g.kept;
        }
      }
      return g;
    }
    return tipFromEnd(fd, classify, maxLineBytes, keep);
  } finally {
    if (fd >= 0 && given === undefined) closeSync(fd);
  }
}

/** {@link lastGapOf} of a plain file with LF line ends, read from its end backwards. */
function tipFromEnd<T>(
  fd: number,
  classify: (line: Buffer) => LineChainKind,
  maxLineBytes: number,
  keep: ((line: Buffer) => T | null) | undefined,
): FileTip<T> {
  let pos = fstatSync(fd).size;
  let rest: Buffer = Buffer.alloc(0); // the start of the line being assembled (bytes after it are done)
  let overLong = false; // the line being assembled is longer than the limit: its bytes are dropped
  let broken = false;
  let kept: T | null = null;
  const judge = (bytes: Buffer, long: boolean): LineChainKind => {
    const k = long || bytes.length > maxLineBytes ? { kind: 'unreadable' as const } : classify(bytes);
    if (k.kind !== 'hashed' && kept === null && keep && !long) kept = keep(bytes);
    return k;
  };
  while (pos > 0) {
    const n = Math.min(BACK_BLOCK, pos);
    pos -= n;
    const block = Buffer.allocUnsafe(n);
    readSync(fd, block, 0, n, pos);
    let end = block.length; // block[.., end) + rest is the line being assembled
    for (;;) {
      const nl = end > 0 ? block.lastIndexOf(0x0a, end - 1) : -1;
      if (nl < 0) break;
      // The line being assembled starts after this newline: it is complete.
      const k = judge(Buffer.concat([block.subarray(nl + 1, end), rest]), overLong);
      if (k.kind === 'hashed') return { hash: k.hash, broken, kept };
      if (k.kind === 'unreadable') broken = true;
      rest = Buffer.alloc(0);
      overLong = false;
      end = nl;
    }
    if (!overLong) {
      rest = Buffer.concat([block.subarray(0, end), rest]);
      if (rest.length > maxLineBytes) {
        overLong = true;
        rest = Buffer.alloc(0);
      }
    }
  }
  const k = judge(rest, overLong);
  if (k.kind === 'hashed') return { hash: k.hash, broken, kept };
  return { hash: null, broken: broken || k.kind === 'unreadable', kept };
}

/**
 * Whether a file's first line ends with a lone CR between two entries (`}\r{`: classic-Mac
 * line ends, see lines.ts).
 */
function crOnlyLines(fd: number): boolean {
  const b = Buffer.allocUnsafe(BACK_BLOCK);
  const n = readSync(fd, b, 0, b.length, 0);
  const head = b.subarray(0, n);
  const cr = head.indexOf(0x0d);
  const nl = head.indexOf(0x0a);
  return cr > 0 && (nl < 0 || cr < nl) && head[cr - 1] === 0x7d && head[cr + 1] === 0x7b;
}
