/**
 * CPython's `json.dumps(value, sort_keys=…)` with default separators and `ensure_ascii` for
 * values built in JavaScript (spec §3.1): what Loki Mode's writer prints for an entry.
 */
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
export function pyDumps(value: PyValue, { sortKeys = false }: { sortKeys?: boolean } = {}): string {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'string') return pyQuote(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number')
    return Number.isInteger(value) && !Object.is(value, -0) ? value.toFixed(0) : pyFloatRepr(value);
  if (value instanceof PyFloat) return pyFloatRepr(value.value);
  if (Array.isArray(value)) return '[' + value.map((v) => pyDumps(v, { sortKeys })).join(', ') + ']';
  if (typeof value === 'object') {
    let keys = Object.keys(value);
    if (sortKeys) keys = keys.sort(compareCodePoints);
    return '{' + keys.map((k) => pyQuote(k) + ': ' + pyDumps(value[k], { sortKeys })).join(', ') + '}';
  }
  throw new TypeError(`cannot serialize ${typeof value}`);
}
