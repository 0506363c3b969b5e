/**
 * The sequential verifier of Loki Mode's dashboard chain: walks every line of every file in
 * chain order, checks each entry against the one before it (spec §3), and hands every break to
 * the diagnosis rules (diagnosis.ts) to say what it means. It is the exact, diagnosing form of
 * verify; the parallel fast path (../parallel/) only proves a chain intact.
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
import { DEFAULT_MAX_LINE_BYTES } from '../../read/lines.js';
import type { ChainReport, FileReport, Finding, FindingReason, Location, Note } from '../report.js';
import { gapNote } from '../report.js';
import { findingList, noteList, omittedOf } from '../bounded.js';
import { chainHash, GENESIS_HASH } from '../rule.js';
import type { VerdictClass } from '../verdict.js';
import { worse } from '../verdict.js';
import { entryAtEnd, tornFragment, type LineClass } from './classify.js';
import { classifyLongLine, type LongLine } from './long-line.js';
import type { RawLine } from '../../read/lines.js';
import {
  chainsFrom,
  diagnoseBreak,
  entryHash,
  type BreakContext,
  type ChainEntry,
  type Found,
  type FoundEntry,
} from './diagnosis.js';
import { FileWalk, newFileReport, type LineSink, type MalformedLine } from './file-walk.js';
import { HistorySearch } from './history.js';
import {
  diagnoseUnhashed,
  prependedUnhashedFinding,
  TORN_SIBLING_NOTE,
  tornOwnLineFinding,
  tornSameLineFinding,
} from './line-rules.js';

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
  /** Kept findings and notes (the first of each class/kind; the rest counted: bounded.ts). */
  private readonly findingLog = findingList();
  private readonly noteLog = noteList();
  private readonly reports: FileReport[] = [];
  /** The file report of each file name (a finding makes its file's verdict, kept or not). */
  private readonly reportOf = new Map<string, FileReport>();
  /** The last line of each file with a finding (kept or not). */
  private readonly lastFindingLine = new Map<string, number>();
  private started = false;
  /** Expected predecessor of the next entry; null while unknown after an unreadable line. */
  private prev: string | null = GENESIS_HASH;
  /** When `prev` is unknown after an unreadable file: the last known hash before it (checked first). */
  private prevCandidate: string | null = null;
  /**
   * After lines that are not checkable entries: the first of them, the hash before them, and
   * the hash the chain reaches through them when each of them verifies (null when one does not).
   * The next entry must chain from one of the two, or entries were removed there.
   */
  private gap: { first: Location; before: string; through: string | null } | null = null;
  /**
   * After a torn write: the last whole entry before it, and the finding that reported it. The
   * writer, re-reading the file, skips the merged line and chains the next append from that
   * entry again (spec §10.17), so an entry that chains from it is the writer's, not a break.
   */
  private torn: { base: string; finding: Finding; siblings: number } | null = null;
  /**
   * A line that is only the start of an entry, its line ended by the next writer: a torn write
   * if the next entry chains from `base` (the entry before it), else a malformed line as any
   * other (see {@link tornWriteEnded}).
   */
  private endedTorn: {
    lines: { loc: Location; text: string; message: string; hint: string | null }[];
    base: string;
  } | null = null;
  /** Following a replay of earlier history: the finding, copies seen, and the original's stored hashes to come. */
  private replay: { finding: Finding; copies: number; of: FoundEntry; original: AsyncGenerator<string> } | null = null;
  /** Re-reads earlier and later entries for the break rules. */
  private readonly history: HistorySearch;
  /** The entry whose stored hash is the chain head (kept as is: no copy per entry). */
  private headEntry: ChainEntry | null = null;
  private headHash: string | null = null;
  private pending: Pending | null = null;
  /** Entries without a hash in the file being read before the chain started (see {@link prependedUnhashed}). */
  private preIntegrityHere: { first: Location; count: number; report: FileReport } | null = null;
  /** Entries without a hash after the chain started, not yet explained by the entry after them. */
  private unhashed: { first: Location; count: number } | null = null;
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
    private readonly options: WalkOptions,
  ) {
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.history = new HistorySearch(files, this.maxLineBytes, (n) => this.note(n));
  }

  async run(): Promise<ChainReport> {
    try {
      return await this.walk();
    } finally {
      for (const l of this.longLines) l.close();
    }
  }

  private async walk(): Promise<ChainReport> {
    for (let i = 0; i < this.files.length; i++) {
      await this.verifyFile(i);
      this.options.onFile?.(this.reports[this.reports.length - 1]);
    }
    if (this.endedTorn) await this.settleEndedTorn('end');
    if (this.pending) await this.resolve(this.pending, null);
    this.closeUnhashed(null);
    this.addDirectoryNotes();
    let verdict: VerdictClass = 'intact';
    for (const r of this.reports) verdict = worse(verdict, r.verdict);
    for (const f of this.findingLog.items) verdict = worse(verdict, f.class);
    const omitted = omittedOf(this.findingLog, this.noteLog);
    return {
      verdict,
      files: this.reports,
      findings: this.findingLog.items,
      notes: this.noteLog.items,
      ...(omitted ? { omitted } : {}),
      entriesVerified: this.verified,
      chainHead: this.headEntry && this.headHash ? { ...this.headEntry.loc, hash: this.headHash } : null,
      genesisFile: this.genesisFile,
      found: this.found,
    };
  }

  private addDirectoryNotes(): void {
    const gap = gapNote(this.files);
    if (gap) this.note(gap);
    if (this.preIntegrity.count > 0 && this.preIntegrity.first) {
      const where = this.preIntegrity.first;
      this.note({
        kind: 'pre-integrity',
        file: where.file,
        line: where.line,
        message: `${this.preIntegrity.count} entr${this.preIntegrity.count === 1 ? 'y' : 'ies'} without a hash before the chain starts (written before integrity was enabled); not verifiable`,
      });
    }
  }

  private finding(f: Finding): void {
    this.findingLog.push(f);
    this.lastFindingLine.set(f.file, Math.max(f.line, this.lastFindingLine.get(f.file) ?? 0));
    const r = this.reportOf.get(f.file);
    if (r) r.verdict = worse(r.verdict, f.class);
  }

  private note(n: Note): void {
    this.noteLog.push(n);
  }

  /** Long lines streamed (their files stay open until the walk ends: a diagnosis may hash them again). */
  private readonly longLines: LongLine[] = [];

  private async longLine(file: AuditFile, raw: RawLine): Promise<LineClass> {
    const l = await classifyLongLine(file, raw, this.started ? this.prev : this.options.startHash || GENESIS_HASH);
    this.longLines.push(l);
    // A break is diagnosed within a few entries: older long lines need not stay open.
    if (this.longLines.length > 4) this.longLines.shift()?.close();
    return l.line;
  }

  /** Reads one file (file-walk.ts), its lines handed to {@link sink}. */
  private async verifyFile(index: number): Promise<void> {
    const file = this.files[index];
    const report = newFileReport(file);
    this.reports.push(report);
    this.reportOf.set(file.name, report);
    await new FileWalk(file, index, report, this.sink, this.maxLineBytes).read();
  }

  /** What the walker does with each kind of line a file holds. */
  private readonly sink: LineSink = {
    otherLine: () => (this.endedTorn ? this.settleEndedTorn(null) : undefined),
    unreadable: (loc, l) => this.badLine(loc, 'unreadable', l.reason, l.message, l.hint, l.lenient),
    malformed: (report, loc, l, raw) =>
      raw.terminated ? this.malformedLine(report, loc, l) : this.tornLastLine(loc, raw.length),
    unhashed: (loc, how, report) => this.unhashedEntry(loc, how, report),
    entry: (e) => this.entry(e),
    readFailed: (file, report, err) => this.readFailed(file, report, err),
    longLine: (file, raw) => this.longLine(file, raw),
    note: (n) => this.note(n),
    lastFindingLine: (name) => this.lastFindingLine.get(name),
  };

  /** A final line without a newline that is not a whole entry: a write in progress or cut off. */
  private async tornLastLine(loc: Location, length: number): Promise<void> {
    // A torn write after an ended one: nothing after them says an entry is missing.
    if (this.endedTorn) await this.settleEndedTorn('end');
    await this.flushPending();
    this.finding({
      ...loc,
      class: 'incomplete',
      reason: 'torn-last-line',
      message: `final line is incomplete (no newline, ${length} bytes, not a whole entry): a write in progress or cut off by a crash`,
    });
  }

  /** A whole line that is not JSON: a torn write continued on it, one ended by the next writer, or an edit. */
  private malformedLine(report: FileReport, loc: Location, line: MalformedLine): Promise<void> | undefined {
    const recovered = this.tornWriteRecovered(loc, line.text, report);
    if (recovered === true) return undefined;
    if (recovered !== false) return recovered.then((r) => (r ? undefined : this.notTornOnItsLine(loc, line)));
    return this.notTornOnItsLine(loc, line);
  }

  private notTornOnItsLine(loc: Location, line: MalformedLine): Promise<void> | undefined {
    const ended = this.tornWriteEnded(loc, line.text, line.message, line.hint);
    if (ended === true) return undefined;
    if (ended !== false) return ended.then((e) => (e ? undefined : this.malformedJson(loc, line)));
    return this.malformedJson(loc, line);
  }

  private malformedJson(loc: Location, line: MalformedLine): Promise<void> | undefined {
    if (this.endedTorn)
      return this.settleEndedTorn(null).then(() =>
        this.badLine(loc, 'tampered', 'malformed-json', line.message, line.hint),
      );
    return this.badLine(loc, 'tampered', 'malformed-json', line.message, line.hint);
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
    if (this.endedTorn) await this.settleEndedTorn(e);
    if (this.pending) {
      const consumed = await this.resolve(this.pending, e);
      this.pending = null;
      if (consumed) return;
    }
    if (this.replay && (await this.replayed(e))) return;
    if (this.unhashed) this.closeUnhashed(e);
    if (this.gap) {
      this.acrossGap(e);
      return;
    }
    if (!this.started) {
      this.started = true;
      this.genesisFile = e.loc.file;
      const start = this.options.startHash || GENESIS_HASH;
      const chains = chainsFrom(e, start);
      this.check(e, start, !this.options.startHash);
      if (chains) this.prependedUnhashed(e);
      return;
    }
    if (this.prev === null) {
      // After an unreadable line: the entry may chain around it, or from a hash we cannot see.
      const candidate = this.prevCandidate;
      this.prevCandidate = null;
      if (candidate === null || !chainsFrom(e, candidate)) {
        this.note({
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

  private check(e: ChainEntry, prev: string, firstOfHistory: boolean): void {
    if (chainsFrom(e, prev)) {
      this.accept(e);
      return;
    }
    if (this.torn && chainsFrom(e, this.torn.base)) {
      this.tornSibling(e);
      return;
    }
    this.pending = { e, prev, firstOfHistory };
    this.prev = e.stored; // provisional; resolve() decides
  }

  /**
   * A verified entry: its hash becomes the expected predecessor of the next. An entry with a key
   * twice is never counted: its hash covers the last value (json.loads keeps it), but readers
   * that keep the first, and every raw copy exported or forwarded, show the other.
   */
  private accept(e: ChainEntry): void {
    if (e.duplicateKeys) {
      this.finding({
        ...e.loc,
        class: 'tampered',
        reason: 'duplicate-key',
        stored: e.stored,
        message:
          'an object holds the same key twice: json.dumps never writes that; the hash covers the last value, while readers that keep the first (and every raw copy) show another: an edit',
      });
      this.anchor(e);
      return;
    }
    this.verified++;
    e.fileReport.entriesVerified++;
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
      const before = this.started ? this.prev : this.options.startHash || GENESIS_HASH;
      if (before === null) return undefined; // after an unreadable file: its own resync applies
      this.gap = { first: loc, before, through: before };
    }
    // Through this line only if it is an entry whose stored hash verifies from the hash before it.
    const t = this.gap.through;
    this.gap.through =
      t !== null && lenient && chainHash(t, lenient.canonical) === lenient.stored ? lenient.stored : null;
    this.prev = null;
  }

  /**
   * The first entry after lines that could not be checked (spec §7: lines Python's verifier
   * cannot read). It must chain from the entry before them (they were inserted, or are junk),
   * or through them (each a whole entry whose own hash verifies): then they are a warning, and
   * nothing is missing. Otherwise entries were removed there and the lines mask it, whatever
   * hash they appear to hold: a chain break (tampered).
   */
  private acrossGap(e: ChainEntry): void {
    const g = this.gap as NonNullable<ChainWalker['gap']>;
    this.gap = null;
    const firstOfHistory = !this.started;
    if (firstOfHistory) {
      this.started = true;
      this.genesisFile = e.loc.file;
    }
    if (chainsFrom(e, g.before) || (g.through !== null && chainsFrom(e, g.through))) {
      this.accept(e);
      return;
    }
    const where = `${g.first.file}:${g.first.line}`;
    this.finding({
      ...e.loc,
      class: 'tampered',
      reason: 'chain-break',
      stored: e.stored,
      expected: entryHash(e, g.before),
      message: `does not chain from the entry before the line(s) that cannot be read at ${where}, nor through a hash that verifies: entries were removed or changed there, and the unreadable line(s) mask it`,
    });
    this.anchor(e);
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
      if (this.preIntegrityHere?.first.file !== loc.file) this.preIntegrityHere = { first: loc, count: 0, report };
      this.preIntegrityHere.count++;
      return;
    }
    void how; // an absent, null or non-string hash all leave the entry unverifiable
    this.unhashed ??= { first: loc, count: 0 };
    this.unhashed.count++;
  }

  /** Entries without a hash inside the chain, told by the entry after them (`next`; null: none): line-rules.ts. */
  private closeUnhashed(next: ChainEntry | null | 'unknown'): void {
    const u = this.unhashed;
    if (!u) return;
    this.unhashed = null;
    const v = diagnoseUnhashed({ first: u.first, count: u.count, next, prev: this.prev });
    this.finding(v.finding);
    if (v.breaksChain) {
      if (this.prev !== null) this.prevCandidate = null;
      this.prev = null;
    }
  }

  /**
   * The first hashed entry chains from the start: entries without a hash before it in the same
   * file are not pre-integrity (a pre-integrity file holds no hashed entry), they were inserted.
   */
  private prependedUnhashed(e: ChainEntry): void {
    const here = this.preIntegrityHere;
    if (!here || here.first.file !== e.loc.file) return;
    this.preIntegrityHere = null;
    this.preIntegrity.count -= here.count;
    here.report.preIntegrityEntries -= here.count;
    this.finding(prependedUnhashedFinding(here.first, here.count));
  }

  /**
   * A malformed line whose tail is a whole entry that chains from the previous one: the
   * writer crashed mid-append and the next append landed on the same line (spec §10.8, §10.17).
   */
  private tornWriteRecovered(loc: Location, text: string, report: FileReport): boolean | Promise<boolean> {
    // Also where `verify --state` resumes: the chain goes on from the remembered hash.
    if (!this.started ? !this.options.startHash : this.prev === null) return false;
    const tail = entryAtEnd(text);
    if (!tail) return false; // no promise for a line of garbage
    return this.flushPending().then(() => this.tornTailChains(loc, text, report, tail));
  }

  private tornTailChains(
    loc: Location,
    text: string,
    report: FileReport,
    tail: NonNullable<ReturnType<typeof entryAtEnd>>,
  ): boolean {
    const base = this.started ? this.prev : this.options.startHash || null;
    if (base === null || chainHash(base, tail.canonical) !== tail.stored) return false;
    if (this.endedTorn) this.endedTornRecovered(); // it goes on from the entry before them
    const finding = tornSameLineFinding(loc, text, tail.at);
    this.finding(finding);
    this.torn = { base, finding, siblings: 0 };
    if (!this.started) {
      this.started = true;
      this.genesisFile = loc.file;
    }
    this.accept({
      loc,
      text,
      canonical: tail.canonical,
      stored: tail.stored,
      numberKeyObjects: [],
      fileFirst: false,
      fileIndex: -1,
      fileReport: report,
    });
    return true;
  }

  /**
   * A line that is only the start of an entry (or a power loss's NUL bytes) whose line the next
   * writer ended: loki-audit's `append` ends a torn last line with a newline before appending, so
   * the fragment stays a line of its own (spec §10.17), and every writer's tip search skips it
   * (spec §3.3). Decided by the line after it ({@link settleEndedTorn}).
   */
  private tornWriteEnded(
    loc: Location,
    text: string,
    message: string,
    hint: string | null,
  ): boolean | Promise<boolean> {
    if (!tornFragment(text)) return false; // no promise for a line of garbage
    const line = { loc, text, message, hint };
    if (this.endedTorn) {
      // Another writer crashed too before a whole entry followed (spec §10.17): one decision for all.
      this.endedTorn.lines.push(line);
      return true;
    }
    const base = this.started ? this.prev : this.options.startHash || GENESIS_HASH;
    if (base === null) return false; // after an unreadable line: nothing to go on from
    return this.flushPending().then(() => {
      this.endedTorn = { lines: [line], base };
      return true;
    });
  }

  /**
   * Decides the ended torn line before `next` (an entry, null: a line that is no entry, 'end':
   * nothing more): a torn write when the chain goes on from the entry before it (or nothing
   * follows), incomplete; otherwise it stands for an entry that was changed or removed, and is
   * the malformed line it looks like (tampered).
   */
  private async settleEndedTorn(next: ChainEntry | null | 'end'): Promise<void> {
    const t = this.endedTorn;
    if (!t) return;
    if (next === 'end' || (next !== null && chainsFrom(next, t.base))) return this.endedTornRecovered();
    this.endedTorn = null;
    for (const l of t.lines) await this.badLine(l.loc, 'tampered', 'malformed-json', l.message, l.hint);
  }

  /** The ended torn lines are torn writes: the chain goes on from the entry before them. */
  private endedTornRecovered(): void {
    const t = this.endedTorn as NonNullable<ChainWalker['endedTorn']>;
    this.endedTorn = null;
    for (const l of t.lines) this.finding(tornOwnLineFinding(l.loc, l.text));
  }

  /** An entry that chains from the last whole entry before a torn write (spec §10.17): the writer's own doing. */
  private tornSibling(e: ChainEntry): void {
    const torn = this.torn as NonNullable<ChainWalker['torn']>;
    if (torn.siblings++ === 0) torn.finding.message += TORN_SIBLING_NOTE;
    this.accept(e);
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
      lastPreIntegrity: this.preIntegrity.count > 0 ? this.preIntegrity.last : null,
      earlier: () => (earlier ??= this.history.earlier(e)),
      later: () => (later ??= this.history.later(e)),
      missingDatesBefore: () => missingDates(this.files.slice(0, e.fileIndex + 1)),
    };
    const v = await diagnoseBreak(ctx);
    this.finding(v.finding);
    if (v.notPreIntegrity) {
      this.preIntegrity.count = 0;
      for (const r of this.reports) r.preIntegrityEntries = 0;
    }
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
        this.startReplay(e, v.finding, v.replayOf as FoundEntry);
        return false;
    }
  }

  /**
   * Starts following a replay: the entries after `of` (in chain order) that `e`'s file repeats
   * are copies, not new entries.
   */
  private startReplay(e: ChainEntry, finding: Finding, of: FoundEntry): void {
    this.replay = { finding, copies: 1, of, original: this.history.storedAfter(of) };
    this.anchor(e);
  }

  /** While replaying: whether `e` repeats the next entry of the original (then it is not counted). */
  private async replayed(e: ChainEntry): Promise<boolean> {
    const r = this.replay as NonNullable<ChainWalker['replay']>;
    const next = await r.original.next().catch(() => ({ done: true as const, value: undefined }));
    if (!next.done && next.value === e.stored) {
      r.copies++;
      r.finding.message = r.finding.message.replace(
        /; (\d+ )?replayed entries are not counted as verified$/,
        `; ${r.copies} replayed entries are not counted as verified`,
      );
      this.anchor(e);
      return true;
    }
    await r.original.return(undefined);
    this.replay = null;
    return false;
  }
}
