/**
 * What entries without a hash mean, the second list of rules beside the break rules
 * (diagnosis.ts), in the same shape (ordered: the first rule that recognises the run gives the
 * finding), and what the entry after lines that could not be checked says; torn writes have
 * their rules in torn-rules.ts. Each rule cites the Loki Mode behaviour (spec section) it
 * recognises. Pure: the walker and its bookkeeping (unhashed-entries.ts) hold the state.
 */
import type { Finding, Location, Note } from '../report.js';
import { chainsFrom, entryHash, type ChainEntry } from './diagnosis.js';

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
          message:
            `${entries(count)} without a hash inside the chain, and the entry ` +
            `after them (${next.loc.file}:${next.loc.line}) does not chain from ` +
            `the entry before them: hashes were removed from chained entries`,
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
        `${entries(count)} without a hash, and the chain skips around them (the entry after them chains from the ` +
          `entry before them): written with integrity off (LOKI_AUDIT_NO_INTEGRITY), or inserted; not verifiable`,
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
        `${entries(count)} without a hash inside the chain: written with ` +
          `integrity off (LOKI_AUDIT_NO_INTEGRITY), or inserted; not verifiable`,
      );
    },
  },
  {
    name: 'entries without a hash at the end of the chain',
    source: 'spec §10.15',
    diagnose({ first, count }) {
      return unhashed(
        first,
        `${entries(count)} without a hash at the end of the chain: written with ` +
          `integrity off (LOKI_AUDIT_NO_INTEGRITY), or appended; not verifiable`,
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
    message:
      `${entries(count)} without a hash before the first hashed entry of the same file: ` +
      `a pre-integrity file holds no hashed entry, so these were inserted; not verifiable`,
  };
}

/** Lines that could not be checked: the first of them, the hash before them, and the hash through them. */
export interface UncheckedLines {
  first: Location;
  before: string;
  /** The hash the chain reaches through them when each is a whole entry whose own hash verifies; else null. */
  through: string | null;
}

/**
 * The first entry `e` after lines that could not be checked (spec §7: lines Python's verifier
 * cannot read). It must chain from the entry before them (they were inserted, or are junk), or
 * through them (each a whole entry whose own hash verifies): then they are a warning, nothing is
 * missing, and this returns null. Otherwise entries were removed there and the lines mask it,
 * whatever hash they appear to hold: a chain break (tampered).
 */
export function acrossUncheckedFinding(e: ChainEntry, g: UncheckedLines): Finding | null {
  if (chainsFrom(e, g.before) || (g.through !== null && chainsFrom(e, g.through))) return null;
  const where = `${g.first.file}:${g.first.line}`;
  return {
    ...e.loc,
    class: 'tampered',
    reason: 'chain-break',
    stored: e.stored,
    expected: entryHash(e, g.before),
    message:
      `does not chain from the entry before the line(s) that cannot be read at ${where}, nor through ` +
      `a hash that verifies: entries were removed or changed there, and the unreadable line(s) mask it`,
  };
}

/** An entry after a line that could not be checked, chaining from no hash seen (spec §7): the new anchor. */
export function resyncNote(loc: Location): Note {
  return {
    kind: 'resync',
    file: loc.file,
    line: loc.line,
    message: 'chain resumes here after a line that could not be checked (this entry is taken as the new anchor)',
  };
}

/**
 * An entry with a key twice: json.dumps never writes that (spec §7: json.loads keeps the last
 * value). Its hash covers the last value, but readers that keep the first, and every raw copy
 * exported or forwarded, show the other: an edit, never counted as verified.
 */
export function duplicateKeyFinding(e: ChainEntry): Finding {
  return {
    ...e.loc,
    class: 'tampered',
    reason: 'duplicate-key',
    stored: e.stored,
    message:
      'an object holds the same key twice: json.dumps never writes that; the hash covers the ' +
      'last value, while readers that keep the first (and every raw copy) show another: an edit',
  };
}
