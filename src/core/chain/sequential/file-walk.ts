/**
 * Reading one audit file for the chain walker (walker.ts): every physical line, classified
 * (classify.ts) and handed to the walker by its kind, while the file's report is kept: lines,
 * bytes, schema, the last entry, and the notes on its bytes (no final newline; not as Loki Mode's
 * writer wrote it: CRLF, BOM, blank lines, raw non-ASCII, lone CR). Synchronous per line unless a
 * line needs a promise: a file of garbage is millions of lines, and no promise is made per line.
 */
import type { AuditFile } from '../../read/files.js';
import { LineSplitter, lineBatches, openAuditFile, type RawLine } from '../../read/lines.js';
import type { FileReport, Location, Note } from '../report.js';
import { sha256Hex } from '../rule.js';
import { classifyLine, lineLayout, type HashSchema, type LineClass, type LineLayout } from './classify.js';
import type { ChainEntry } from './diagnosis.js';

export type UnreadableLine = Extract<LineClass, { kind: 'unreadable' }>;
export type MalformedLine = Extract<LineClass, { kind: 'malformed' }>;
type EntryLine = Extract<LineClass, { kind: 'entry' }>;

/** What the walker does with each kind of line (a promise only when it must wait). */
export interface LineSink {
  /** Before a line that is neither an entry nor malformed JSON. */
  otherLine(): Promise<void> | undefined;
  unreadable(loc: Location, line: UnreadableLine): Promise<void> | undefined;
  malformed(report: FileReport, loc: Location, line: MalformedLine, raw: RawLine): Promise<void> | undefined;
  unhashed(loc: Location, how: 'absent' | 'null' | 'not-a-string', report: FileReport): Promise<void>;
  entry(e: ChainEntry): Promise<void>;
  /** The file could not be read on after the lines handed out (`err` from the read). */
  readFailed(file: AuditFile, report: FileReport, err: NodeJS.ErrnoException): Promise<void>;
  /** Classifies a line too long to hold by streaming it (long-line.ts). */
  longLine(file: AuditFile, raw: RawLine): Promise<LineClass>;
  note(n: Note): void;
  /** The last line of file `name` with a finding, if any. */
  lastFindingLine(name: string): number | undefined;
}

/** A report for `file` before any line is read (offsets from its `startOffset`, as `verify --state` resumes). */
export function newFileReport(file: AuditFile): FileReport {
  return {
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
}

/** The schema of a file after a line with `line`'s hash field: one field, or `mixed`. */
function mergeSchema(file: FileReport['schema'], line: HashSchema): FileReport['schema'] {
  return file === 'none' || file === line ? line : 'mixed';
}

/** Reads file `index` of the walk into `report`, handing its lines to `sink`. Never throws for bad content. */
export class FileWalk {
  /** No hashed entry of the file read yet (and the file is read from its start). */
  private fileFirst: boolean;
  /** The bytes of the last terminated entry line (for the report's `lastEntrySha256`). */
  private lastEntryBytes: Buffer | null = null;
  private readonly layout: LineLayout = { crlf: false, cr: false, bom: false, nonAscii: false, loneCr: false };
  /** The line of the first byte-order mark. */
  private bomLine = 0;
  /** Blank lines handed out (empty lines are counted by the splitter). */
  private blank = 0;
  private lastRaw: { line: number; terminated: boolean } | null = null;

  constructor(
    private readonly file: AuditFile,
    private readonly index: number,
    private readonly report: FileReport,
    private readonly sink: LineSink,
    private readonly maxLineBytes: number,
  ) {
    this.fileFirst = !file.startOffset;
  }

  async read(): Promise<void> {
    const { file, report } = this;
    const start = file.startOffset ?? 0;
    let splitter: LineSplitter | null = null;
    try {
      splitter = new LineSplitter({
        maxLineBytes: this.maxLineBytes,
        startOffset: start,
        firstLine: file.firstLine ?? 1,
        skipEmptyLines: true, // counted at the speed of a byte search (a gzip of newlines)
      });
      for await (const batch of lineBatches(file.stream ?? openAuditFile(file.path, start), splitter))
        for (const raw of batch) {
          const p = this.onLine(raw);
          if (p) await p;
        }
      // Empty lines after the last line handed out were counted, not handed out.
      if (splitter.position > report.bytes) {
        report.bytes = report.completeBytes = splitter.position;
        report.lines = splitter.nextLine - 1;
      }
    } catch (err) {
      await this.sink.readFailed(file, report, err as NodeJS.ErrnoException);
    }
    this.close(splitter?.emptyLines ?? 0);
  }

  private onLine(raw: RawLine): Promise<void> | undefined {
    const report = this.report;
    report.lines = raw.line;
    report.bytes = raw.offset + raw.length + (raw.terminated ? (raw.crlf ? 2 : 1) : 0);
    if (raw.terminated) report.completeBytes = report.bytes;
    this.lastRaw = raw;
    if (raw.tooLong && raw.terminated && !this.file.stream)
      return this.sink.longLine(this.file, raw).then((line) => this.onClassified(raw, line));
    return this.onClassified(raw, classifyLine(raw, this.maxLineBytes));
  }

  private onClassified(raw: RawLine, line: LineClass): Promise<void> | undefined {
    if (raw.crlf) this.layout.crlf = true;
    if (line.kind === 'blank') {
      this.blank++;
      return undefined;
    }
    this.trackLayout(raw, line);
    const loc: Location = { file: this.file.name, line: raw.line, offset: raw.offset };
    const settled = line.kind !== 'entry' && line.kind !== 'malformed' ? this.sink.otherLine() : undefined;
    if (settled) return settled.then(() => this.byKind(raw, loc, line));
    return this.byKind(raw, loc, line);
  }

  /** The layout facts of a non-blank line, for the file's "rewritten" note. */
  private trackLayout(raw: RawLine, line: LineClass): void {
    if (raw.cr) this.layout.cr = true;
    if (line.kind === 'unreadable' && line.reason === 'invalid-utf8') return;
    const l = lineLayout(raw);
    this.layout.nonAscii ||= l.nonAscii;
    this.layout.loneCr ||= l.loneCr;
    if (l.bom && !this.layout.bom) {
      this.layout.bom = true;
      this.bomLine = raw.line;
    }
  }

  private byKind(raw: RawLine, loc: Location, line: LineClass): Promise<void> | undefined {
    switch (line.kind) {
      case 'blank':
        return undefined;
      case 'unreadable':
        return this.sink.unreadable(loc, line);
      case 'malformed':
        return this.sink.malformed(this.report, loc, line, raw);
      case 'unhashed':
        if (line.schema) this.report.schema = mergeSchema(this.report.schema, line.schema);
        return this.sink.unhashed(loc, line.how, this.report);
      case 'entry':
        return this.entryLine(raw, loc, line);
    }
  }

  /** A line with a string hash: noted for its schema, then checked against the chain. */
  private async entryLine(raw: RawLine, loc: Location, line: EntryLine): Promise<void> {
    const report = this.report;
    if (report.schema !== 'none' && report.schema !== 'mixed' && report.schema !== line.schema)
      this.sink.note({
        kind: 'mixed-schema',
        file: this.file.name,
        line: raw.line,
        message:
          `entry with ${line.schema === 'writer' ? '_integrity_hash' : 'chain_hash'} ` +
          `in a file whose entries use ${report.schema === 'writer' ? '_integrity_hash' : 'chain_hash'}: ` +
          `a writer uses one field (an entry from elsewhere?)`,
      });
    report.schema = mergeSchema(report.schema, line.schema);
    const item: ChainEntry = {
      loc,
      text: line.text,
      canonical: line.canonical,
      stored: line.stored,
      numberKeyObjects: line.numberKeyObjects,
      duplicateKeys: line.duplicateKeys,
      hashFrom: line.hashFrom,
      fileFirst: this.fileFirst,
      fileIndex: this.index,
      fileReport: report,
    };
    this.fileFirst = false;
    await this.sink.entry(item);
    report.lastHash = item.stored;
    if (raw.terminated) {
      report.lastEntryOffset = raw.offset;
      this.lastEntryBytes = raw.bytes;
    }
  }

  /** The file's last entry digest and its notes: no final newline, bytes not as the writer wrote them. */
  private close(emptyLines: number): void {
    const { file, report, lastRaw } = this;
    if (this.lastEntryBytes) report.lastEntrySha256 = sha256Hex(this.lastEntryBytes);
    if (
      lastRaw &&
      !lastRaw.terminated &&
      report.lastHash !== null &&
      this.sink.lastFindingLine(file.name) !== lastRaw.line
    )
      this.sink.note({
        kind: 'no-final-newline',
        file: file.name,
        line: lastRaw.line,
        message: 'last entry is complete but has no newline yet (a write in progress?)',
      });
    const rewritten = rewrittenNote(file.name, this.layout, this.blank + emptyLines, this.bomLine);
    if (rewritten) this.sink.note(rewritten);
  }
}

/** The note for a file whose values are intact but whose bytes are not as the writer wrote them. */
function rewrittenNote(file: string, layout: LineLayout, blank: number, bomLine: number): Note | null {
  const rewrites: string[] = [];
  if (layout.crlf) rewrites.push('CRLF line endings');
  if (layout.cr)
    rewrites.push("CR-only line endings (read one entry per line, as Python's universal newlines read them)");
  if (layout.bom)
    rewrites.push(
      `a UTF-8 byte-order mark at the start of line ${bomLine} (Loki ` +
        `Mode's verifier cannot read that line; it is not a torn write)`,
    );
  if (blank) rewrites.push(`${blank} blank line(s)`);
  if (layout.nonAscii) rewrites.push('raw non-ASCII bytes (the writer escapes them)');
  if (layout.loneCr)
    rewrites.push("a bare CR inside a line (Loki Mode's verifier splits the line there and reports tampering)");
  if (!rewrites.length) return null;
  return {
    kind: 'rewritten',
    file,
    message: `not as Loki Mode's writer wrote it, values intact: ${rewrites.join(', ')}`,
  };
}
