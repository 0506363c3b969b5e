/**
 * Freshness: a chain can verify intact and still be wrong if its writer went silent or its
 * newest entries were removed (nothing in a hash chain shows a missing tail). `verify --max-age`
 * compares the chain head's own `timestamp` (spec §2: `datetime.now(timezone.utc).isoformat()`,
 * the JS AuditLog's ISO time) with now; `--max-checkpoint-age` does the same for the newest
 * validly signed checkpoint, so a checkpoint job that stopped is noticed too.
 */
import { openAuditFile, scanLines } from '../read/lines.js';
import type { Finding, Location } from './report.js';

/** Limits of a freshness check (ms) and the instant they are measured from (ms since the epoch). */
export interface FreshnessLimits {
  /** Oldest the chain head may be. */
  maxAgeMs?: number;
  /** Oldest the newest valid checkpoint may be. */
  maxCheckpointAgeMs?: number;
  now: number;
}

/**
 * The `timestamp` of the entry at `offset` in the file at `path` (ISO 8601 as written), or null
 * when the line is gone, is not JSON, or has no string `timestamp`. Reads from the offset on
 * (a `.gz` file from its start, offsets being those of its decompressed bytes), one line.
 */
export async function entryTimeAt(path: string, offset: number, maxLineBytes?: number): Promise<string | null> {
  const gz = path.endsWith('.gz');
  const start = gz ? 0 : offset;
  try {
    for await (const raw of scanLines(openAuditFile(path, start), { startOffset: start, maxLineBytes })) {
      if (raw.offset < offset) continue;
      if (raw.offset > offset || raw.tooLong) return null;
      const value: unknown = JSON.parse(raw.bytes.toString('utf8'));
      const t = value && typeof value === 'object' ? (value as { timestamp?: unknown }).timestamp : undefined;
      return typeof t === 'string' ? t : null;
    }
  } catch {
    return null;
  }
  return null;
}

/** Whole-unit text of a length of time, for messages: `3d 4h`, `2h 5m`, `40s`. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const [d, h, m] = [Math.floor(s / 86400), Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60)];
  if (d) return h ? `${d}d ${h}h` : `${d}d`;
  if (h) return m ? `${h}h ${m}m` : `${h}h`;
  if (m) return `${m}m`;
  return `${s}s`;
}

/**
 * Findings for what is older than its limit: the chain head (class `stale-head`) and the newest
 * checkpoint (`stale-checkpoint`). A head or checkpoint that is missing, or whose time cannot be
 * read, is stale too: a freshness check never passes for want of something to check.
 * @param head The chain head's place and its entry's `timestamp` (null: no chain head).
 * @param checkpoints With `--checkpoints`: the store and its newest valid checkpoint's time.
 */
export function freshnessFindings(
  head: (Location & { time: string | null }) | null,
  checkpoints: { store: string; newest: string | null } | undefined,
  limits: FreshnessLimits,
): Finding[] {
  const out: Finding[] = [];
  if (limits.maxAgeMs !== undefined) {
    const at = head?.time ? Date.parse(head.time) : NaN;
    const where = { file: head?.file ?? '-', line: head?.line ?? 0, offset: head?.offset ?? -1 };
    const limit = formatAge(limits.maxAgeMs);
    if (!head)
      out.push({
        ...where,
        class: 'stale-head',
        reason: 'stale-head',
        message: `no chain head to date (--max-age ${limit})`,
      });
    else if (Number.isNaN(at))
      out.push({
        ...where,
        class: 'stale-head',
        reason: 'stale-head',
        message: `the chain head has no readable timestamp, so its age is unknown (--max-age ${limit})`,
      });
    else if (limits.now - at > limits.maxAgeMs)
      out.push({
        ...where,
        class: 'stale-head',
        reason: 'stale-head',
        message:
          `the chain head was written ${head.time}, ${formatAge(limits.now - at)} ago, longer ` +
          `than --max-age ${limit}: the writer went silent, or the newest entries were removed`,
      });
  }
  if (limits.maxCheckpointAgeMs !== undefined && checkpoints) {
    const limit = formatAge(limits.maxCheckpointAgeMs);
    const at = checkpoints.newest ? Date.parse(checkpoints.newest) : NaN;
    const where = { file: checkpoints.store, line: 0, offset: -1 };
    if (Number.isNaN(at))
      out.push({
        ...where,
        class: 'stale-checkpoint',
        reason: 'stale-checkpoint',
        message:
          `no validly signed checkpoint in ${checkpoints.store} ` +
          `(--max-checkpoint-age ${limit}): the checkpoint job never ran or stopped`,
      });
    else if (limits.now - at > limits.maxCheckpointAgeMs)
      out.push({
        ...where,
        class: 'stale-checkpoint',
        reason: 'stale-checkpoint',
        message:
          `the newest signed checkpoint is from ${checkpoints.newest}, ${formatAge(limits.now - at)} ` +
          `ago, longer than --max-checkpoint-age ${limit}: the checkpoint job stopped`,
      });
  }
  return out;
}
