/**
 * For the SIEM format tests: entries made from a line's text as the reader makes them, and
 * parsers written from the format specifications, independent of src/formats (they split on
 * unescaped delimiters and undo the escapes the standards define).
 */
import { parseJsonLine, type ReadEntry } from '../../src/core/read/entries.js';
import { toView } from '../../src/core/read/view.js';

/** An entry from a line's text (big integers, NaN as written: the reader's parse). */
export function entryOf(text: string, at: { file?: string; line?: number; prevHash?: string | null } = {}): ReadEntry {
  const { value, strict } = parseJsonLine(text);
  const record = value as Record<string, unknown>;
  return {
    kind: 'entry',
    file: at.file ?? 'audit-2026-02-01.jsonl',
    line: at.line ?? 7,
    offset: 0,
    bytes: Buffer.from(text),
    text,
    strictJson: strict,
    record,
    view: toView(record, undefined, text, strict),
    prevHash: at.prevHash,
  };
}

export interface CefParsed {
  version: string;
  header: string[];
  ext: Map<string, string>;
}

/**
 * A CEF record parsed as the ArcSight CEF standard defines it: seven `|`-separated header
 * fields (`\|` and `\\` escapes), then `key=value` pairs separated by spaces, a key being a run
 * of `[A-Za-z0-9_.]` followed by an unescaped `=`; in values `\=`, `\\`, `\n`, `\r` are escapes.
 * Throws on a record that breaks the standard (an unknown escape in the header, a raw CR/LF,
 * a duplicate key).
 */
export function parseCef(record: string): CefParsed {
  if (/[\r\n]/.test(record)) throw new Error('raw CR/LF in a CEF record');
  if (!record.startsWith('CEF:')) throw new Error(`not CEF: ${record.slice(0, 20)}`);
  const header: string[] = [];
  let cur = '';
  let i = 4;
  while (header.length < 7) {
    if (i >= record.length) throw new Error('CEF header ends early');
    const c = record[i];
    if (c === '\\') {
      const n = record[i + 1];
      if (n !== '|' && n !== '\\') throw new Error(`bad header escape \\${n}`);
      cur += n;
      i += 2;
    } else if (c === '|') {
      header.push(cur);
      cur = '';
      i++;
    } else {
      cur += c;
      i++;
    }
  }
  const ext = new Map<string, string>();
  const rest = record.slice(i);
  const keyAt = (j: number) => /^[A-Za-z0-9_.]+=/.exec(rest.slice(j))?.[0].slice(0, -1);
  let key = keyAt(0);
  if (rest.length && key === undefined) throw new Error(`extension does not start with a key: ${rest.slice(0, 30)}`);
  let j = key === undefined ? rest.length : key.length + 1;
  let value = '';
  const put = () => {
    if (key === undefined) return;
    if (ext.has(key)) throw new Error(`duplicate key ${key}`);
    ext.set(key, value);
  };
  while (j < rest.length) {
    const c = rest[j];
    if (c === '\\') {
      const n = rest[j + 1];
      value += n === 'n' ? '\n' : n === 'r' ? '\r' : n === '=' || n === '\\' ? n : '\\' + n;
      j += 2;
    } else if (c === '=') {
      throw new Error(`unescaped = in the value of ${key}`);
    } else if (c === ' ' && keyAt(j + 1) !== undefined) {
      put();
      key = keyAt(j + 1);
      value = '';
      j += key!.length + 2;
    } else {
      value += c;
      j++;
    }
  }
  put();
  return { version: header[0], header: header.slice(1), ext };
}

export interface LeefParsed {
  header: string[];
  delimiter: string;
  attrs: Map<string, string>;
}

/**
 * A LEEF 2.0 record parsed as IBM's LEEF guide defines it: `LEEF:2.0|Vendor|Product|Version|
 * EventID|Delimiter|` (`\|`, `\\` escapes in the header; the delimiter a character or `xHH`),
 * then `key=value` attributes separated by the delimiter, a key ending at the first `=`. Values
 * are undone as loki-audit writes them (`\\` a backslash, `\t` `\r` `\n` those characters).
 */
export function parseLeef(record: string): LeefParsed {
  if (/[\r\n]/.test(record)) throw new Error('raw CR/LF in a LEEF record');
  if (!record.startsWith('LEEF:2.0|')) throw new Error(`not LEEF 2.0: ${record.slice(0, 20)}`);
  const header: string[] = [];
  let cur = '';
  let i = 9;
  while (header.length < 5) {
    if (i >= record.length) throw new Error('LEEF header ends early');
    const c = record[i];
    if (c === '\\' && (record[i + 1] === '|' || record[i + 1] === '\\')) {
      cur += record[i + 1];
      i += 2;
    } else if (c === '|') {
      header.push(cur);
      cur = '';
      i++;
    } else {
      cur += c;
      i++;
    }
  }
  const d = header[4];
  const delimiter = /^(?:0x|x)[0-9a-f]{2}$/i.test(d) ? String.fromCharCode(parseInt(d.replace(/^0?x/i, ''), 16)) : d;
  const attrs = new Map<string, string>();
  for (const part of record.slice(i).split(delimiter)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`attribute without key: ${JSON.stringify(part)}`);
    const key = part.slice(0, eq);
    if (attrs.has(key)) throw new Error(`duplicate key ${key}`);
    const value = part
      .slice(eq + 1)
      .replace(/\\([\\trn])|\\/g, (m, c: string | undefined) =>
        c === undefined ? m : c === '\\' ? '\\' : c === 't' ? '\t' : c === 'r' ? '\r' : '\n',
      );
    attrs.set(key, value);
  }
  return { header: header.slice(0, 4), delimiter, attrs };
}

/** A raw control character or line separator: what no record may hold (LEEF's delimiter, tab, aside). */
// eslint-disable-next-line no-control-regex
export const RAW_CONTROL = /[\x00-\x1f\x7f\u2028]/;
// eslint-disable-next-line no-control-regex
export const RAW_CONTROL_BUT_TAB = /[\x00-\x08\x0a-\x1f\x7f\u2028]/;

/**
 * Strings no record may let through raw: every delimiter and escape of the formats, controls,
 * ANSI, NUL, a lone surrogate.
 */
export const HOSTILE = 'a|b=c\\d\te\rf\ng\u001b[31mh\u0000i\u2028j\ud800k cs4=forged';
