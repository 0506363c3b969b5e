/**
 * What lines that are not chained entries mean, the second list of rules beside the break rules
 * (diagnosis.ts), in the same shape: entries without a hash (ordered: the first rule that
 * recognises the run gives the finding), and the findings of torn writes. Each rule cites the
 * Loki Mode behaviour (spec section) it recognises. Pure: the walker holds the state.
 */
import type { Finding, Location } from '../report.js';
import { chainsFrom, type ChainEntry } from './diagnosis.js';

/** A run of entries without a usable hash inside the chain, and what came after it. */
export interface UnhashedContext {
  /** The first entry of the run. */
  first: Location;
  count: number;
  /** The entry after the run; null: nothing (the end of the chain); 'unknown': a line that is no entry. */
  next: ChainEntry | null | 'unknown';
  /** The hash the chain was at before the run; null: unknown. */
  prev: string | null;
}

export interface UnhashedVerdict {
  finding: Finding;
  /** The chain does not go on from the hash before the run (the predecessor of `next` is unknown). */
  breaksChain?: boolean;
}

/** One thing a run of entries without a hash can mean. `source`: the Loki Mode behaviour it recognises. */
export interface UnhashedRule {
  name: string;
  source: string;
  diagnose(ctx: UnhashedContext): UnhashedVerdict | null;
}

const entries = (n: number): string => `${n} entr${n === 1 ? 'y' : 'ies'}`;

/**
 * The rules, most specific first; the last explains anything. Loki Mode's writer with integrity
 * off for a while (`LOKI_AUDIT_NO_INTEGRITY`) writes such entries and chains the next hashed
 * entry around them (spec §10.15); lines inserted look the same, and neither can be verified:
 * tampered either way, saying which it can be.
 */
export const UNHASHED_RULES: readonly UnhashedRule[] = [
  {
    name: 'hashes removed from chained entries',
    source: 'spec §3, §10.15',
    diagnose({ first, count, next, prev }) {
      if (!next || next === 'unknown' || (prev !== null && chainsFrom(next, prev))) return null;
      return {
        breaksChain: true,
        finding: {
          ...first,
          class: 'tampered',
          reason: 'missing-hash',
          message: `${entries(count)} without a hash inside the chain, and the entry after them (${next.loc.file}:${next.loc.line}) does not chain from the entry before them: hashes were removed from chained entries`,
        },
      };
    },
  },
  {
    name: 'integrity off for a while: the chain skips around them',
    source: 'spec §10.15',
    diagnose({ first, count, next }) {
      if (!next || next === 'unknown') return null;
      return unhashed(
        first,
        `${entries(count)} without a hash, and the chain skips around them (the entry after them chains from the entry before them): written with integrity off (LOKI_AUDIT_NO_INTEGRITY), or inserted; not verifiable`,
      );
    },
  },
  {
    name: 'entries without a hash before a line that cannot be checked',
    source: 'spec §10.15, §7',
    diagnose({ first, count, next }) {
      if (next !== 'unknown') return null;
      return unhashed(
        first,
        `${entries(count)} without a hash inside the chain: written with integrity off (LOKI_AUDIT_NO_INTEGRITY), or inserted; not verifiable`,
      );
    },
  },
  {
    name: 'entries without a hash at the end of the chain',
    source: 'spec §10.15',
    diagnose({ first, count }) {
      return unhashed(
        first,
        `${entries(count)} without a hash at the end of the chain: written with integrity off (LOKI_AUDIT_NO_INTEGRITY), or appended; not verifiable`,
      );
    },
  },
];

function unhashed(first: Location, message: string): UnhashedVerdict {
  return { finding: { ...first, class: 'tampered', reason: 'unhashed-entries', message } };
}

/** The first rule's verdict on a run of entries without a hash (the last rule explains any). */
export function diagnoseUnhashed(
  ctx: UnhashedContext,
  rules: readonly UnhashedRule[] = UNHASHED_RULES,
): UnhashedVerdict {
  for (const rule of rules) {
    const v = rule.diagnose(ctx);
    if (v) return v;
  }
  throw new Error('no rule explained the entries without a hash (the last rule must explain any)');
}

/**
 * Entries without a hash before the first hashed entry of the same file, when that entry chains
 * from the start: a pre-integrity file (spec §10.6) holds no hashed entry, so these were inserted.
 */
export function prependedUnhashedFinding(first: Location, count: number): Finding {
  return {
    ...first,
    class: 'tampered',
    reason: 'unhashed-entries',
    message: `${entries(count)} without a hash before the first hashed entry of the same file: a pre-integrity file holds no hashed entry, so these were inserted; not verifiable`,
  };
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
      ? `${at} NUL bytes where entries were (a power loss before the data reached the disk) and the next entry was appended after them on the same line; the chain continues intact`
      : `a write was cut off (${at} bytes, not a whole entry) and the next entry was appended on the same line; the chain continues intact`,
  };
}

/** A torn write on a line of its own, ended by the next writer (spec §10.17, §3.3): the chain goes on before it. */
export function tornOwnLineFinding(loc: Location, text: string): Finding {
  return {
    ...loc,
    class: 'incomplete',
    reason: 'torn-write-recovered',
    message: NUL_ONLY.test(text)
      ? `${text.length} NUL bytes where entries were (a power loss before the data reached the disk), on a line of their own; the chain goes on from the last whole entry before them`
      : `a write was cut off (${text.length} bytes, not a whole entry) and the next writer ended its line; the chain goes on from the last whole entry before it`,
  };
}

/** What the message of a torn write gains when the entry after it chains from before it too (spec §10.17). */
export const TORN_SIBLING_NOTE =
  '; the entry after it chains from the same entry before the torn line, as the writer does when it re-reads the file and skips the merged line (spec §10.17)';
