/**
 * An independent CEF reader for tests, written from the ArcSight CEF standard's text
 * ("Implementing ArcSight CEF", rev. 25, "Character encoding" and "Extension"), not from
 * src/formats: the prefix `CEF:Version|Device Vendor|Device Product|Device Version|Signature
 * ID|Name|Severity|Extension`, the header split on `|` not preceded by a backslash (`\|` and
 * `\\` unescaped), the extension a list of `key=value` separated by spaces, a value ending just
 * before the next ` key=` (the `=` unescaped), and in values `\=`, `\\`, `\n` (LF), `\r` (CR)
 * unescaped. Any other backslash sequence is not defined by the standard: it is kept as written
 * (both characters), so a test sees exactly what a strict reader would be left with.
 */

/** A CEF record's parts: header fields unescaped, extension keys in order with their values. */
export interface CefParsed {
  version: string;
  vendor: string;
  product: string;
  deviceVersion: string;
  signatureId: string;
  name: string;
  severity: string;
  /** Extension pairs in the order written (a repeated key is kept twice). */
  pairs: Array<[string, string]>;
  /** The pairs as an object (a repeated key: the first). */
  ext: Record<string, string>;
}

/** Thrown for text that is no CEF record. */
export class CefParseError extends Error {}

const KEY = /^[A-Za-z0-9_.]+$/;

/**
 * Reads one CEF record (no line terminator; a syslog header before `CEF:` is skipped).
 * @throws CefParseError for a missing `CEF:` prefix, fewer than 7 header separators, or an
 *   extension that does not start with `key=`.
 */
export function parseCef(record: string): CefParsed {
  const start = record.indexOf('CEF:');
  if (start < 0) throw new CefParseError(`no "CEF:" in ${JSON.stringify(record)}`);
  const header: string[] = [];
  let field = '';
  let i = start + 4;
  for (; i < record.length && header.length < 7; i++) {
    const c = record[i];
    if (c === '\\' && (record[i + 1] === '|' || record[i + 1] === '\\')) {
      field += record[++i];
    } else if (c === '|') {
      header.push(field);
      field = '';
    } else field += c;
  }
  if (header.length < 7) throw new CefParseError(`fewer than 7 header fields in ${JSON.stringify(record)}`);
  const pairs = parseExtension(record.slice(i));
  const [version, vendor, product, deviceVersion, signatureId, name, severity] = header;
  const ext: Record<string, string> = {};
  for (const [k, v] of pairs) if (!(k in ext)) ext[k] = v;
  return { version, vendor, product, deviceVersion, signatureId, name, severity, pairs, ext };
}

/** The standard's value unescaping: `\=`, `\\`, `\n`, `\r`; other sequences kept. */
function unescapeValue(raw: string): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    const n = raw[i + 1];
    const escaped = c === '\\' ? { '=': '=', '\\': '\\', n: '\n', r: '\r' }[n] : undefined;
    if (escaped !== undefined) {
      out += escaped;
      i++;
    } else out += c;
  }
  return out;
}

/** `k1=v1 k2=v 2` → pairs: each unescaped `=` ends a key that starts after the last space. */
function parseExtension(text: string): Array<[string, string]> {
  if (text === '') return [];
  // Positions of the `=` not escaped by a backslash (an even run of backslashes before it).
  const equals: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '=') equals.push(i);
  }
  if (equals.length === 0) throw new CefParseError(`extension without key=value: ${JSON.stringify(text)}`);
  const keys = equals.map((eq) => {
    const space = text.lastIndexOf(' ', eq);
    return { from: space + 1, eq };
  });
  if (keys[0].from !== 0) throw new CefParseError(`extension does not start with key=: ${JSON.stringify(text)}`);
  return keys.map((k, n) => {
    const key = text.slice(k.from, k.eq);
    if (!KEY.test(key)) throw new CefParseError(`bad extension key ${JSON.stringify(key)} in ${JSON.stringify(text)}`);
    // The value runs to the space before the next key (one space separates pairs).
    const end = n + 1 < keys.length ? keys[n + 1].from - 1 : text.length;
    return [key, unescapeValue(text.slice(k.eq + 1, end))];
  });
}
