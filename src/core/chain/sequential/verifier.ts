/**
 * The hash chain of Loki Mode's dashboard audit log, verified across files, with a diagnosis of
 * every break (spec §3, §4, §10).
 *
 * Rule (spec §3): `hash_n = sha256_hex(hash_{n-1} + json.dumps(entry_n minus hash field,
 * sort_keys=True))`, `hash_0 = GENESIS_HASH`; the chain continues across days and rotated
 * pieces in name order. The hash field is `_integrity_hash` (what the writer stores) or
 * `chain_hash` (what the docs describe).
 *
 * The intact path costs one canonicalization and one SHA-256 per entry. Only after a mismatch
 * does the verifier look further (the next entry, the genesis hash, a re-read of earlier
 * files) to say what happened: an edit, a removed/inserted/reordered entry, a missing file, a
 * writer fork after a restart, history that starts mid-chain after retention, a writer quirk.
 */
import { isAscii } from 'node:buffer';
import type { AuditFile } from '../../read/files.js';
import { missingDates } from '../../read/files.js';
import { decodeLine } from '../../read/decode.js';
import { DEFAULT_MAX_LINE_BYTES, openAuditFile, scanLines } from '../../read/lines.js';
import { verifyChainFast, type FastFileResult } from '../parallel/fast-path.js';
import { canonicalizeEntry, PyJsonError } from '../../pyjson/canonical.js';
import type { VerdictClass } from '../verdict.js';
import { worse } from '../verdict.js';
import { sizeOf, type ReadProgress } from '../../read/entries.js';

import { chainHash, GENESIS_HASH, HASH_KEYS, sha256Hex } from '../rule.js';

export { GENESIS_HASH, HASH_KEYS, chainHash };

/** A place in the directory. */
export interface Location {
  file: string;
  line: number;
  offset: number;
}

/** Why a finding was made (stable identifiers, for `--json`). */
export type FindingReason =
  | 'hash-mismatch'
  | 'inserted-entry'
  | 'reordered'
  | 'chain-break'
  | 'duplicate-entry'
  | 'missing-hash'
  | 'hash-stripped'
  | 'malformed-json'
  | 'fork-genesis'
  | 'fork-earlier'
  | 'history-mid-chain'
  | 'torn-last-line'
  | 'torn-write-recovered'
  | 'int-keys'
  | 'invalid-utf8'
  | 'not-an-object'
  | 'too-long'
  | 'int-too-long'
  | 'too-deep'
  | 'io-error'
  | 'head-missing'
  | 'checkpoint-signature';

/** One problem found in the chain. */
export interface Finding extends Location {
  class: Exclude<VerdictClass, 'intact'>;
  reason: FindingReason;
  /** One line, naming what was seen. */
  message: string;
  /** The hash the verifier computed for this entry (content + expected predecessor). */
  expected?: string;
  /** The hash stored in the entry. */
  stored?: string;
  /** For forks: the hash the entry actually chains from, and where that hash is stored. */
  chainsFrom?: string;
  seenAt?: Location | null;
}

/** Non-failing observations (they fail only with `--strict`). */
export interface Note {
  kind:
    'pre-integrity' | 'gap' | 'foreign' | 'rewritten' | 'resync' | 'no-final-newline' | 'not-forwarded' | 'retention';
  message: string;
  file?: string;
  line?: number;
}

/** Per-file result. */
export interface FileReport {
  file: string;
  path: string;
  /** Hash field found in the file's entries. */
  schema: 'writer' | 'documented' | 'js-auditlog' | 'none' | 'mixed';
  lines: number;
  /** Entries whose hash was recomputed and matched. */
  entriesVerified: number;
  /** Entries without a hash before the chain starts (pre-integrity, Loki Mode < 5.38). */
  preIntegrityEntries: number;
  verdict: VerdictClass;
  /** Last stored hash in the file (the chain head after it), if any. */
  lastHash: string | null;
  bytes: number;
  /** End of the last complete (newline-terminated) line, and the last hashed entry's offset and bytes' SHA-256. */
  completeBytes: number;
  lastEntryOffset: number | null;
  lastEntrySha256: string | null;
}

/** Result of verifying one chain. */
export interface ChainReport {
  verdict: VerdictClass;
  files: FileReport[];
  findings: Finding[];
  notes: Note[];
  entriesVerified: number;
  /** Last stored hash of the chain and where it is. */
  chainHead: (Location & { hash: string }) | null;
  /** File whose first hashed entry starts the chain. */
  genesisFile: string | null;
  /** Where each hash of `lookFor` was found as an entry's stored hash. */
  found: Map<string, Location>;
}

/** Options for {@link verifyDashboardChain}. */
export interface VerifyOptions {
  maxLineBytes?: number;
  /**
   * The hash the first entry must chain from, when `files` start mid-history (e.g. the last
   * stored hash of the file before them). Default: the genesis hash.
   */
  startHash?: string;
  /** Stored hashes to look for (checkpointed or expected heads); where each is found is reported. */
  lookFor?: ReadonlySet<string>;
  /** Called after each file (progress display). */
  onFile?: (report: FileReport) => void;
  /**
   * Worker threads for the parallel fast path (fastchain.ts; default: the cores, at most 4).
   * 0 turns the fast path off (sequential verifier only, e.g. to compare the two).
   */
  jobs?: number;
  /** Below this many bytes the fast path runs without worker threads (default 32 MiB). */
  parallelMinBytes?: number;
  /** Byte ranges a plain file is cut into for the fast path (default 16 MiB). */
  jobBytes?: number;
}

interface EntryItem {
  loc: Location;
  text: string;
  canonical: string;
  stored: string;
  hasIntKeys: boolean;
  /** First hashed entry of its file. */
  fileFirst: boolean;
  fileIndex: number;
  fileReport: FileReport;
}

interface Pending {
  e: EntryItem;
  prev: string;
  firstOfHistory: boolean;
}

/**
 * An `onFile` callback that turns the file reports of {@link verifyDashboardChain} into
 * progress over `files` (bytes are sizes on disk). A file reported a second time means the
 * fast path gave up and the sequential verifier started over: the count starts over too.
 */
export function chainProgress(files: AuditFile[], report: (p: ReadProgress) => void): (fr: FileReport) => void {
  const sizes = new Map(files.map((f) => [f.name, sizeOf(f.path)]));
  const progress: ReadProgress = {
    filesDone: 0,
    files: files.length,
    bytesDone: 0,
    bytesTotal: [...sizes.values()].reduce((a, b) => a + b, 0),
  };
  const done = new Set<string>();
  return (fr) => {
    if (done.has(fr.file)) {
      done.clear();
      progress.filesDone = 0;
      progress.bytesDone = 0;
    }
    done.add(fr.file);
    progress.filesDone++;
    progress.bytesDone += sizes.get(fr.file) ?? 0;
    report({ ...progress });
  };
}

/**
 * Verifies the dashboard chain through `files` (already in chain order).
 * Never throws for bad content; I/O errors on a file become `io-error` findings.
 */
export async function verifyDashboardChain(files: AuditFile[], options: VerifyOptions = {}): Promise<ChainReport> {
  if (options.jobs !== 0) {
    const fast = await verifyChainFast(files, {
      maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
      startHash: options.startHash || undefined,
      lookFor: options.lookFor,
      jobs: options.jobs,
      parallelMinBytes: options.parallelMinBytes,
      jobBytes: options.jobBytes,
      onFile: options.onFile ? (i, r) => options.onFile!(fastFileReport(files[i], r)) : undefined,
    }).catch(() => null);
    if (fast) return fastReport(files, fast);
  }
  const v = new DashboardChainVerifier(files, options);
  return v.run();
}

function fastFileReport(file: AuditFile, r: FastFileResult): FileReport {
  return {
    file: file.name,
    path: file.path,
    schema: r.schema,
    lines: r.entries,
    entriesVerified: r.entries,
    preIntegrityEntries: 0,
    verdict: 'intact',
    lastHash: r.lastHash,
    bytes: r.bytes,
    completeBytes: r.bytes,
    lastEntryOffset: r.lastEntryOffset,
    lastEntrySha256: r.lastEntrySha256,
  };
}

/** The report of a chain the fast path proved intact: the same as the sequential verifier's. */
function fastReport(files: AuditFile[], results: FastFileResult[]): ChainReport {
  const found = new Map<string, Location>();
  let head: ChainReport['chainHead'] = null;
  let genesisFile: string | null = null;
  let verified = 0;
  results.forEach((r, i) => {
    const name = files[i].name;
    for (const f of r.found) if (!found.has(f.hash)) found.set(f.hash, { file: name, line: f.line, offset: f.offset });
    if (r.entries > 0) {
      genesisFile ??= name;
      head = { file: name, line: r.entries, offset: r.lastEntryOffset ?? 0, hash: r.lastHash ?? '' };
    }
    verified += r.entries;
  });
  const gap = gapNote(files);
  return {
    verdict: 'intact',
    files: results.map((r, i) => fastFileReport(files[i], r)),
    findings: [],
    notes: gap ? [gap] : [],
    entriesVerified: verified,
    chainHead: head,
    genesisFile,
    found,
  };
}

/** The note for days missing between the first and the last file, if any. */
function gapNote(files: AuditFile[]): Note | null {
  const gaps = missingDates(files);
  if (!gaps.length) return null;
  const shown = gaps.length > 5 ? `${gaps.slice(0, 5).join(', ')} … (${gaps.length} days)` : gaps.join(', ');
  return { kind: 'gap', message: `no file for ${shown} between the first and the last day` };
}

class DashboardChainVerifier {
  private readonly maxLineBytes: number;
  private readonly findings: Finding[] = [];
  private readonly notes: Note[] = [];
  private readonly reports: FileReport[] = [];
  private started = false;
  /** Expected predecessor of the next entry; null while unknown after an unreadable line. */
  private prev: string | null = GENESIS_HASH;
  /** When `prev` is unknown: the last known hash before the gap (checked first). */
  private prevCandidate: string | null = null;
  /** The entry whose stored hash is the chain head (kept as is: no copy per entry). */
  private headEntry: EntryItem | null = null;
  private headHash: string | null = null;
  private pending: Pending | null = null;
  private preIntegrity: { count: number; first: Location | null; last: Location | null } = {
    count: 0,
    first: null,
    last: null,
  };
  private genesisFile: string | null = null;
  private verified = 0;
  private readonly found = new Map<string, Location>();

  constructor(
    private readonly files: AuditFile[],
    private readonly options: VerifyOptions,
  ) {
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  }

  async run(): Promise<ChainReport> {
    for (let i = 0; i < this.files.length; i++) {
      await this.verifyFile(i);
      this.options.onFile?.(this.reports[this.reports.length - 1]);
    }
    if (this.pending) await this.resolve(this.pending, null);
    this.addDirectoryNotes();
    let verdict: VerdictClass = 'intact';
    for (const f of this.findings) verdict = worse(verdict, f.class);
    for (const r of this.reports) {
      for (const f of this.findings) if (f.file === r.file) r.verdict = worse(r.verdict, f.class);
    }
    return {
      verdict,
      files: this.reports,
      findings: this.findings,
      notes: this.notes,
      entriesVerified: this.verified,
      chainHead: this.headEntry && this.headHash ? { ...this.headEntry.loc, hash: this.headHash } : null,
      genesisFile: this.genesisFile,
      found: this.found,
    };
  }

  private addDirectoryNotes(): void {
    const gap = gapNote(this.files);
    if (gap) this.notes.push(gap);
    if (this.preIntegrity.count > 0 && this.preIntegrity.first) {
      const where = this.preIntegrity.first;
      this.notes.push({
        kind: 'pre-integrity',
        file: where.file,
        line: where.line,
        message: `${this.preIntegrity.count} entr${this.preIntegrity.count === 1 ? 'y' : 'ies'} without a hash before the chain starts (written before integrity was enabled); not verifiable`,
      });
    }
  }

  private finding(f: Finding): void {
    this.findings.push(f);
  }

  private async verifyFile(index: number): Promise<void> {
    const file = this.files[index];
    const report: FileReport = {
      file: file.name,
      path: file.path,
      schema: 'none',
      lines: 0,
      entriesVerified: 0,
      preIntegrityEntries: 0,
      verdict: 'intact',
      lastHash: null,
      bytes: file.startOffset ?? 0,
      completeBytes: file.startOffset ?? 0,
      lastEntryOffset: null,
      lastEntrySha256: null,
    };
    this.reports.push(report);
    let fileFirst = !file.startOffset;
    let lastEntryBytes: Buffer | null = null;
    let crlf = false;
    let blank = 0;
    let nonAscii = false;
    let loneCr = false;
    let lastRaw: { line: number; terminated: boolean } | null = null;
    try {
      const start = file.startOffset ?? 0;
      for await (const raw of scanLines(file.stream ?? openAuditFile(file.path, start), {
        maxLineBytes: this.maxLineBytes,
        startOffset: start,
        firstLine: file.firstLine ?? 1,
      })) {
        report.lines = raw.line;
        report.bytes = raw.offset + raw.length + (raw.terminated ? (raw.crlf ? 2 : 1) : 0);
        if (raw.terminated) report.completeBytes = report.bytes;
        lastRaw = raw;
        const loc: Location = { file: file.name, line: raw.line, offset: raw.offset };
        if (raw.crlf) crlf = true;
        const decoded = decodeLine(raw, this.maxLineBytes);
        if (decoded.kind === 'blank') {
          blank++;
          continue;
        }
        if (decoded.kind === 'undecodable') {
          await this.badLine(loc, 'unreadable', decoded.code, decoded.message, storedHashHint(raw.bytes));
          continue;
        }
        const text = decoded.text;
        if (!nonAscii && !isAscii(raw.bytes)) nonAscii = true;
        if (!loneCr && raw.bytes.indexOf(0x0d) >= 0) loneCr = true;
        let parsed;
        try {
          parsed = canonicalizeEntry(text, { hashKeys: HASH_KEYS });
        } catch (err) {
          if (!(err instanceof PyJsonError)) throw err;
          if (err.code !== 'malformed') {
            await this.badLine(loc, 'unreadable', err.code, err.message, storedHashHint(raw.bytes));
          } else if (!raw.terminated) {
            await this.flushPending();
            this.finding({
              ...loc,
              class: 'incomplete',
              reason: 'torn-last-line',
              message: `final line is incomplete (no newline, ${raw.length} bytes, not a whole entry): a write in progress or cut off by a crash`,
            });
          } else if (!(await this.tornWriteRecovered(loc, text, report))) {
            await this.badLine(
              loc,
              'tampered',
              'malformed-json',
              `malformed JSON: ${err.message}`,
              storedHashHint(raw.bytes),
            );
          }
          continue;
        }
        if (!parsed.isObject) {
          await this.badLine(loc, 'unreadable', 'not-an-object', 'line is valid JSON but not an object');
          continue;
        }
        const schema =
          parsed.hashKey === '_integrity_hash' ? 'writer' : parsed.hashKey === 'chain_hash' ? 'documented' : null;
        if (schema) report.schema = report.schema === 'none' || report.schema === schema ? schema : 'mixed';
        if (typeof parsed.hashValue !== 'string') {
          await this.unhashedEntry(
            loc,
            parsed.hashKey !== null && parsed.hashValue === null ? 'null' : parsed.hashKey ? 'not-a-string' : 'absent',
            report,
          );
          continue;
        }
        const item: EntryItem = {
          loc,
          text,
          canonical: parsed.canonical,
          stored: parsed.hashValue,
          hasIntKeys: parsed.hasIntKeys,
          fileFirst,
          fileIndex: index,
          fileReport: report,
        };
        fileFirst = false;
        await this.entry(item);
        report.lastHash = item.stored;
        if (raw.terminated) {
          report.lastEntryOffset = raw.offset;
          lastEntryBytes = raw.bytes;
        }
      }
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      await this.flushPending();
      this.finding({
        file: file.name,
        line: report.lines + 1,
        offset: report.bytes,
        class: 'io-error',
        reason: 'io-error',
        message: `cannot read ${file.name}: ${e.code ? e.code + ' ' : ''}${e.message}`,
      });
      if (this.prev !== null) this.prevCandidate = this.prev;
      this.prev = null;
    }
    if (lastEntryBytes) report.lastEntrySha256 = sha256Hex(lastEntryBytes);
    if (
      lastRaw &&
      !lastRaw.terminated &&
      report.lastHash !== null &&
      !this.findings.some((f) => f.file === file.name && f.line === lastRaw!.line)
    ) {
      this.notes.push({
        kind: 'no-final-newline',
        file: file.name,
        line: lastRaw.line,
        message: 'last entry is complete but has no newline yet (a write in progress?)',
      });
    }
    const rewrites: string[] = [];
    if (crlf) rewrites.push('CRLF line endings');
    if (blank) rewrites.push(`${blank} blank line(s)`);
    if (nonAscii) rewrites.push('raw non-ASCII bytes (the writer escapes them)');
    if (loneCr)
      rewrites.push("a bare CR inside a line (Loki Mode's verifier splits the line there and reports tampering)");
    if (rewrites.length) {
      this.notes.push({
        kind: 'rewritten',
        file: file.name,
        message: `not as Loki Mode's writer wrote it, values intact: ${rewrites.join(', ')}`,
      });
    }
  }

  /** An entry with a string hash. */
  private async entry(e: EntryItem): Promise<void> {
    if (this.pending) {
      const consumed = await this.resolve(this.pending, e);
      this.pending = null;
      if (consumed) return;
    }
    if (!this.started) {
      this.started = true;
      this.genesisFile = e.loc.file;
      if (this.options.startHash) this.check(e, this.options.startHash, false);
      else this.check(e, GENESIS_HASH, true);
      return;
    }
    if (this.prev === null) {
      // After an unreadable line: the entry may chain around it, or from a hash we cannot see.
      const candidate = this.prevCandidate;
      this.prevCandidate = null;
      if (candidate === null || chainHash(candidate, e.canonical) !== e.stored) {
        this.notes.push({
          kind: 'resync',
          file: e.loc.file,
          line: e.loc.line,
          message: 'chain resumes here after a line that could not be checked (this entry is taken as the new anchor)',
        });
        this.anchor(e);
        return;
      }
      this.accept(e);
      return;
    }
    this.check(e, this.prev, false);
  }

  private check(e: EntryItem, prev: string, firstOfHistory: boolean): void {
    if (chainHash(prev, e.canonical) === e.stored) {
      this.accept(e);
      return;
    }
    this.pending = { e, prev, firstOfHistory };
    this.prev = e.stored; // provisional; resolve() decides
  }

  /** A verified entry: its hash becomes the expected predecessor of the next. */
  private accept(e: EntryItem): void {
    this.verified++;
    e.fileReport.entriesVerified++;
    this.anchor(e);
  }

  /** Continue the chain from an entry that could not be verified (after reporting it). */
  private anchor(e: EntryItem): void {
    if (this.options.lookFor?.has(e.stored) && !this.found.has(e.stored)) this.found.set(e.stored, e.loc);
    this.prev = e.stored;
    this.headEntry = e;
    this.headHash = e.stored;
  }

  private async flushPending(): Promise<void> {
    if (this.pending) {
      const p = this.pending;
      this.pending = null;
      await this.resolve(p, null);
    }
  }

  /** A line that is not a checkable entry. */
  private async badLine(
    loc: Location,
    cls: 'unreadable' | 'tampered',
    reason: FindingReason,
    message: string,
    storedHint: string | null = null,
  ): Promise<void> {
    await this.flushPending();
    this.finding({ ...loc, class: cls, reason, message, ...(storedHint ? { stored: storedHint } : {}) });
    if (this.started) {
      // The next entry should chain from this line's stored hash (if we could see one), or
      // around the line from the last good hash.
      if (storedHint) this.prevCandidate = storedHint;
      else if (this.prev !== null) this.prevCandidate = this.prev;
      this.prev = null;
    }
  }

  /** An object without a usable hash. */
  private async unhashedEntry(
    loc: Location,
    how: 'absent' | 'null' | 'not-a-string',
    report: FileReport,
  ): Promise<void> {
    await this.flushPending();
    if (!this.started) {
      this.preIntegrity.count++;
      this.preIntegrity.first ??= loc;
      this.preIntegrity.last = loc;
      report.preIntegrityEntries++;
      return;
    }
    const what =
      how === 'absent' ? 'has no hash field' : how === 'null' ? 'has a null hash' : 'has a hash that is not a string';
    this.finding({ ...loc, class: 'tampered', reason: 'missing-hash', message: `entry ${what} inside the chain` });
    if (this.prev !== null) this.prevCandidate = this.prev;
    this.prev = null;
  }

  /**
   * A malformed line whose tail is a whole entry that chains from the previous one: the
   * writer crashed mid-append and the next append landed on the same line (spec §10.8, §10.17).
   */
  private async tornWriteRecovered(loc: Location, text: string, report: FileReport): Promise<boolean> {
    if (!this.started || this.prev === null) return false;
    for (let at = text.lastIndexOf('{"'); at > 0; at = text.lastIndexOf('{"', at - 1)) {
      let parsed;
      try {
        parsed = canonicalizeEntry(text.slice(at), { hashKeys: HASH_KEYS });
      } catch {
        continue;
      }
      if (typeof parsed.hashValue !== 'string') continue;
      await this.flushPending();
      if (chainHash(this.prev, parsed.canonical) !== parsed.hashValue) return false;
      this.finding({
        ...loc,
        class: 'incomplete',
        reason: 'torn-write-recovered',
        message: `a write was cut off (${at} bytes, not a whole entry) and the next entry was appended on the same line; the chain continues intact`,
      });
      this.accept({
        loc,
        text,
        canonical: parsed.canonical,
        stored: parsed.hashValue,
        hasIntKeys: false,
        fileFirst: false,
        fileIndex: -1,
        fileReport: report,
      });
      return true;
    }
    return false;
  }

  /**
   * Diagnoses a mismatch at `p.e`, looking at the next entry `next` if any.
   * @returns true when `next` was verified here and must not be checked again.
   */
  private async resolve(p: Pending, next: EntryItem | null): Promise<boolean> {
    const { e, prev } = p;
    const base = { ...e.loc, stored: e.stored, expected: chainHash(prev, e.canonical) };
    // The entry's own hash is right for another predecessor: count it as verified.
    const fork = (f: Finding): void => {
      this.finding(f);
      this.accept(e);
    };

    // A writer quirk: non-string dict keys sorted as numbers by the writer (spec §10.3).
    if (e.hasIntKeys) {
      const alt = canonicalizeEntry(e.text, { hashKeys: HASH_KEYS, intKeysNumeric: true });
      if (chainHash(prev, alt.canonical) === e.stored) {
        fork({
          ...base,
          class: 'quirk',
          reason: 'int-keys',
          message:
            "hash matches Loki Mode's writer, which sorted integer dict keys numerically before writing them as strings (its own verifier rejects this entry)",
        });
        return false;
      }
    }

    if (p.firstOfHistory) {
      if (this.preIntegrity.count > 0 && this.preIntegrity.last) {
        const where = this.preIntegrity.last;
        this.finding({
          ...where,
          class: 'tampered',
          reason: 'hash-stripped',
          stored: undefined,
          message: `entry has no hash, but the first hashed entry after it (${e.loc.file}:${e.loc.line}) does not chain from the genesis hash: hashes were removed from chained entries`,
        });
        // Those entries were not pre-integrity after all.
        this.preIntegrity.count = 0;
        for (const r of this.reports) r.preIntegrityEntries = 0;
        this.anchor(e);
        return false;
      }
      this.finding({
        ...base,
        class: 'mid-chain',
        reason: 'history-mid-chain',
        message:
          'the oldest entry present does not chain from the genesis hash: older entries or files were removed (Loki Mode retention deletes the oldest files)',
      });
      this.anchor(e);
      return false;
    }

    if (next) {
      const nextFromPrev = chainHash(prev, next.canonical) === next.stored;
      if (nextFromPrev && chainHash(next.stored, e.canonical) === e.stored) {
        this.finding({
          ...base,
          class: 'tampered',
          reason: 'reordered',
          message: `entries out of order: this entry chains from the one after it (${next.loc.file}:${next.loc.line})`,
        });
        this.accept(next);
        this.prev = e.stored; // the later of the two in chain order
        this.headHash = e.stored;
        return true;
      }
      if (nextFromPrev) {
        this.finding({
          ...base,
          class: 'tampered',
          reason: 'inserted-entry',
          message: 'entry inserted: the entry after it chains from the entry before it',
        });
        this.accept(next);
        return true;
      }
    }

    if (e.fileFirst) {
      if (chainHash(GENESIS_HASH, e.canonical) === e.stored) {
        fork({
          ...base,
          class: 'fork',
          reason: 'fork-genesis',
          chainsFrom: GENESIS_HASH,
          seenAt: null,
          message:
            "first entry of the file chains from the genesis hash instead of the previous file's last entry: the writer restarted and lost its tip (Loki Mode §10.1/10.2); entries after it are checked from here",
        });
        return false;
      }
      const earlier = await this.findEarlier(e);
      if (earlier.duplicate) {
        this.finding({
          ...base,
          class: 'tampered',
          reason: 'duplicate-entry',
          message: `entry is a copy of ${earlier.duplicate.file}:${earlier.duplicate.line} (same hash): replayed`,
        });
        this.anchor(e);
        return false;
      }
      if (earlier.from) {
        fork({
          ...base,
          class: 'fork',
          reason: 'fork-earlier',
          chainsFrom: earlier.from.hash,
          seenAt: { file: earlier.from.file, line: earlier.from.line, offset: earlier.from.offset },
          message: `first entry of the file chains from an earlier entry (${earlier.from.file}:${earlier.from.line}) instead of the previous file's last entry: two writers or a restart forked the chain (Loki Mode §10.9)`,
        });
        return false;
      }
      const gaps = missingDates(this.files.slice(0, e.fileIndex + 1));
      const gapText = gaps.length ? `; no file for ${gaps.slice(-3).join(', ')}` : '';
      this.finding({
        ...base,
        class: 'tampered',
        reason: 'chain-break',
        message: `chain break between files: the first entry does not chain from the previous file's last entry and no entry in the directory explains it (a file or entries removed before it${gapText}, or this entry changed)`,
      });
      this.anchor(e);
      return false;
    }

    const nextFromThis = next !== null && chainHash(e.stored, next.canonical) === next.stored;
    this.finding({
      ...base,
      class: 'tampered',
      reason: 'hash-mismatch',
      message: nextFromThis
        ? 'hash mismatch: the entry was changed after it was written (or the entry before it was removed); the entries after it chain from its stored hash'
        : 'hash mismatch: the entry does not match its stored hash and predecessor',
    });
    this.anchor(e);
    return false;
  }

  /**
   * Re-reads the files before `e` looking for the hash `e` chains from, or a copy of `e`.
   * Only runs after a break at a file boundary.
   */
  private async findEarlier(e: EntryItem): Promise<{ from?: Location & { hash: string }; duplicate?: Location }> {
    const result: { from?: Location & { hash: string }; duplicate?: Location } = {};
    for (let i = 0; i < e.fileIndex; i++) {
      const file = this.files[i];
      if (file.stream) continue; // read once, cannot be read again
      try {
        for await (const raw of scanLines(openAuditFile(file.path), { maxLineBytes: this.maxLineBytes })) {
          const d = decodeLine(raw, this.maxLineBytes);
          if (d.kind !== 'text') continue;
          let parsed;
          try {
            parsed = canonicalizeEntry(d.text, { hashKeys: HASH_KEYS });
          } catch {
            continue;
          }
          const h = parsed.hashValue;
          if (typeof h !== 'string') continue;
          const loc = { file: file.name, line: raw.line, offset: raw.offset };
          if (h === e.stored && !result.duplicate) result.duplicate = loc;
          if (!result.from && chainHash(h, e.canonical) === e.stored) result.from = { ...loc, hash: h };
        }
      } catch {
        // Unreadable files were reported during the main pass.
      }
    }
    return result;
  }
}

const HASH_FIELD = /"(?:_integrity_hash|chain_hash)"\s*:\s*"([0-9a-f]{64})"/;
const HASH_HINT = new RegExp(HASH_FIELD.source + /\s*}?\s*$/.source);

/**
 * The chain hash written in a line's text (`_integrity_hash` or `chain_hash`, 64 hex), found
 * without parsing; null when there is none. Only for lines already known to be entries, or to
 * label them: it does not check the JSON.
 */
export function hashInLine(text: string): string | null {
  return HASH_FIELD.exec(text)?.[1] ?? null;
}

/**
 * The hash stored at the end of a line that cannot be parsed, if it is plainly there: lets the
 * chain continue through the bad line, so one damaged entry does not hide the rest.
 */
function storedHashHint(bytes: Buffer): string | null {
  if (bytes.length === 0) return null;
  const tail = bytes.subarray(Math.max(0, bytes.length - 200)).toString('latin1');
  return HASH_HINT.exec(tail)?.[1] ?? null;
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
    try {
      const h = canonicalizeEntry(d.text, { hashKeys: HASH_KEYS }).hashValue;
      if (typeof h === 'string') last = h;
    } catch {
      // not an entry; the verifier reports such lines where it reads them
    }
  }
  return last;
}
