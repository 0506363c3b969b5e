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
 * The JS AuditLog (spec §5) maps `what` → event, `who` → actor. Loki Mode's streams without a
 * chain have their own fields (spec §5), read when the caller says which stream an entry is from:
 *
 * | view    | agent audit (`agent-audit.jsonl`)              | session audit (`audit-YYYYMMDD.jsonl`) |
 * |---------|------------------------------------------------|----------------------------------------|
 * | event   | `action` (`cli_invoke`, `policy_denied`)       | `event` (`SESSION_START`)              |
 * | actor   | `agent:` + `agent` (docs), else `pid:` + `pid` | `user` (the OS user running Loki Mode) |
 * | level   | `error` for a refusal, `warning` for a security action, else `info` (below) | the same |
 * | outcome | failure iff a refusal                          | the same                               |
 *
 * A refusal is a name with a word `denied`, `rejected`, `aborted`, `blocked` or `failed`
 * (`policy_denied`, `BLOCKED_COMMAND`); a security action a word of {@link SECURITY_ACTIONS}.
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

export type Schema = 'writer' | 'documented' | 'js-auditlog' | 'agent-audit' | 'session-audit' | 'unknown';

/** Which stream an entry comes from, when the reader knows (spec §5); see {@link toView}. */
export type ViewStream = 'dashboard' | 'js-auditlog' | 'agent' | 'session';

/**
 * Words of an agent action or a session event that record a refusal: what was asked did not
 * happen (run.sh: `policy_denied`, `policy_approval_rejected`, `git_commit_aborted`,
 * `BLOCKED_COMMAND`).
 */
const REFUSAL_WORDS: ReadonlySet<string> = new Set(['denied', 'rejected', 'aborted', 'blocked', 'failed']);

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

/** A documented-schema `level` value as a level (`warn` → warning, `fatal` → error; anything else info). */
export function normalizeLevel(v: unknown): Level {
  const s = typeof v === 'string' ? v.toLowerCase() : '';
  if (s === 'warn') return 'warning';
  if (s === 'err' || s === 'critical' || s === 'fatal') return 'error';
  return (LEVELS as readonly string[]).includes(s) ? (s as Level) : 'info';
}

/** A top-level member of the entry as text (see {@link str}). */
type Field = (key: string) => string | null;

/** Level and outcome of an agent action or a session event, from the words of its name. */
function wordsLevel(name: string): { level: Level; failed: boolean } {
  const words = name.toLowerCase().split(/[_.\-\s]+/);
  if (words.some((w) => REFUSAL_WORDS.has(w))) return { level: 'error', failed: true };
  return { level: words.some((w) => SECURITY_ACTIONS.has(w)) ? 'warning' : 'info', failed: false };
}

/** An agent audit entry (`run.sh audit_agent_action`, spec §5). */
function agentView(field: Field, timestamp: string, time: number): EntryView {
  const event = field('action') ?? 'unknown';
  const { level, failed } = wordsLevel(event);
  const agent = field('agent');
  const pid = field('pid');
  return {
    schema: 'agent-audit',
    timestamp,
    time,
    event,
    level,
    actor: agent ? `agent:${agent}` : pid ? `pid:${pid}` : 'anonymous',
    outcome: failed ? 'failure' : 'success',
    error: failed ? (field('description') ?? field('details')) : null,
    hash: null,
  };
}

/** A session audit entry (`run.sh audit_log`, spec §5). */
function sessionView(field: Field, timestamp: string, time: number): EntryView {
  const event = field('event') ?? 'unknown';
  const { level, failed } = wordsLevel(event);
  return {
    schema: 'session-audit',
    timestamp,
    time,
    event,
    level,
    actor: field('user') ?? 'anonymous',
    outcome: failed ? 'failure' : 'success',
    error: failed ? field('data') : null,
    hash: null,
  };
}

/** The day of the last {@link timestampMs} read by hand (`YYYY-MM-DD`), and its UTC midnight in ms. */
let lastDay = '';
let lastDayMs = NaN;

/** `t[i, i+2)` as a number when both are ASCII digits, else 99 (out of every field's range). */
function twoDigits(t: string, i: number): number {
  const a = t.charCodeAt(i) - 0x30;
  const b = t.charCodeAt(i + 1) - 0x30;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : 99;
}

/**
 * `Date.parse(t)`: ms since the epoch, NaN when unreadable. The writer's form, UTC
 * `YYYY-MM-DDTHH:MM:SS[.fraction]` with `+00:00` or `Z` (Python's `isoformat()`), is read by hand,
 * the day through `Date.parse` once per day, so that every quirk of V8's parser (Feb 30 rolls
 * over) stays; anything else (another offset, hour 24, a leap second) goes to `Date.parse`.
 * 20,000 writer timestamps, best of 20: 59–64 ns each, 163–172 ns through `Date.parse`.
 */
export function timestampMs(t: string): number {
  const n = t.length;
  // The offset: `Z` or `+00:00`.
  const end =
    t.charCodeAt(n - 1) === 0x5a ? n - 1 : n >= 25 && t.charCodeAt(n - 6) === 0x2b && t.endsWith('+00:00') ? n - 6 : -1;
  if (end < 0) return Date.parse(t);
  if (end < 19 || t.charCodeAt(4) !== 0x2d || t.charCodeAt(7) !== 0x2d || t.charCodeAt(10) !== 0x54)
    return Date.parse(t);
  if (t.charCodeAt(13) !== 0x3a || t.charCodeAt(16) !== 0x3a) return Date.parse(t);
  const h = twoDigits(t, 11);
  const m = twoDigits(t, 14);
  const s = twoDigits(t, 17);
  if (h > 23 || m > 59 || s > 59) return Date.parse(t);
  let ms = 0;
  if (end > 19) {
    // A fraction: at least one digit; V8 keeps its first three.
    if (t.charCodeAt(19) !== 0x2e || end === 20 || end > 29) return Date.parse(t);
    for (let i = 20; i < end; i++) {
      const d = t.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) return Date.parse(t);
      if (i < 23) ms += d * (i === 20 ? 100 : i === 21 ? 10 : 1);
    }
  }
  if (!t.startsWith(lastDay) || lastDay.length !== 10) {
    for (const i of [0, 2, 5, 8]) if (twoDigits(t, i) === 99) return Date.parse(t);
    lastDay = t.slice(0, 10);
    lastDayMs = Date.parse(`${lastDay}T00:00:00Z`);
  }
  return Number.isNaN(lastDayMs) ? NaN : lastDayMs + h * 3_600_000 + m * 60_000 + s * 1000 + ms;
}

/**
 * Maps a parsed entry object to the one view. `stream`: the stream the entry was read from;
 * the agent and session audits have their own fields. Without it (or for the two chains) the
 * schema is told by the entry's keys. `text` is the line (or minified object) it was parsed
 * from: fields that are not strings are shown from it, exactly as written. `strict`: the text
 * is standard JSON, so a null in `o` is a null (else it may have been NaN or Infinity).
 */
export function toView(o: Record<string, unknown>, stream?: ViewStream, text?: string, strict = true): EntryView {
  const field: Field = (key) => str(o[key], text, strict, key);
  const timestamp = field('timestamp') ?? '';
  const time = timestamp ? timestampMs(timestamp) : NaN;
  if (stream === 'agent') return agentView(field, timestamp, time);
  if (stream === 'session') return sessionView(field, timestamp, time);
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
