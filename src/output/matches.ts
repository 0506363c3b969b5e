/**
 * Writing a search's results as they stream (search and export): each match to the command's
 * writer, each problem as a warning on stderr, printed above the progress line.
 */
import type { ReadEntry, ReadItem } from '../core/read/entries.js';
import type { ProgressLine } from './progress.js';
import { LineWarnings } from './warnings.js';

/**
 * Consumes batches of matches and problems (from `searchEntryBatches`): each entry to
 * `onEntry`, awaited only when it returns a promise (a full output); each problem as a
 * `warning: FILE:LINE: …` line on stderr (none with `quiet`). The entries' bytes may be views of a reused read
 * buffer (`transientBytes`), valid until the next batch: `onEntry` must copy what it keeps.
 * @returns the number of entries handed to `onEntry`, and of files that could not be read.
 */
export async function writeMatches(
  batches: AsyncIterable<ReadItem[]>,
  onEntry: (e: ReadEntry) => void | Promise<void>,
  progress: ProgressLine | null = null,
  { quiet = false }: { quiet?: boolean } = {},
): Promise<{ entries: number; unreadableFiles: number }> {
  let count = 0;
  // `search -q`: problems still count (an unreadable file still sets the exit code), unprinted.
  const warnings = new LineWarnings(quiet ? () => {} : undefined, () => progress?.clear());
  for await (const batch of batches) {
    for (const item of batch) {
      if (item.kind === 'problem') {
        warnings.add(item);
        continue;
      }
      count++;
      const full = onEntry(item);
      if (full) await full;
    }
  }
  warnings.finish();
  progress?.clear();
  return { entries: count, unreadableFiles: warnings.unreadableFiles };
}
