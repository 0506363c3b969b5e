/**
 * Writing entries exactly as Loki Mode's writer does (`dashboard/audit.py` `log_event`,
 * spec §2.1, §3.3): the line is `json.dumps(entry)` (insertion order, separators `", "` and
 * `": "`, ASCII-escaped) and `_integrity_hash` is `sha256_hex(prev + json.dumps(entry,
 * sort_keys=True))`, computed before the hash key is added.
 *
 * Used by `append`, the sample generator and the tests.
 */
import { chainHash } from '../chain/rule.js';
import { pyDumps, type PyValue } from '../pyjson/dumps.js';

/**
 * Seals an entry onto the chain: returns the file line (with `\n`) and the new chain head.
 * @param hashKey `_integrity_hash` (writer) or `chain_hash` (documented schema).
 */
export function sealEntry(
  entry: { [key: string]: PyValue },
  prev: string,
  hashKey = '_integrity_hash',
): { line: string; hash: string } {
  const hash = chainHash(prev, pyDumps(entry, { sortKeys: true }));
  const line = pyDumps({ ...entry, [hashKey]: hash }) + '\n';
  return { line, hash };
}

/** Python `datetime.now(timezone.utc).isoformat()` for a time in microseconds since the epoch. */
export function pyIsoformat(micros: bigint): string {
  const ms = Number(micros / 1000n);
  const us = Number(micros % 1000000n);
  const base = new Date(ms).toISOString().slice(0, 19);
  return us === 0 ? `${base}+00:00` : `${base}.${String(us).padStart(6, '0')}+00:00`;
}
