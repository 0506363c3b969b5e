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
 * - `cef`, `leef`: the RFC 5424 header (`<PRI>1 TIMESTAMP HOSTNAME APP-NAME - MSGID - `, no
 *   STRUCTURED-DATA) and a CEF or LEEF 2.0 record as MSG (cef.ts, leef.ts: the chain fields in
 *   the record), cut to the limit with the record's own marker, the chain fields kept.
 *
 * Shortening never cuts inside the head: each field from the log there (time, event, actor,
 * chain hash, file, error) is bounded on its own, with its marker inside its value, and only
 * the entry JSON after it is cut; STRUCTURED-DATA is always whole and valid (RFC 5424 §6.3).
 *
 * Severity follows Loki Mode's own syslog forwarder (spec §6.3): security actions and
 * failures at warning (LOCAL0.warning = PRI 132), the rest at info (134); debug at debug.
 */
import { hostname } from 'node:os';
import type { Level } from '../core/read/view.js';
import type { ReadEntry } from '../core/read/entries.js';
import { isSafeText, safeJson, safeText } from './escape.js';
import { cefRecord, type CefOptions } from './cef.js';
import { leefRecord } from './leef.js';

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
const LEVEL_SEVERITY: Readonly<Record<Level, number>> = { debug: 7, info: 6, warning: 4, error: 4 };

/** The SD-ID of loki-audit's element; 32473 is the enterprise number reserved for examples (RFC 5612). */
const SD_ID = 'audit@32473';

export type SyslogLayout = 'syslog' | 'rfc5424' | 'rfc3164' | 'cef' | 'leef';

export interface SyslogOptions {
  layout: SyslogLayout;
  facility?: number;
  /** Longest message in bytes after `<PRI>` (for rfc5424/rfc3164 the whole line after `<PRI>`). */
  maxBytes?: number;
  hostname?: string;
  appName?: string;
  /** CEF/LEEF device (vendor, product, version) of the `cef` and `leef` layouts. */
  device?: Omit<CefOptions, 'maxBytes'>;
}

/** PRI = facility × 8 + severity (RFC 5424 §6.2.1). */
export function pri(facility: number, level: Level): number {
  return facility * 8 + LEVEL_SEVERITY[level];
}

/** A key=value (logfmt) value may go bare: no space, `"`, `=` or `\`, nothing safeText escapes. */
const BARE = /^[\x21\x23-\x3c\x3e-\x5b\x5d-\x7e\u00a0-\uffff]+$/; // astral: surrogate pairs

/** One code point of a quoted logfmt value: `\` and `"` backslashed, controls as `\n`, `\x1b`, `\u2028`. */
const kvPiece = (c: string): string => (c === '\\' || c === '"' ? '\\' + c : safeText(c));

/** One code point of an RFC 5424 PARAM-VALUE: made safe, then `"`, `\` and `]` backslashed (§6.3.3). */
const sdPiece = (c: string): string => safeText(c).replace(/["\\\]]/g, '\\$&');

/** The entry's JSON for a message: the original text, made line-safe and still valid JSON. */
function entryJson(e: ReadEntry): string {
  return safeJson(e.text);
}

/** Room kept for the marker `…[truncated N bytes]` (at most 31 bytes in UTF-8). */
const MARKER_ROOM = 32;
/** `…` in UTF-8: the marker of last resort. */
const ELLIPSIS = 3;

/** The longest prefix of `s` within `bytes` UTF-8 bytes, cut on a character boundary. */
function prefixBytes(s: string, bytes: number): string {
  if (bytes <= 0) return '';
  const b = Buffer.from(s);
  if (b.length <= bytes) return s;
  let end = bytes;
  while (end > 0 && (b[end] & 0xc0) === 0x80) end--; // do not split a UTF-8 sequence
  return b.subarray(0, end).toString('utf8');
}

/**
 * `head + tail` within `max` bytes; an over-long tail is cut with a visible marker (only `…`
 * when the head leaves no room for the whole marker). The head is never cut (its fields are
 * bounded before, {@link boundHead}): only when its fixed parts alone exceed `max` (a 255-byte
 * --hostname with a tiny limit) is the line longer than `max`.
 */
function fit(head: string, tail: string, max: number): string {
  const tailBytes = Buffer.byteLength(tail);
  const headBytes = Buffer.byteLength(head);
  if (headBytes + tailBytes <= max) return head + tail;
  if (max - headBytes < MARKER_ROOM) return head + (max - headBytes >= ELLIPSIS ? '…' : '');
  const cut = prefixBytes(tail, max - headBytes - MARKER_ROOM);
  return head + cut + `…[truncated ${tailBytes - Buffer.byteLength(cut)} bytes]`;
}

/**
 * ` verified=false unverified=REASON` (logfmt) or ` verified="false" unverified="REASON"` (an
 * RFC 5424 SD-PARAM) for an entry its chain does not cover, '' otherwise. Fixed ASCII from
 * loki-audit, never from the log (whose values are all quoted and escaped), so no entry can
 * forge or drop it.
 */
function unverifiedParams(e: ReadEntry, layout: 'kv' | 'sd'): string {
  if (!e.unverified) return '';
  return layout === 'kv'
    ? ` verified=false unverified=${e.unverified}`
    : ` verified="false" unverified="${e.unverified}"`;
}

function hashOf(e: ReadEntry): string {
  return e.view.hash ?? '-';
}

/**
 * A field of a message head whose value comes from the log: rendered whole when it fits, else
 * cut on a code point with a visible marker inside the value (`actor="aaaa…[truncated 9876
 * bytes]"`), so that the fields after it are always there and always well-formed.
 */
interface HeadField {
  value: string;
  /** Longest rendering in bytes, whatever the room (a SIEM needs an actor, not 10 KB of one). */
  cap: number;
  /**
   * The field's well-formed, short shape (a 64-hex hash, a file name, an RFC 3339 time): a value
   * of that shape is never cut (it is within its cap by construction; tested only when room is short).
   */
  wellFormed?: RegExp;
  /** Printed before the value, and left out with it: an optional field is dropped when there is no room. */
  key?: string;
  optional?: boolean;
}

type Style = 'kv' | 'sd';

/** Whether `t` is at most `max` UTF-8 bytes (measured only when it could be more). */
function fits(t: string, max: number): boolean {
  return t.length * 3 <= max || Buffer.byteLength(t) <= max;
}

/**
 * A value rendered within `max` bytes: logfmt bare when plain, else quoted; SD always quoted.
 * A cut value ends with `…[truncated N bytes]` (N: bytes of the value left out), or only `…`
 * when not even the marker fits.
 */
function renderValue(value: string, style: Style, max: number): string {
  if (style === 'kv' && BARE.test(value) && isSafeText(value) && fits(value, max)) return value;
  const piece = style === 'kv' ? kvPiece : sdPiece;
  const whole =
    style === 'kv' ? safeText(value.replace(/[\\"]/g, '\\$&')) : safeText(value).replace(/["\\\]]/g, '\\$&');
  const quoted = `"${whole}"`;
  if (fits(quoted, max)) return quoted;
  const total = Buffer.byteLength(value);
  const marker = (omitted: number) => [...`…[truncated ${omitted} bytes]`].map(piece).join('');
  // Room for the kept part: the marker's length with every byte left out is the longest it gets.
  const withMarker = max - 2 - Buffer.byteLength(marker(total));
  const limit = withMarker >= 0 ? withMarker : max - 2 - 3; // "…" alone is 3 bytes
  let out = '';
  let used = 0;
  let kept = 0;
  for (const c of value) {
    const p = piece(c);
    const n = Buffer.byteLength(p);
    if (used + n > limit) break;
    out += p;
    used += n;
    kept += Buffer.byteLength(c);
  }
  return `"${out}${withMarker >= 0 ? marker(total - kept) : limit >= 0 ? '…' : ''}"`;
}

/**
 * Shares `budget` bytes among fields whose whole renderings need `need[i]` bytes, evenly, none
 * more than it needs (max-min fairness: the longest values are cut first, short ones not at all).
 */
function share(need: number[], budget: number): number[] {
  const give = need.map(() => 0);
  let left = budget;
  let open = need.map((_, i) => i).filter((i) => need[i] > 0);
  while (open.length && left > 0) {
    const each = Math.max(1, Math.floor(left / open.length));
    for (const i of open) {
      const add = Math.min(each, need[i] - give[i], left);
      give[i] += add;
      left -= add;
    }
    open = open.filter((i) => need[i] > give[i]);
  }
  return give;
}

/**
 * A message head that leaves room in `max` bytes for the entry's marker (or, when its fixed
 * parts alone leave less, for `…`): fixed text and well-formed values as they are (keys, level,
 * outcome, line numbers, a 64-hex hash), every other field within its cap and, when they still
 * do not fit, within its share of the room left (see {@link share}). Optional fields get only
 * what the others leave, and are left out with under 16 bytes.
 */
function boundHead(parts: Array<string | HeadField>, style: Style, max: number): string {
  let length = 0;
  const rendered = parts.map((p) => {
    const r = typeof p === 'string' ? p : (p.key ?? '') + renderValue(p.value, style, p.cap);
    length += r.length;
    return r;
  });
  // The usual case, without measuring: at most 3 UTF-8 bytes per UTF-16 unit, and room to spare.
  if (length * 3 + MARKER_ROOM <= max) return rendered.join('');
  const bytes = rendered.map((r) => Buffer.byteLength(r));
  const cuttable = (optional: boolean) =>
    parts
      .map((_, i) => i)
      .filter((i) => {
        const p = parts[i];
        if (typeof p === 'string' || p.wellFormed?.test(p.value)) return false;
        return (p.optional === true) === optional;
      });
  const required = cuttable(false);
  const optional = cuttable(true);
  const fixed = bytes.reduce((n, b, i) => (required.includes(i) || optional.includes(i) ? n : n + b), 0);
  // Each required field needs at least `"…"` (5 bytes).
  const reserve = fixed + 5 * required.length + MARKER_ROOM <= max ? MARKER_ROOM : ELLIPSIS;
  if (bytes.reduce((a, b) => a + b, 0) <= max - reserve) return rendered.join('');
  const room = [...bytes];
  let left = max - reserve - fixed;
  for (const group of [required, optional]) {
    const got = share(
      group.map((i) => bytes[i]),
      Math.max(0, left),
    );
    group.forEach((i, k) => (room[i] = got[k]));
    left -= got.reduce((a, b) => a + b, 0);
  }
  return parts
    .map((p, i) => {
      if (typeof p === 'string' || room[i] >= bytes[i]) return rendered[i];
      if (p.optional && room[i] < 16) return '';
      const key = p.key ?? '';
      return key + renderValue(p.value, style, Math.max(room[i] - Buffer.byteLength(key), 5));
    })
    .join('');
}

/** Caps of the head fields, in bytes of their rendering. */
const CAP = { time: 64, event: 128, actor: 128, hash: 130, file: 128, error: 256 };
const WELL_FORMED_HASH = /^(?:[0-9a-f]{64}|-)$/;
const WELL_FORMED_FILE = /^[\w.-]{1,64}$/;
const WELL_FORMED_TIME = /^(?:\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})?|-)$/i;

/** The head fields every layout carries, from the entry. */
function fieldsOf(e: ReadEntry) {
  const v = e.view;
  const hash = hashOf(e);
  const time = v.timestamp || '-';
  return {
    time: { value: time, cap: CAP.time, wellFormed: WELL_FORMED_TIME },
    event: { value: v.event, cap: CAP.event },
    actor: { value: v.actor, cap: CAP.actor },
    hash: { value: hash, cap: CAP.hash, wellFormed: WELL_FORMED_HASH },
    file: { value: e.file, cap: CAP.file, wellFormed: WELL_FORMED_FILE },
  };
}

/**
 * The key=value message (without PRI): time, event, level, actor, outcome, chain hash, file,
 * line and error, each bounded, then the entry JSON, cut to what is left.
 */
function keyValueMessage(e: ReadEntry, maxBytes: number): string {
  const v = e.view;
  // The usual case: every field within its cap, and room to spare (checked without measuring).
  const error = v.error ? ` error=${renderValue(v.error, 'kv', CAP.error)}` : '';
  const quick =
    `time=${renderValue(v.timestamp || '-', 'kv', CAP.time)} event=${renderValue(v.event, 'kv', CAP.event)} ` +
    `level=${v.level} actor=${renderValue(v.actor, 'kv', CAP.actor)} outcome=${v.outcome} ` +
    `chain_hash=${renderValue(hashOf(e), 'kv', CAP.hash)} file=${renderValue(e.file, 'kv', CAP.file)} line=${e.line}` +
    `${unverifiedParams(e, 'kv')}${error} entry=`;
  if (quick.length * 3 + MARKER_ROOM <= maxBytes) return fit(quick, entryJson(e), maxBytes);
  const f = fieldsOf(e);
  const head = boundHead(
    [
      'time=',
      f.time,
      ' event=',
      f.event,
      ` level=${v.level} actor=`,
      f.actor,
      ` outcome=${v.outcome} chain_hash=`,
      f.hash,
      ' file=',
      f.file,
      ` line=${e.line}${unverifiedParams(e, 'kv')}`,
      ...(v.error ? [{ key: ' error=', value: v.error, cap: CAP.error, optional: true }] : []),
      ' entry=',
    ],
    'kv',
    maxBytes,
  );
  return fit(head, entryJson(e), maxBytes);
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
      case 'cef':
      case 'leef': {
        const v = e.view;
        const head = `1 ${rfc5424Time(v.timestamp)} ${this.host} ${this.app} - ${token(v.event, 32)} - `;
        const device = this.options.device ?? { version: '0.0.0' };
        const maxBytes = Math.max(this.maxBytes - Buffer.byteLength(head), 0);
        const record =
          this.options.layout === 'cef'
            ? cefRecord(e, { ...device, maxBytes })
            : leefRecord(e, { ...device, maxBytes });
        return p + head + record;
      }
      case 'syslog':
        return p + keyValueMessage(e, this.maxBytes);
      case 'rfc3164': {
        const head = `${rfc3164Time(e.view.time)} ${this.host} ${this.app.slice(0, 32)}: `;
        return p + head + keyValueMessage(e, this.maxBytes - Buffer.byteLength(head));
      }
      case 'rfc5424': {
        const v = e.view;
        const start = `1 ${rfc5424Time(v.timestamp)} ${this.host} ${this.app} - `;
        // The usual case: every field within its cap, and room to spare (checked without measuring).
        const quick =
          `${start}${token(v.event, 32)} [${SD_ID} chain_hash=${renderValue(hashOf(e), 'sd', CAP.hash)} ` +
          `seq="${this.seq}" file=${renderValue(e.file, 'sd', CAP.file)} ` +
          `line="${e.line}"${unverifiedParams(e, 'sd')} ` +
          `event=${renderValue(v.event, 'sd', CAP.event)} level="${v.level}" ` +
          `actor=${renderValue(v.actor, 'sd', CAP.actor)} outcome="${v.outcome}"] `;
        if (quick.length * 3 + MARKER_ROOM <= this.maxBytes) return p + fit(quick, entryJson(e), this.maxBytes);
        const f = fieldsOf(e);
        // STRUCTURED-DATA is always whole: every value escaped and bounded, the element closed.
        const head = (msgId: string) =>
          boundHead(
            [
              `${start}${msgId} [${SD_ID} chain_hash=`,
              f.hash,
              ` seq="${this.seq}" file=`,
              f.file,
              ` line="${e.line}"${unverifiedParams(e, 'sd')} event=`,
              f.event,
              ` level="${v.level}" actor=`,
              f.actor,
              ` outcome="${v.outcome}"] `,
            ],
            'sd',
            this.maxBytes,
          );
        let h = head(token(v.event, 32));
        // At the smallest limits the MSGID (the event again, as in the SD) gives way first.
        if (Buffer.byteLength(h) + ELLIPSIS > this.maxBytes) h = head('-');
        return p + fit(h, entryJson(e), this.maxBytes);
      }
    }
  }
}
