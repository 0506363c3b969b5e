/**
 * The one rule for "the hash stored in a line" (spec §2.1, §3): a line holds a stored chain hash
 * when Python's `json.loads` reads it as an object whose top-level `_integrity_hash` (else
 * `chain_hash`) is a string. That is what Loki Mode's writer looks for when it recovers its tip
 * (spec §3.3) and what the verifier checks; nested fields of the same name do not count.
 */
import { canonicalizeEntry } from '../pyjson/canonical.js';
import type { AuditFile } from '../read/files.js';
import { decodeLine } from '../read/decode.js';
import { DEFAULT_MAX_LINE_BYTES, openAuditFile, scanLines } from '../read/lines.js';
import { HASH_KEYS } from './rule.js';

/**
 * The stored chain hash of one line (decoded and stripped), or null when it is not an object
 * with a non-empty string hash (malformed, not an object, no, an empty or a non-string hash
 * field: the writer's own test when it looks for its tip).
 */
export function storedHash(text: string): string | null {
  try {
    const r = canonicalizeEntry(text, { hashKeys: HASH_KEYS });
    return r.isObject && typeof r.hashValue === 'string' && r.hashValue !== '' ? r.hashValue : null;
  } catch {
    return null;
  }
}

/**
 * The last stored chain hash in a file (the chain head after it), or null. Streams the file.
 * @throws NodeJS.ErrnoException when the file cannot be read.
 */
export async function lastStoredHash(file: AuditFile, maxLineBytes = DEFAULT_MAX_LINE_BYTES): Promise<string | null> {
  let last: string | null = null;
  for await (const raw of scanLines(openAuditFile(file.path), { maxLineBytes })) {
    const d = decodeLine(raw, maxLineBytes);
    if (d.kind !== 'text') continue;
    last = storedHash(d.text) ?? last;
  }
  return last;
}
