/**
 * Loki as a witness (`verify --against-loki URL`): the entries forwarded to Loki are a copy an
 * attacker on this host cannot rewrite. This compares the chain hashes stored in Loki for a
 * time range with the local entries of the same range:
 *
 * - in Loki but not here: an entry was removed or changed locally after it was forwarded
 *   (anchor-mismatch, exit 12);
 * - here but not in Loki: not forwarded (yet), or lost on the way (a note).
 *
 * The copy is read through {@link ForwardedCopy} (for Loki: `query_range`, src/sinks/loki/query.ts).
 * The hash is read from each line, which is the entry's original JSON as `forward` sends it, so
 * structured metadata support is not needed.
 */
import type { Finding, Note } from '../report.js';
import type { AuditFile } from '../../read/files.js';
import { storedHash } from '../stored-hash.js';
import { readEntries } from '../../read/entries.js';

/**
 * Where the forwarded copy is read from (the Loki query client implements it,
 * src/sinks/loki/query.ts): the lines stored with timestamps in `[startNs, endNs]`, nanoseconds
 * since the epoch. Errors reaching the copy are thrown from the iteration.
 */
export interface ForwardedCopy {
  lines(startNs: bigint, endNs: bigint): AsyncIterable<{ tsNs: bigint; line: string }>;
}

export interface WitnessOptions {
  /** Time range in ms; default: from the first local entry to now. */
  since?: number;
  until?: number;
}

export interface WitnessResult {
  findings: Finding[];
  notes: Note[];
  local: number;
  inLoki: number;
}

/**
 * Compares local entries with the forwarded copy.
 * @throws whatever `copy` throws when it cannot be read.
 */
export async function compareWithCopy(
  files: AuditFile[],
  copy: ForwardedCopy,
  o: WitnessOptions = {},
  maxLineBytes?: number,
): Promise<WitnessResult> {
  const local = new Map<string, { file: string; line: number; offset: number }>();
  let first = Infinity;
  let last = -Infinity;
  for await (const item of readEntries(files, { maxLineBytes })) {
    if (item.kind !== 'entry' || !item.view.hash) continue;
    const t = item.view.time;
    if (o.since !== undefined && t < o.since) continue;
    if (o.until !== undefined && t >= o.until) continue;
    local.set(item.view.hash, { file: item.file, line: item.line, offset: item.offset });
    if (t < first) first = t;
    if (t > last) last = t;
  }
  const since = o.since ?? (Number.isFinite(first) ? first : Date.now());
  // Up to now: entries in Loki newer than the newest local one are exactly what a truncation removes.
  const until = o.until ?? Math.max(Date.now() + 10 * 60_000, Number.isFinite(last) ? last + 1 : 0);
  const remote = new Map<string, string>(); // hash -> line (for the message)
  for await (const { line } of copy.lines(
    BigInt(Math.floor(since)) * 1_000_000n,
    BigInt(Math.ceil(until)) * 1_000_000n + 999_999n,
  )) {
    const h = storedHash(line);
    if (h) remote.set(h, line);
  }
  const findings: Finding[] = [];
  for (const [h, line] of remote) {
    if (local.has(h)) continue;
    const ts = /"timestamp"\s*:\s*"([^"]+)"/.exec(line)?.[1] ?? '?';
    findings.push({
      file: '-',
      line: 0,
      offset: -1,
      class: 'anchor-mismatch',
      reason: 'head-missing',
      expected: h,
      message: `an entry forwarded to Loki (time ${ts}, chain hash ${h.slice(0, 16)}…) is not in the local files: removed or changed here after it was forwarded`,
    });
  }
  const notes: Note[] = [];
  const missing = [...local.entries()].filter(([h]) => !remote.has(h));
  if (missing.length) {
    const [, where] = missing[0];
    notes.push({
      kind: 'not-forwarded',
      file: where.file,
      line: where.line,
      message: `${missing.length} local entr${missing.length === 1 ? 'y is' : 'ies are'} not in Loki (not forwarded yet, or lost on the way); first: ${where.file}:${where.line}`,
    });
  }
  return { findings, notes, local: local.size, inLoki: remote.size };
}
