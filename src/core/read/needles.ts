/**
 * Needle search: finding the lines that can match a filter by searching whole read chunks for
 * byte strings, as grep does, instead of looking at every line (used by
 * `LineSplitter.pushSelected`).
 */

/**
 * A byte string to search for; with `nextIn`, an occurrence only counts when the byte right
 * after it is in that inclusive range.
 */
export interface Needle {
  bytes: Buffer;
  nextIn?: [number, number];
}

/** The part of a needle searched for first: `bytes`, the needle's bytes from offset `at` on. */
export interface NeedleAnchor {
  at: number;
  bytes: Buffer;
}

/**
 * Where each needle is searched from, chosen on the first chunk searched with these needles
 * (one search's files share them: once per search, not per file).
 */
const ANCHORS = new WeakMap<readonly Needle[], NeedleAnchor[]>();

/** Bytes of a chunk sampled to rank byte frequencies. */
const SAMPLE_BYTES = 64 * 1024;

/**
 * The longest anchor. Node's `Buffer#indexOf` searches a needle of 8 bytes or more with
 * Boyer-Moore-Horspool (src/string_search.h, `kBMMinPatternLength`), whose shifts are short in
 * JSON text made of the needle's own letters, and a shorter one with `memchr` for its first
 * byte: 413 MB of bench lines in 108 ms for "/v1/task", 42 ms for "/v1/tas".
 */
export const MAX_ANCHOR_BYTES = 7;

/**
 * For each needle, the part to search for first: from its rarest byte in `sample` on, two to
 * {@link MAX_ANCHOR_BYTES} bytes long. A native search for a short needle stops at every
 * occurrence of its first byte (memchr) before comparing the rest, and JSON audit lines are
 * full of the letters of `null`, `false` and their keys: "login" stops at every `l`, its part
 * "gin" at a `g` only. The caller checks the bytes around the anchor at each hit, so the lines
 * found are exactly those holding the whole needle.
 */
export function anchorNeedles(needles: readonly Needle[], sample: Buffer): NeedleAnchor[] {
  const counts = new Uint32Array(256);
  const n = Math.min(sample.length, SAMPLE_BYTES);
  for (let i = 0; i < n; i++) counts[sample[i]]++;
  return needles.map(({ bytes }) => {
    let at = 0;
    for (let k = 1; k <= bytes.length - 2; k++) if (counts[bytes[k]] < counts[bytes[at]]) at = k;
    return { at, bytes: bytes.subarray(at, at + MAX_ANCHOR_BYTES) };
  });
}

/**
 * A search of `chunk` for the needles: `find(i, from)` is the offset of the first occurrence of
 * needle `i` at or after `from`, or -1. Anchors are chosen on the first chunk of a search.
 */
export function needleFinder(needles: readonly Needle[], chunk: Buffer): (i: number, from: number) => number {
  let anchors = ANCHORS.get(needles);
  if (!anchors) ANCHORS.set(needles, (anchors = anchorNeedles(needles, chunk)));
  const a = anchors;
  return (i, from) => {
    const n = needles[i];
    const { at, bytes: anchor } = a[i];
    const whole = n.bytes;
    const len = whole.length;
    const after = at + anchor.length;
    // Search for the needle's rarest part, then check the whole needle around each hit.
    for (let h = chunk.indexOf(anchor, from + at); h >= 0; h = chunk.indexOf(anchor, h + 1)) {
      const start = h - at;
      let k = 0;
      while (k < at && chunk[start + k] === whole[k]) k++;
      if (k < at) continue;
      k = after;
      while (k < len && chunk[start + k] === whole[k]) k++;
      if (k < len) continue;
      if (!n.nextIn) return start;
      const b = chunk[start + len];
      if (b === undefined || (b >= n.nextIn[0] && b <= n.nextIn[1])) return start;
    }
    return -1;
  };
}

/**
 * Sets of needles, each enough on its own to find every line that can match (one per filter
 * flag with a literal: an AND of flags can be searched by any one of them).
 */
export type NeedleChoices = readonly (readonly Needle[])[];

const CHOSEN = new WeakMap<NeedleChoices, readonly Needle[]>();

/** Occurrences counted per needle set in the sample before it is known not to be the rarest. */
const COUNT_CAP = 4096;

/**
 * The set of `choices` with the fewest occurrences in `sample` (the first chunk searched; one
 * choice per search, as for the anchors), the first on a tie (the caller orders them by the
 * length of their literals). An AND of `--user bob --action kill` is searched for `kill`
 * when `kill` is the rarer of the two on the first chunk.
 */
export function chooseNeedles(choices: NeedleChoices, sample: Buffer): readonly Needle[] {
  const known = CHOSEN.get(choices);
  if (known) return known;
  let best = choices[0];
  if (choices.length > 1) {
    const region = sample.subarray(0, Math.min(sample.length, 4 * SAMPLE_BYTES));
    let fewest = Infinity;
    for (const needles of choices) {
      let n = 0;
      for (const { bytes } of needles)
        for (let h = region.indexOf(bytes); h >= 0 && n < fewest && n < COUNT_CAP; h = region.indexOf(bytes, h + 1))
          n++;
      if (n < fewest) [fewest, best] = [n, needles];
    }
  }
  CHOSEN.set(choices, best);
  return best;
}

/** `needles` as one set: itself, or the set {@link chooseNeedles} picks on `sample`. */
export function needlesFor(needles: readonly Needle[] | NeedleChoices, sample: Buffer): readonly Needle[] {
  return needles.length > 0 && Array.isArray(needles[0])
    ? chooseNeedles(needles as NeedleChoices, sample)
    : (needles as readonly Needle[]);
}
