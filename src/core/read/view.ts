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

const str = (v: unknown): string | null =>
  typeof v === 'string' ? v : v === null || v === undefined ? null : String(v);

function normalizeLevel(v: unknown): Level {
  const s = typeof v === 'string' ? v.toLowerCase() : '';
  if (s === 'warn') return 'warning';
  if (s === 'err' || s === 'critical' || s === 'fatal') return 'error';
  return (LEVELS as readonly string[]).includes(s) ? (s as Level) : 'info';
}

/** Maps a parsed entry object to the one view. */
export function toView(o: Record<string, unknown>): EntryView {
  const timestamp = str(o.timestamp) ?? '';
  const time = timestamp ? Date.parse(timestamp) : NaN;
  if ('event' in o || 'chain_hash' in o || ('level' in o && !('action' in o))) {
    const level = normalizeLevel(o.level);
    return {
      schema: 'documented',
      timestamp,
      time,
      event: str(o.event) ?? 'unknown',
      level,
      actor: str(o.actor) ?? 'anonymous',
      outcome: level === 'error' ? 'failure' : 'success',
      error: level === 'error' ? str((o.details as Record<string, unknown> | undefined)?.error) : null,
      hash: str(o.chain_hash) ?? str(o._integrity_hash),
    };
  }
  if ('previousHash' in o && 'what' in o) {
    return {
      schema: 'js-auditlog',
      timestamp,
      time,
      event: str(o.what) ?? 'unknown',
      level: 'info',
      actor: str(o.who) ?? 'anonymous',
      outcome: 'success',
      error: null,
      hash: str(o.hash),
    };
  }
  const action = str(o.action) ?? 'unknown';
  const resourceType = str(o.resource_type);
  const failed = o.success === false;
  const userId = str(o.user_id);
  const tokenId = str(o.token_id);
  return {
    schema: 'action' in o || 'resource_type' in o ? 'writer' : 'unknown',
    timestamp,
    time,
    event: resourceType ? `${resourceType}.${action}` : action,
    level: failed ? 'error' : SECURITY_ACTIONS.has(action) ? 'warning' : 'info',
    actor: userId || (tokenId ? `token:${tokenId}` : 'anonymous'),
    outcome: failed ? 'failure' : 'success',
    error: failed ? (str(o.error) ?? null) : null,
    hash: str(o._integrity_hash),
  };
}
