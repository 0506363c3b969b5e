/**
 * Incremental verification for cron (`verify --state FILE`).
 *
 * The state remembers, per file, how far the chain was verified: byte offset, line, the last
 * entry's offset, the SHA-256 of its bytes and its chain hash. The next run finds each
 * remembered file by name and content (size rotation's new name followed; see
 * {@link findVerified}), checks that it is not shorter and that the last verified entry is still
 * at its offset with the same bytes — a constant-time check per file — then verifies only what
 * was appended since, chaining from the remembered hashes. A verified file that vanished is
 * tampering; one that shrank or changed is verified again alone, so the finding is at the line
 * that changed. A new file inside the verified history, or new entries that do not chain from
 * the remembered head, are tampering too. Limit: an edit strictly inside a verified prefix that leaves
 * its last entry intact is only seen by a full verify (run one weekly, or keep checkpoints).
 */
import { statSync } from 'node:fs';
import { loadStateFile } from '../runtime/state-file.js';
import { retentionRuledOut } from './retention.js';
import { writeJsonAtomic } from '../runtime/atomic.js';
import type { ChainReport, FileReport, Finding, Note } from './report.js';
import { verifyDashboardChain } from './verify-chain.js';
import type { AuditFile } from '../read/files.js';
import { lineAt, lineDigest } from '../forward/positions.js';
import { worse } from './verdict.js';

/** One remembered file. */
export interface VerifiedFile {
  name: string;
  ino: number | null;
  bytes: number;
  lines: number;
  lastEntryOffset: number | null;
  lastEntrySha256: string | null;
  lastHash: string | null;
}

export interface VerifyState {
  version: 1;
  dir: string;
  verifiedAt: string;
  entries: number;
  files: VerifiedFile[];
}

/** The state file cannot be used. */
export class VerifyStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VerifyStateError';
  }
}

/** Whether `now` is the name size rotation gives the live file `was` (`audit-D.jsonl` → `audit-D.HHMMSS.jsonl`). */
function rotatedName(was: string, now: string): boolean {
  const live = /^audit-(\d{4}-\d{2}-\d{2})\.jsonl$/.exec(was);
  return !!live && new RegExp(`^audit-${live[1]}\\.\\d{6}\\.jsonl$`).test(now);
}

/** Reads the state; null when there is none yet. @throws VerifyStateError; UnsafeFileError (a link at `path`) */
export function loadVerifyState(path: string, dir: string): VerifyState | null {
  return loadStateFile<VerifyState>(path, {
    kind: 'verify state',
    version: 1,
    dir,
    corruptHint: 'remove it to verify everything again',
    check: (v) => {
      const files = (v as { files?: unknown }).files;
      if (!Array.isArray(files)) return 'no list of files';
      const bad = files.findIndex(
        (f) => typeof f?.name !== 'string' || typeof f.bytes !== 'number' || typeof f.lines !== 'number',
      );
      return bad < 0 ? true : `file ${bad + 1} of the list is malformed`;
    },
    error: (_problem, message) => new VerifyStateError(message),
  });
}

/**
 * Writes the state atomically, mode 600 (runtime/atomic.ts).
 * @throws UnsafeFileError when `path` is a link or not a regular file; DiskFullError.
 */
export function saveVerifyState(path: string, s: VerifyState): void {
  writeJsonAtomic(path, s);
}

export interface IncrementalResult {
  report: ChainReport;
  /** The state to save (only when nothing was tampered with). */
  next: VerifyState;
  /** Files checked only by their remembered tail (not re-read). */
  skipped: number;
}

/**
 * Verifies `files` (chain order) against a previous state: old files by their remembered tail,
 * new bytes and new files fully.
 */
export async function verifyIncremental(
  dir: string,
  files: AuditFile[],
  state: VerifyState,
  {
    maxLineBytes,
    retentionFiles,
    foreign = [],
  }: { maxLineBytes?: number; retentionFiles?: number; foreign?: string[] } = {},
): Promise<IncrementalResult> {
  const retention = retentionFiles !== undefined && retentionRuledOut(files, foreign, retentionFiles, 1) === null;
  const findings: Finding[] = [];
  const notes: Note[] = [];
  const inos = new Map<number, AuditFile>();
  for (const f of files) {
    if (f.gz) continue;
    try {
      inos.set(statSync(f.path).ino, f);
    } catch {
      // vanished meanwhile
    }
  }
  const mapped = new Map<AuditFile, VerifiedFile>();
  const claimed = new Set<AuditFile>();
  let lastMappedIndex = -1;
  let oldestGone = true; // still in the run of missing files at the start of the history
  let prevHash: string | null = null; // the remembered hash before `v`
  for (const v of state.files) {
    const before = prevHash;
    prevHash = v.lastHash ?? prevHash;
    const found = await findVerified(v, files, inos, claimed);
    const f = found?.file;
    const base = { file: v.name, line: v.lines, offset: v.bytes };
    if (f) oldestGone = false;
    if (!f && oldestGone && retention) {
      // Loki Mode's retention deletes the oldest files until LOKI_AUDIT_MAX_FILES remain (spec §1, §10.25).
      notes.push({
        kind: 'retention',
        file: v.name,
        message:
          `${v.name} (verified up to line ${v.lines}) was removed as ` +
          `the oldest file, as retention of ${retentionFiles} files does`,
      });
      continue;
    }
    if (!f) {
      findings.push({
        ...base,
        class: 'tampered',
        reason: 'chain-break',
        message:
          `${v.name}, verified up to line ${v.lines} on ${state.verifiedAt}, ` +
          `is gone (deleted, or renamed to a name outside the chain)`,
      });
      continue;
    }
    claimed.add(f);
    mapped.set(f, v);
    if (!found.unchanged) {
      // Where it changed: that one file verified again from the remembered hash before it.
      findings.push(...(await locateChange(f, v, before, state.verifiedAt, maxLineBytes)));
      continue;
    }
    if (f.name !== v.name)
      notes.push({ kind: 'rewritten', file: f.name, message: `${v.name} is now ${f.name} (size rotation renamed it)` });
    lastMappedIndex = Math.max(lastMappedIndex, files.indexOf(f));
  }
  // Work: the files after the verified history, and the grown tails of remembered files.
  const todo: AuditFile[] = [];
  let startHash: string | undefined;
  let lastHash: string | undefined; // last remembered hash before the current file
  let skipped = 0;
  for (let i = 0; i < files.length; i++) {
    const f = files[i];
    const v = mapped.get(f);
    if (v) {
      const size = f.gz ? v.bytes : statSync(f.path).size;
      if (size > v.bytes) {
        // Grown: continue from its own last verified entry.
        if (todo.length === 0) startHash = v.lastHash ?? lastHash;
        todo.push({ ...f, startOffset: v.bytes, firstLine: v.lines + 1 });
      } else skipped++;
      lastHash = v.lastHash ?? lastHash;
      continue;
    }
    if (i < lastMappedIndex) {
      findings.push({
        file: f.name,
        line: 1,
        offset: 0,
        class: 'tampered',
        reason: 'chain-break',
        message: `${f.name} appeared inside the already verified history`,
      });
      continue;
    }
    if (todo.length === 0) startHash = lastHash;
    todo.push(f);
  }
  const r = await verifyDashboardChain(todo, { maxLineBytes, startHash });
  const report: ChainReport = { ...r, findings: [...findings, ...r.findings], notes: [...notes, ...r.notes] };
  for (const x of findings) report.verdict = worse(report.verdict, x.class);
  // The next state: remembered files (updated where they grew) and new files.
  const byName = new Map<string, FileReport>(r.files.map((x) => [x.file, x]));
  const next: VerifyState = {
    version: 1,
    dir,
    verifiedAt: new Date().toISOString(),
    entries: state.entries + r.entriesVerified,
    files: [],
  };
  for (const f of files) {
    const v = mapped.get(f);
    const fr = byName.get(f.name);
    let ino: number | null;
    try {
      ino = f.gz ? null : statSync(f.path).ino;
    } catch {
      ino = null;
    }
    if (fr) {
      next.files.push({
        name: f.name,
        ino,
        bytes: fr.completeBytes,
        lines: fr.bytes > fr.completeBytes ? fr.lines - 1 : fr.lines,
        lastEntryOffset: fr.lastEntryOffset ?? v?.lastEntryOffset ?? null,
        lastEntrySha256: fr.lastEntrySha256 ?? v?.lastEntrySha256 ?? null,
        lastHash: fr.lastHash ?? v?.lastHash ?? null,
      });
    } else if (v) next.files.push({ ...v, name: f.name, ino });
  }
  return { report, next, skipped };
}

/**
 * The file `v` is now. Files are identified by name and content, not by inode (`sed -i` and a
 * delete-and-create reuse freed inodes): a file of the same name, or of the name size rotation
 * gives it (`audit-D.jsonl` → `audit-D.HHMMSS.jsonl`), at least as long as when verified and
 * holding the last verified entry at its offset, byte for byte, is `v` unchanged. The inode only
 * orders the candidates. When none holds it, the file of the same name is `v` changed; none:
 * `v` is gone.
 */
async function findVerified(
  v: VerifiedFile,
  files: AuditFile[],
  inos: Map<number, AuditFile>,
  claimed: Set<AuditFile>,
): Promise<{ file: AuditFile; unchanged: boolean } | null> {
  const byIno = v.ino !== null ? inos.get(v.ino) : undefined;
  const candidates = files
    .filter((f) => !claimed.has(f) && (f.name === v.name || rotatedName(v.name, f.name)))
    .sort((a, b) => rank(a) - rank(b));
  function rank(f: AuditFile): number {
    return f === byIno ? 0 : f.name === v.name ? 1 : 2;
  }
  for (const f of candidates) if (await holdsVerified(f, v)) return { file: f, unchanged: true };
  const same = candidates.find((f) => f.name === v.name);
  return same ? { file: same, unchanged: false } : null;
}

/** Whether `f` is at least as long as `v` was and holds its last verified entry at its offset. */
async function holdsVerified(f: AuditFile, v: VerifiedFile): Promise<boolean> {
  let size: number;
  try {
    size = f.gz ? Infinity : statSync(f.path).size;
  } catch {
    return false;
  }
  if (size < v.bytes) return false;
  if (v.lastEntryOffset === null || !v.lastEntrySha256 || f.gz) return true;
  const tail = await lineAt(f, v.lastEntryOffset);
  return tail !== null && lineDigest(tail) === v.lastEntrySha256;
}

/**
 * Findings for a verified file that changed: the file is verified again, alone, from the
 * remembered hash before it (`before`; null: it starts the history), so that an edit is reported
 * at its line as a hash mismatch (`sed -i` shortening a value is an edit, not "entries
 * removed"), a removed line as a chain break at the entry after it. Only when every entry left
 * verifies is the change named from the remembered figures: entries cut from the end, or the
 * verified part rewritten with recomputed hashes.
 */
async function locateChange(
  f: AuditFile,
  v: VerifiedFile,
  before: string | null,
  verifiedAt: string,
  maxLineBytes: number | undefined,
): Promise<Finding[]> {
  const r = await verifyDashboardChain([f], { maxLineBytes, startHash: before ?? undefined, jobs: 0 });
  const located = r.findings.filter((x) => x.class === 'tampered' || x.class === 'unreadable');
  if (located.length) return located;
  const fr = r.files[0];
  const base = { file: f.name, line: v.lines, offset: v.bytes };
  if (fr && fr.completeBytes < v.bytes)
    return [
      {
        ...base,
        class: 'tampered',
        reason: 'chain-break',
        message:
          `${f.name} now ends at line ${fr.lines} (${fr.completeBytes} bytes) but ` +
          `was verified up to line ${v.lines} (${v.bytes} bytes) on ${verifiedAt}, and ` +
          `every entry left verifies: the verified entries at its end were removed`,
      },
    ];
  return [
    {
      ...base,
      class: 'tampered',
      reason: 'hash-mismatch',
      message:
        `the last verified entry of ${f.name} (line ${v.lines}, offset ${v.lastEntryOffset}) ` +
        `is not the one verified on ${verifiedAt}, though every entry of ` +
        `the file verifies: the verified part was rewritten with recomputed hashes`,
    },
  ];
}
