/**
 * `LOKI_AUDIT_DEBUG=1`: what the tool decided on its own and why (the verify fast path giving
 * up, for instance), as `loki-audit: debug: TOPIC: …` lines on stderr. Off by default.
 */
import { safeText } from '../formats/escape.js';

/** A listener writing debug lines for `topic`, or undefined when debugging is off. */
export function debugListener(
  topic: string,
  env: NodeJS.ProcessEnv = process.env,
): ((message: string) => void) | undefined {
  if (env.LOKI_AUDIT_DEBUG !== '1') return undefined;
  return (message) => process.stderr.write(`loki-audit: debug: ${topic}: ${safeText(message)}\n`);
}
