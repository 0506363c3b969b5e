/**
 * Warnings about lines that are not entries, on stderr, bounded: the first
 * {@link KEPT_PER_KIND} are printed in full (file, line, what is wrong), the rest are counted,
 * with a running count at 100, 1,000, 10,000 … (so a `tail -f` that runs for days still says
 * that more arrive) and the total at the end. A file of garbage cannot flood a terminal or a
 * cron mail (docs/security.md).
 */
import { KEPT_PER_KIND } from '../core/chain/bounded.js';
import { safeText } from '../formats/escape.js';

/** What a warning names: a line of a file. */
export interface LineProblem {
  file: string;
  line: number;
  message: string;
  /** `io-error`: the file could not be read (named again at the end: the output lacks it). */
  code?: string;
}

export class LineWarnings {
  private count = 0;
  private last: LineProblem | null = null;
  private readonly unreadable: string[] = [];
  private unreadableCount = 0;

  /**
   * @param write where a warning line goes (default: stderr)
   * @param beforeWrite called before each line written (e.g. to clear a progress line)
   */
  constructor(
    private readonly write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
    private readonly beforeWrite: () => void = () => {},
    private readonly cap = KEPT_PER_KIND,
  ) {}

  /** Lines warned about so far, shown or not. */
  get total(): number {
    return this.count;
  }

  /** Files that could not be read, so far. */
  get unreadableFiles(): number {
    return this.unreadableCount;
  }

  /** Warns about `p`, or counts it once {@link cap} were shown. */
  add(p: LineProblem): void {
    if (p.code === 'io-error' && this.unreadableCount++ < this.cap) this.unreadable.push(p.file);
    this.count++;
    this.last = p;
    if (this.count <= this.cap) {
      this.beforeWrite();
      this.write(`warning: ${safeText(p.file)}:${p.line}: ${safeText(p.message)}`);
    } else if (isPowerOfTen(this.count)) {
      this.beforeWrite();
      this.write(`warning: ${this.count} lines that are not entries so far (latest ${this.where()}); not all shown`);
    }
  }

  /** Counts `n` more lines already left out upstream (a bounded list's overflow). */
  countMore(n: number): void {
    if (n <= 0) return;
    this.count += n;
    this.last = null; // where the last of them was is not known here
  }

  /**
   * The closing count, when some were not shown, and the files that could not be read (named
   * again, last, whatever was shown before: what was produced lacks their entries).
   */
  finish(): void {
    if (this.unreadableCount > 0) {
      const more = this.unreadableCount - this.unreadable.length;
      this.beforeWrite();
      this.write(
        `loki-audit: error: ${this.unreadableCount} file(s) could not be read, their entries are ` +
          `missing: ${this.unreadable.map(safeText).join(', ')}${more > 0 ? ` … and ${more} more` : ''}`,
      );
    }
    if (this.count <= this.cap) return;
    this.beforeWrite();
    const last = this.last ? `; the last at ${this.where()}` : '';
    this.write(
      `warning: ${this.count - this.cap} more line(s) that are ` +
        `not entries not shown (the first ${this.cap} were${last})`,
    );
  }

  private where(): string {
    return this.last ? `${safeText(this.last.file)}:${this.last.line}` : '-';
  }
}

function isPowerOfTen(n: number): boolean {
  return n >= 100 && /^10+$/.test(String(n));
}
