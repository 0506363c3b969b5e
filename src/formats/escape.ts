/**
 * Escaping values that come from a log. Audit logs hold attacker-controlled strings, so every
 * value from a log goes through {@link safeText} before it reaches a terminal or a
 * line-oriented sink (syslog, CSV): control characters, ANSI escape sequences, bidi overrides
 * and line separators are shown as visible escapes (`\x1b[31m` prints as the text `\x1b[31m`,
 * never as colour or cursor movement).
 */

// C0 controls, DEL, C1 controls, line/paragraph separators, bidi embeddings/overrides/isolates,
// zero-width and BOM characters that can hide or reorder text on a terminal.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f', '\v': '\\v' };
// The same class without /g, for a quick test (almost every value needs nothing).
// eslint-disable-next-line no-control-regex
const ANY_UNSAFE = /[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

/** A value from a log, made safe to print on a terminal (one line, no escapes interpreted). */
export function safeText(s: string): string {
  if (!ANY_UNSAFE.test(s)) return s;
  return s.replace(UNSAFE, (c) => {
    const short = SHORT[c];
    if (short) return short;
    const code = c.charCodeAt(0);
    return code <= 0xff ? '\\x' + code.toString(16).padStart(2, '0') : '\\u' + code.toString(16).padStart(4, '0');
  });
}

/**
 * JSON text made safe for terminals and line-oriented sinks while staying valid JSON with the
 * same values: characters {@link safeText} would escape become `\uXXXX` (inside strings that is
 * the same value; raw control characters can only be whitespace between tokens in valid JSON,
 * and become spaces).
 */
export function safeJson(json: string): string {
  if (!ANY_UNSAFE.test(json)) return json;
  return json.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x20 ? ' ' : '\\u' + code.toString(16).padStart(4, '0');
  });
}
