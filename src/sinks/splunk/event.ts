/**
 * PROVISIONAL HEC ENCODER — to be replaced by `src/formats/hec.ts` (issue #19 point 1, written in
 * parallel) at merge: the same envelope, kept here so that the Splunk sink does not wait for it.
 *
 * One entry as a Splunk HTTP Event Collector event (Splunk docs, "Format events for HTTP Event
 * Collector": `time`, `host`, `source`, `sourcetype`, `index`, `fields`, `event`), the envelope of
 * Loki Mode's `toHEC` (spec §11: `time` in epoch seconds, `source` "loki-mode", `sourcetype`
 * default "loki:audit", `host`, `index`, `event` = the entry) with the chain added as indexed
 * fields, so that a copy in Splunk can be re-checked entry to entry:
 *
 * | field        | value                                                              |
 * |--------------|--------------------------------------------------------------------|
 * | `chain_hash` | the entry's stored chain hash (`_integrity_hash`)                  |
 * | `prev_hash`  | its predecessor's hash, when the predecessor was the line before it |
 * | `file`       | the audit file's name                                              |
 * | `line`       | the entry's line number in it (a string: indexed fields are text)  |
 *
 * `event` is the entry's own JSON text, embedded as written (never parsed and re-serialized: a
 * detail of 18446744073709551617 reaches Splunk as those digits); an entry that is not standard
 * JSON (NaN, Infinity, which Python's json writes and HEC refuses) is embedded as a JSON string of
 * its text instead, so it is indexed and its bytes are kept. `time` is the entry's timestamp in
 * epoch seconds with its fraction digits copied as written (microseconds exact, no float
 * rounding); an entry whose timestamp is not RFC 3339 has no `time` (HEC then uses the time it
 * received it; the entry keeps its own).
 */
import type { ReadEntry } from '../../core/read/entries.js';

/** The envelope's constant parts for one target. */
export interface HecEnvelope {
  host: string;
  /** Default "loki-mode" (Loki Mode's `toHEC`). */
  source?: string;
  /** Default "loki:audit". */
  sourcetype?: string;
  /** The Splunk index; none: the token's default index. */
  index?: string;
}

/** Loki Mode's `sourcetype` default (spec §11). */
export const DEFAULT_SOURCETYPE = 'loki:audit';
/** Loki Mode's `source` (spec §11). */
export const DEFAULT_SOURCE = 'loki-mode';

const RFC3339 = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * An RFC 3339 timestamp as epoch seconds in JSON number syntax, the fraction digits as written
 * (`2026-02-01T00:21:36.451467+00:00` → `1769905296.451467`); null when it is not RFC 3339 or
 * before 1970 (a negative time with a fraction cannot be written by copying digits).
 */
export function epochSecondsText(ts: string): string | null {
  const m = RFC3339.exec(ts);
  if (!m) return null;
  const ms = Date.parse(`${m[1]}T${m[2]}${m[4].toUpperCase()}`);
  if (Number.isNaN(ms) || ms < 0) return null;
  const seconds = String(Math.floor(ms / 1000));
  return m[3] ? `${seconds}.${m[3]}` : seconds;
}

/**
 * Encodes HEC events for one target, in the order entries are given; remembers the last entry
 * (file, line, hash) to give the next one its `prev_hash`.
 */
export class HecEventEncoder {
  private readonly head: string;
  private last: { file: string; line: number; hash: string | null } | null = null;

  constructor(envelope: HecEnvelope) {
    this.head =
      `"host":${JSON.stringify(envelope.host)},"source":${JSON.stringify(envelope.source ?? DEFAULT_SOURCE)}` +
      `,"sourcetype":${JSON.stringify(envelope.sourcetype ?? DEFAULT_SOURCETYPE)}` +
      (envelope.index ? `,"index":${JSON.stringify(envelope.index)}` : '');
  }

  /**
   * The event's JSON text (the entry's text inside it as read). `prev_hash` is given
   * only when the previous entry encoded was the line just before this one in the same file
   * (entries skipped by a filter, or the first entry after a restart, have none: a wrong
   * predecessor would be worse than none).
   */
  encode(e: ReadEntry): string {
    const time = epochSecondsText(e.view.timestamp);
    const prev =
      this.last && this.last.file === e.file && this.last.line === e.line - 1 && this.last.hash ? this.last.hash : null;
    this.last = { file: e.file, line: e.line, hash: e.view.hash };
    const fields =
      (e.view.hash ? `"chain_hash":${JSON.stringify(e.view.hash)},` : '') +
      (prev ? `"prev_hash":${JSON.stringify(prev)},` : '') +
      `"file":${JSON.stringify(e.file)},"line":"${e.line}"`;
    const event = e.strictJson ? e.text : JSON.stringify(e.text);
    return `{${time ? `"time":${time},` : ''}${this.head},"fields":{${fields}},"event":${event}}`;
  }
}
