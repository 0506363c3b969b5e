/**
 * Escaping values that come from a log. Audit logs hold attacker-controlled strings, so every
 * value from a log goes through {@link safeText} before it reaches a terminal or a
 * line-oriented sink (syslog, CSV): control characters, ANSI escape sequences, bidi controls,
 * line separators and invisible format characters are shown as visible escapes (`\x1b[31m`
 * prints as the text `\x1b[31m`, never as colour or cursor movement; U+202E as `\u202e`,
 * never as text reversed on screen).
 */

/**
 * What is escaped, one code point at a time (a `u` regular expression: astral characters are
 * one match, and a surrogate range matches only lone surrogates):
 * - C0 controls, DEL, C1 controls (U+0080–U+009F: U+009B is CSI on 8-bit terminals);
 * - U+00AD soft hyphen, U+061C Arabic letter mark, U+180E, U+200B–U+200F (zero-width space,
 *   joiners, LRM/RLM), U+2028/U+2029 line and paragraph separators, U+202A–U+202E and
 *   U+2066–U+2069 bidi embeddings, overrides and isolates (Trojan Source, CVE-2021-42574),
 *   U+2060–U+206F word joiner and invisible operators, U+FEFF, U+FFF9–U+FFFB;
 * - U+E0000–U+E007F tag characters (invisible ASCII look-alikes, "ASCII smuggling");
 * - every other Unicode format character (General_Category Cf), and lone surrogates (which
 *   no UTF-8 output can carry: they would arrive as U+FFFD, not as what the line holds).
 */
export const UNSAFE_SOURCE =
  '[\\x00-\\x1f\\x7f-\\x9f\\xad\\u061c\\u180e\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u206f\\ufeff\\ufff9-\\ufffb' +
  '\\u{e0000}-\\u{e007f}\\p{Cf}\\ud800-\\udfff]';
const UNSAFE = new RegExp(UNSAFE_SOURCE, 'gu');
const ANY_UNSAFE = new RegExp(UNSAFE_SOURCE, 'u');
/**
 * A superset of the class without the `u` flag, several times faster on the long ASCII texts
 * almost every value is: the BMP characters above (the Cf ones listed) and every surrogate
 * (so any astral character goes to the exact test). test/formats/escape.test.ts checks that it
 * covers every BMP code point of the exact class.
 */
export const MAYBE_UNSAFE =
  // eslint-disable-next-line no-control-regex
  /[\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff]/;

/** Whether `s` holds a character {@link safeText} escapes. */
function unsafe(s: string): boolean {
  return MAYBE_UNSAFE.test(s) && ANY_UNSAFE.test(s);
}

const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f', '\v': '\\v' };

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/**
 * A value from a log, made safe to print on a terminal (one line, no escapes interpreted):
 * `\n`, `\x1b`, `\u202e`, `\u{e0041}` (astral characters in JavaScript's braced form).
 */
export function safeText(s: string): string {
  if (!unsafe(s)) return s;
  return s.replace(UNSAFE, (c) => {
    const short = SHORT[c];
    if (short) return short;
    const code = c.codePointAt(0) as number;
    return code <= 0xff ? '\\x' + hex(code, 2) : code <= 0xffff ? '\\u' + hex(code, 4) : `\\u{${hex(code, 5)}}`;
  });
}

/** Whether {@link safeText} would change `s`. */
export function isSafeText(s: string): boolean {
  return !unsafe(s);
}

/**
 * JSON text made safe for terminals and line-oriented sinks while staying valid JSON with the
 * same values: characters {@link safeText} would escape become `\uXXXX` (astral ones as their
 * surrogate pair, `\udb40\udc41`; inside strings that is the same value; raw control characters
 * can only be whitespace between tokens in valid JSON, and become spaces).
 * @param lineFeeds keep LF between tokens (indented `--json` output on a terminal: an LF there
 *   moves nothing but the cursor); a line-oriented sink needs the default, one line
 */
export function safeJson(json: string, lineFeeds = false): string {
  if (!unsafe(json)) return json;
  return json.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    if (code < 0x20) return lineFeeds && code === 0x0a ? '\n' : ' ';
    return c.length === 2 ? '\\u' + hex(code, 4) + '\\u' + hex(c.charCodeAt(1), 4) : '\\u' + hex(code, 4);
  });
}

/**
 * A character {@link safeText} escapes, written as its visible escape with the backslash
 * itself escaped for a format whose own escape character is `\` (CEF, LEEF values): `ESC`
 * becomes the text `\x1b`, which such a parser reads back as the four characters `\x1b`.
 */
function visible(c: string): string {
  return safeText(c).replace(/\\/g, '\\\\');
}

const UNSAFE_OR = (chars: string) => new RegExp(`[${chars}]|${UNSAFE_SOURCE}`, 'gu');
const CEF_HEADER = UNSAFE_OR('\\\\|');
const CEF_VALUE = UNSAFE_OR('\\\\=');
const LEEF_HEADER = UNSAFE_OR('\\\\|');
const LEEF_VALUE = UNSAFE_OR('\\\\');

/**
 * A CEF header field (ArcSight CEF standard, "Character encoding"): `\` and `|` backslashed;
 * CR and LF, which the header may not hold, as a space (as Loki Mode's `toCEF`, spec §11); any
 * other character {@link safeText} escapes as its visible escape (`\\x1b`: read back as the
 * text `\x1b`). The result has no raw control character and no unescaped `|`.
 */
export function cefHeaderText(s: string): string {
  return s.replace(CEF_HEADER, (c) =>
    c === '\\' || c === '|' ? '\\' + c : c === '\n' || c === '\r' ? ' ' : visible(c),
  );
}

/**
 * A CEF extension value (ArcSight CEF standard): `\` and `=` backslashed, LF and CR as `\n` and
 * `\r` (the standard's multi-line encoding: read back as the original characters); any other
 * character {@link safeText} escapes (tab, NUL, ESC, bidi controls, lone surrogates) as its
 * visible escape (`\\t`: read back as the text `\t`, never as a raw control character).
 */
export function cefExtensionValue(s: string): string {
  return s.replace(CEF_VALUE, (c) =>
    c === '\\' || c === '=' ? '\\' + c : c === '\n' ? '\\n' : c === '\r' ? '\\r' : visible(c),
  );
}

/**
 * A LEEF header field (IBM LEEF 2.0: pipe-delimited): `\` and `|` backslashed; any character
 * {@link safeText} escapes (tab, CR, LF among them) as its visible escape.
 */
export function leefHeaderText(s: string): string {
  return s.replace(LEEF_HEADER, (c) => (c === '\\' || c === '|' ? '\\' + c : visible(c)));
}

/**
 * A LEEF attribute value (IBM LEEF 2.0, tab-delimited attributes: a value may not hold the
 * delimiter or a line break): `\` backslashed, tab, CR, LF and every other character
 * {@link safeText} escapes as its visible escape (`\t`, `\r`, `\n`, `\x1b`, read back by
 * un-doubling the backslashes). `=` needs nothing: a key ends at the first `=`.
 */
export function leefValue(s: string): string {
  return s.replace(LEEF_VALUE, (c) => (c === '\\' ? '\\\\' : safeText(c)));
}
