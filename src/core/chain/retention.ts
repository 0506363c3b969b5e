/**
 * When Loki Mode's own retention can explain missing oldest files (spec §1, §10.25).
 *
 * The writer deletes files only inside a size rotation: right after renaming the live file to a
 * `.HHMMSS` piece it deletes files matching `audit-*.jsonl` (not `.gz`), oldest mtime first,
 * while more than `LOKI_AUDIT_MAX_FILES` remain, then creates the fresh live file. So if it ever
 * deleted anything:
 * - the directory holds a rotated piece;
 * - at its last rotation at least that many files existed (after a deleting rotation there are
 *   MAX + 1, and only new files are added until the next rotation), so that rotation deleted
 *   down to exactly MAX: the files written up to the newest piece, the piece included, number
 *   exactly MAX (later files are the fresh live file and later days' files);
 * - it deletes whole files, so the oldest file left starts with its own first entry.
 * A missing start that breaks any of these is not retention.
 */
import { compareChainOrder, type AuditFile } from '../read/files.js';

/**
 * Why retention of `maxFiles` cannot explain that the history starts mid-chain at line `line`
 * of the oldest file, or null when it can.
 * @param files the chain's files in chain order
 * @param foreign other names in the directory (those matching `audit-*.jsonl` count for the writer too)
 */
export function retentionRuledOut(
  files: AuditFile[],
  foreign: string[],
  maxFiles: number,
  line: number,
): string | null {
  if (line !== 1)
    return `the oldest file's first entry is not its first line (line ${line}): retention deletes whole files`;
  const pieces = files.filter((f) => f.piece !== null && !f.gz);
  if (!pieces.length)
    return 'the directory holds no rotated .HHMMSS piece, and Loki Mode deletes files only when it rotates one';
  const newest = pieces[pieces.length - 1];
  const globbed = (name: string) => /^audit-.*\.jsonl$/.test(name);
  const upToNewest = files.filter(
    (f) => !f.gz && globbed(f.name) && compareChainOrder(f.name, newest.name) <= 0,
  ).length;
  const count = upToNewest + foreign.filter(globbed).length;
  if (count !== maxFiles)
    return (
      `${count} file(s) up to the newest rotated piece ${newest.name}, ` +
      `where retention of ${maxFiles} files leaves exactly ${maxFiles}`
    );
  return null;
}
