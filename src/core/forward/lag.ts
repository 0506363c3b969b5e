/**
 * What forward's metrics count on disk: how many entries a target has not taken yet (lines after
 * its position in the chain's files) and how many of its entries the dead-letter file holds.
 * Both stream their files (memory flat whatever their size).
 */
import { createReadStream } from 'node:fs';
import type { AuditFile } from '../read/files.js';
import { openAuditFile, scanLines } from '../read/lines.js';
import type { Position } from './positions.js';

/** Newline bytes in `stream`. */
async function newlines(stream: AsyncIterable<Buffer>): Promise<number> {
  let n = 0;
  for await (const chunk of stream) for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) n++;
  return n;
}

/**
 * Complete lines (entries) of `files` (chain order) after `position`: the rest of its file from
 * `position.offset`, then every later file. With no position, every line. A position in a file
 * that is no longer there gives null (unknown: the forwarder reports the mismatch itself).
 * @throws NodeJS.ErrnoException when a file cannot be read.
 */
export async function entriesAfter(files: readonly AuditFile[], position: Position | null): Promise<number | null> {
  const at = position ? files.findIndex((f) => f.name === position.file) : 0;
  if (at < 0) return null;
  let n = 0;
  for (let i = at; i < files.length; i++) {
    const f = files[i];
    // A .gz file's offsets are of its decompressed bytes: decompress from the start, skip to the offset.
    const start = i === at && position ? position.offset : 0;
    if (f.gz && start > 0) {
      for await (const raw of scanLines(openAuditFile(f.path), {})) if (raw.offset >= start && raw.terminated) n++;
    } else n += await newlines(openAuditFile(f.path, start));
  }
  return n;
}

/**
 * Lines per target in the dead-letter file at `path` (its `target` field, dead-letter.ts); a
 * missing file is none. Lines that are not such JSON are left out.
 * @throws NodeJS.ErrnoException when the file exists but cannot be read.
 */
export async function deadLettersByTarget(path: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  try {
    for await (const raw of scanLines(createReadStream(path))) {
      if (!raw.terminated || raw.tooLong) continue;
      try {
        const t = (JSON.parse(raw.bytes.toString('utf8')) as { target?: unknown }).target;
        if (typeof t === 'string') out.set(t, (out.get(t) ?? 0) + 1);
      } catch {
        // Not a dead-letter line: not counted.
      }
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return out;
}
