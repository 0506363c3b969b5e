/**
 * ECS (Elastic Common Schema 9.4.0) documents of audit entries, one JSON object a line (what
 * Filebeat's `ndjson` parser and Elastic's ingest read):
 *
 * | ECS field | type | from the entry |
 * |---|---|---|
 * | `@timestamp` | date | `timestamp` as written (left out when it is no date) |
 * | `ecs.version` | keyword | `9.4.0` |
 * | `event.kind` | keyword | `event` |
 * | `event.action` | keyword | `action`, else `event` (spec §11) |
 * | `event.category` | keyword array | from the action's family ({@link ecsCategory}) |
 * | `event.outcome` | keyword | `success`/`failure` from `success` or the view; `unknown` for a stream without one |
 * | `event.original` | keyword (not indexed) | the entry's line, exactly as in the file |
 * | `event.hash` | keyword | the entry's stored chain hash |
 * | `user.name` | keyword | `user_id`, else the actor |
 * | `source.ip` | ip | `ip_address` when it is an IP address (else in `labels.ip_address`) |
 * | `host.name` | keyword | `--hostname`, default this host |
 * | `labels` | object of keyword | `resource_type`, `resource_id`, `token_id`, `user_agent`, `error`, |
 * |  |  | the details as `details_<path>`: all strings |
 * | `loki_audit.prev_hash`, `.file`, `.line` | custom | chain predecessor's hash, file name, line number |
 * | `loki_audit.verified`, `.unverified` | custom | whether the chain covers the entry (boolean), else why |
 *
 * Values are JSON strings of the texts as written (numbers in labels stay exact); the line is
 * made line-safe (safeJson: `\u` escapes, the same values).
 */
import { isIP } from 'node:net';
import type { ReadEntry } from '../core/read/entries.js';
import { safeJson } from './escape.js';
import { chainFields, flatDetails, fieldText, siemAction, siemError, siemUser } from './siem-fields.js';

export const ECS_VERSION = '9.4.0';

/**
 * `event.category` (ECS allowed values) of a family: the writer's `resource_type`, else the first
 * word of the event (`auth.login` → `auth`). Families not listed get none (the field is left out).
 */
export const ECS_CATEGORIES: Readonly<Record<string, readonly string[]>> = {
  auth: ['authentication'],
  login: ['authentication'],
  logout: ['authentication'],
  session: ['session'],
  token: ['iam'],
  api_key: ['iam'],
  user: ['iam'],
  role: ['iam'],
  permission: ['iam'],
  api: ['api', 'web'],
  task: ['process'],
  run: ['process'],
  agent: ['process'],
  project: ['configuration'],
  policy: ['configuration'],
  config: ['configuration'],
  settings: ['configuration'],
  file: ['file'],
};

/** The ECS categories of an entry ({@link ECS_CATEGORIES}); token actions `create_token`/`revoke_token` are `iam`. */
function ecsCategory(e: ReadEntry): readonly string[] {
  const family = fieldText(e, 'resource_type') ?? e.view.event.split(/[._:/\s-]/)[0];
  const action = fieldText(e, 'action') ?? '';
  if (action === 'create_token' || action === 'revoke_token') return ECS_CATEGORIES.token;
  if (action === 'login' || action === 'logout') return ECS_CATEGORIES.auth;
  return ECS_CATEGORIES[family.toLowerCase()] ?? [];
}

/** `event.outcome`: ECS allows `success`, `failure`, `unknown`. */
function ecsOutcome(e: ReadEntry): 'success' | 'failure' | 'unknown' {
  const s = e.record.success;
  if (typeof s === 'boolean') return s ? 'success' : 'failure';
  const schema = e.view.schema;
  return schema === 'documented' || schema === 'agent-audit' || schema === 'session-audit' ? e.view.outcome : 'unknown';
}

export interface EcsOptions {
  /** `host.name` (default: this host, chosen by the caller). */
  hostname: string;
}

const LABEL_FIELDS = ['resource_type', 'resource_id', 'token_id', 'user_agent'] as const;

/** The ECS document of an entry as one line of JSON (no terminator). Never throws. */
export function ecsDocument(e: ReadEntry, o: EcsOptions): string {
  const chain = chainFields(e);
  const ts = fieldText(e, 'timestamp');
  const ip = fieldText(e, 'ip_address');
  const labels: Record<string, string> = {};
  for (const k of LABEL_FIELDS) {
    const v = fieldText(e, k);
    if (v !== undefined) labels[k] = v;
  }
  const error = siemError(e);
  if (error !== undefined) labels.error = error;
  if (ip !== undefined && !isIP(ip)) labels.ip_address = ip;
  for (const [path, value] of flatDetails(e)) {
    const key = 'details_' + (path.map((s) => s.replace(/[^A-Za-z0-9_]/g, '_') || '_').join('_') || '_');
    if (!(key in labels)) labels[key] = value;
  }
  const event: Record<string, unknown> = { kind: 'event', action: siemAction(e) };
  const category = ecsCategory(e);
  if (category.length) event.category = category;
  event.outcome = ecsOutcome(e);
  event.original = e.bytes.toString('utf8');
  if (chain.chainHash !== undefined) event.hash = chain.chainHash;
  const doc: Record<string, unknown> = {};
  if (ts !== undefined && !Number.isNaN(Date.parse(ts))) doc['@timestamp'] = ts;
  doc.ecs = { version: ECS_VERSION };
  doc.event = event;
  const user = siemUser(e);
  if (user !== undefined) doc.user = { name: user };
  if (ip !== undefined && isIP(ip)) doc.source = { ip };
  doc.host = { name: o.hostname };
  if (Object.keys(labels).length) doc.labels = labels;
  const loki: Record<string, unknown> = {};
  if (chain.prevHash !== undefined) loki.prev_hash = chain.prevHash;
  loki.file = chain.file;
  loki.line = chain.line;
  if (chain.verified !== undefined) loki.verified = chain.verified;
  if (chain.unverified !== undefined) loki.unverified = chain.unverified;
  doc.loki_audit = loki;
  return safeJson(JSON.stringify(doc));
}
