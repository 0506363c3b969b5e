/**
 * The walker's torn writes, each decided by the torn-write rules (torn-rules.ts): the last torn
 * line the next append continued, whose later entries may chain from the entry before it too
 * (spec §10.17), and the torn lines of their own waiting for the line that decides them. What the
 * rules decide is carried out through the walker ({@link TornHost}).
 */
import type { FileReport, Finding, Location } from '../report.js';
import type { ChainEntry } from './diagnosis.js';
import { diagnoseEndedTorn, diagnoseTorn, tornSibling, type TornContext, type TornVerdict } from './torn-rules.js';

/** A line that is not JSON, with the parse error and the hash it seems to hold (for its finding). */
export interface TornLine {
  loc: Location;
  text: string;
  message: string;
  hint: string | null;
}

/** What the torn writes need of the walker. */
export interface TornHost {
  finding(f: Finding): void;
  /** A line that is not a torn write after all: the malformed line it looks like (tampered). */
  malformed(l: TornLine): Promise<void> | undefined;
  /** The whole entry at the end of a torn line chains on: accepted (the chain starts there if it had not). */
  acceptTail(e: ChainEntry): void;
}

export class TornWrites {
  /** After a torn write on the same line: the last whole entry before it, and the finding that reported it. */
  private sameLine: { base: string; finding: Finding; siblings: number } | null = null;
  /** Torn lines of their own, and the hash before them (torn-rules.ts ENDED_TORN_RULES decides them). */
  private ended: { lines: TornLine[]; base: string } | null = null;

  constructor(private readonly host: TornHost) {}

  /** Whether torn lines of their own wait for the line after them. */
  get waiting(): boolean {
    return this.ended !== null;
  }

  /**
   * A line that is not JSON, where the chain stands before it (`chain`): a torn write, or the
   * malformed line it looks like (TORN_RULES). A promise only when something must wait.
   */
  line(
    l: TornLine,
    raw: { length: number; terminated: boolean },
    chain: Pick<TornContext, 'prev' | 'beforeChain'>,
    report: FileReport,
  ): Promise<void> | undefined {
    // Built field by field: object spread here costs microseconds a line on a file of garbage
    // (bench/results/decisions.md), where every line comes here.
    const v = diagnoseTorn({
      loc: l.loc,
      text: l.text,
      length: raw.length,
      terminated: raw.terminated,
      prev: chain.prev,
      beforeChain: chain.beforeChain,
      waiting: this.ended !== null,
    });
    switch (v.action) {
      case 'last-line': {
        // A torn write after ended ones: nothing after them says an entry is missing.
        const settled = this.settle('end');
        if (settled) return settled.then(() => this.host.finding(v.finding));
        this.host.finding(v.finding);
        return undefined;
      }
      case 'same-line':
        return this.continued(l, report, v);
      case 'wait':
        if (this.ended) this.ended.lines.push(l);
        else this.ended = { lines: [l], base: v.base as string };
        return undefined;
      case 'malformed': {
        const settled = this.settle(null);
        return settled ? settled.then(() => this.host.malformed(l)) : this.host.malformed(l);
      }
    }
  }

  /** The next append landed on the torn line `l`: its entry is accepted, and siblings may chain from `v.base`. */
  private continued(
    l: TornLine,
    report: FileReport,
    v: Extract<TornVerdict, { action: 'same-line' }>,
  ): Promise<void> | undefined {
    const e: ChainEntry = {
      loc: l.loc,
      text: l.text,
      ...v.entry,
      numberKeyObjects: [],
      fileFirst: false,
      fileIndex: -1,
      fileReport: report,
    };
    // Ended torn lines before it: the chain goes on from the entry before them.
    const settled = this.settle(e);
    if (settled) return settled.then(() => this.continued(l, report, v));
    this.host.finding(v.finding);
    this.sameLine = { base: v.base, finding: v.finding, siblings: 0 };
    this.host.acceptTail(e);
    return undefined;
  }

  /**
   * Decides the torn lines of their own before `next` (an entry; null: a line that is no entry;
   * 'end': nothing more) by ENDED_TORN_RULES: torn writes (incomplete), or the malformed lines
   * they look like. A promise only for the latter.
   */
  settle(next: ChainEntry | null | 'end'): Promise<void> | undefined {
    const t = this.ended;
    if (!t) return undefined;
    this.ended = null;
    const v = diagnoseEndedTorn({ lines: t.lines, base: t.base, next });
    if (v.action === 'recovered') {
      for (const f of v.findings) this.host.finding(f);
      return undefined;
    }
    return (async () => {
      for (const l of t.lines) await this.host.malformed(l);
    })();
  }

  /** Whether `e`, which does not chain from the entry before it, is a torn write's sibling (torn-rules.ts). */
  sibling(e: ChainEntry): boolean {
    return this.sameLine !== null && tornSibling(e, this.sameLine);
  }
}
