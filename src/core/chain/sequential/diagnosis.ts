/**
 * What a break in the chain means: an ordered list of rules, each recognising one thing that
 * happens to Loki Mode audit logs (a writer quirk, retention, a restart that lost its tip, two
 * writers, a replay, a removed, inserted or reordered entry, an edit). The first rule that
 * explains the break gives the finding and what the walker does next; the last rule (an edit)
 * explains anything.
 *
 * A rule only runs after a mismatch, so the intact path costs nothing here.
 */
import { canonicalizeEntry, type NumberKeyKind } from '../../pyjson/canonical.js';
import type { FileReport, Finding, Location } from '../report.js';
import { chainHash, GENESIS_HASH, HASH_KEYS } from '../rule.js';

/** An entry with a string hash, where it is in the chain. */
export interface ChainEntry {
  loc: Location;
  /** The line's text and canonical text; empty for a line too long to hold (see `hashFrom`). */
  text: string;
  canonical: string;
  /**
   * For a line too long to hold in memory: its chain hash from a predecessor, computed by
   * streaming the line again (spec §3). Other entries hash their `canonical`.
   */
  hashFrom?: (prev: string) => string;
  stored: string;
  /** Objects whose keys all look like numbers (see CanonicalResult). */
  numberKeyObjects: NumberKeyKind[];
  /** The same key twice in an object (never writer output). */
  duplicateKeys?: boolean;
  /** First hashed entry of its file. */
  fileFirst: boolean;
  fileIndex: number;
  fileReport: FileReport;
}

/** `sha256(prev + canonical)` of an entry (spec §3), however it is held. */
export function entryHash(e: ChainEntry, prev: string): string {
  return e.hashFrom ? e.hashFrom(prev) : chainHash(prev, e.canonical);
}

/** Whether `e` chains from `prev`. */
export function chainsFrom(e: ChainEntry, prev: string): boolean {
  return entryHash(e, prev) === e.stored;
}

/** Where an entry is found by its stored hash (with the index of its file in the walk). */
export type FoundEntry = Location & { hash: string; fileIndex: number };

/** What a search of other entries found: the entry `e` chains from, and an entry with `e`'s own hash. */
export interface Found {
  from?: FoundEntry;
  duplicate?: FoundEntry;
}

/** What the rules may look at. */
export interface BreakContext {
  /** The entry that does not chain from `prev`. */
  e: ChainEntry;
  /** The hash it should chain from. */
  prev: string;
  /** The entry after it, if already read (null at a file's end or before a bad line). */
  next: ChainEntry | null;
  /** `e` is the first hashed entry of the whole history. */
  firstOfHistory: boolean;
  /** The last entry without a hash seen before the chain started (pre-integrity), if any. */
  lastPreIntegrity: Location | null;
  /** The entries before `e` (earlier files, and its own file up to it), re-read once, on demand. */
  earlier(): Promise<Found>;
  /** The entries of the files after `e`'s, re-read once, on demand: the one `e` chains from. */
  later(): Promise<Found>;
  /** Days without a file up to `e`'s file. */
  missingDatesBefore(): string[];
}

/**
 * What the walker does after the finding:
 * - `accept`: `e` is counted as verified and the chain goes on from it (its hash is right for
 *   another predecessor);
 * - `anchor`: the chain goes on from `e`'s stored hash, `e` not counted;
 * - `accept-next`: `next` chains from `prev` and is counted; `e` is left out of the chain;
 * - `swap`: `next` is counted and the chain goes on from `e` (the two were swapped);
 * - `replay`: `e` and the entries after it that repeat the entries after `replayOf` are not
 *   counted (a copy of earlier history); the chain goes on from `e`.
 */
export type BreakAction = 'accept' | 'anchor' | 'accept-next' | 'swap' | 'replay';

export interface BreakVerdict {
  finding: Finding;
  action: BreakAction;
  /** The entries taken for pre-integrity were not (their hashes were stripped). */
  notPreIntegrity?: boolean;
  /** With `replay`: the earlier entry `e` is a copy of. */
  replayOf?: FoundEntry;
}

/** One thing a break can mean. `source` is the Loki Mode behaviour (spec section) it recognises. */
export interface BreakRule {
  name: string;
  source: string;
  diagnose(ctx: BreakContext): BreakVerdict | null | Promise<BreakVerdict | null>;
}

/** The finding's common fields: where, the stored hash, and the hash the verifier expected. */
function base(ctx: BreakContext): Location & { stored: string; expected: string } {
  return { ...ctx.e.loc, stored: ctx.e.stored, expected: entryHash(ctx.e, ctx.prev) };
}

/** Objects with number-like keys tried in every by-value combination up to this many (2^n canonicalizations). */
const MAX_NUMBER_KEY_OBJECTS = 6;

/**
 * The number-like-keyed objects that, sorted by value, make `e`'s hash match (the writer sorted
 * them before turning their keys into strings; objects whose keys really were strings it sorted
 * as strings), or null. All of them first, then every other combination of a few.
 */
function numberKeyOrder(ctx: BreakContext): NumberKeyKind[] | null {
  const kinds = ctx.e.numberKeyObjects;
  const n = kinds.length;
  if (n === 0 || ctx.e.hashFrom) return null; // a line too long to hold is not re-canonicalized
  const all = (1 << Math.min(n, MAX_NUMBER_KEY_OBJECTS)) - 1;
  const masks = n <= MAX_NUMBER_KEY_OBJECTS ? [all, ...Array.from({ length: all - 1 }, (_, i) => i + 1)] : [-1];
  for (const mask of masks) {
    const byValue = (i: number) => mask === -1 || ((mask >> i) & 1) === 1;
    const alt = canonicalizeEntry(ctx.e.text, { hashKeys: HASH_KEYS, numberKeysByValue: byValue });
    if (chainHash(ctx.prev, alt.canonical) === ctx.e.stored) return kinds.filter((_, i) => byValue(i));
  }
  return null;
}

/** The rules, most specific first. */
export const BREAK_RULES: readonly BreakRule[] = [
  {
    name: 'writer quirk: number-like dict keys sorted by value',
    source: 'spec §10.3, §10.18',
    diagnose(ctx) {
      const sorted = numberKeyOrder(ctx);
      if (!sorted) return null;
      const ints = sorted.every((k) => k === 'int');
      return {
        action: 'accept',
        finding: {
          ...base(ctx),
          class: 'quirk',
          reason: ints ? 'int-keys' : 'number-keys',
          message: ints
            ? "hash matches Loki Mode's writer, which sorted integer dict keys numerically " +
              'before writing them as strings (its own verifier rejects this entry)'
            : "hash matches Loki Mode's writer, which sorted float, negative or boolean dict " +
              'keys by value before writing them as strings (its own verifier rejects this entry)',
        },
      };
    },
  },
  {
    name: 'hashes stripped from the first entries',
    source: 'spec §10.6',
    diagnose(ctx) {
      if (!ctx.firstOfHistory || !ctx.lastPreIntegrity) return null;
      return {
        action: 'anchor',
        notPreIntegrity: true,
        finding: {
          ...ctx.lastPreIntegrity,
          class: 'tampered',
          reason: 'hash-stripped',
          message:
            `entry has no hash, but the first hashed entry after it (${ctx.e.loc.file}:${ctx.e.loc.line}) ` +
            `does not chain from the genesis hash: hashes were removed from chained entries`,
        },
      };
    },
  },
  {
    name: 'history starts mid-chain',
    source: 'spec §10.5',
    diagnose(ctx) {
      if (!ctx.firstOfHistory) return null;
      return {
        action: 'anchor',
        finding: {
          ...base(ctx),
          class: 'mid-chain',
          reason: 'history-mid-chain',
          message:
            'the oldest entry present does not chain from the genesis hash: older ' +
            'entries or files were removed (Loki Mode retention deletes the oldest files)',
        },
      };
    },
  },
  {
    name: 'earlier entries replayed (a copy of old history)',
    source: 'spec §4',
    async diagnose(ctx) {
      const { duplicate } = await ctx.earlier();
      if (!duplicate) return null;
      return {
        action: 'replay',
        replayOf: duplicate,
        finding: {
          ...base(ctx),
          class: 'tampered',
          reason: 'replayed-entries',
          message:
            `entry is a copy of ${duplicate.file}:${duplicate.line} (same stored hash): earlier ` +
            `history replayed, not new entries; replayed entries are not counted as verified`,
        },
      };
    },
  },
  {
    name: 'two entries swapped',
    source: 'spec §4',
    diagnose(ctx) {
      const { e, prev, next } = ctx;
      if (!next || !chainsFrom(next, prev) || !chainsFrom(e, next.stored)) return null;
      return {
        action: 'swap',
        finding: {
          ...base(ctx),
          class: 'tampered',
          reason: 'reordered',
          message: `entries out of order: this entry chains from the one after it (${next.loc.file}:${next.loc.line})`,
        },
      };
    },
  },
  {
    name: 'an entry inserted',
    source: 'spec §4',
    diagnose(ctx) {
      const { prev, next } = ctx;
      if (!next || !chainsFrom(next, prev)) return null;
      return {
        action: 'accept-next',
        finding: {
          ...base(ctx),
          class: 'tampered',
          reason: 'inserted-entry',
          message: 'entry inserted: the entry after it chains from the entry before it',
        },
      };
    },
  },
  {
    name: 'a restart lost its tip (chains from genesis)',
    source: 'spec §10.1, §10.2',
    diagnose(ctx) {
      const { e } = ctx;
      if (!e.fileFirst || !chainsFrom(e, GENESIS_HASH)) return null;
      return {
        action: 'accept',
        finding: {
          ...base(ctx),
          class: 'fork',
          reason: 'fork-genesis',
          chainsFrom: GENESIS_HASH,
          seenAt: null,
          message:
            "first entry of the file chains from the genesis hash instead of the previous file's last entry: " +
            'the writer restarted and lost its tip (Loki Mode §10.1/10.2); entries after it are checked from here',
        },
      };
    },
  },
  {
    name: 'two writers, or a restart, forked the chain',
    source: 'spec §10.9',
    async diagnose(ctx) {
      if (!ctx.e.fileFirst) return null;
      const { from } = await ctx.earlier();
      if (!from) return null;
      return {
        action: 'accept',
        finding: {
          ...base(ctx),
          class: 'fork',
          reason: 'fork-earlier',
          chainsFrom: from.hash,
          seenAt: { file: from.file, line: from.line, offset: from.offset },
          message:
            `first entry of the file chains from an earlier entry (${from.file}:${from.line}) instead of ` +
            `the previous file's last entry: two writers or a restart forked the chain (Loki Mode §10.9)`,
        },
      };
    },
  },
  {
    name: 'a clock step: the entry chains from a later-named file',
    source: 'spec §10.19',
    async diagnose(ctx) {
      if (!ctx.e.fileFirst) return null;
      const { from } = await ctx.later();
      if (!from) return null;
      return {
        action: 'accept',
        finding: {
          ...base(ctx),
          class: 'fork',
          reason: 'fork-clock-step',
          chainsFrom: from.hash,
          seenAt: { file: from.file, line: from.line, offset: from.offset },
          message:
            `first entry of the file chains from ${from.file}:${from.line}, a later-named ` +
            `file: the host clock stepped (files are named by the clock, so name order ` +
            `is not write order; Loki Mode §10.19); entries after it are checked from here`,
        },
      };
    },
  },
  {
    name: 'entries or files removed between files',
    source: 'spec §4',
    diagnose(ctx) {
      if (!ctx.e.fileFirst) return null;
      const gaps = ctx.missingDatesBefore();
      const gapText = gaps.length ? `; no file for ${gaps.slice(-3).join(', ')}` : '';
      return {
        action: 'anchor',
        finding: {
          ...base(ctx),
          class: 'tampered',
          reason: 'chain-break',
          message:
            `chain break between files: the first entry does not chain from the ` +
            `previous file's last entry and no entry in the directory explains it (a ` +
            `file or entries removed before it${gapText}, or this entry changed)`,
        },
      };
    },
  },
  {
    name: 'the entry was changed, or the one before it removed',
    source: 'spec §3',
    diagnose(ctx) {
      const { e, next } = ctx;
      const nextFromThis = next !== null && chainsFrom(next, e.stored);
      return {
        action: 'anchor',
        finding: {
          ...base(ctx),
          class: 'tampered',
          reason: 'hash-mismatch',
          message: nextFromThis
            ? 'hash mismatch: the entry was changed after it was written (or the entry ' +
              'before it was removed); the entries after it chain from its stored hash'
            : 'hash mismatch: the entry does not match its stored hash and predecessor',
        },
      };
    },
  },
];

/** The first rule's verdict that explains the break (the last rule explains anything). */
export async function diagnoseBreak(
  ctx: BreakContext,
  rules: readonly BreakRule[] = BREAK_RULES,
): Promise<BreakVerdict> {
  for (const rule of rules) {
    const v = await rule.diagnose(ctx);
    if (v) return v;
  }
  throw new Error('no rule explained the break (the last rule must explain any)');
}
