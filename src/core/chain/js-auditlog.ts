/**
 * The chain of Loki Mode's JS AuditLog (`src/audit/log.js`, spec §5):
 * `hash = sha256_hex(JSON.stringify({seq, timestamp, who, what, where, why, metadata, previousHash}))`
 * in exactly that key order; the first `previousHash` is the string `"GENESIS"`, each later one
 * equals the prior entry's `hash`. Serialization here is JavaScript's own, so `JSON.parse` +
 * `JSON.stringify` is the exact rule (unlike the dashboard chain, which is CPython's).
 *
 * The file is read as text the way Node reads it for log.js (UTF-8, invalid bytes replaced), so
 * split2 does the line splitting here; the dashboard chain needs bytes and offsets (lines.ts).
 */
import { readErrorText } from '../read/open.js';
import { createHash } from 'node:crypto';
import split2 from 'split2';
import { findingList } from './bounded.js';
import type { AuditFile } from '../read/files.js';
import type { ChainReport, FileReport, Location, Note } from './report.js';
import { DEFAULT_MAX_LINE_BYTES, openAuditFile } from '../read/lines.js';
import type { VerdictClass } from './verdict.js';
import { worse } from './verdict.js';

/** The JS AuditLog's first `previousHash`. */
export const JS_GENESIS = 'GENESIS';

/** The keys log.js writes, and the only ones (spec §5, §10.23). */
export const JS_KEYS: ReadonlySet<string> = new Set([
  'seq',
  'timestamp',
  'who',
  'what',
  'where',
  'why',
  'metadata',
  'previousHash',
  'hash',
]);

/** Hashes remembered to name where a second writer chained from. */
const MAX_SEEN = 100_000;

interface JsEntry {
  seq?: unknown;
  timestamp?: unknown;
  who?: unknown;
  what?: unknown;
  where?: unknown;
  why?: unknown;
  metadata?: unknown;
  previousHash?: unknown;
  hash?: unknown;
}

/** The hash log.js computes for an entry. */
export function jsAuditLogHash(e: JsEntry): string {
  const body = JSON.stringify({
    seq: e.seq,
    timestamp: e.timestamp,
    who: e.who,
    what: e.what,
    where: e.where,
    why: e.why,
    metadata: e.metadata,
    previousHash: e.previousHash,
  });
  return createHash('sha256').update(body, 'utf8').digest('hex');
}

/** Whether a parsed object looks like a JS AuditLog entry. */
export function isJsAuditLogEntry(o: unknown): boolean {
  return typeof o === 'object' && o !== null && 'previousHash' in o && 'hash' in o && 'seq' in o;
}

/** Verifies one JS AuditLog file on its own chain. Never throws for bad content. */
export async function verifyJsAuditLog(file: AuditFile, maxLineBytes = DEFAULT_MAX_LINE_BYTES): Promise<ChainReport> {
  const findings = findingList(); // bounded: a file of garbage has a finding per line
  const notes: Note[] = [];
  const report: FileReport = {
    file: file.name,
    path: file.path,
    schema: 'js-auditlog',
    lines: 0,
    entriesVerified: 0,
    preIntegrityEntries: 0,
    verdict: 'intact',
    lastHash: null,
    bytes: 0,
    completeBytes: 0,
    lastEntryOffset: null,
    lastEntrySha256: null,
  };
  let prev: string | null = JS_GENESIS;
  let prevSeq: number | null = null;
  let head: (Location & { hash: string }) | null = null;
  // Hashes seen (to name the entry a second writer chained from), bounded: a JS AuditLog is small.
  const seen = new Map<string, { line: number; seq: unknown }>();
  const source = openAuditFile(file.path);
  let lastByte = -1;
  source.on('data', (chunk: Buffer) => {
    if (chunk.length) lastByte = chunk[chunk.length - 1];
  });
  let lineNo = 0;
  let pendingTorn: { loc: Location; message: string } | null = null;
  try {
    for await (const text of source.pipe(split2(/\r?\n/, { maxLength: maxLineBytes })) as AsyncIterable<string>) {
      lineNo++;
      report.lines = lineNo;
      const loc: Location = { file: file.name, line: lineNo, offset: -1 };
      if (pendingTorn) {
        // A malformed line with more lines after it is not a torn final write.
        findings.push({
          ...pendingTorn.loc,
          class: 'tampered',
          reason: 'malformed-json',
          message: pendingTorn.message,
        });
        pendingTorn = null;
      }
      if (text.trim() === '') continue;
      let e: JsEntry;
      try {
        e = JSON.parse(text) as JsEntry;
      } catch (err) {
        pendingTorn = { loc, message: `malformed JSON: ${(err as Error).message}` };
        prev = null;
        continue;
      }
      if (typeof e !== 'object' || e === null || Array.isArray(e)) {
        findings.push({
          ...loc,
          class: 'unreadable',
          reason: 'not-an-object',
          message: 'line is valid JSON but not an object',
        });
        prev = null;
        continue;
      }
      if (typeof e.hash !== 'string') {
        findings.push({ ...loc, class: 'tampered', reason: 'missing-hash', message: 'entry has no hash' });
        prev = null;
        continue;
      }
      const computed = jsAuditLogHash(e);
      const extra = Object.keys(e).filter((k) => !JS_KEYS.has(k));
      if (extra.length) {
        findings.push({
          ...loc,
          class: 'tampered',
          reason: 'unhashed-field',
          message:
            `top-level field${extra.length > 1 ? 's' : ''} ${extra.map((k) => JSON.stringify(k)).join(', ')} ` +
            `outside log.js's hash: log.js writes exactly the nine keys seq, ` +
            `timestamp, who, what, where, why, metadata, previousHash, hash (spec §10.23)`,
        });
      }
      const forkedFrom =
        prev !== null && e.previousHash !== prev && typeof e.previousHash === 'string'
          ? seen.get(e.previousHash)
          : undefined;
      if (computed !== e.hash) {
        findings.push({
          ...loc,
          class: 'tampered',
          reason: 'hash-mismatch',
          expected: computed,
          stored: e.hash,
          message: 'hash mismatch: the entry was changed after it was written',
        });
      } else if (seen.has(e.hash)) {
        findings.push({
          ...loc,
          class: 'tampered',
          reason: 'replayed-entries',
          stored: e.hash,
          message:
            `entry is a copy of line ${seen.get(e.hash)?.line} (same ` +
            `hash): earlier history replayed, not counted as verified`,
        });
      } else if (forkedFrom && typeof e.seq === 'number' && prevSeq !== null && e.seq <= prevSeq) {
        findings.push({
          ...loc,
          class: 'fork',
          reason: 'fork-js-writers',
          expected: prev ?? undefined,
          stored: String(e.previousHash),
          chainsFrom: String(e.previousHash),
          seenAt: { file: file.name, line: forkedFrom.line, offset: -1 },
          message:
            `seq ${e.seq} repeats and the entry chains from line ${forkedFrom.line} (seq ` +
            `${String(forkedFrom.seq)}), not the entry before it: a second AuditLog writer in the same project ` +
            `(log.js has no lock and no re-read, spec §10.23); entries after it are checked from here`,
        });
        if (!extra.length) report.entriesVerified++;
      } else if (prev !== null && e.previousHash !== prev) {
        findings.push({
          ...loc,
          class: 'tampered',
          reason: 'chain-break',
          expected: prev,
          stored: String(e.previousHash),
          message: `previousHash does not match the previous entry's hash (entries removed, inserted or reordered)`,
        });
      } else if (!extra.length) {
        report.entriesVerified++;
      }
      prev = e.hash;
      prevSeq = typeof e.seq === 'number' ? e.seq : null;
      if (seen.size < MAX_SEEN) seen.set(e.hash, { line: lineNo, seq: e.seq });
      head = { ...loc, hash: e.hash };
      report.lastHash = e.hash;
    }
    if (pendingTorn) {
      const torn = lastByte !== 0x0a;
      findings.push(
        torn
          ? {
              ...pendingTorn.loc,
              class: 'incomplete',
              reason: 'torn-last-line',
              message: 'final line is incomplete (no newline, not a whole entry)',
            }
          : { ...pendingTorn.loc, class: 'tampered', reason: 'malformed-json', message: pendingTorn.message },
      );
    }
  } catch (err) {
    const tooLong = (err as Error).message === 'maximum buffer reached';
    findings.push({
      file: file.name,
      line: lineNo + 1,
      offset: -1,
      class: tooLong ? 'unreadable' : 'io-error',
      reason: tooLong ? 'too-long' : 'io-error',
      message: tooLong
        ? `line longer than the limit of ${maxLineBytes} bytes (--max-line-bytes); the rest of the file was not checked`
        : readErrorText(file.name, err),
    });
  }
  let verdict: VerdictClass = 'intact';
  for (const f of findings.items) verdict = worse(verdict, f.class);
  report.verdict = verdict;
  const omitted = findings.omitted();
  return {
    verdict,
    files: [report],
    findings: findings.items,
    notes,
    ...(Object.keys(omitted).length ? { omitted: { findings: omitted, notes: {} } } : {}),
    entriesVerified: report.entriesVerified,
    chainHead: head,
    genesisFile: file.name,
    found: new Map(),
  };
}
