/**
 * Writing entries exactly as Loki Mode's writer does (`dashboard/audit.py` `log_event`,
 * spec §2.1, §3.3): the line is `json.dumps(entry)` (insertion order, separators `", "` and
 * `": "`, ASCII-escaped) and `_integrity_hash` is `sha256_hex(prev + json.dumps(entry,
 * sort_keys=True))`, computed before the hash key is added.
 *
 * Used by the sample generator and the tests; the same rule an `append` command needs.
 */
import { chainHash } from '../chain/sequential/verifier.js';
import { compareCodePoints, pyFloatRepr, pyQuote } from './canonical.js';

/** A float that must print as a Python float even when integral (`1.0`, not `1`). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** Values a Python audit entry can hold. JS numbers print as ints when integral. */
export type PyValue = null | boolean | number | bigint | string | PyFloat | PyValue[] | { [key: string]: PyValue };

/**
 * Python `json.dumps(value, sort_keys=sortKeys)` with default separators and `ensure_ascii`.
 * @throws TypeError for values Python's json cannot write (functions, symbols, undefined).
 */
export function pyDumps(value: PyValue, sortKeys = false): string {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'string') return pyQuote(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number')
    return Number.isInteger(value) && !Object.is(value, -0) ? value.toFixed(0) : pyFloatRepr(value);
  if (value instanceof PyFloat) return pyFloatRepr(value.value);
  if (Array.isArray(value)) return '[' + value.map((v) => pyDumps(v, sortKeys)).join(', ') + ']';
  if (typeof value === 'object') {
    let keys = Object.keys(value);
    if (sortKeys) keys = keys.sort(compareCodePoints);
    return '{' + keys.map((k) => pyQuote(k) + ': ' + pyDumps(value[k], sortKeys)).join(', ') + '}';
  }
  throw new TypeError(`cannot serialize ${typeof value}`);
}

/** A writer-schema entry before sealing (spec §2.1 keys, in the writer's order). */
export interface WriterEntry {
  timestamp: string;
  action: string;
  resource_type: string;
  resource_id: string | null;
  user_id: string | null;
  token_id: string | null;
  ip_address: string | null;
  user_agent: string | null;
  success: boolean;
  error: string | null;
  details: { [key: string]: PyValue };
  [key: string]: PyValue;
}

/**
 * Seals an entry onto the chain: returns the file line (with `\n`) and the new chain head.
 * @param hashKey `_integrity_hash` (writer) or `chain_hash` (documented schema).
 */
export function sealEntry(
  entry: { [key: string]: PyValue },
  prev: string,
  hashKey = '_integrity_hash',
): { line: string; hash: string } {
  const hash = chainHash(prev, pyDumps(entry, true));
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
