/**
 * The last N matching entries across files, read newest file first and stopping as soon as N
 * are found; plus where to start following afterwards, so that nothing is shown twice or
 * skipped between the two.
 */
import { KEPT_PER_KIND } from '../chain/bounded.js';
import { storedHash } from '../chain/stored-hash.js';
import type { AuditFile } from '../read/files.js';
import type { FilterSpec } from './filters.js';
import { compileFilter } from './filters.js';
import type { FollowStart } from '../follow/directory.js';
import { currentEnd } from '../follow/directory.js';
import type { ReadEntry, ReadProblem } from '../read/entries.js';
import { readEntries } from '../read/entries.js';
import { filesForWindow } from './search.js';

export interface TailResult {
  entries: ReadEntry[];
  /** The first lines that are not entries ({@link KEPT_PER_KIND}); `problemCount` counts them all. */
  problems: ReadProblem[];
  problemCount: number;
  /** Where following continues (end of the newest plain file at the time of reading), or null. */
  followFrom: FollowStart | null;
  /** Stored hash of the last entry before `followFrom` (for `--verify`), or null. */
  chainHead: string | null;
}

/**
 * Reads the last `n` entries matching `spec` in `dir`. With `requireFiles` false (following),
 * a directory without audit files yet gives an empty result.
 * @throws AuditDirError, FilterError
 */
export async function tailEntries(
  dir: string,
  spec: FilterSpec,
  { lines: n, maxLineBytes, requireFiles = true }: { lines: number; maxLineBytes?: number; requireFiles?: boolean },
): Promise<TailResult> {
  const filter = compileFilter(spec);
  // Fix the end first: entries appended while we read belong to the follow phase.
  const followFrom = await currentEnd(dir);
  // JS AuditLog files first: the dashboard chain's newest file is where following continues.
  const all = await filesForWindow(dir, spec, { requireFiles });
  const files = [...all.filter((f) => f.chain !== 'dashboard'), ...all.filter((f) => f.chain === 'dashboard')];
  const problems: ReadProblem[] = [];
  let problemCount = 0;
  let result: ReadEntry[] = [];
  let chainHead: string | null = null;
  // The newest file is always read: it fixes the follow position and the chain head.
  for (let i = files.length - 1; i >= 0 && (result.length < n || i === files.length - 1); i--) {
    const file: AuditFile = files[i];
    const bounded = followFrom && file.name === followFrom.file;
    const ring: ReadEntry[] = [];
    const onFileEnd = (info: { completeOffset: number; nextLine: number }) => {
      if (bounded) Object.assign(followFrom, { offset: info.completeOffset, line: info.nextLine });
    };
    for await (const item of readEntries([file], {
      maxLineBytes,
      endOffset: bounded ? followFrom.offset : undefined,
      completeLinesOnly: !!bounded,
      onFileEnd,
    })) {
      if (item.kind === 'problem') {
        if (problemCount++ < KEPT_PER_KIND) problems.push(item);
        continue;
      }
      if (bounded) {
        const h = storedHash(item.text);
        if (h) chainHead = h;
      }
      if (!filter.matches(item.view, item.record, item.text)) continue;
      ring.push(item);
      if (ring.length > n) ring.shift();
    }
    result = [...ring, ...result].slice(-n);
  }
  return { entries: n > 0 ? result : [], problems, problemCount, followFrom, chainHead };
}
