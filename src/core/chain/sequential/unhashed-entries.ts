/**
 * The walker's bookkeeping of entries without a usable hash (absent, null or not a string):
 * before the chain starts they are pre-integrity (written before integrity was enabled, spec
 * §10.6), unless a hashed entry of the same file chains from the start after them; inside the
 * chain they come in runs, which the entry after them explains (line-rules.ts).
 */
import type { FileReport, Finding, Location, Note } from '../report.js';
import type { ChainEntry } from './diagnosis.js';
import { diagnoseUnhashed, prependedUnhashedFinding, type UnhashedVerdict } from './line-rules.js';

export class UnhashedEntries {
  /** Entries without a hash in the file being read before the chain started (see {@link prepended}). */
  private here: { first: Location; count: number; report: FileReport } | null = null;
  /** Entries without a hash after the chain started, not yet explained by the entry after them. */
  private run: { first: Location; count: number } | null = null;
  private pre: { count: number; first: Location | null; last: Location | null } = {
    count: 0,
    first: null,
    last: null,
  };

  /** An entry without a hash at `loc` of `report`'s file; `started`: the chain has started. */
  add(loc: Location, report: FileReport, started: boolean): void {
    if (started) {
      this.run ??= { first: loc, count: 0 };
      this.run.count++;
      return;
    }
    this.pre.count++;
    this.pre.first ??= loc;
    this.pre.last = loc;
    report.preIntegrityEntries++;
    if (this.here?.first.file !== loc.file) this.here = { first: loc, count: 0, report };
    this.here.count++;
  }

  /** Whether a run inside the chain waits for the entry after it. */
  get open(): boolean {
    return this.run !== null;
  }

  /**
   * Ends the run inside the chain, if any, at `next` (an entry; null: nothing more; 'unknown': a
   * line that is no entry), the chain at `prev` before it: the rule's verdict (line-rules.ts).
   */
  close(next: ChainEntry | null | 'unknown', prev: string | null): UnhashedVerdict | null {
    const u = this.run;
    if (!u) return null;
    this.run = null;
    return diagnoseUnhashed({ first: u.first, count: u.count, next, prev });
  }

  /**
   * The first hashed entry `e` chains from the start: entries without a hash before it in the
   * same file are not pre-integrity (a pre-integrity file holds no hashed entry), they were
   * inserted. Their finding, or null.
   */
  prepended(e: ChainEntry): Finding | null {
    const here = this.here;
    if (!here || here.first.file !== e.loc.file) return null;
    this.here = null;
    this.pre.count -= here.count;
    here.report.preIntegrityEntries -= here.count;
    return prependedUnhashedFinding(here.first, here.count);
  }

  /** The last pre-integrity entry, if any (for the break rule "hashes stripped from the first entries"). */
  get lastPreIntegrity(): Location | null {
    return this.pre.count > 0 ? this.pre.last : null;
  }

  /** The entries taken for pre-integrity were not (their hashes were stripped): none in `reports` either. */
  notPreIntegrity(reports: FileReport[]): void {
    this.pre.count = 0;
    for (const r of reports) r.preIntegrityEntries = 0;
  }

  /** The directory's note on the pre-integrity entries, if any. */
  note(): Note | null {
    const { count, first } = this.pre;
    if (count <= 0 || !first) return null;
    return {
      kind: 'pre-integrity',
      file: first.file,
      line: first.line,
      message:
        `${count} entr${count === 1 ? 'y' : 'ies'} without a hash before the ` +
        `chain starts (written before integrity was enabled); not verifiable`,
    };
  }
}
