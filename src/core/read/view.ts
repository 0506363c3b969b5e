/**
 * One view over Loki Mode's two entry schemas (spec §2.3, loki-audit's convention):
 *
 * | view    | documented schema | writer schema (what is on disk)                                 |
 * |---------|-------------------|-----------------------------------------------------------------|
 * | event   | `event`           | `resource_type + "." + action`                                  |
 * | level   | `level`           | `error` if `success` is false; `warning` for security actions;  |
 * |         |                   | else `info` (Loki Mode's syslog severity rule, spec §6.3)        |
 * | actor   | `actor`           | `user_id`, else `token:` + `token_id`, else `anonymous`         |
 * | outcome | `level != error`  | `success` (missing counts as success, like Loki Mode's CLI)    |
 *
 * The JS AuditLog (spec §5) maps `what` → event, `who` → actor.
 */

import { compactJson, memberText, valueTextAt } from './json-text.js';

/** Severity levels, least severe first. */
export const LEVELS = ['debug', 'info', 'warning', 'error'] as const;
export type Level = (typeof LEVELS)[number];

/** Actions Loki Mode forwards at syslog severity warning (spec §6.3). */
export const SECURITY_ACTIONS: ReadonlySet<string> = new Set([
  'delete',
  'kill',
  'stop',
  'login',
  'logout',
  'create_token',
  'revoke_token',
]);

export type Schema = 'writer' | 'documented' | 'js-auditlog' | 'unknown';

/** The one view of an entry. */
export interface EntryView {
  schema: Schema;
  /** The entry's own timestamp text. */
  timestamp: string;
  /** Milliseconds since the epoch; NaN when the timestamp is missing or unreadable. */
  time: number;
  event: string;
  level: Level;
  actor: string;
  outcome: 'success' | 'failure';
  /** Error text of a failed writer-schema entry. */
  error: string | null;
  /** Stored chain hash (`_integrity_hash`, `chain_hash` or JS `hash`), or null. */
  hash: string | null;
}

/**
 * A field as text: a string as it is; any other value as its original JSON text, compacted
 * (`18446744073709551617` exactly, not the nearest double; `NaN`, which the parse read as null;
 * a nested value at any depth, where String() would recurse); null when absent or null.
 */
function str(v: unknown, text: string | undefined, strict: boolean, path: string | readonly string[]): string | null {
  if (typeof v === 'string') return v;
  if (v === undefined || (v === null && strict)) return null;
  if (text !== undefined) {
    const raw = typeof path === 'string' ? memberText(text, path) : valueTextAt(text, path);
    if (raw !== undefined) return raw === 'null' ? null : compactJson(raw);
  }
  if (v === null) return null;
  return typeof v === 'object' ? (Array.isArray(v) ? '[array]' : '[object]') : String(v);
}

/** `details.error` of a documented-schema entry, when `details` is an object. */
function detailsError(o: Record<string, unknown>, text: string | undefined, strict: boolean): string | null {
  const d = o.details;
  if (d === null || typeof d !== 'object' || Array.isArray(d)) return null;
  return str((d as Record<string, unknown>).error, text, strict, ['details', 'error']);
}

function normalizeLevel(v: unknown): Level {
  const s = typeof v === 'string' ? v.toLowerCase() : '';
  if (s === 'warn') return 'warning';
  if (s === 'err' || s === 'critical' || s === 'fatal') return 'error';
  return (LEVELS as readonly string[]).includes(s) ? (s as Level) : 'info';
}

/**
 * Maps a parsed entry object to the one view. `text` is the line it was parsed from (fields
 * that are not strings are shown from it, exactly as written); `strict`: the line is standard
 * JSON, so a null in `o` is a null (else it may have been NaN or Infinity).
 */
export function toView(o: Record<string, unknown>, text?: string, strict = true): EntryView {
  const field = (key: string) => str(o[key], text, strict, key);
  const timestamp = field('timestamp') ?? '';
  const time = timestamp ? Date.parse(timestamp) : NaN;
  if ('event' in o || 'chain_hash' in o || ('level' in o && !('action' in o))) {
    const level = normalizeLevel(o.level);
    return {
      schema: 'documented',
      timestamp,
      time,
      event: field('event') ?? 'unknown',
      level,
      actor: field('actor') ?? 'anonymous',
      outcome: level === 'error' ? 'failure' : 'success',
      error: level === 'error' ? detailsError(o, text, strict) : null,
      hash: field('chain_hash') ?? field('_integrity_hash'),
    };
  }
  if ('previousHash' in o && 'what' in o) {
    return {
      schema: 'js-auditlog',
      timestamp,
      time,
      event: field('what') ?? 'unknown',
      level: 'info',
      actor: field('who') ?? 'anonymous',
      outcome: 'success',
      error: null,
      hash: field('hash'),
    };
  }
  const action = field('action') ?? 'unknown';
  const resourceType = field('resource_type');
  const failed = o.success === false;
  const userId = field('user_id');
  const tokenId = field('token_id');
  return {
    schema: 'action' in o || 'resource_type' in o ? 'writer' : 'unknown',
    timestamp,
    time,
    event: resourceType ? `${resourceType}.${action}` : action,
    level: failed ? 'error' : SECURITY_ACTIONS.has(action) ? 'warning' : 'info',
    actor: userId || (tokenId ? `token:${tokenId}` : 'anonymous'),
    outcome: failed ? 'failure' : 'success',
    error: failed ? (field('error') ?? null) : null,
    hash: field('_integrity_hash'),
  };
}
