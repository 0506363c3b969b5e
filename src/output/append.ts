/** `append`'s output: what was written where. */
import type { AppendResult } from '../core/write/append.js';

/** One line per appended entry: the file, its chain hash, and any rotation. */
export function formatAppended(r: AppendResult): string {
  return `${r.file}: ${r.hash}${r.rotatedTo ? ` (rotated the full file to ${r.rotatedTo})` : ''}\n`;
}
