/**
 * LEEF 2.0 (IBM QRadar Log Event Extended Format, "LEEF event components") records of audit
 * entries, one line each: `LEEF:2.0|Vendor|Product|Version|EventID|x09|` and tab-separated
 * `key=value` attributes (the fifth header field names the delimiter, tab, in LEEF 2.0's hex
 * form).
 *
 * Attributes: `devTime` (the timestamp to the millisecond, offset kept) with its
 * `devTimeFormat`, `cat` (the event), `sev` (1–10, Loki Mode's CEF rule, spec §11), `usrName`,
 * `src`, `outcome`, `resourceType`, `resourceId`, `tokenId`, then the chain: `chainHash`,
 * `prevHash`, `fname`, `line`, `verified` (`true`, `false`) and `unverified` (the reason);
 * then `msg` (the error) and the details as `loki.<dotted.path>` (as in cef.ts). Vendor and
 * product are CEF's (`LOKI_CEF_VENDOR`, `LOKI_CEF_PRODUCT`).
 *
 * Escaping (escape.ts `leefHeaderText`, `leefValue`): no value holds a tab, CR or LF (they are
 * written `\t`, `\r`, `\n`, backslashes doubled), so no value can forge an attribute or a record.
 */
import type { ReadEntry } from '../core/read/entries.js';
import { CEF_DEFAULT_PRODUCT, CEF_DEFAULT_VENDOR, type CefOptions } from './cef.js';
import { leefHeaderText, leefValue } from './escape.js';
import {
  boundedPairs,
  chainFields,
  detailPairs,
  fieldText,
  siemAction,
  siemError,
  siemOutcome,
  siemSeverity,
  siemUser,
} from './siem-fields.js';

export type LeefOptions = CefOptions;

/** `devTimeFormat` of `devTime` (Java SimpleDateFormat, as QRadar reads it). */
const LEEF_TIME_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSXXX";

const ISO = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * `devTime` of a timestamp: `yyyy-MM-ddTHH:mm:ss.SSS±hh:mm`, the fraction cut (not rounded) to
 * milliseconds, the date, time and offset as written; undefined when it is not ISO 8601 with an
 * offset (the attribute is then left out: QRadar uses the time it received the event).
 */
export function leefDevTime(ts: string | undefined): string | undefined {
  const m = ts === undefined ? null : ISO.exec(ts);
  if (!m) return undefined;
  const zone = m[4].toUpperCase() === 'Z' ? '+00:00' : m[4];
  return `${m[1]}T${m[2]}.${(m[3] ?? '').padEnd(3, '0').slice(0, 3)}${zone}`;
}

/** The LEEF 2.0 record of an entry, without line terminator. Never throws. */
export function leefRecord(e: ReadEntry, o: LeefOptions): string {
  const head =
    `LEEF:2.0|${leefHeaderText(o.vendor ?? CEF_DEFAULT_VENDOR)}|${leefHeaderText(o.product ?? CEF_DEFAULT_PRODUCT)}|` +
    `${leefHeaderText(o.version)}|${leefHeaderText(siemAction(e))}|x09|`;
  const pairs: Array<[string, string]> = [];
  const add = (key: string, value: string | undefined) => {
    if (value !== undefined) pairs.push([key, value]);
  };
  const chain = chainFields(e);
  const devTime = leefDevTime(fieldText(e, 'timestamp'));
  if (devTime) pairs.push(['devTime', devTime], ['devTimeFormat', LEEF_TIME_FORMAT]);
  add('cat', e.view.event);
  add('sev', String(siemSeverity(e)));
  add('usrName', siemUser(e));
  add('src', fieldText(e, 'ip_address'));
  add('outcome', siemOutcome(e));
  add('resourceType', fieldText(e, 'resource_type'));
  add('resourceId', fieldText(e, 'resource_id'));
  add('tokenId', fieldText(e, 'token_id'));
  add('chainHash', chain.chainHash);
  add('prevHash', chain.prevHash);
  add('fname', chain.file);
  add('line', String(chain.line));
  add('verified', chain.verified === undefined ? undefined : String(chain.verified));
  add('unverified', chain.unverified);
  const keep = pairs.length;
  add('msg', siemError(e));
  pairs.push(...detailPairs(e, 'loki.'));
  return boundedPairs(head, pairs, '\t', leefValue, o.maxBytes, keep);
}
