/**
 * Head anchors: chain heads recorded outside the log (a signed checkpoint, `--expect-head`, a
 * forwarded copy) that must still be an entry's stored hash in the chain. A hash chain alone
 * cannot see its newest entries removed or a rewrite that recomputes every later hash (spec §4);
 * a head kept elsewhere can.
 */
import type { ChainReport, Finding } from '../report.js';

/** A head hash that must be present in the chain. */
export interface HeadAnchor {
  hash: string;
  /** What recorded it: a checkpoint file, or "--expect-head". */
  source: string;
  /** Where the head was when it was recorded (for the message). */
  where?: { file: string; line: number; time?: string };
}

/**
 * The anchors that are not an entry's stored hash anywhere in the chains verified (each
 * report's `found`, filled for the hashes it was asked to look for): one finding each.
 */
export function missingHeads(anchors: HeadAnchor[], reports: ChainReport[]): Finding[] {
  const out: Finding[] = [];
  for (const a of anchors) {
    if (reports.some((r) => r.found.has(a.hash))) continue;
    const was = a.where ? ` (it was ${a.where.file}:${a.where.line}${a.where.time ? ` at ${a.where.time}` : ''})` : '';
    out.push({
      file: a.where?.file ?? '-',
      line: a.where?.line ?? 0,
      offset: -1,
      class: 'anchor-mismatch',
      reason: 'head-missing',
      expected: a.hash,
      message:
        `head ${a.hash.slice(0, 16)}… recorded by ${a.source}${was} is not in the ` +
        `chain: entries or files after it were removed, or the history was rewritten`,
    });
  }
  return out;
}
