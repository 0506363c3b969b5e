/**
 * Finding audit files in a directory and putting them in chain order.
 *
 * Loki Mode's writer names files `audit-YYYY-MM-DD.jsonl` (the UTC date of each write) and
 * renames a full live file to `audit-YYYY-MM-DD.HHMMSS.jsonl` (spec §1). The chain runs
 * through them by date, then pieces by HHMMSS, then the live file: name order, not mtime
 * order (spec §1.1; Loki Mode's verifier uses mtime and is wrong after a copy).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isJsAuditLogEntry } from '../chain/js-auditlog.js';
import { decodeLine } from './decode.js';
import { DEFAULT_MAX_LINE_BYTES, openAuditFile, scanLines } from './lines.js';

/**
 * Which of Loki Mode's streams a file belongs to (spec §5): the two chains (`dashboard`,
 * `js-auditlog`, each with its own chain rule), or the agent and session audits, which have none.
 */
export type FileChain = 'dashboard' | 'js-auditlog' | 'agent' | 'session';

/** One file of an audit directory. */
export interface AuditFile {
  /** Absolute path. */
  path: string;
  /** File name. */
  name: string;
  /**
   * Date from the name, `YYYY-MM-DD`: the UTC date of a dashboard file, the host's local date of
   * a session audit file; null for files without one (`audit.jsonl`, `agent-audit.jsonl`).
   */
  date: string | null;
  /** Size-rotation piece time from the name, `HHMMSS`; null for the live file. */
  piece: string | null;
  /** Whether the file is gzip-compressed (`.jsonl.gz`). */
  gz: boolean;
  /** The stream the file belongs to. */
  chain: FileChain;
  /** A one-shot byte source used instead of `path` (standard input); such a file is read once. */
  stream?: AsyncIterable<Buffer>;
  /** Start reading at this byte offset and line number (incremental verify); plain files only. */
  startOffset?: number;
  firstLine?: number;
}

/** A directory's audit files, classified. */
export interface AuditDirectory {
  dir: string;
  /** Files of the dashboard chain (both schemas), in chain order. */
  files: AuditFile[];
  /**
   * JS AuditLog files (`audit.jsonl`, spec §5), each its own chain. An `audit.jsonl` whose first
   * entry has no `seq`/`previousHash`/`hash` is not one (spec §10.22): it is listed in `foreign`.
   */
  jsFiles: AuditFile[];
  /** Names that look like audit files but are not part of any chain (listed, never read by any command). */
  foreign: string[];
}

/** Why a directory cannot be read as an audit directory. */
export type AuditDirErrorCode = 'not-found' | 'not-a-directory' | 'permission' | 'no-audit-files' | 'io';

/** The audit directory is missing, unreadable or holds no audit files. */
export class AuditDirError extends Error {
  constructor(
    readonly code: AuditDirErrorCode,
    readonly dir: string,
    message: string,
  ) {
    super(message);
    this.name = 'AuditDirError';
  }
}

/** `audit-YYYY-MM-DD[.HHMMSS].jsonl[.gz]` — the only names that belong to the chain. */
export const CHAIN_FILE_RE = /^audit-(\d{4}-\d{2}-\d{2})(?:\.(\d{6}))?\.jsonl(\.gz)?$/;
const JS_AUDITLOG_NAME = /^audit\.jsonl(\.gz)?$/;
const LOOKS_LIKE_AUDIT = /^audit[-_.].*\.jsonl?(\.gz)?$/;

/**
 * The chain order of a file name (spec §1.1): by date, then a day's size-rotated pieces in
 * HHMMSS order, then its live file. A `.gz` file comes before the plain file of the same name:
 * the writer never writes `.gz`, so when both exist an operator compressed the live file and
 * the writer started a fresh one the same day (spec §10.20). A key that sorts as a string; null
 * for a name outside the chain.
 */
export function chainOrderKey(name: string): string | null {
  const m = CHAIN_FILE_RE.exec(name);
  return m ? `${m[1]}|${m[2] ?? '~'}|${m[3] ? 0 : 1}` : null;
}

/** Compares two chain file names in chain order (see {@link chainOrderKey}). */
export function compareChainOrder(a: string, b: string): number {
  const ka = chainOrderKey(a) ?? '';
  const kb = chainOrderKey(b) ?? '';
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * Lists and classifies the audit files of `dir`.
 * @throws AuditDirError when the directory is missing, not a directory, unreadable, or
 *   (with `requireFiles`) holds no audit file.
 */
export async function discoverAuditFiles(
  dir: string,
  { requireFiles = true }: { requireFiles?: boolean } = {},
): Promise<AuditDirectory> {
  let names: string[];
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) throw new AuditDirError('not-a-directory', dir, `not a directory: ${dir}`);
    names = await readdir(dir);
  } catch (err) {
    if (err instanceof AuditDirError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AuditDirError('not-found', dir, `audit directory not found: ${dir}`);
    if (code === 'EACCES' || code === 'EPERM')
      throw new AuditDirError('permission', dir, `permission denied reading ${dir}`);
    throw new AuditDirError('io', dir, `cannot read ${dir}: ${(err as Error).message}`);
  }
  const files: AuditFile[] = [];
  const jsFiles: AuditFile[] = [];
  const foreign: string[] = [];
  for (const name of names) {
    const m = CHAIN_FILE_RE.exec(name);
    if (m) {
      files.push({
        path: join(dir, name),
        name,
        date: m[1],
        piece: m[2] ?? null,
        gz: m[3] !== undefined,
        chain: 'dashboard',
      });
    } else if (JS_AUDITLOG_NAME.test(name)) {
      if (await isForeignAuditJsonl(join(dir, name))) {
        foreign.push(name);
        continue;
      }
      jsFiles.push({
        path: join(dir, name),
        name,
        date: null,
        piece: null,
        gz: name.endsWith('.gz'),
        chain: 'js-auditlog',
      });
    } else if (LOOKS_LIKE_AUDIT.test(name)) {
      foreign.push(name);
    }
  }
  files.sort((a, b) => compareChainOrder(a.name, b.name));
  foreign.sort();
  if (requireFiles && files.length === 0 && jsFiles.length === 0) {
    const hint = foreign.length ? ` (ignored ${foreign.length} other file(s) such as ${foreign[0]})` : '';
    throw new AuditDirError('no-audit-files', dir, `no audit files (audit-YYYY-MM-DD.jsonl) in ${dir}${hint}`);
  }
  return { dir, files, jsFiles, foreign };
}

/**
 * Whether an `audit.jsonl` is positively not a JS AuditLog: its first non-blank line is a JSON
 * object without `seq`, `previousHash` and `hash` — e.g. the `cat audit-*.jsonl > audit.jsonl`
 * that Loki Mode's docs point `jq` at (spec §10.22) — and no line among the first
 * {@link FOREIGN_PROBE_LINES} is a JS AuditLog entry (so that editing the first entry of a real
 * JS AuditLog does not make it "foreign" and unchecked: it is verified, and the edit found).
 * Anything that cannot tell (an empty or unreadable file, a first line that is not JSON) stays a
 * JS AuditLog, so that `verify` reports it rather than passing over it.
 */
async function isForeignAuditJsonl(path: string): Promise<boolean> {
  let foreignFirst: boolean | null = null;
  let seen = 0;
  try {
    for await (const raw of scanLines(openAuditFile(path), { maxLineBytes: DEFAULT_MAX_LINE_BYTES })) {
      const d = decodeLine(raw, DEFAULT_MAX_LINE_BYTES);
      if (d.kind === 'blank') continue;
      if (d.kind !== 'text') {
        if (foreignFirst === null) return false;
        continue;
      }
      let o: unknown;
      try {
        o = JSON.parse(d.text);
      } catch {
        if (foreignFirst === null) return false;
        continue;
      }
      const object = typeof o === 'object' && o !== null && !Array.isArray(o);
      if (object && isJsAuditLogEntry(o)) return false;
      if (foreignFirst === null) {
        foreignFirst = object;
        if (!object) return false;
      }
      if (++seen >= FOREIGN_PROBE_LINES) break;
    }
  } catch {
    // unreadable: verify names it
    return false;
  }
  return foreignFirst === true;
}

/** Lines of an `audit.jsonl` looked at for a JS AuditLog entry before calling it foreign. */
const FOREIGN_PROBE_LINES = 1000;

/**
 * Files that can hold entries between two UTC dates (inclusive, `YYYY-MM-DD`), decided by
 * name alone so that other files are never opened. Files without a date are always kept. A
 * session audit file is named by the host's local date (spec §5) while its entries carry UTC
 * times, which can be a day either side (UTC−12 to UTC+14): it is kept a day beyond the range.
 */
export function filesInDateRange(files: AuditFile[], fromDate: string | null, toDate: string | null): AuditFile[] {
  return files.filter((f) => {
    if (f.date === null) return true;
    const slack = f.chain === 'session' ? 1 : 0;
    return (
      (fromDate === null || f.date >= shiftDate(fromDate, -slack)) &&
      (toDate === null || f.date <= shiftDate(toDate, slack))
    );
  });
}

/** `YYYY-MM-DD` moved by `days`. */
function shiftDate(date: string, days: number): string {
  return days === 0 ? date : new Date(Date.parse(date + 'T00:00:00Z') + days * 86_400_000).toISOString().slice(0, 10);
}

/** Dates (`YYYY-MM-DD`) with no file between the first and the last dated file. */
export function missingDates(files: AuditFile[]): string[] {
  const dates = [...new Set(files.map((f) => f.date).filter((d): d is string => d !== null))].sort();
  const missing: string[] = [];
  for (let i = 1; i < dates.length; i++) {
    let t = Date.parse(dates[i - 1] + 'T00:00:00Z') + 86_400_000;
    const end = Date.parse(dates[i] + 'T00:00:00Z');
    for (let n = 0; t < end && n < 10_000; t += 86_400_000, n++) missing.push(new Date(t).toISOString().slice(0, 10));
  }
  return missing;
}
