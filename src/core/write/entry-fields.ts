/**
 * Entries to append, from what a user gives: fields in either schema (`event`/`actor` or the
 * writer's `action`, `resource_type`, `user_id` …), `--detail KEY=VALUE` pairs, or one JSON
 * object per line of a stream. Every entry comes out in the writer schema, in the writer's key
 * order (spec §2.1), without a hash field (the chain's is computed when it is appended).
 */
import type { Readable } from 'node:stream';
import split2 from 'split2';
import type { PyValue } from '../pyjson/dumps.js';

/** An entry's fields. */
export type EntryFields = { [key: string]: PyValue };

/** Input that cannot become an entry (a bad `--detail`, a stdin line that is not a JSON object). */
export class EntryInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EntryInputError';
  }
}

/** The writer schema's keys in the writer's order (spec §2.1), with their defaults. */
const WRITER_KEYS: Array<[string, PyValue]> = [
  ['action', null],
  ['resource_type', null],
  ['resource_id', null],
  ['user_id', null],
  ['token_id', null],
  ['ip_address', null],
  ['user_agent', null],
  ['success', true],
  ['error', null],
  ['details', {}],
];

/** An entry in the writer's key order from whatever fields were given; `event` splits into resource_type.action. */
export function writerEntry(fields: Record<string, unknown>): EntryFields {
  const f = { ...fields };
  if (typeof f.event === 'string' && f.action === undefined) {
    const dot = f.event.indexOf('.');
    f.resource_type = dot > 0 ? f.event.slice(0, dot) : 'event';
    f.action = dot > 0 ? f.event.slice(dot + 1) : f.event;
    delete f.event;
  }
  if (typeof f.actor === 'string' && f.user_id === undefined) {
    f.user_id = f.actor;
    delete f.actor;
  }
  const out: EntryFields = {};
  if (typeof f.timestamp === 'string') out.timestamp = f.timestamp;
  for (const [k, d] of WRITER_KEYS) out[k] = (f[k] ?? d) as PyValue;
  for (const [k, v] of Object.entries(f))
    if (!(k in out) && k !== '_integrity_hash' && k !== 'chain_hash') out[k] = v as PyValue;
  return out;
}

/** `key=value`: the value as a JSON number, boolean or null when it is one, else a string. */
export function detailValue(v: string): PyValue {
  if (/^(-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?|true|false|null)$/.test(v)) return JSON.parse(v) as PyValue;
  return v;
}

/** What `append`'s flags describe. */
export interface EntryFlags {
  event: string;
  actor?: string;
  resourceId?: string;
  failure?: boolean;
  error?: string;
  /** `KEY=VALUE` pairs. */
  details?: string[];
}

/**
 * The entry of `append --event … --detail …`.
 * @throws EntryInputError for a `--detail` without `=`.
 */
export function entryFromFlags(f: EntryFlags): EntryFields {
  const details: EntryFields = {};
  for (const d of f.details ?? []) {
    const eq = d.indexOf('=');
    if (eq <= 0) throw new EntryInputError(`--detail needs KEY=VALUE, got "${d}"`);
    details[d.slice(0, eq)] = detailValue(d.slice(eq + 1));
  }
  return writerEntry({
    event: f.event,
    actor: f.actor ?? null,
    resource_id: f.resourceId ?? null,
    success: !(f.failure || f.error),
    error: f.error ?? null,
    details,
  });
}

/**
 * The entries of a stream of JSON objects, one per line (blank lines skipped), one at a time.
 * @throws EntryInputError naming the line (1-based) that is not a JSON object.
 */
export async function* entriesFromJsonLines(stream: Readable, name = 'stdin'): AsyncGenerator<EntryFields> {
  let n = 0;
  for await (const line of stream.pipe(split2()) as AsyncIterable<string>) {
    n++;
    if (!line.trim()) continue;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      throw new EntryInputError(`${name} line ${n}: not valid JSON`);
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o))
      throw new EntryInputError(`${name} line ${n}: not a JSON object`);
    yield writerEntry(o as Record<string, unknown>);
  }
}
