/**
 * CEF (ArcSight Common Event Format, "Implementing ArcSight CEF" rev. 25) records of audit
 * entries, one line each: `CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|Extension`.
 *
 * The mapping is Loki Mode's `toCEF` (spec §11): vendor `Autonomi`, product `Loki Mode`
 * (`LOKI_CEF_VENDOR`, `LOKI_CEF_PRODUCT`, read by src/cli), SignatureID and Name the action
 * (else the event), severity 8 for a failure else from `level`; extension `rt` (the timestamp
 * as written), `suser`, `src`, `cs1..cs3` with their labels, `outcome`, `msg` (the error) and
 * the details as `loki.<dotted.path>`. Added, so that a SIEM copy can be re-checked entry to
 * entry: `cs4`/`cs4Label=chainHash` (the entry's stored hash), `cs5`/`cs5Label=prevHash` (its
 * chain predecessor's), `fname` (the file), `cn1`/`cn1Label=line`, and whether the chain covers
 * the entry: `cs6`/`cs6Label=verified` (`true`, `false`) with, when false, the reason in
 * `flexString1`/`flexString1Label=unverified` (issue #15.6). The chain fields come
 * before `msg` and the details, so that a record cut to a syslog limit keeps them.
 *
 * Escaping is the CEF standard's (escape.ts: `cefHeaderText`, `cefExtensionValue`); detail keys
 * are made words (`detailKey`: `[A-Za-z0-9_]` segments); numbers are as written in the line.
 */
import type { ReadEntry } from '../core/read/entries.js';
import { cefExtensionValue, cefHeaderText } from './escape.js';
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

/** Loki Mode's CEF vendor and product (spec §11). */
export const CEF_DEFAULT_VENDOR = 'Autonomi';
export const CEF_DEFAULT_PRODUCT = 'Loki Mode';

export interface CefOptions {
  /** Device Vendor (default `Autonomi`; `LOKI_CEF_VENDOR`). */
  vendor?: string;
  /** Device Product (default `Loki Mode`; `LOKI_CEF_PRODUCT`). */
  product?: string;
  /** Device Version: loki-audit's version (the entry does not say which Loki Mode wrote it). */
  version: string;
  /** Longest record in UTF-8 bytes (syslog); longer ones are cut with a marker (siem-fields.ts). */
  maxBytes?: number;
}

/** Labels of the custom extension fields (CEF `csNLabel`, `cnNLabel`). */
const CEF_LABELS = {
  cs1: 'resourceType',
  cs2: 'resourceId',
  cs3: 'tokenId',
  cs4: 'chainHash',
  cs5: 'prevHash',
  cs6: 'verified',
  cn1: 'line',
  flexString1: 'unverified',
} as const;

/**
 * The CEF record of an entry, without line terminator; no raw CR, LF or other control
 * character, no unescaped `|` in the header or `=` in a value. Never throws.
 */
export function cefRecord(e: ReadEntry, o: CefOptions): string {
  const action = cefHeaderText(siemAction(e));
  const head =
    `CEF:0|${cefHeaderText(o.vendor ?? CEF_DEFAULT_VENDOR)}|${cefHeaderText(o.product ?? CEF_DEFAULT_PRODUCT)}|` +
    `${cefHeaderText(o.version)}|${action}|${action}|${siemSeverity(e)}|`;
  const pairs: Array<[string, string]> = [];
  const add = (key: string, value: string | undefined) => {
    if (value !== undefined) pairs.push([key, value]);
  };
  const custom = (n: 'cs1' | 'cs2' | 'cs3' | 'cs4' | 'cs5' | 'cs6' | 'flexString1', value: string | undefined) => {
    if (value === undefined) return;
    pairs.push([`${n}Label`, CEF_LABELS[n]]);
    pairs.push([n, value]);
  };
  const chain = chainFields(e);
  add('rt', fieldText(e, 'timestamp'));
  add('suser', siemUser(e));
  add('src', fieldText(e, 'ip_address'));
  custom('cs1', fieldText(e, 'resource_type'));
  custom('cs2', fieldText(e, 'resource_id'));
  custom('cs3', fieldText(e, 'token_id'));
  add('outcome', siemOutcome(e));
  custom('cs4', chain.chainHash);
  custom('cs5', chain.prevHash);
  add('fname', chain.file);
  pairs.push(['cn1Label', CEF_LABELS.cn1], ['cn1', String(chain.line)]);
  custom('cs6', chain.verified === undefined ? undefined : String(chain.verified));
  custom('flexString1', chain.unverified);
  const keep = pairs.length;
  add('msg', siemError(e));
  pairs.push(...detailPairs(e, 'loki.'));
  return boundedPairs(head, pairs, ' ', cefExtensionValue, o.maxBytes, keep);
}
