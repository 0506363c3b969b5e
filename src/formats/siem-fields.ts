/**
 * What the SIEM formats (cef.ts, leef.ts, ecs.ts, hec.ts) read from an entry, the same way for
 * all four: fields as text exactly as written (a number is its JSON text: `18446744073709551617`
 * stays whole, never the nearest double), Loki Mode's severity rule and `details` flattening
 * (`toCEF`, spec §11), the chain fields, and a bounded join of `key=value` pairs with a visible
 * truncation marker for the transports that need a limit (syslog).
 */
import type { ReadEntry } from '../core/read/entries.js';
import { compactJson, memberText, objectMembers, valueEnd } from '../core/read/json-text.js';

/**
 * A top-level field as text: a string as it is, any other value as its compact JSON text from
 * the line (`1.0`, `-0.0`, `NaN`, big integers exactly as written); undefined when absent or null.
 */
export function fieldText(e: ReadEntry, key: string): string | undefined {
  const v = e.record[key];
  if (typeof v === 'string') return v;
  if (v === undefined || (v === null && e.strictJson)) return undefined;
  const raw = memberText(e.text, key);
  if (raw === undefined || raw === 'null') return undefined;
  return compactJson(raw);
}

/** A JSON value's text as a field: a string decoded, anything else compacted (undefined for null). */
function valueAsText(raw: string): string | undefined {
  if (raw === 'null') return undefined;
  if (raw.charCodeAt(0) === 0x22) {
    try {
      return JSON.parse(raw) as string;
    } catch {
      return raw.slice(1, -1);
    }
  }
  return compactJson(raw);
}

const WS = /[ \t\n\r]/;

/** The texts of the elements of the JSON array `raw`, in order. */
function arrayElements(raw: string): string[] {
  const out: string[] = [];
  let i = 1;
  const skip = () => {
    while (i < raw.length && WS.test(raw[i])) i++;
  };
  skip();
  while (i < raw.length && raw[i] !== ']') {
    const end = valueEnd(raw, i);
    out.push(raw.slice(i, end));
    i = end;
    skip();
    if (raw[i] === ',') i++;
    skip();
  }
  return out;
}

/** Deepest path of a flattened detail, as Loki Mode's `toCEF` (spec §11). */
const DETAIL_DEPTH = 4;

/**
 * `details` flattened as Loki Mode's `toCEF` does (spec §11): one `[path, value]` per leaf, the
 * path's keys as written (callers make keys of them), at most {@link DETAIL_DEPTH} keys deep
 * (an object or array deeper is its compact JSON text), an array as its elements joined with
 * commas (strings decoded, other elements as compact JSON), nulls left out. Values are texts
 * exactly as in the line. A `details` that is not an object gives `[[[], text]]`.
 */
export function flatDetails(e: ReadEntry): Array<[string[], string]> {
  const raw = memberText(e.text, 'details');
  const out: Array<[string[], string]> = [];
  if (raw === undefined) return out;
  const walk = (text: string, path: string[]): void => {
    const c = text.charCodeAt(0);
    if (c === 0x7b && path.length < DETAIL_DEPTH) {
      for (const m of objectMembers(text)) walk(text.slice(m.start, m.end), [...path, m.key]);
      return;
    }
    if (c === 0x5b && path.length > 0) {
      const parts = arrayElements(text).map((t) => (t.charCodeAt(0) === 0x22 ? valueAsText(t) : compactJson(t)));
      out.push([path, parts.join(',')]);
      return;
    }
    const v = valueAsText(text);
    if (v !== undefined) out.push([path, v]);
  };
  walk(raw, []);
  return out;
}

/**
 * A detail path as a key made of `[A-Za-z0-9_]` segments joined with `.`, behind `prefix`
 * (`loki.`): any other character becomes `_`, an empty segment `_` (CEF and LEEF keys are
 * words; a `=`, space or `|` in a key would forge a field).
 */
function detailKey(prefix: string, path: readonly string[]): string {
  return prefix + (path.length ? path.map((s) => s.replace(/[^A-Za-z0-9_]/g, '_') || '_').join('.') : '_');
}

/**
 * The flattened details as `[key, value]` pairs with keys from {@link detailKey}; a key that two
 * paths make alike (`a-b` and `a_b`) is kept for the first only.
 */
export function detailPairs(e: ReadEntry, prefix: string): Array<[string, string]> {
  const seen = new Set<string>();
  const out: Array<[string, string]> = [];
  for (const [path, value] of flatDetails(e)) {
    const key = detailKey(prefix, path);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push([key, value]);
  }
  return out;
}

/** Loki Mode's CEF severity of a `level` (spec §11): unknown levels 3. */
const LEVEL_SEVERITY: Readonly<Record<string, number>> = {
  debug: 1,
  info: 3,
  notice: 4,
  warning: 6,
  warn: 6,
  error: 8,
  critical: 9,
  alert: 10,
  emergency: 10,
};

/** Severity 0–10 by Loki Mode's `toCEF` rule (spec §11): 8 when `success` is false, else from `level`. */
export function siemSeverity(e: ReadEntry): number {
  if (e.record.success === false) return 8;
  const level = e.record.level;
  return (typeof level === 'string' && LEVEL_SEVERITY[level.toLowerCase()]) || 3;
}

/** SignatureID / Name / EventID: `action`, else `event`, else `audit` (spec §11). */
export function siemAction(e: ReadEntry): string {
  return fieldText(e, 'action') ?? fieldText(e, 'event') ?? 'audit';
}

/** `outcome`: from `success` when it is a boolean, else the view's (spec §2.3). */
export function siemOutcome(e: ReadEntry): 'success' | 'failure' {
  const s = e.record.success;
  return typeof s === 'boolean' ? (s ? 'success' : 'failure') : e.view.outcome;
}

/** The user: `user_id` in the writer schema (as Loki Mode's `toCEF`), else the view's actor (`actor`, `who` …). */
export function siemUser(e: ReadEntry): string | undefined {
  if (e.view.schema === 'writer') return fieldText(e, 'user_id');
  return e.view.actor !== 'anonymous' ? e.view.actor : undefined;
}

/** The error text: `error` of a writer entry, else the view's. */
export function siemError(e: ReadEntry): string | undefined {
  return fieldText(e, 'error') ?? e.view.error ?? undefined;
}

/** The chain fields every SIEM record carries: the entry's stored hash, its predecessor's, file and line. */
export interface ChainFields {
  chainHash: string | undefined;
  prevHash: string | undefined;
  file: string;
  line: number;
  /**
   * Whether the chain covers the entry (core/chain/coverage.ts: its stored hash is the chain
   * rule's hash from the entry before it), and if not why (`no-hash`, `after-unreadable`,
   * `does-not-chain`); undefined when not checked (a stream without a chain). A record says so
   * in its own field, outside the entry's data, so an entry claiming `"verified": true` cannot.
   */
  verified: boolean | undefined;
  unverified: string | undefined;
}

export function chainFields(e: ReadEntry): ChainFields {
  return {
    chainHash: e.view.hash ?? undefined,
    prevHash: e.prevHash ?? undefined,
    file: e.file,
    line: e.line,
    verified: e.unverified === undefined ? undefined : e.unverified === null,
    unverified: e.unverified ?? undefined,
  };
}

/** The marker at the end of a record cut to its limit: N bytes of the record left out. */
const truncatedMarker = (omitted: number) => `…[truncated ${omitted} bytes]`;

/**
 * `head` and the pairs `key=escape(value)` joined by `sep`, within `maxBytes` UTF-8 bytes: when
 * longer, the pair that does not fit is cut on an escaped character's boundary (never inside an
 * escape) and ends with {@link truncatedMarker} (escaped, N = the bytes of the whole record past
 * the cut), and the pairs after it are left out. The head and the first `keep` pairs are never
 * cut (the chain fields: a record too short for them is longer than `maxBytes`).
 */
export function boundedPairs(
  head: string,
  pairs: ReadonlyArray<readonly [string, string]>,
  sep: string,
  escape: (s: string) => string,
  maxBytes = Infinity,
  keep = 0,
): string {
  const rendered = pairs.map(([k, v]) => `${k}=${escape(v)}`);
  const whole = head + rendered.join(sep);
  if (maxBytes === Infinity || whole.length * 3 <= maxBytes) return whole;
  const total = Buffer.byteLength(whole);
  if (total <= maxBytes) return whole;
  let out = head;
  let used = Buffer.byteLength(head);
  const room = 48; // the escaped marker, at most
  for (let i = 0; i < rendered.length; i++) {
    const piece = (i > 0 ? sep : '') + rendered[i];
    const n = Buffer.byteLength(piece);
    if (i < keep || used + n + room <= maxBytes) {
      out += piece;
      used += n;
      continue;
    }
    // Cut this pair's value on an escaped code point's boundary, then the marker.
    const [k, v] = pairs[i];
    let cut = (i > 0 ? sep : '') + `${k}=`;
    let cutBytes = Buffer.byteLength(cut);
    if (used + cutBytes + room > maxBytes) {
      cut = '';
      cutBytes = 0;
    } else {
      for (const c of v) {
        const p = escape(c);
        const b = Buffer.byteLength(p);
        if (used + cutBytes + b + room > maxBytes) break;
        cut += p;
        cutBytes += b;
      }
    }
    const omitted = total - used - cutBytes;
    const marker = escape(truncatedMarker(omitted));
    return out + cut + marker; // no room for the key: the marker ends the previous value
  }
  return out;
}
