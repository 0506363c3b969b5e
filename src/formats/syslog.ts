/**
 * Syslog messages for audit entries.
 *
 * Three layouts, each one line per entry, never split, never forged (no raw newline or
 * control character from the data survives; an over-long message is shortened with a
 * visible marker):
 *
 * - `syslog`: `<PRI>` + a key=value message, made for `logger --prio-prefix` (util-linux),
 *   which adds its own header; the event's time, event, level, actor, outcome and chain hash
 *   come first so that shortening never removes them. Default limit 1024 bytes after `<PRI>`:
 *   logger's default `-S`, past which it splits a line into several messages.
 * - `rfc5424`: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [audit@32473 …] MSG`
 *   (RFC 5424 §6), the chain hash, file, line and seq in STRUCTURED-DATA, MSG the entry JSON.
 *   Default limit 2048 bytes (RFC 5424 §6.1: receivers SHOULD accept 2048).
 * - `rfc3164`: `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG: MSG` (RFC 3164 §4.1), MSG as `syslog`.
 *
 * Severity follows Loki Mode's own syslog forwarder (spec §6.3): security actions and
 * failures at warning (LOCAL0.warning = PRI 132), the rest at info (134); debug at debug.
 */
import { hostname } from 'node:os';
import type { Level } from '../core/read/view.js';
import type { ReadEntry } from '../core/read/entries.js';
import { isSafeText, safeJson, safeText } from './escape.js';

/** RFC 5424 §6.2.1 facility codes. */
export const FACILITIES: Readonly<Record<string, number>> = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  ntp: 12,
  audit: 13,
  alert: 14,
  clock: 15,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
};

/** Severity of each level (RFC 5424 §6.2.1 numbers), as Loki Mode's forwarder assigns them. */
export const LEVEL_SEVERITY: Readonly<Record<Level, number>> = { debug: 7, info: 6, warning: 4, error: 4 };

/** The SD-ID of loki-audit's element; 32473 is the enterprise number reserved for examples (RFC 5612). */
export const SD_ID = 'audit@32473';

export type SyslogLayout = 'syslog' | 'rfc5424' | 'rfc3164';

export interface SyslogOptions {
  layout: SyslogLayout;
  facility?: number;
  /** Longest message in bytes after `<PRI>` (for rfc5424/rfc3164 the whole line after `<PRI>`). */
  maxBytes?: number;
  hostname?: string;
  appName?: string;
}

/** PRI = facility × 8 + severity (RFC 5424 §6.2.1). */
export function pri(facility: number, level: Level): number {
  return facility * 8 + LEVEL_SEVERITY[level];
}

/**
 * A key=value (logfmt) value: bare when plain, else double-quoted with `\` and `"` backslashed
 * and control characters as `\n`, `\x1b`, `\u2028` (never raw).
 */
function kv(value: string): string {
  if (/^[\x21\x23-\x3c\x3e-\x5b\x5d-\x7e\u00a0-\u{10ffff}]+$/u.test(value) && isSafeText(value)) return value;
  return `"${safeText(value.replace(/[\\"]/g, '\\$&'))}"`;
}

/** The entry's JSON for a message: the original text, made line-safe and still valid JSON. */
function entryJson(e: ReadEntry): string {
  return safeJson(e.text);
}

/** Room kept for the marker `…[truncated N bytes]` (at most 31 bytes in UTF-8). */
const MARKER_ROOM = 32;

/** The longest prefix of `s` within `bytes` UTF-8 bytes, cut on a character boundary. */
function prefixBytes(s: string, bytes: number): string {
  if (bytes <= 0) return '';
  const b = Buffer.from(s);
  if (b.length <= bytes) return s;
  let end = bytes;
  while (end > 0 && (b[end] & 0xc0) === 0x80) end--; // do not split a UTF-8 sequence
  return b.subarray(0, end).toString('utf8');
}

/** `head + tail` within `max` bytes; an over-long tail is cut with a visible marker. */
function fit(head: string, tail: string, max: number): string {
  const tailBytes = Buffer.byteLength(tail);
  const headBytes = Buffer.byteLength(head);
  if (headBytes + tailBytes <= max) return head + tail;
  const cut = prefixBytes(tail, max - headBytes - MARKER_ROOM);
  const kept = headBytes >= max - MARKER_ROOM ? prefixBytes(head, max - MARKER_ROOM) : head;
  return kept + cut + `…[truncated ${tailBytes - Buffer.byteLength(cut)} bytes]`;
}

function hashOf(e: ReadEntry): string {
  return e.view.hash ?? '-';
}

/** The key=value message (without PRI). */
function keyValueMessage(e: ReadEntry, maxBytes: number): string {
  const v = e.view;
  const head =
    `time=${kv(v.timestamp || '-')} event=${kv(v.event)} level=${v.level} actor=${kv(v.actor)} outcome=${v.outcome} ` +
    `chain_hash=${kv(hashOf(e))} file=${kv(e.file)} line=${e.line}` +
    (v.error ? ` error=${kv(v.error)}` : '') +
    ' entry=';
  return fit(head, entryJson(e), maxBytes);
}

/** RFC 5424 §6.3.3: inside PARAM-VALUE, `"`, `\` and `]` are escaped with a backslash. */
function sdValue(s: string): string {
  return safeText(s).replace(/["\\\]]/g, '\\$&');
}

/** PRINTUSASCII without spaces, at most `max` characters, or NILVALUE. */
function token(s: string, max: number): string {
  const t = s.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return t.length ? t : '-';
}

/** RFC 3339 timestamp of the entry, at most 6 fractional digits (RFC 5424 §6.2.3), or NILVALUE. */
function rfc5424Time(ts: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.exec(ts);
  if (!m) {
    const t = Date.parse(ts);
    return Number.isNaN(t) ? '-' : new Date(t).toISOString();
  }
  const frac = m[3] ? m[3].slice(0, 7) : '';
  return `${m[1]}T${m[2]}${frac}${m[4].toUpperCase()}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 3164 TIMESTAMP `Mmm dd hh:mm:ss` (UTC; the format has no zone). */
function rfc3164Time(time: number): string {
  const d = Number.isNaN(time) ? new Date() : new Date(time);
  const day = String(d.getUTCDate()).padStart(2, ' ');
  return `${MONTHS[d.getUTCMonth()]} ${day} ${d.toISOString().slice(11, 19)}`;
}

/** Formats entries as syslog lines (without the trailing newline). */
export class SyslogFormatter {
  private readonly facility: number;
  private readonly maxBytes: number;
  private readonly host: string;
  private readonly app: string;
  private seq = 0;

  constructor(private readonly options: SyslogOptions) {
    this.facility = options.facility ?? FACILITIES.local0;
    this.maxBytes = options.maxBytes ?? (options.layout === 'syslog' ? 1024 : 2048);
    this.host = token(options.hostname ?? hostname(), 255);
    this.app = token(options.appName ?? 'loki-audit', 48);
  }

  format(e: ReadEntry): string {
    this.seq++;
    const p = `<${pri(this.facility, e.view.level)}>`;
    switch (this.options.layout) {
      case 'syslog':
        return p + keyValueMessage(e, this.maxBytes);
      case 'rfc3164': {
        const head = `${rfc3164Time(e.view.time)} ${this.host} ${this.app.slice(0, 32)}: `;
        return p + head + keyValueMessage(e, this.maxBytes - Buffer.byteLength(head));
      }
      case 'rfc5424': {
        const v = e.view;
        const sd =
          `[${SD_ID} chain_hash="${sdValue(hashOf(e))}" seq="${this.seq}" file="${sdValue(e.file)}" line="${e.line}" ` +
          `event="${sdValue(v.event)}" level="${v.level}" actor="${sdValue(v.actor)}" outcome="${v.outcome}"]`;
        const head = `1 ${rfc5424Time(v.timestamp)} ${this.host} ${this.app} - ${token(v.event, 32)} ${sd} `;
        return p + fit(head, entryJson(e), this.maxBytes);
      }
    }
  }
}
