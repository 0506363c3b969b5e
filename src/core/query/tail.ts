/**
 * The last N matching entries across files, read newest file first and stopping as soon as N
 * are found; plus where to start following afterwards, so that nothing is shown twice or
 * skipped between the two.
 */
import { KEPT_PER_KIND } from '../chain/bounded.js';
import { storedHash } from '../chain/stored-hash.js';
import { ChainCoverage } from '../chain/coverage.js';
import type { AuditFile } from '../read/files.js';
import { filesInDateRange } from '../read/files.js';
import type { FilterSpec } from './filters.js';
import { compileFilter } from './filters.js';
import type { FollowStart } from '../follow/directory.js';
import { currentEnd } from '../follow/directory.js';
import type { ReadEntry, ReadProblem } from '../read/entries.js';
import { readEntries } from '../read/entries.js';
import type { AuditSource, StreamKind } from '../read/streams.js';
import { resolveAuditSource, STREAM_FILE_CHAIN, STREAM_FILE_NAMES } from '../read/streams.js';
import { windowDates } from './time.js';

export interface TailResult {
  /** What was read; following goes on in its first stream (the dashboard chain when there are two). */
  source: AuditSource;
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
 * Reads the last `n` entries matching `spec` in `dir` (of `stream`, default: detected, see
 * streams.ts). With `requireFiles` false (following), a directory without audit files yet
 * gives an empty result.
 * @throws AuditDirError, StreamChoiceError, FilterError
 */
export async function tailEntries(
  dir: string,
  spec: FilterSpec,
  {
    lines: n,
    maxLineBytes,
    requireFiles = true,
    stream,
  }: { lines: number; maxLineBytes?: number; requireFiles?: boolean; stream?: StreamKind },
): Promise<TailResult> {
  const filter = compileFilter(spec);
  const source = await resolveAuditSource(dir, { stream, requireFiles });
  const followed = source.streams[0];
  // Fix the end first: entries appended while we read belong to the follow phase.
  const followFrom = await currentEnd(source.home, STREAM_FILE_NAMES[followed]);
  const { from, to } = windowDates(spec.window ?? { since: null, until: null });
  const all = filesInDateRange(source.files, from, to);
  // The followed stream's files last (the JS AuditLog before the dashboard chain): its newest
  // file is where following continues.
  const chain = STREAM_FILE_CHAIN[followed];
  const files = [...all.filter((f) => f.chain !== chain), ...all.filter((f) => f.chain === chain)];
  const problems: ReadProblem[] = [];
  let problemCount = 0;
  let result: ReadEntry[] = [];
  let chainHead: string | null = null;
  // Each entry shown says whether its chain covers it (coverage.ts); files are read newest first.
  const coverage = new ChainCoverage(source.files, maxLineBytes);
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
      chain: coverage,
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
  return { source, entries: n > 0 ? result : [], problems, problemCount, followFrom, chainHead };
}
