/**
 * Bounded lists of findings and notes: a directory of garbage makes millions of findings, and
 * a report that kept (and printed) every one grew without limit (bench/results/decisions.md).
 * The first {@link KEPT_PER_KIND} of each class of finding and each
 * kind of note are kept in full; the rest are only counted, and the counts travel with the
 * report (`omitted`), so the totals stay exact.
 */
import type { Finding, Note } from './report.js';

/** Findings kept per verdict class, and notes per kind (docs/verify.md "Bounded output"). */
export const KEPT_PER_KIND = 20;

/** What a report counted but did not keep: per finding class and per note kind. */
export interface Omitted {
  findings: Partial<Record<Finding['class'], number>>;
  notes: Partial<Record<Note['kind'], number>>;
}

/** A list that keeps the first `cap` items of each key and counts the others. */
export class BoundedList<T, K extends string> {
  readonly items: T[] = [];
  private readonly kept = new Map<K, number>();
  private readonly dropped = new Map<K, number>();

  constructor(
    private readonly key: (item: T) => K,
    private readonly cap = KEPT_PER_KIND,
  ) {}

  /** Adds `item`; returns whether it was kept. */
  push(item: T): boolean {
    const k = this.key(item);
    const n = this.kept.get(k) ?? 0;
    if (n < this.cap) {
      this.kept.set(k, n + 1);
      this.items.push(item);
      return true;
    }
    this.dropped.set(k, (this.dropped.get(k) ?? 0) + 1);
    return false;
  }

  /** Items counted but not kept, per key (empty when none were dropped). */
  omitted(): Partial<Record<K, number>> {
    return Object.fromEntries(this.dropped) as Partial<Record<K, number>>;
  }
}

/** A bounded list of findings, keyed by class. */
export function findingList(): BoundedList<Finding, Finding['class']> {
  return new BoundedList<Finding, Finding['class']>((f) => f.class);
}

/** A bounded list of notes, keyed by kind. */
export function noteList(): BoundedList<Note, Note['kind']> {
  return new BoundedList<Note, Note['kind']>((n) => n.kind);
}

/** `omitted` of a report made from two lists, or undefined when nothing was dropped. */
export function omittedOf(
  findings: BoundedList<Finding, Finding['class']>,
  notes: BoundedList<Note, Note['kind']>,
): Omitted | undefined {
  const o: Omitted = { findings: findings.omitted(), notes: notes.omitted() };
  return isEmpty(o) ? undefined : o;
}

/** The sum of several reports' `omitted`, or undefined when nothing was dropped. */
export function mergeOmitted(parts: readonly (Omitted | undefined)[]): Omitted | undefined {
  const out: Omitted = { findings: {}, notes: {} };
  for (const p of parts) {
    if (!p) continue;
    for (const [k, n] of Object.entries(p.findings) as [Finding['class'], number][])
      out.findings[k] = (out.findings[k] ?? 0) + n;
    for (const [k, n] of Object.entries(p.notes) as [Note['kind'], number][]) out.notes[k] = (out.notes[k] ?? 0) + n;
  }
  return isEmpty(out) ? undefined : out;
}

/** Findings counted but not kept. */
export function omittedFindings(o: Omitted | undefined): number {
  return o ? Object.values(o.findings).reduce((a, b) => a + b, 0) : 0;
}

function isEmpty(o: Omitted): boolean {
  return Object.keys(o.findings).length === 0 && Object.keys(o.notes).length === 0;
}
