/**
 * Lines too long to hold in memory (longer than `maxLineBytes`), checked by streaming them
 * (pyjson/streaming-canonical.ts): Loki Mode's writer writes an entry of any size (spec §10.21),
 * so a fixed limit must not make writer output unverifiable. Memory stays flat whatever the
 * line's size: the line is re-read from its file for each predecessor it is hashed from. A line
 * of a `.gz` file is first copied, decompressed, into a private temporary file.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fdByteSource,
  streamingChainHash,
  StreamingCanonicalError,
  type ByteSource,
} from '../../pyjson/streaming-canonical.js';
import type { AuditFile } from '../../read/files.js';
import { openAuditFile, type RawLine } from '../../read/lines.js';
import { openRegularFile } from '../../read/open.js';
import { HASH_KEYS } from '../rule.js';
import type { LineClass } from './classify.js';

/** A long line's bytes, open for reading, and how to let them go. */
export interface LongLine {
  /** The line classified; an entry's `hashFrom` streams the line again. */
  line: LineClass;
  close(): void;
}

/**
 * Classifies a line longer than the in-memory limit by streaming it. `prev`: the hash it is
 * first checked against (hashed in the same pass).
 */
async function classifyLongLine(file: AuditFile, raw: RawLine, prev: string | null): Promise<LongLine> {
  const src = file.gz
    ? await spill(file, raw)
    : { fd: openRegularFile(file.path), start: raw.offset, length: raw.length, tmp: null };
  const close = () => {
    try {
      closeSync(src.fd);
    } catch {
      // already closed
    }
    if (src.tmp) rmSync(src.tmp, { recursive: true, force: true });
  };
  const bytes = { source: fdByteSource(src.fd), start: src.start, end: src.start + src.length };
  try {
    return { line: streamedLine(bytes, prev), close };
  } catch (err) {
    if (!(err instanceof StreamingCanonicalError)) {
      close();
      throw err;
    }
    return { line: streamErrorLine(err, raw), close };
  }
}

/** A line's bytes: `source` from `start` to `end` (exclusive). */
interface LineBytes {
  source: ByteSource;
  start: number;
  end: number;
}

/**
 * What the streamed line is, hashed from `prev` (or the genesis hash) on the way.
 * @throws StreamingCanonicalError when the line cannot be read as JSON (see {@link streamErrorLine})
 */
function streamedLine({ source, start, end }: LineBytes, prev: string | null): LineClass {
  const first = streamingChainHash(source, start, end, prev ?? '0'.repeat(64), { hashKeys: HASH_KEYS });
  if (first.kind === 'blank') return { kind: 'blank' };
  if (first.kind === 'not-an-object')
    return { kind: 'unreadable', reason: 'not-an-object', message: 'line is valid JSON but not an object', hint: null };
  const schema = first.hashKey === '_integrity_hash' ? 'writer' : first.hashKey === 'chain_hash' ? 'documented' : null;
  if (typeof first.stored !== 'string') {
    const how = first.hashKey !== null && first.stored === null ? 'null' : first.hashKey ? 'not-a-string' : 'absent';
    return { kind: 'unhashed', how, schema };
  }
  const hashes = new Map<string, string>();
  if (prev !== null) hashes.set(prev, first.computed);
  // The line hashed again from another predecessor (a diagnosis), the last few remembered.
  const hashFrom = (p: string): string => {
    let h = hashes.get(p);
    if (h === undefined) {
      try {
        const r = streamingChainHash(source, start, end, p, { hashKeys: HASH_KEYS });
        h = r.kind === 'entry' ? r.computed : '';
      } catch {
        h = ''; // closed (long past) or changed meanwhile: it chains from nothing
      }
      if (hashes.size < 16) hashes.set(p, h);
    }
    return h;
  };
  return {
    kind: 'entry',
    text: '',
    canonical: '',
    stored: first.stored,
    numberKeyObjects: first.numberKeyObjects,
    duplicateKeys: first.duplicateKeys,
    schema: schema ?? 'writer',
    hashFrom,
  };
}

/** A long line the streaming reader gave up on: malformed JSON, or unreadable for `err.code`. */
function streamErrorLine(err: StreamingCanonicalError, raw: RawLine): LineClass {
  const reason = err.code === 'malformed' ? null : err.code === 'too-complex' ? 'too-long' : err.code;
  const message = `${err.message} (a line of ${raw.length} bytes, read by streaming)`;
  return reason === null
    ? { kind: 'malformed', text: '', message: `malformed JSON: ${message}`, hint: null }
    : { kind: 'unreadable', reason, message, hint: null };
}

/** The line's bytes of a `.gz` file, decompressed into a private temporary file (mode 600). */
async function spill(
  file: AuditFile,
  raw: RawLine,
): Promise<{ fd: number; start: number; length: number; tmp: string }> {
  const tmp = mkdtempSync(join(tmpdir(), 'loki-audit-line-'));
  const path = join(tmp, 'line');
  const out = openSync(path, 'wx', 0o600);
  let length = raw.length;
  try {
    let pos = 0;
    const end = raw.offset + raw.length;
    for await (const chunk of openAuditFile(file.path) as AsyncIterable<Buffer>) {
      const from = Math.max(0, raw.offset - pos);
      const to = Math.min(chunk.length, end - pos);
      if (to > from) {
        writeSync(out, chunk, from, to - from);
        // Not the start of an entry (a gzip of zeros or garbage): what is spilled already says so.
        if (pos + from === raw.offset && !startsLikeEntry(chunk[from])) {
          length = to - from;
          break;
        }
      }
      pos += chunk.length;
      if (pos >= end) break;
    }
  } finally {
    closeSync(out);
  }
  return { fd: openSync(path, 'r'), start: 0, length, tmp };
}

/** Whether a line starting with this byte can be an object: `{` or whitespace before it. */
function startsLikeEntry(b: number): boolean {
  return b === 0x7b || b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0c || b === 0x0b || b >= 0x80;
}

/**
 * The long lines of one walk, classified by streaming them: the last few stay open until the
 * walk ends (a diagnosis within a few entries may hash them again), older ones are closed.
 */
export class LongLines {
  private readonly open: LongLine[] = [];

  /** Classifies `raw` of `file` as {@link classifyLongLine} does, `prev` the hash before it. */
  async classify(file: AuditFile, raw: RawLine, prev: string | null): Promise<LineClass> {
    const l = await classifyLongLine(file, raw, prev);
    this.open.push(l);
    if (this.open.length > 4) this.open.shift()?.close();
    return l.line;
  }

  /** Closes the files still open (the walk is over). */
  close(): void {
    for (const l of this.open) l.close();
  }
}
