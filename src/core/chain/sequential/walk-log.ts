/**
 * What a walk has found: the findings and notes it keeps (the first of each class or kind, the
 * rest counted: bounded.ts), the report of each file read, and the verdict they make.
 */
import { findingList, noteList, omittedOf, type Omitted } from '../bounded.js';
import type { FileReport, Finding, Note } from '../report.js';
import type { VerdictClass } from '../verdict.js';
import { worse } from '../verdict.js';

export class WalkLog {
  private readonly findingLog = findingList();
  private readonly noteLog = noteList();
  /** The report of each file, in the order read. */
  readonly reports: FileReport[] = [];
  /** The file report of each file name (a finding makes its file's verdict, kept or not). */
  private readonly reportOf = new Map<string, FileReport>();
  /** The last line of each file with a finding (kept or not). */
  private readonly lastLine = new Map<string, number>();

  /** A file is read from now on: its findings make `report`'s verdict. */
  addFile(report: FileReport): void {
    this.reports.push(report);
    this.reportOf.set(report.file, report);
  }

  finding(f: Finding): void {
    this.findingLog.push(f);
    this.lastLine.set(f.file, Math.max(f.line, this.lastLine.get(f.file) ?? 0));
    const r = this.reportOf.get(f.file);
    if (r) r.verdict = worse(r.verdict, f.class);
  }

  note(n: Note): void {
    this.noteLog.push(n);
  }

  /** The last line of file `name` with a finding, if any. */
  lastFindingLine(name: string): number | undefined {
    return this.lastLine.get(name);
  }

  /** The verdict (the worst of the files' and the findings'), the kept findings and notes, and what was left out. */
  result(): { verdict: VerdictClass; findings: Finding[]; notes: Note[]; omitted?: Omitted } {
    let verdict: VerdictClass = 'intact';
    for (const r of this.reports) verdict = worse(verdict, r.verdict);
    for (const f of this.findingLog.items) verdict = worse(verdict, f.class);
    const omitted = omittedOf(this.findingLog, this.noteLog);
    return { verdict, findings: this.findingLog.items, notes: this.noteLog.items, ...(omitted ? { omitted } : {}) };
  }
}
