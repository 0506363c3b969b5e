/**
 * Re-reading the history around a break: the entries the break rules ask about (diagnosis.ts
 * `earlier()`/`later()`: where an entry chains from, a copy of it) and the stored hashes that
 * follow an entry (a replay, spec §4). Only after a break, within one byte budget per walk.
 */
import type { AuditFile } from '../../read/files.js';
import { decodeLine } from '../../read/decode.js';
import { openAuditFile, scanLines } from '../../read/lines.js';
import { canonicalizeEntry } from '../../pyjson/canonical.js';
import type { Finding, Note } from '../report.js';
import { chainHash, HASH_KEYS } from '../rule.js';
import { storedHash } from '../stored-hash.js';
import type { ChainEntry, Found, FoundEntry } from './diagnosis.js';

/** Bytes a walk may re-read to explain breaks (where an entry chains from, copies of it). */
const SEARCH_BUDGET_BYTES = 4 * 1024 * 1024 * 1024;

/** Searches the files of one walk (chain order) within {@link SEARCH_BUDGET_BYTES}; `note` hears when it is spent. */
export class HistorySearch {
  private budget = SEARCH_BUDGET_BYTES;

  constructor(
    private readonly files: AuditFile[],
    private readonly maxLineBytes: number,
    private readonly note: (n: Note) => void,
  ) {}

  /** The entries before `e` (the earlier files, and `e`'s file up to it): what `e` chains from, a copy of `e`. */
  earlier(e: ChainEntry): Promise<Found> {
    return this.search(e, 0, e.fileIndex, e.loc.offset);
  }

  /** The files after `e`'s: the entry `e` chains from (a clock step, spec §10.19). */
  later(e: ChainEntry): Promise<Found> {
    return this.search(e, e.fileIndex + 1, this.files.length - 1, Infinity);
  }

  /**
   * Scans files `from..to` (the last one only up to byte `endOffset`) for an entry whose stored
   * hash `e` chains from, and one with `e`'s own stored hash. Stops when both are found, or when
   * the budget (bytes re-read) is spent; then says so once in a note. Unreadable files are
   * skipped (the main pass reported them).
   */
  private async search(e: ChainEntry, from: number, to: number, endOffset: number): Promise<Found> {
    const result: Found = {};
    for (let i = from; i <= to && !(result.from && result.duplicate); i++) {
      const file = this.files[i];
      if (file.stream) continue; // read once, cannot be read again
      const end = i === to ? endOffset : Infinity;
      try {
        for await (const raw of scanLines(openAuditFile(file.path), { maxLineBytes: this.maxLineBytes })) {
          if (raw.offset >= end) break;
          this.budget -= raw.length + 1;
          if (this.budget < 0) {
            this.spent();
            return result;
          }
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
          const loc = { file: file.name, line: raw.line, offset: raw.offset, hash: h, fileIndex: i };
          if (h === e.stored) result.duplicate ??= loc;
          // A line too long to hold is hashed by streaming it: not once per earlier entry.
          if (!result.from && !e.hashFrom && chainHash(h, e.canonical) === e.stored) result.from = loc;
        }
      } catch {
        // Unreadable files were reported during the main pass.
      }
    }
    return result;
  }

  private spent(): void {
    if (this.budget === -Infinity) return;
    this.budget = -Infinity;
    this.note({
      kind: 'resync',
      message:
        `stopped searching other entries to explain breaks after re-reading ${SEARCH_BUDGET_BYTES / 1048576} ` +
        `MiB: later breaks are reported without saying where their entries chain from`,
    });
  }

  /** The stored hashes of the entries after `of`, in chain order (what a replay of `of` repeats). */
  async *storedAfter(of: FoundEntry): AsyncGenerator<string> {
    const { files, maxLineBytes } = this;
    for (let i = of.fileIndex; i < files.length; i++) {
      const f = files[i];
      if (f.stream) return;
      const start = i === of.fileIndex && !f.gz ? of.offset : 0;
      for await (const raw of scanLines(openAuditFile(f.path, start), { maxLineBytes, startOffset: start })) {
        if (i === of.fileIndex && raw.offset <= of.offset) continue;
        const d = decodeLine(raw, maxLineBytes);
        const h = d.kind === 'text' ? storedHash(d.text) : null;
        if (h) yield h;
      }
    }
  }
}

/**
 * Following a replay of earlier history (spec §4, the break rule "earlier entries replayed"):
 * the entries after the copied one that the walk repeats, in order, are copies too, not new
 * entries; the replay's finding counts them.
 */
export class ReplayFollower {
  private copies = 1;

  /** @param original the stored hashes after the entry that was copied ({@link HistorySearch.storedAfter}) */
  constructor(
    private readonly finding: Finding,
    private readonly original: AsyncGenerator<string>,
  ) {}

  /**
   * Whether an entry with stored hash `stored` repeats the next entry of the original (then it is
   * not counted as verified). At the first that does not, the replay is over (the search is closed).
   */
  async repeats(stored: string): Promise<boolean> {
    const next = await this.original.next().catch(() => ({ done: true as const, value: undefined }));
    if (!next.done && next.value === stored) {
      this.copies++;
      this.finding.message = this.finding.message.replace(
        /; (\d+ )?replayed entries are not counted as verified$/,
        `; ${this.copies} replayed entries are not counted as verified`,
      );
      return true;
    }
    await this.original.return(undefined);
    return false;
  }
}
