/** Entries of a generated (seeded) audit directory, read as the forwarder reads them. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSample, type SampleOptions } from '../../scripts/sample.js';
import { readEntries, type ReadEntry } from '../../src/core/read/entries.js';
import { discoverAuditFiles } from '../../src/core/read/files.js';

/** Writes a sample directory into `dir` and returns its entries in chain order. */
export async function sampleEntries(dir: string, options: SampleOptions): Promise<ReadEntry[]> {
  generateSample(dir, options);
  const out: ReadEntry[] = [];
  for await (const item of readEntries((await discoverAuditFiles(dir)).files))
    if (item.kind === 'entry') out.push(item);
  return out;
}

/** Line `line` (1-based) of `file` in `dir`, as written, without its newline. */
export function lineOf(dir: string, file: string, line: number): string {
  return readFileSync(join(dir, file), 'utf8').split('\n')[line - 1];
}

/** An ISO date `n` days before today (UTC). */
export const daysAgo = (n: number): string => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
