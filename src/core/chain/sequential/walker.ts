/**
 * The sequential verifier of Loki Mode's dashboard chain: walks every line of every file in
 * chain order, checks each entry against the one before it (spec §3), and hands every break to
 * the diagnosis rules (diagnosis.ts) to say what it means; lines that are not JSON go to the
 * torn-write rules (torn-rules.ts), entries without a hash to theirs (line-rules.ts). It is the
 * exact, diagnosing form of verify; the parallel fast path (../parallel/) only proves a chain intact.
 *
 * Rule (spec §3): `hash_n = sha256_hex(hash_{n-1} + json.dumps(entry_n minus hash field,
 * sort_keys=True))`, `hash_0 = GENESIS_HASH`; the chain continues across days and rotated
 * pieces in name order. The hash field is `_integrity_hash` (what the writer stores) or
 * `chain_hash` (what the docs describe).
 *
 * The intact path costs one canonicalization and one SHA-256 per entry (classify.ts). Only
 * after a mismatch does the walker look further: the next entry, then the rules, which may
 * re-read earlier files.
 */
import { readErrorText } from '../../read/open.js';
import type { AuditFile } from '../../read/files.js';
import { missingDates } from '../../read/files.js';
import { DEFAULT_MAX_LINE_BYTES, type RawLine } from '../../read/lines.js';
import type { ChainReport, FileReport, Finding, FindingReason, Location, Note } from '../report.js';
import { gapNote } from '../report.js';
import { chainHash, GENESIS_HASH } from '../rule.js';
import {
  chainsFrom,
  diagnoseBreak,
  type BreakContext,
  type ChainEntry,
  type Found,
  type FoundEntry,
} from './diagnosis.js';
import { FileWalk, newFileReport, type LineSink, type MalformedLine } from './file-walk.js';
import { HistorySearch, ReplayFollower } from './history.js';
import { acrossUncheckedFinding, duplicateKeyFinding, resyncNote, type UncheckedLines } from './line-rules.js';
import { LongLines } from './long-line.js';
import { TornWrites, type TornHost } from './torn-writes.js';
import { UnhashedEntries } from './unhashed-entries.js';
import { WalkLog } from './walk-log.js';

/** Options of the walk (see verify-chain.ts `VerifyOptions`). */
export interface WalkOptions {
  maxLineBytes?: number;
  /** The hash the first entry must chain from (default: the genesis hash). */
  startHash?: string;
  /** Stored hashes whose location to report. */
  lookFor?: ReadonlySet<string>;
  /** Called after each file. */
  onFile?: (report: FileReport) => void;
}

/** A mismatch waiting for the next entry before it is diagnosed. */
interface Pending {
  e: ChainEntry;
  prev: string;
  firstOfHistory: boolean;
}

/** Verifies `files` (in chain order) entry by entry. Never throws for bad content. */
export async function walkChain(files: AuditFile[], options: WalkOptions = {}): Promise<ChainReport> {
  return new ChainWalker(files, options).run();
}

class ChainWalker {
  private readonly maxLineBytes: number;
  private readonly log = new WalkLog();
  private started = false;
  /** Expected predecessor of the next entry; null while unknown after an unreadable line. */
  private prev: string | null = GENESIS_HASH;
  /** When `prev` is unknown after an unreadable file: the last known hash before it (checked first). */
  private prevCandidate: string | null = null;
  /**
   * After lines that are not checkable entries: the next entry must chain from before them or
   * through them, or entries were removed there (line-rules.ts `acrossUncheckedFinding`).
   */
  private gap: UncheckedLines | null = null;
  /** Following a replay of earlier history. */
  private replay: ReplayFollower | null = null;
  /** Re-reads earlier and later entries for the break rules. */
  private readonly history: HistorySearch;
  /** The entry whose stored hash is the chain head (kept as is: no copy per entry). */
  private headEntry: ChainEntry | null = null;
  private headHash: string | null = null;
  private pending: Pending | null = null;
  private readonly unhashed = new UnhashedEntries();
  private readonly longLines = new LongLines();
  private genesisFile: string | null = null;
  private verified = 0;
  private readonly found = new Map<string, Location>();

  /** What the torn-write rules (torn-rules.ts) have the walker do. */
  private readonly tornHost: TornHost = {
    finding: (f) => this.finding(f),
    malformed: (l) => this.badLine(l.loc, 'tampered', 'malformed-json', l.message, l.hint),
    acceptTail: (e) => {
      if (!this.started) {
        this.started = true;
        this.genesisFile = e.loc.file;
      }
      this.accept(e);
    },
  };
  private readonly torn = new TornWrites(this.tornHost);

  constructor(
    private readonly files: AuditFile[],
    private readonly options: WalkOptions,
  ) {
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.history = new HistorySearch(files, this.maxLineBytes, (n) => this.note(n));
  }

  async run(): Promise<ChainReport> {
    try {
      return await this.walk();
    } finally {
      this.longLines.close();
    }
  }

  private async walk(): Promise<ChainReport> {
    for (let i = 0; i < this.files.length; i++) {
      await this.verifyFile(i);
      this.options.onFile?.(this.log.reports[this.log.reports.length - 1]);
    }
    await this.torn.settle('end');
    if (this.pending) await this.resolve(this.pending, null);
    this.closeUnhashed(null);
    const gap = gapNote(this.files);
    if (gap) this.note(gap);
    const pre = this.unhashed.note();
    if (pre) this.note(pre);
    // In this key order (verify --json prints the report as it is).
    const { verdict, findings, notes, omitted } = this.log.result();
    return {
      verdict,
      files: this.log.reports,
      findings,
      notes,
      ...(omitted ? { omitted } : {}),
      entriesVerified: this.verified,
      chainHead: this.headEntry && this.headHash ? { ...this.headEntry.loc, hash: this.headHash } : null,
      genesisFile: this.genesisFile,
      found: this.found,
    };
  }

  private finding(f: Finding): void {
    this.log.finding(f);
  }

  private note(n: Note): void {
    this.log.note(n);
  }

  /** The hash the chain stands at before the next line (null: unknown); before the chain, the start hash if any. */
  private chainAt(): string | null {
    return this.started ? this.prev : this.options.startHash || null;
  }

  /** The same, with the genesis hash before the chain when no start hash is given. */
  private before(): string | null {
    return this.started ? this.prev : this.options.startHash || GENESIS_HASH;
  }

  /** Reads one file (file-walk.ts), its lines handed to {@link sink}. */
  private async verifyFile(index: number): Promise<void> {
    const file = this.files[index];
    const report = newFileReport(file);
    this.log.addFile(report);
    await new FileWalk(file, index, report, this.sink, this.maxLineBytes).read();
  }

  /** What the walker does with each kind of line a file holds. */
  private readonly sink: LineSink = {
    otherLine: () => this.torn.settle(null),
    unreadable: (loc, l) => this.badLine(loc, 'unreadable', l.reason, l.message, l.hint, l.lenient),
    malformed: (report, loc, l, raw) => this.malformedLine(report, loc, l, raw),
    unhashed: (loc, _how, report) => this.unhashedEntry(loc, report),
    entry: (e) => this.entry(e),
    readFailed: (file, report, err) => this.readFailed(file, report, err),
    longLine: (file, raw) => this.longLines.classify(file, raw, this.before()),
    note: (n) => this.note(n),
    lastFindingLine: (name) => this.log.lastFindingLine(name),
  };

  /**
   * A line that is not JSON: a torn write or the malformed line it looks like (torn-writes.ts).
   * Synchronous unless something waits (no promise per line of a file of garbage).
   */
  private malformedLine(report: FileReport, loc: Location, l: MalformedLine, raw: RawLine): Promise<void> | undefined {
    if (this.pending) return this.flushPending().then(() => this.malformedLine(report, loc, l, raw));
    const line = { loc, text: l.text, message: l.message, hint: l.hint };
    return this.torn.line(line, raw, { prev: this.chainAt(), beforeChain: !this.started }, report);
  }

  /** The file could not be read on: reported, and the chain's predecessor is unknown after it. */
  private async readFailed(file: AuditFile, report: FileReport, e: NodeJS.ErrnoException): Promise<void> {
    await this.flushPending();
    this.finding({
      file: file.name,
      line: report.lines + 1,
      offset: report.bytes,
      class: 'io-error',
      reason: 'io-error',
      message: readErrorText(file.name, e),
    });
    if (this.prev !== null) this.prevCandidate = this.prev;
    this.prev = null;
  }

  /** An entry with a string hash. */
  private async entry(e: ChainEntry): Promise<void> {
    if (this.torn.waiting) await this.torn.settle(e);
    if (this.pending) {
      const consumed = await this.resolve(this.pending, e);
      this.pending = null;
      if (consumed) return;
    }
    if (this.replay) {
      if (await this.replay.repeats(e.stored)) return this.anchor(e);
      this.replay = null;
    }
    if (this.unhashed.open) this.closeUnhashed(e);
    if (this.gap) return this.acrossGap(e);
    if (!this.started) {
      this.started = true;
      this.genesisFile = e.loc.file;
      const start = this.options.startHash || GENESIS_HASH;
      const chains = chainsFrom(e, start);
      this.check(e, start, !this.options.startHash);
      const prepended = chains ? this.unhashed.prepended(e) : null;
      if (prepended) this.finding(prepended);
      return;
    }
    if (this.prev !== null) return this.check(e, this.prev, false);
    // After an unreadable line: the entry may chain around it, or from a hash we cannot see.
    const candidate = this.prevCandidate;
    this.prevCandidate = null;
    if (candidate !== null && chainsFrom(e, candidate)) return this.accept(e);
    this.note(resyncNote(e.loc));
    this.anchor(e);
  }

  private check(e: ChainEntry, prev: string, firstOfHistory: boolean): void {
    // An entry after a torn write may chain from the entry before it (torn-rules.ts `tornSibling`).
    if (chainsFrom(e, prev) || this.torn.sibling(e)) return this.accept(e);
    this.pending = { e, prev, firstOfHistory };
    this.prev = e.stored; // provisional; resolve() decides
  }

  /** A verified entry: its hash is the expected predecessor of the next (an entry with a key twice is not counted). */
  private accept(e: ChainEntry): void {
    if (e.duplicateKeys) this.finding(duplicateKeyFinding(e));
    else {
      this.verified++;
      e.fileReport.entriesVerified++;
    }
    this.anchor(e);
  }

  /** Continue the chain from an entry that could not be verified (after reporting it). */
  private anchor(e: ChainEntry): void {
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

  /**
   * A line that is not a checkable entry. Synchronous unless an entry is pending (a file of
   * garbage is millions of these lines: no promise per line).
   */
  private badLine(
    loc: Location,
    cls: 'unreadable' | 'tampered',
    reason: FindingReason,
    message: string,
    storedHint: string | null = null,
    lenient?: { canonical: string; stored: string },
  ): Promise<void> | undefined {
    if (this.pending)
      return this.flushPending().then(() => this.badLine(loc, cls, reason, message, storedHint, lenient));
    this.closeUnhashed('unknown');
    // Built field by field: object spread here was measurably slower on a file of garbage
    // (bench/results/decisions.md).
    const f: Finding = { file: loc.file, line: loc.line, offset: loc.offset, class: cls, reason, message };
    if (storedHint) f.stored = storedHint;
    this.finding(f);
    if (!this.gap) {
      const before = this.before();
      if (before === null) return undefined; // after an unreadable file: its own resync applies
      this.gap = { first: loc, before, through: before };
    }
    // Through this line only if it is an entry whose stored hash verifies from the hash before it.
    const t = this.gap.through;
    this.gap.through =
      t !== null && lenient && chainHash(t, lenient.canonical) === lenient.stored ? lenient.stored : null;
    this.prev = null;
  }

  /** The first entry after lines that could not be checked: a warning, or a break they mask (line-rules.ts). */
  private acrossGap(e: ChainEntry): void {
    const g = this.gap as UncheckedLines;
    this.gap = null;
    if (!this.started) {
      this.started = true;
      this.genesisFile = e.loc.file;
    }
    const f = acrossUncheckedFinding(e, g);
    if (!f) return this.accept(e);
    this.finding(f);
    this.anchor(e);
  }

  /** An object without a usable hash (an absent, null or non-string hash all leave it unverifiable). */
  private async unhashedEntry(loc: Location, report: FileReport): Promise<void> {
    await this.flushPending();
    this.unhashed.add(loc, report, this.started);
  }

  /** Entries without a hash inside the chain, told by the entry after them (`next`; null: none): line-rules.ts. */
  private closeUnhashed(next: ChainEntry | null | 'unknown'): void {
    const v = this.unhashed.close(next, this.prev);
    if (!v) return;
    this.finding(v.finding);
    if (v.breaksChain) {
      if (this.prev !== null) this.prevCandidate = null;
      this.prev = null;
    }
  }

  /**
   * Diagnoses a mismatch at `p.e` (diagnosis.ts), looking at the next entry `next` if any, and
   * carries out what the verdict says.
   * @returns true when `next` was verified here and must not be checked again.
   */
  private async resolve(p: Pending, next: ChainEntry | null): Promise<boolean> {
    const { e } = p;
    let earlier: Promise<Found> | null = null;
    let later: Promise<Found> | null = null;
    const ctx: BreakContext = {
      e,
      prev: p.prev,
      next,
      firstOfHistory: p.firstOfHistory,
      lastPreIntegrity: this.unhashed.lastPreIntegrity,
      earlier: () => (earlier ??= this.history.earlier(e)),
      later: () => (later ??= this.history.later(e)),
      missingDatesBefore: () => missingDates(this.files.slice(0, e.fileIndex + 1)),
    };
    const v = await diagnoseBreak(ctx);
    this.finding(v.finding);
    if (v.notPreIntegrity) this.unhashed.notPreIntegrity(this.log.reports);
    switch (v.action) {
      case 'accept':
        this.accept(e);
        return false;
      case 'anchor':
        this.anchor(e);
        return false;
      case 'accept-next':
        this.accept(next as ChainEntry);
        return true;
      case 'swap':
        this.accept(next as ChainEntry);
        this.prev = e.stored; // the later of the two in chain order
        this.headHash = e.stored;
        return true;
      case 'replay':
        this.replay = new ReplayFollower(v.finding, this.history.storedAfter(v.replayOf as FoundEntry));
        this.anchor(e);
        return false;
    }
  }
}
