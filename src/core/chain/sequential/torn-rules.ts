/**
 * What a line that is not JSON means when a writer crashed mid-append: the third list of rules
 * beside the break rules (diagnosis.ts) and the rules for entries without a hash (line-rules.ts),
 * in the same shape. Loki Mode's writer appends each entry with one `write` (spec §3.3); killed
 * in the middle, it leaves the start of an entry (or, after a power loss, NUL bytes), and the
 * next append lands on the same line or, after loki-audit's `append` ended the line, on the next
 * one (spec §10.8, §10.17). Either is incomplete, not tampered, when the chain goes on from the
 * last whole entry before it; anything else is the malformed line it looks like.
 *
 * Two ordered lists: {@link TORN_RULES} for the line itself, {@link ENDED_TORN_RULES} for torn
 * lines of their own, decided by the line after them. Each rule cites the Loki Mode behaviour
 * (spec section) it recognises; the last rule of each explains anything. Pure: the walker holds
 * the state and carries out the verdict.
 */
import type { Finding, Location } from '../report.js';
import { chainHash, GENESIS_HASH } from '../rule.js';
import { entryAtEnd, tornFragment } from './classify.js';
import { chainsFrom, type ChainEntry } from './diagnosis.js';

/** A line that is not JSON, and where the chain stands before it. */
export interface TornContext {
  loc: Location;
  /** The line's text (without its line end). */
  text: string;
  /** Its length in bytes. */
  length: number;
  /** The line ends with a newline (a final line without one may be a write still in progress). */
  terminated: boolean;
  /**
   * The hash the chain stands at before the line; null when unknown (after a line that could not
   * be checked) or, before the first entry, when no start hash is given (`verify --state` gives one).
   */
  prev: string | null;
  /** No entry of the chain read yet. */
  beforeChain: boolean;
  /** Torn lines of their own before this one are waiting for the line that decides them. */
  waiting: boolean;
}

export type TornVerdict =
  /** The final line is not a whole entry: a write in progress or cut off (incomplete). */
  | { action: 'last-line'; finding: Finding }
  /**
   * The next append landed on the torn line: the whole entry at its end chains from `base` and
   * is accepted; entries after it may chain from `base` too (the writer skips the merged line).
   */
  | { action: 'same-line'; finding: Finding; base: string; entry: { canonical: string; stored: string } }
  /**
   * A torn write on a line of its own: decided by the line after it ({@link ENDED_TORN_RULES}),
   * the chain going on from `base` if it was one; without `base`, it joins the torn lines waiting.
   */
  | { action: 'wait'; base?: string }
  /** Not a torn write: the malformed line it looks like (tampered). */
  | { action: 'malformed' };

/** One thing a line that is not JSON can mean. `source`: the Loki Mode behaviour it recognises. */
export interface TornRule {
  name: string;
  source: string;
  diagnose(ctx: TornContext): TornVerdict | null;
}

/** The verdict on most lines of a file of garbage: one object, not one per line. */
const MALFORMED: TornVerdict = Object.freeze({ action: 'malformed' });

/** The rules for a line that is not JSON, most specific first; the last explains anything. */
export const TORN_RULES: readonly TornRule[] = [
  {
    name: 'a final line cut off: a write in progress or a crash',
    source: 'spec §10.8',
    diagnose({ loc, length, terminated }) {
      if (terminated) return null;
      return {
        action: 'last-line',
        finding: {
          ...loc,
          class: 'incomplete',
          reason: 'torn-last-line',
          message:
            `final line is incomplete (no newline, ${length} bytes, not ` +
            `a whole entry): a write in progress or cut off by a crash`,
        },
      };
    },
  },
  {
    name: 'a torn write, the next append on the same line',
    source: 'spec §10.8, §10.17',
    diagnose({ loc, text, prev }) {
      if (prev === null) return null;
      const tail = entryAtEnd(text);
      if (!tail || chainHash(prev, tail.canonical) !== tail.stored) return null;
      const entry = { canonical: tail.canonical, stored: tail.stored };
      return { action: 'same-line', finding: tornSameLineFinding(loc, text, tail.at), base: prev, entry };
    },
  },
  {
    name: 'a torn write on a line of its own, ended by the next writer',
    source: 'spec §10.17, §3.3',
    diagnose({ text, prev, beforeChain, waiting }) {
      if (!tornFragment(text)) return null;
      // Another writer crashed too before a whole entry followed (spec §10.17): one decision for all.
      if (waiting) return { action: 'wait' };
      const base = prev ?? (beforeChain ? GENESIS_HASH : null);
      return base === null ? null : { action: 'wait', base };
    },
  },
  {
    name: 'a line that is not JSON: an edit or junk',
    source: 'spec §7',
    diagnose: () => MALFORMED,
  },
];

/** The first rule's verdict on a line that is not JSON (the last rule explains any). */
export function diagnoseTorn(ctx: TornContext, rules: readonly TornRule[] = TORN_RULES): TornVerdict {
  for (const rule of rules) {
    const v = rule.diagnose(ctx);
    if (v) return v;
  }
  throw new Error('no rule explained the line (the last rule must explain any)');
}

/** Torn lines of their own, and what came after them. */
export interface EndedTornContext {
  lines: ReadonlyArray<{ loc: Location; text: string }>;
  /** The hash of the last whole entry before them. */
  base: string;
  /** The entry after them; null: a line that is no entry; 'end': nothing more. */
  next: ChainEntry | null | 'end';
}

export type EndedTornVerdict =
  /** Torn writes: the chain goes on from the entry before them (each line's finding). */
  | { action: 'recovered'; findings: Finding[] }
  /** They stand for entries changed or removed: each is the malformed line it looks like. */
  | { action: 'tampered' };

/** One thing torn lines of their own can mean. `source`: the Loki Mode behaviour it recognises. */
export interface EndedTornRule {
  name: string;
  source: string;
  diagnose(ctx: EndedTornContext): EndedTornVerdict | null;
}

const recovered = (ctx: EndedTornContext): EndedTornVerdict => ({
  action: 'recovered',
  findings: ctx.lines.map((l) => tornOwnLineFinding(l.loc, l.text)),
});

/** The rules for torn lines of their own, decided by the line after them; the last explains anything. */
export const ENDED_TORN_RULES: readonly EndedTornRule[] = [
  {
    name: 'nothing after the torn lines: the last writes were cut off',
    source: 'spec §10.8',
    diagnose: (ctx) => (ctx.next === 'end' ? recovered(ctx) : null),
  },
  {
    name: 'the next entry chains from the entry before the torn lines: the writer went on',
    source: 'spec §10.17, §3.3',
    diagnose: (ctx) =>
      ctx.next !== null && ctx.next !== 'end' && chainsFrom(ctx.next, ctx.base) ? recovered(ctx) : null,
  },
  {
    name: 'the torn lines stand for entries changed or removed',
    source: 'spec §3',
    diagnose: () => ({ action: 'tampered' }),
  },
];

/** The first rule's verdict on torn lines of their own (the last rule explains any). */
export function diagnoseEndedTorn(
  ctx: EndedTornContext,
  rules: readonly EndedTornRule[] = ENDED_TORN_RULES,
): EndedTornVerdict {
  for (const rule of rules) {
    const v = rule.diagnose(ctx);
    if (v) return v;
  }
  throw new Error('no rule explained the torn lines (the last rule must explain any)');
}

const NUL_ONLY = /^\0+$/;

/**
 * A torn write whose line the next append continued (spec §10.8, §10.17): `at` bytes of `text`
 * before the whole entry at its end (NUL bytes: a power loss before the data reached the disk).
 */
export function tornSameLineFinding(loc: Location, text: string, at: number): Finding {
  return {
    ...loc,
    class: 'incomplete',
    reason: 'torn-write-recovered',
    message: NUL_ONLY.test(text.slice(0, at))
      ? `${at} NUL bytes where entries were (a power loss before the data reached the disk) ` +
        `and the next entry was appended after them on the same line; the chain continues intact`
      : `a write was cut off (${at} bytes, not a whole entry) and the next ` +
        `entry was appended on the same line; the chain continues intact`,
  };
}

/** A torn write on a line of its own, ended by the next writer (spec §10.17, §3.3): the chain goes on before it. */
export function tornOwnLineFinding(loc: Location, text: string): Finding {
  return {
    ...loc,
    class: 'incomplete',
    reason: 'torn-write-recovered',
    message: NUL_ONLY.test(text)
      ? `${text.length} NUL bytes where entries were (a power loss before the data reached the ` +
        `disk), on a line of their own; the chain goes on from the last whole entry before them`
      : `a write was cut off (${text.length} bytes, not a whole entry) and the next ` +
        `writer ended its line; the chain goes on from the last whole entry before it`,
  };
}

/**
 * After a torn write on the same line, an entry that chains from the last whole entry before it
 * is the writer's: re-reading the file, it skips the merged line and chains the next append from
 * that entry again (spec §10.17). Whether `e` is one; the torn write's finding then says so once.
 */
export function tornSibling(e: ChainEntry, torn: { base: string; finding: Finding; siblings: number }): boolean {
  if (!chainsFrom(e, torn.base)) return false;
  if (torn.siblings++ === 0) torn.finding.message += TORN_SIBLING_NOTE;
  return true;
}

/** What the message of a torn write gains when the entry after it chains from before it too (spec §10.17). */
const TORN_SIBLING_NOTE =
  '; the entry after it chains from the same entry before the torn line, as the ' +
  'writer does when it re-reads the file and skips the merged line (spec §10.17)';
