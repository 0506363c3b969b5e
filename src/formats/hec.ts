/**
 * Splunk HTTP Event Collector events of audit entries (Splunk "Format events for HTTP Event
 * Collector": `/services/collector/event`), one JSON object each, in Loki Mode's envelope
 * (`toHEC`, spec §11): `time` (epoch seconds), `host`, `source` (default `loki-mode`),
 * `sourcetype` (default `loki:audit`), `index` (when given), `event` (the entry itself), and
 * the chain in `fields`, HEC's indexed fields (flat, string values): `chain_hash`, `prev_hash`,
 * `file`, `line`, `verified` (`true`/`false`) and `unverified` (the reason, when false).
 *
 * `time` is the timestamp's exact decimal value (`1795305612.250494`: every fractional digit
 * written, no float rounding); `event` is the entry's text as written (big integers and `1.0`
 * exactly; Python's `NaN`/`Infinity`, which JSON lacks, as the strings `"NaN"`, `"Infinity"`).
 * {@link hecEvent} is the one builder: `export -o hec` prints it, a sender posts it.
 */
import type { ReadEntry } from '../core/read/entries.js';
import { replaceNonFinite } from '../core/read/entries.js';
import { safeJson } from './escape.js';
import { chainFields, fieldText } from './siem-fields.js';

const HEC_DEFAULT_SOURCE = 'loki-mode';
const HEC_DEFAULT_SOURCETYPE = 'loki:audit';

export interface HecOptions {
  /** `host` (default: left out; Splunk then uses the sender's). */
  host?: string;
  source?: string;
  sourcetype?: string;
  index?: string;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?$/i;

/**
 * Epoch seconds of an ISO 8601 timestamp as an exact decimal text (`1795305612.250494`), every
 * fractional digit kept (computed in integers: no float rounding; before 1970 negative, exact
 * too); a timestamp without an offset is UTC (Python's naive `isoformat`). Undefined when the
 * text is not such a timestamp.
 */
export function epochSecondsText(ts: string | undefined): string | undefined {
  const m = ts === undefined ? null : ISO.exec(ts);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac = '', zone = 'Z'] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(ms)) return undefined;
  let seconds = BigInt(ms / 1000);
  if (zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1n : 1n;
    seconds -= sign * (BigInt(zone.slice(1, 3)) * 3600n + BigInt(zone.slice(4, 6)) * 60n);
  }
  if (!frac) return seconds.toString();
  const scale = 10n ** BigInt(frac.length);
  const total = seconds * scale + BigInt(frac);
  const neg = total < 0n;
  const abs = neg ? -total : total;
  return `${neg ? '-' : ''}${abs / scale}.${(abs % scale).toString().padStart(frac.length, '0')}`;
}

/** The entry's text as standard JSON: Python's bare NaN/Infinity/-Infinity as strings. */
function strictEntryJson(e: ReadEntry): string {
  return e.strictJson ? e.text : replaceNonFinite(e.text, (token) => JSON.stringify(token));
}

/**
 * The HEC event object of an entry as one line of JSON text (no terminator): what `export -o
 * hec` prints and what a batch to `/services/collector/event` concatenates. Never throws.
 */
export function hecEvent(e: ReadEntry, o: HecOptions = {}): string {
  const chain = chainFields(e);
  const time = epochSecondsText(fieldText(e, 'timestamp'));
  const fields: Record<string, string> = {};
  if (chain.chainHash !== undefined) fields.chain_hash = chain.chainHash;
  if (chain.prevHash !== undefined) fields.prev_hash = chain.prevHash;
  fields.file = chain.file;
  fields.line = String(chain.line);
  if (chain.verified !== undefined) fields.verified = String(chain.verified);
  if (chain.unverified !== undefined) fields.unverified = chain.unverified;
  const head: string[] = [];
  if (time !== undefined) head.push(`"time":${time}`);
  if (o.host !== undefined) head.push(`"host":${JSON.stringify(o.host)}`);
  head.push(`"source":${JSON.stringify(o.source ?? HEC_DEFAULT_SOURCE)}`);
  head.push(`"sourcetype":${JSON.stringify(o.sourcetype ?? HEC_DEFAULT_SOURCETYPE)}`);
  if (o.index !== undefined) head.push(`"index":${JSON.stringify(o.index)}`);
  return safeJson(`{${head.join(',')},"event":${strictEntryJson(e)},"fields":${JSON.stringify(fields)}}`);
}

/** {@link hecEvent} as UTF-8 bytes, newline-terminated (a sender's batch body is these, concatenated). */
export function hecEventBytes(e: ReadEntry, o: HecOptions = {}): Buffer {
  return Buffer.from(hecEvent(e, o) + '\n');
}
