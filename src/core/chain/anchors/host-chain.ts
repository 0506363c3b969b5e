/**
 * One host's chain as stored in Loki (`verify --against-loki URL --host H`): the entries that
 * host forwarded, checked against each other by the chain rule (spec §3,
 * `hash_n = sha256(hash_{n-1} + canonical_n)`) with no access to the host.
 *
 * Loki returns entries by timestamp, across the host's streams (one per level and event
 * family), which is not always chain order (equal timestamps in two streams, a clock step,
 * `--timestamp ingest` after a replay). So the order is the chain's own: an entry is accepted
 * when its stored hash follows from the accepted head's stored hash. Entries that do not (yet)
 * follow wait in a heap ordered by the position `forward` sent with them (file in chain order,
 * spec §1.1, then line), and the smallest waiting position is tried after every step:
 *
 * - it follows the head: **chains**, it becomes the head;
 * - it does not, and it sits right after the head (same file, next line; or line 1 of a later
 *   file): a **break** — its stored hash does not follow from the entry before it (changed in
 *   Loki, or at a file boundary the end of the previous file is missing from Loki);
 * - it does not, and positions are missing between the two: it waits for them, and when they
 *   never come (the heap holds more than {@link HostChainOptions.bound} entries, or Loki has
 *   no more) a **gap** — the stretch from the head to it was never seen.
 *
 * After a break or a gap the walk goes on from that entry's stored hash. Memory: one page of
 * the copy and at most `bound` waiting entries (hash, canonical text, position), whatever the
 * history; a reordering wider than `bound` entries is reported as a gap, not buffered.
 * The first entry of the range chains from the genesis hash, or the history in Loki starts
 * mid-chain (older entries expired or outside `--since`): a note, not a gap.
 */
import { canonicalizeEntry } from '../../pyjson/canonical.js';
import { chainOrderKey } from '../../read/files.js';
import { toView } from '../../read/view.js';
import { BoundedList, KEPT_PER_KIND } from '../bounded.js';
import { chainHash, GENESIS_HASH, HASH_KEYS } from '../rule.js';
import type { VerdictClass } from '../verdict.js';
import type { ForwardedCopy } from './witness.js';

/** Where an entry was on its host, as `forward` sent it (structured metadata `file`, `line`). */
export interface HostPosition {
  file: string;
  line: number;
}

/** A break or a gap in a host's chain as stored in Loki. */
export interface HostChainFinding {
  kind: 'break' | 'gap';
  /** The entry that does not follow (its position on the host, when Loki has it). */
  at: HostPosition | null;
  /** The head it was expected to follow (null: none yet). */
  after: HostPosition | null;
  /** Its stored chain hash. */
  hash: string;
  message: string;
}

export interface HostChainOptions {
  /** Entries waiting for their predecessor, at most (default {@link HOST_CHAIN_BOUND}). */
  bound?: number;
  /** `--max-age` in ms: a head older than this is stale. */
  maxAgeMs?: number;
  /** Now, ms (tests). */
  now?: number;
}

/** One host's verdict. */
export interface HostChainResult {
  host: string;
  /** intact, tampered (a break), incomplete (a gap), stale-head (head older than maxAgeMs). */
  verdict: Extract<VerdictClass, 'intact' | 'tampered' | 'incomplete' | 'stale-head'>;
  /** Entries read from Loki (each once), entries that follow their predecessor, re-sent copies skipped. */
  entries: number;
  chained: number;
  duplicates: number;
  /** How the range begins: from the genesis hash, or mid-chain (older entries not in the range). */
  start: 'genesis' | 'mid-chain' | null;
  breaks: number;
  gaps: number;
  /** The first {@link KEPT_PER_KIND} of each kind. */
  findings: HostChainFinding[];
  /** The last entry in chain order: its hash, event time (ISO 8601), position. */
  head: { hash: string; time: string | null; file: string | null; line: number | null } | null;
  /** Head age in ms at `now`, when its time is known; whether it is over `maxAgeMs`. */
  ageMs: number | null;
  stale: boolean;
  /** The most entries that waited at once (memory: at most `bound`). */
  peakWaiting: number;
}

/** What `verify --host`/`--all-hosts` returns (and prints with --json). */
export interface LokiHostsReport {
  url: string;
  /** The range read, ISO 8601 (since inclusive, until exclusive). */
  since: string;
  until: string;
  hosts: Array<HostChainResult & { exitCode: number }>;
  /** Hosts per verdict. */
  summary: Record<HostChainResult['verdict'], number>;
  exitCode: number;
  ok: boolean;
}

/** Default of {@link HostChainOptions.bound}. */
const HOST_CHAIN_BOUND = 10_000;

interface Waiting {
  hash: string;
  canonical: string;
  time: number;
  pos: HostPosition | null;
  /** Sort key: file in chain order, line, arrival. */
  fileKey: string;
  seq: number;
}

/** A binary min-heap of waiting entries by position. */
class PositionHeap {
  private readonly a: Waiting[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): Waiting | undefined {
    return this.a[0];
  }
  private static less(x: Waiting, y: Waiting): boolean {
    if (x.fileKey !== y.fileKey) return x.fileKey < y.fileKey;
    const lx = x.pos?.line ?? 0;
    const ly = y.pos?.line ?? 0;
    return lx !== ly ? lx < ly : x.seq < y.seq;
  }
  push(w: Waiting): void {
    const a = this.a;
    a.push(w);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!PositionHeap.less(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }
  pop(): Waiting | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && PositionHeap.less(a[l], a[m])) m = l;
        if (r < a.length && PositionHeap.less(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

const shortHash = (h: string) => (h.length > 16 ? h.slice(0, 16) + '…' : h);
const where = (p: HostPosition | null) => (p ? `${p.file}:${p.line}` : 'an entry with no position');

/** Whether `next` sits right after `head` on the host: same file and the next line, or line 1 of a later file. */
function nextPosition(head: HostPosition | null, next: HostPosition | null): boolean {
  if (!head || !next) return false;
  if (head.file === next.file) return next.line === head.line + 1;
  const hk = chainOrderKey(head.file);
  const nk = chainOrderKey(next.file);
  return hk !== null && nk !== null && nk > hk && next.line === 1;
}

/**
 * Checks the chain of the entries `copy` holds in `[startNs, endNs)` (one host's streams), in
 * chain order (see the header).
 * @throws whatever `copy` throws when it cannot be read (LokiQueryError for Loki).
 */
export async function checkHostChain(
  host: string,
  copy: ForwardedCopy,
  startNs: bigint,
  endNs: bigint,
  o: HostChainOptions = {},
): Promise<HostChainResult> {
  const bound = Math.max(1, o.bound ?? HOST_CHAIN_BOUND);
  const now = o.now ?? Date.now();
  const heap = new PositionHeap();
  const waitingHashes = new Set<string>();
  // Hashes accepted lately (a ring of `bound`): a re-sent copy of one is a duplicate.
  const recent = new Set<string>();
  const ring: string[] = [];
  let ringAt = 0;
  const findings = new BoundedList<HostChainFinding, HostChainFinding['kind']>((f) => f.kind, KEPT_PER_KIND);
  let head: Waiting | null = null;
  let start: HostChainResult['start'] = null;
  let entries = 0;
  let chained = 0;
  let duplicates = 0;
  let breaks = 0;
  let gaps = 0;
  let seq = 0;
  let peakWaiting = 0;
  // The smallest waiting entry found not to follow the current head (not hashed again until one changes).
  let triedHead: string | null = null;
  let tried: Waiting | null = null;

  const remember = (h: string) => {
    if (ring.length < bound) ring.push(h);
    else {
      recent.delete(ring[ringAt]);
      ring[ringAt] = h;
      ringAt = (ringAt + 1) % bound;
    }
    recent.add(h);
  };
  const accept = (w: Waiting) => {
    heap.pop();
    waitingHashes.delete(w.hash);
    remember(w.hash);
    head = w;
  };
  const follows = (prev: string, w: Waiting) => chainHash(prev, w.canonical) === w.hash;

  /** Accepts what can be accepted; `final`: Loki has no more, nothing left can wait. */
  const settle = (final: boolean) => {
    for (;;) {
      const m = heap.peek();
      if (!m) return;
      if (head === null) {
        if (follows(GENESIS_HASH, m)) {
          start = 'genesis';
          chained++;
        } else if (final || heap.size > bound) start = 'mid-chain';
        else return; // an earlier entry may still come
        accept(m);
        continue;
      }
      const h: Waiting = head;
      if (!(tried === m && triedHead === h.hash)) {
        if (follows(h.hash, m)) {
          chained++;
          accept(m);
          continue;
        }
        tried = m;
        triedHead = h.hash;
      }
      if (nextPosition(h.pos, m.pos)) {
        breaks++;
        findings.push({
          kind: 'break',
          at: m.pos,
          after: h.pos,
          hash: m.hash,
          message:
            `${where(m.pos)} does not follow ${where(h.pos)}: its chain hash ${shortHash(m.hash)} is not sha256 of ` +
            `the entry before it and its content (changed after it was ` +
            'written' +
            (m.pos && h.pos && m.pos.file !== h.pos.file ? `, or the end of ${h.pos.file} is missing from Loki` : '') +
            ')',
        });
      } else if (final || heap.size > bound) {
        gaps++;
        const stretch =
          h.pos && m.pos && h.pos.file === m.pos.file && m.pos.line > h.pos.line + 1
            ? `lines ${h.pos.line + 1}–${m.pos.line - 1} of ${h.pos.file}`
            : `the entries between ${where(h.pos)} and ${where(m.pos)}`;
        findings.push({
          kind: 'gap',
          at: m.pos,
          after: h.pos,
          hash: m.hash,
          message:
            `${stretch} are not in Loki: ${where(m.pos)} does not follow the last entry ` +
            `seen before it (deleted from Loki, lost on the way, or never forwarded)`,
        });
      } else return; // its predecessor may still come
      accept(m);
    }
  };

  for await (const e of copy.entries(startNs, endNs)) {
    let c: ReturnType<typeof canonicalizeEntry>;
    try {
      c = canonicalizeEntry(e.line, { hashKeys: HASH_KEYS });
    } catch {
      continue; // not an entry: forward sends only entries with a chain hash
    }
    const hash = typeof c.hashValue === 'string' && c.hashValue !== '' ? c.hashValue : null;
    if (!c.isObject || !hash) continue;
    if (recent.has(hash) || waitingHashes.has(hash)) {
      duplicates++;
      continue;
    }
    entries++;
    let time = Number(e.tsNs / 1_000_000n);
    try {
      const t = toView(JSON.parse(e.line) as Record<string, unknown>).time;
      if (Number.isFinite(t)) time = t;
    } catch {
      // the Loki timestamp stands
    }
    const line = Number(e.metadata.line);
    const file = e.metadata.file;
    const pos = file && Number.isInteger(line) && line > 0 ? { file, line } : null;
    const w: Waiting = {
      hash,
      canonical: c.canonical,
      time,
      pos,
      // No position: after every positioned entry, in arrival order.
      fileKey: pos ? (chainOrderKey(pos.file) ?? pos.file) : '\uffff',
      seq: seq++,
    };
    heap.push(w);
    waitingHashes.add(hash);
    if (heap.size > peakWaiting) peakWaiting = heap.size;
    settle(false);
  }
  settle(true);

  const last = head as Waiting | null;
  const headTime = last && Number.isFinite(last.time) ? last.time : null;
  const ageMs = headTime === null ? null : now - headTime;
  const stale = o.maxAgeMs !== undefined && ageMs !== null && ageMs > o.maxAgeMs;
  const verdict: HostChainResult['verdict'] = breaks
    ? 'tampered'
    : stale
      ? 'stale-head'
      : gaps
        ? 'incomplete'
        : 'intact';
  return {
    host,
    verdict,
    entries,
    chained,
    duplicates,
    start,
    breaks,
    gaps,
    findings: findings.items,
    head: last
      ? {
          hash: last.hash,
          time: headTime === null ? null : new Date(headTime).toISOString(),
          file: last.pos?.file ?? null,
          line: last.pos?.line ?? null,
        }
      : null,
    ageMs,
    stale,
    peakWaiting,
  };
}
