/**
 * What an HTTP header value can carry: visible ASCII only (RFC 9110 §5.5 field-vchar; RFC 6750's
 * b64token and HEC's GUID tokens are subsets). Node's http refuses anything else with a raw
 * TypeError at the request; the sinks check their credentials with this before any request.
 */

/**
 * Null when `value` can be sent as a header value, else the message for it, naming `what` (e.g.
 * "the HEC token") and the position of the first offending character, never the value itself.
 */
export function headerValueProblem(what: string, value: string): string | null {
  const at = value.search(/[^\x21-\x7e]/);
  if (at < 0) return null;
  return (
    `${what} has a character an HTTP header cannot carry (a space, control or non-ASCII character, ` +
    `at position ${at + 1}); check the token file or variable`
  );
}
