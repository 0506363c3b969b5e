/**
 * Incremental verification for cron (`verify --state FILE`).
 *
 * The state remembers, per file (by inode, so size rotation's rename is followed), how far the
 * chain was verified: byte offset, line, the last entry's offset, the SHA-256 of its bytes and
 * its chain hash. The next run checks, for each remembered file, that it is still there, not
 * shorter, and that the last verified entry is still at its offset with the same bytes — a
 * constant-time check per file — then verifies only what was appended since, chaining from the
 * remembered hashes. A verified file that vanished, shrank or changed at the remembered place, a
 * new file inside the verified history, or new entries that do not chain from the remembered
 * head are reported as tampering. Limit: an edit strictly inside a verified prefix that leaves
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
  let lastMappedIndex = -1;
  let oldestGone = true; // still in the run of missing files at the start of the history
  for (const v of state.files) {
    // The same inode under the same name, or under the name size rotation gives it; an inode
    // under another name is a new file that reuses a freed inode (sed -i, a delete and create).
    const byIno = v.ino !== null ? inos.get(v.ino) : undefined;
    const f =
      byIno && (byIno.name === v.name || rotatedName(v.name, byIno.name))
        ? byIno
        : files.find((x) => x.name === v.name);
    const base = { file: v.name, line: v.lines, offset: v.bytes };
    if (f) oldestGone = false;
    if (!f && oldestGone && retention) {
      // Loki Mode's retention deletes the oldest files until LOKI_AUDIT_MAX_FILES remain (spec §1, §10.25).
      notes.push({
        kind: 'retention',
        file: v.name,
        message: `${v.name} (verified up to line ${v.lines}) was removed as the oldest file, as retention of ${retentionFiles} files does`,
      });
      continue;
    }
    if (!f) {
      findings.push({
        ...base,
        class: 'tampered',
        reason: 'chain-break',
        message: `${v.name}, verified up to line ${v.lines} on ${state.verifiedAt}, is gone (deleted, or renamed to a name outside the chain)`,
      });
      continue;
    }
    const size = f.gz ? Infinity : statSync(f.path).size;
    if (size < v.bytes) {
      findings.push({
        ...base,
        file: f.name,
        class: 'tampered',
        reason: 'chain-break',
        message: `${f.name} is shorter (${size} bytes) than when it was verified (${v.bytes} bytes): verified entries were removed`,
      });
      mapped.set(f, v);
      continue;
    }
    const tail =
      v.lastEntryOffset !== null && v.lastEntrySha256 && !f.gz ? await lineAt(f, v.lastEntryOffset) : undefined;
    if (tail !== undefined && (tail === null || lineDigest(tail) !== v.lastEntrySha256)) {
      findings.push({
        ...base,
        file: f.name,
        class: 'tampered',
        reason: 'hash-mismatch',
        message: `the last verified entry of ${f.name} (line ${v.lines}, offset ${v.lastEntryOffset}) is not the one verified on ${state.verifiedAt}: the verified part was changed`,
      });
    }
    if (f.name !== v.name)
      notes.push({ kind: 'rewritten', file: f.name, message: `${v.name} is now ${f.name} (size rotation renamed it)` });
    mapped.set(f, v);
    lastMappedIndex = Math.max(lastMappedIndex, files.indexOf(f));
  }
  // Work: the files after the verified history, and the grown tails of remembered files.
  const todo: AuditFile[] = [];
  let startHash: string | undefined;
  let prevHash: string | undefined; // last remembered hash before the current file
  let skipped = 0;
  for (let i = 0; i < files.length; i++) {
    const f = files[i];
    const v = mapped.get(f);
    if (v) {
      const size = f.gz ? v.bytes : statSync(f.path).size;
      if (size > v.bytes) {
        // Grown: continue from its own last verified entry.
        if (todo.length === 0) startHash = v.lastHash ?? prevHash;
        todo.push({ ...f, startOffset: v.bytes, firstLine: v.lines + 1 });
      } else skipped++;
      prevHash = v.lastHash ?? prevHash;
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
    if (todo.length === 0) startHash = prevHash;
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
