/**
 * Entries a target refuses for good (Loki: a 4xx other than 429, or an entry Loki would refuse)
 * go to the dead-letter file: JSON Lines, one object per entry with `time`, `target`, `reason`
 * (the target's own words), `file`, `line`, `chain_hash` and `entry` (the entry's text as in its
 * file), appended (docs/forward.md).
 *
 * A batch keeps a journal of the original bytes of the entries the target took, off the heap,
 * until the target answers: needed only when the target refuses the whole batch, to dead-letter
 * each entry, which is read again from these bytes then.
 */
import { closeSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ReadEntry } from '../read/entries.js';
import { parseLine } from '../read/entries.js';
import { BlockPool, ByteList } from '../runtime/bytelist.js';
import { appendAll, openForAppend, refuseUnsafeTarget } from '../runtime/safe-files.js';

/** An entry a target refused, with the reason. */
export interface Refused {
  entry: ReadEntry;
  reason: string;
}

/**
 * The dead-letter file of a run (its targets share it). It holds whole entries: created mode 600
 * (its directory 700), opened O_APPEND|O_NOFOLLOW, never written through a link (safe-files.ts).
 */
export class DeadLetterFile {
  /** @throws UnsafeFileError when `path` is a symbolic link or not a regular file (before a run sends anything). */
  constructor(readonly path: string) {
    refuseUnsafeTarget(path);
  }

  /**
   * Appends one line per refused entry, in one write, creating the file and its directory.
   * @throws UnsafeFileError (a link or special file at the path), DiskFullError (nothing of the
   *   lines is left in the file), NodeJS.ErrnoException when it cannot be written.
   */
  write(target: string, items: Refused[]): void {
    if (!items.length) return;
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const lines = items.map(
      ({ entry, reason }) =>
        JSON.stringify({
          time: new Date().toISOString(),
          target,
          reason,
          file: entry.file,
          line: entry.line,
          chain_hash: entry.view.hash,
          entry: entry.text,
        }) + '\n',
    );
    const fd = openForAppend(this.path);
    try {
      appendAll(fd, lines.join(''), this.path);
    } finally {
      closeSync(fd);
    }
  }
}

/** A journal record's header: file index u32, line u32, offset f64, length u32 (little-endian). */
const JOURNAL_HEADER_BYTES = 20;
/** Blocks for batch journals (shared by every target of a run). */
const journalBlocks = new BlockPool();

/**
 * The original bytes of the entries a target took into a batch, with their file, line and
 * offset, in pool blocks outside the heap (a batch lives long enough for objects in it to be
 * promoted; see bytelist.ts).
 */
export class BatchJournal {
  private readonly bytes = new ByteList(journalBlocks);
  private readonly files: string[] = [];
  private readonly header = Buffer.alloc(JOURNAL_HEADER_BYTES);

  /** Records `e`: its header ({@link JOURNAL_HEADER_BYTES}), then its bytes. */
  add(e: ReadEntry): void {
    let f = this.files.length - 1;
    if (f < 0 || this.files[f] !== e.file) f = this.files.push(e.file) - 1;
    const h = this.header;
    h.writeUInt32LE(f, 0);
    h.writeUInt32LE(e.line, 4);
    h.writeDoubleLE(e.offset, 8);
    h.writeUInt32LE(e.bytes.length, 16);
    this.bytes.appendBytes(h);
    this.bytes.appendBytes(e.bytes);
  }

  /** The recorded entries, read again from their bytes (lines no longer entries are left out: they were once). */
  entries(maxLineBytes: number): ReadEntry[] {
    return this.read(maxLineBytes, -1);
  }

  /** The entry recorded `index`th (0-based), read again from its bytes; null when there is none. */
  entryAt(index: number, maxLineBytes: number): ReadEntry | null {
    return this.read(maxLineBytes, index)[0] ?? null;
  }

  /** Every entry (`only` -1), or the one recorded `only`th, parsed from the journal's bytes. */
  private read(maxLineBytes: number, only: number): ReadEntry[] {
    const all = Buffer.concat(this.bytes.chunks());
    const out: ReadEntry[] = [];
    for (let at = 0, i = 0; at + JOURNAL_HEADER_BYTES <= all.length; i++) {
      const file = this.files[all.readUInt32LE(at)];
      const line = all.readUInt32LE(at + 4);
      const offset = all.readDoubleLE(at + 8);
      const length = all.readUInt32LE(at + 16);
      const bytes = all.subarray(at + JOURNAL_HEADER_BYTES, at + JOURNAL_HEADER_BYTES + length);
      at += JOURNAL_HEADER_BYTES + length;
      if (only >= 0 && i !== only) continue;
      const item = parseLine(
        { bytes, line, offset, length, terminated: true, tooLong: false, crlf: false },
        file,
        maxLineBytes,
      );
      if (item?.kind === 'entry') out.push(item);
      if (only >= 0) break;
    }
    return out;
  }

  /** Gives the blocks back; call once the batch is done with. */
  release(): void {
    this.bytes.release();
  }
}
