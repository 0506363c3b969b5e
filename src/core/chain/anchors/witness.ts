/**
 * Loki as a witness (`verify --against-loki URL`): the entries forwarded to Loki are a copy an
 * attacker on this host cannot rewrite. This compares, entry by entry and by chain hash, the
 * local entries of a time range with the copy's entries of the same range, as two streams:
 *
 * - in Loki but not here: removed or changed locally after it was forwarded (anchor-mismatch,
 *   `head-missing`, exit 12), named by its hash and the file/line `forward` sent with it;
 * - at the same file and line on both sides with other bytes (same hash, or another hash at the
 *   position Loki recorded): changed here after forwarding (anchor-mismatch, `loki-differs`);
 * - here but not in Loki: a `not-in-loki` note by file and line when Loki holds later entries
 *   (lost on the way, or deleted from Loki), a `not-forwarded` note for the newest ones.
 *
 * Both sides arrive in chain order, or close to it: the local files in chain order; Loki's
 * entries by Loki timestamp, which is the entry's own time (`forward --timestamp entry`) or its
 * delivery time (`--timestamp ingest`, delivery follows the chain); the event time always
 * comes from the line. The two are merged by event time, and an entry waits for its partner in
 * a lookahead map of at most {@link WitnessOptions.lookahead} entries per side (default
 * 10 000): memory does not depend on the history. An entry pushed out of a full map unmatched is
 * reported as missing on the other side, so a reordering of more entries than that between the
 * two sides is reported rather than buffered (docs/verify.md "against Loki").
 *
 * The copy is read through {@link ForwardedCopy} (for Loki: `query_range`, windowed and paged,
 * src/sinks/loki/query.ts).
 */
import { createHash } from 'node:crypto';
import type { Finding, Note } from '../report.js';
import type { AuditFile } from '../../read/files.js';
import { storedHash } from '../stored-hash.js';
import { readEntries, type ReadEntry } from '../../read/entries.js';
import { toView } from '../../read/view.js';
import { BoundedList, KEPT_PER_KIND } from '../bounded.js';

/** One entry of the forwarded copy. */
export interface CopyEntry {
  /** The copy's timestamp, ns since the epoch. */
  tsNs: bigint;
  /** The line as stored: the entry's original JSON. */
  line: string;
  /** What `forward` sent with it (structured metadata): `file`, `line`, `chain_hash`, when known. */
  metadata: Record<string, string>;
}

/**
 * Where the forwarded copy is read from (the Loki query client implements it,
 * src/sinks/loki/query.ts): each entry stored with a timestamp in `[startNs, endNs)`
 * (nanoseconds since the epoch) once, oldest first. Errors reaching the copy are thrown from
 * the iteration.
 */
export interface ForwardedCopy {
  entries(startNs: bigint, endNs: bigint): AsyncIterable<CopyEntry>;
}

export interface WitnessOptions {
  /** Event time range in ms, since inclusive, until exclusive; default: from the first local entry to now. */
  since?: number;
  until?: number;
  /**
   * How `forward` stamped the entries: `entry` (the entry's time, default) or `ingest` (the
   * delivery time, always after the entry's own): with `ingest`, Loki is read up to now
   * whatever `until` is, and the event time is taken from the line.
   */
  timestamp?: 'entry' | 'ingest';
  /** Entries per side waiting for their partner (default 10 000). */
  lookahead?: number;
  /** Now, ms (tests). */
  now?: number;
}

export interface WitnessResult {
  findings: Finding[];
  notes: Note[];
  /** Local entries compared, entries read from the copy (duplicates not counted), matched. */
  local: number;
  inLoki: number;
  matched: number;
  /** Copy entries read twice (a re-sent entry), skipped. */
  duplicates: number;
  /** How many of each kind, all counted (findings and notes keep the first 20 of each). */
  counts: { notInLocal: number; differs: number; notInLoki: number; notForwarded: number };
}

/** Default of {@link WitnessOptions.lookahead}. */
const WITNESS_LOOKAHEAD = 10_000;

interface Side {
  hash: string;
  digest: string;
  time: number;
  file?: string;
  line?: number;
  tsNs?: bigint;
  /** Local: the entry's position among the local entries compared. */
  seq?: number;
}

/**
 * Arrival order of the entries waiting in a lookahead map, with lazy removal: a hash matched
 * meanwhile is skipped when met, and the queue is rebuilt from the live ones when it holds
 * more than twice the map's bound (so it stays O(lookahead)).
 */
class Fifo {
  private items: string[] = [];
  private head = 0;
  push(h: string): void {
    this.items.push(h);
  }
  /** The oldest hash still `live`, removed; undefined when none. */
  shift(live: (h: string) => boolean): string | undefined {
    while (this.head < this.items.length) {
      const h = this.items[this.head++];
      if (live(h)) return h;
    }
    return undefined;
  }
  compact(bound: number, live: (h: string) => boolean): void {
    if (this.items.length - this.head <= 2 * bound + 16) return;
    this.items = this.items.slice(this.head).filter(live);
    this.head = 0;
  }
}

const digest = (text: string) => createHash('sha256').update(text).digest('base64');
const shortHash = (h: string) => (h.length > 16 ? h.slice(0, 16) + '…' : h);

/**
 * Compares local entries with the forwarded copy, streaming both (see the header).
 * @throws whatever `copy` throws when it cannot be read.
 */
export async function compareWithCopy(
  files: AuditFile[],
  copy: ForwardedCopy,
  o: WitnessOptions = {},
  maxLineBytes?: number,
): Promise<WitnessResult> {
  const now = o.now ?? Date.now();
  const window = Math.max(1, o.lookahead ?? WITNESS_LOOKAHEAD);
  const inRange = (t: number) => (o.since === undefined || t >= o.since) && (o.until === undefined || t < o.until);

  async function* localEntries(): AsyncGenerator<ReadEntry & { view: { hash: string } }> {
    for await (const item of readEntries(files, { maxLineBytes })) {
      if (item.kind !== 'entry' || !item.view.hash || !inRange(item.view.time)) continue;
      yield item as ReadEntry & { view: { hash: string } };
    }
  }
  const localIt = localEntries()[Symbol.asyncIterator]();
  let l = await localIt.next();
  // The copy's range: from `since` (else the first local entry); Loki holds nothing stamped
  // later than now + creation_grace_period (10m).
  const since = o.since ?? (l.done ? now : l.value.view.time);
  const latest = now + 10 * 60_000;
  const until = o.timestamp === 'ingest' ? latest : Math.min(o.until ?? latest, latest);
  const startNs = BigInt(Math.floor(since)) * 1_000_000n;
  const endNs = BigInt(Math.ceil(Math.max(until, since + 1))) * 1_000_000n;

  async function* remoteEntries(): AsyncGenerator<Side> {
    for await (const e of copy.entries(startNs, endNs)) {
      const hash = e.metadata.chain_hash || storedHash(e.line);
      if (!hash) continue;
      let time: number;
      try {
        time = toView(JSON.parse(e.line) as Record<string, unknown>).time;
      } catch {
        time = Number(e.tsNs / 1_000_000n);
      }
      if (!Number.isFinite(time)) time = Number(e.tsNs / 1_000_000n);
      if (!inRange(time)) continue;
      const line = Number(e.metadata.line);
      yield {
        hash,
        digest: digest(e.line),
        time,
        file: e.metadata.file,
        line: Number.isInteger(line) && line > 0 ? line : undefined,
        tsNs: e.tsNs,
      };
    }
  }
  const remoteIt = remoteEntries()[Symbol.asyncIterator]();
  let r = await remoteIt.next();

  const findings = new BoundedList<Finding, string>((f) => f.reason);
  const notes = new BoundedList<Note, string>((n) => n.kind);
  const counts = { notInLocal: 0, differs: 0, notInLoki: 0, notForwarded: 0 };
  const pendingLocal = new Map<string, Side>();
  const pendingRemote = new Map<string, Side>();
  const localAt = new Map<string, string>(); // "file:line" -> hash, of pendingLocal
  const remoteAt = new Map<string, string>(); // of pendingRemote
  // Hashes matched lately (a ring of `window`): a re-sent copy of one is a duplicate, not a
  // finding. Rings and queues rather than a Set's or a Map's first key: V8 skips the deleted
  // slots at the front on every such look-up, which made the comparison quadratic.
  const recent = new Set<string>();
  const ring: string[] = [];
  let ringAt = 0;
  const queueLocal = new Fifo();
  const queueRemote = new Fifo();
  let matched = 0;
  let local = 0;
  let inLoki = 0;
  let duplicates = 0;
  // The last local entry (by chain position) matched so far: unmatched local entries before it
  // are gaps in Loki; after it, they may be the unforwarded tail (told at the end).
  let newestMatchedSeq = -1;
  let tail: { count: number; kept: Side[] } = { count: 0, kept: [] };
  let notInLokiUnkept = 0;
  const pos = (s: Side) => (s.file !== undefined && s.line !== undefined ? `${s.file}:${s.line}` : null);

  const remember = (h: string) => {
    if (ring.length < window) ring.push(h);
    else {
      recent.delete(ring[ringAt]);
      ring[ringAt] = h;
      ringAt = (ringAt + 1) % window;
    }
    recent.add(h);
  };
  const drop = (map: Map<string, Side>, at: Map<string, string>, s: Side) => {
    map.delete(s.hash);
    const p = pos(s);
    if (p && at.get(p) === s.hash) at.delete(p);
  };
  const differs = (loc: Side, rem: Side, sameHash: boolean) => {
    counts.differs++;
    findings.push({
      file: loc.file!,
      line: loc.line!,
      offset: -1,
      class: 'anchor-mismatch',
      reason: 'loki-differs',
      expected: rem.hash,
      stored: loc.hash,
      message: sameHash
        ? `the entry forwarded to Loki with this chain hash has other bytes here: changed here after it was forwarded`
        : `Loki holds another entry (chain hash ${shortHash(rem.hash)}) ` +
          `for this file and line: changed here after it was forwarded`,
    });
  };
  const notInLoki = (s: Side) => {
    counts.notInLoki++;
    notes.push({
      kind: 'not-in-loki',
      file: s.file,
      line: s.line,
      message:
        `not in Loki, though later entries are (lost on the way, ` +
        `or deleted from Loki); chain hash ${shortHash(s.hash)}`,
    });
  };
  /** A local entry matched at chain position `seq`: the tail before it was a gap after all. */
  const matchedAt = (seq: number) => {
    if (seq <= newestMatchedSeq) return;
    newestMatchedSeq = seq;
    if (!tail.count) return;
    for (const t of tail.kept) if (t.seq! < seq) notInLoki(t);
    // Those counted but not kept came after the kept ones: before this one too, unless kept.
    const later = tail.kept.filter((t) => t.seq! > seq);
    const unkept = tail.count - tail.kept.length;
    counts.notInLoki += unkept;
    notInLokiUnkept += unkept;
    tail = { count: later.length, kept: later };
  };
  /** A local entry with no partner in the copy. */
  const unmatchedLocal = (s: Side) => {
    const p = pos(s);
    const rh = p ? remoteAt.get(p) : undefined;
    if (rh) {
      const rem = pendingRemote.get(rh)!;
      drop(pendingRemote, remoteAt, rem);
      differs(s, rem, false);
      return;
    }
    if (s.seq! < newestMatchedSeq) return notInLoki(s);
    tail.count++;
    if (tail.kept.length < KEPT_PER_KIND) tail.kept.push(s);
  };
  /** A copy entry with no partner here. */
  const unmatchedRemote = (s: Side) => {
    const p = pos(s);
    const lh = p ? localAt.get(p) : undefined;
    if (lh) {
      const loc = pendingLocal.get(lh)!;
      drop(pendingLocal, localAt, loc);
      differs(loc, s, false);
      return;
    }
    counts.notInLocal++;
    const ts = new Date(s.time).toISOString();
    findings.push({
      file: s.file ?? '-',
      line: s.line ?? 0,
      offset: -1,
      class: 'anchor-mismatch',
      reason: 'head-missing',
      expected: s.hash,
      message:
        `an entry forwarded to Loki (time ${ts}, chain hash ${shortHash(s.hash)}${p ? `, sent from ${p}` : ''}) ` +
        `is not in the local files: removed or changed here after it was forwarded`,
    });
  };
  const overflow = (map: Map<string, Side>, queue: Fifo, at: Map<string, string>, unmatched: (s: Side) => void) => {
    while (map.size > window) {
      const oldest = map.get(queue.shift((h) => map.has(h))!)!;
      drop(map, at, oldest);
      unmatched(oldest);
    }
    queue.compact(window, (h) => map.has(h));
  };

  while (!l.done || !r.done) {
    const takeLocal = r.done || (!l.done && l.value.view.time <= r.value.time);
    if (takeLocal && !l.done) {
      const e = l.value;
      l = await localIt.next();
      local++;
      const s: Side = {
        hash: e.view.hash,
        digest: digest(e.text),
        time: e.view.time,
        file: e.file,
        line: e.line,
        seq: local,
      };
      const rem = pendingRemote.get(s.hash);
      if (rem) {
        drop(pendingRemote, remoteAt, rem);
        matched++;
        remember(s.hash);
        matchedAt(s.seq!);
        if (rem.digest !== s.digest) differs(s, rem, true);
        continue;
      }
      if (pendingLocal.has(s.hash)) continue; // the same entry twice here: the chain reports it
      pendingLocal.set(s.hash, s);
      queueLocal.push(s.hash);
      localAt.set(pos(s)!, s.hash);
      overflow(pendingLocal, queueLocal, localAt, unmatchedLocal);
    } else if (!r.done) {
      const s = r.value;
      r = await remoteIt.next();
      const loc = pendingLocal.get(s.hash);
      if (loc) {
        inLoki++;
        drop(pendingLocal, localAt, loc);
        matched++;
        remember(s.hash);
        matchedAt(loc.seq!);
        if (loc.digest !== s.digest) differs(loc, s, true);
        continue;
      }
      if (recent.has(s.hash) || pendingRemote.has(s.hash)) {
        duplicates++;
        continue;
      }
      inLoki++;
      pendingRemote.set(s.hash, s);
      queueRemote.push(s.hash);
      const p = pos(s);
      if (p) remoteAt.set(p, s.hash);
      overflow(pendingRemote, queueRemote, remoteAt, unmatchedRemote);
    }
  }
  for (const s of [...pendingRemote.values()])
    if (pendingRemote.has(s.hash)) {
      drop(pendingRemote, remoteAt, s);
      unmatchedRemote(s);
    }
  for (const s of [...pendingLocal.values()])
    if (pendingLocal.has(s.hash)) {
      drop(pendingLocal, localAt, s);
      unmatchedLocal(s);
    }
  if (tail.count) {
    const w = tail.kept[0];
    counts.notForwarded = tail.count;
    notes.push({
      kind: 'not-forwarded',
      file: w.file,
      line: w.line,
      message:
        `${tail.count} local entr${tail.count === 1 ? 'y is' : 'ies are'} not in ` +
        `Loki (not forwarded yet, or lost on the way); first: ${w.file}:${w.line}`,
    });
  }
  const out = { findings: findings.items, notes: notes.items };
  for (const [reason, n] of Object.entries(findings.omitted()))
    notes.push({
      kind: 'witness-omitted',
      message: `… and ${n} more ${reason} finding(s) from Loki not shown (the first ${KEPT_PER_KIND} are)`,
    });
  const omittedNotes = { ...notes.omitted() } as Record<string, number>;
  if (notInLokiUnkept) omittedNotes['not-in-loki'] = (omittedNotes['not-in-loki'] ?? 0) + notInLokiUnkept;
  for (const [kind, n] of Object.entries(omittedNotes))
    if (kind !== 'witness-omitted')
      out.notes.push({
        kind: 'witness-omitted',
        message: `… and ${n} more ${kind} note(s) from Loki not shown (the first ${KEPT_PER_KIND} are)`,
      });
  return { ...out, local, inLoki, matched, duplicates, counts };
}
