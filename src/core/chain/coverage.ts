/**
 * Marking each entry shown verified or not, while it streams (`search`, `tail`, `export`,
 * `summary`): the local form of the chain rule (spec §3). An entry is verified when it carries
 * a stored hash and that hash is `sha256(prev + json.dumps(entry, sort_keys=True))`, where
 * `prev` is the stored hash of the last hashed entry before it in chain order (the writer's
 * own tip rule, spec §3.3: entries without a hash are passed over), or the genesis of 64 zeros
 * for the first hashed entry of the history. A JS AuditLog entry (spec §5) is verified when
 * log.js's hash of its eight keys is its `hash` and its `previousHash` is the entry before's
 * `hash` (`"GENESIS"` for the first), and it holds no key log.js does not write.
 *
 * No full verify is needed: one canonicalization and one SHA-256 per entry shown, and the
 * stored hashes of the lines in between (read at the end of the run a needle search skipped,
 * from the last hashed line back: core/read/lines.ts).
 *
 * After an unreadable line (a line that is no entry: malformed, invalid UTF-8, too long, an
 * unreadable file) the next hashed entry is still verified when it chains from the last stored
 * hash before that line — the chain demonstrably continues across it, as `verify` accepts
 * (docs/verify.md) — and `after-unreadable` otherwise: what the line held cannot be known.
 *
 * What "verified" proves is local: the entry is intact and chains from the entry before it.
 * A chain rewritten from some point on (every hash recomputed) passes it entry by entry; only
 * the break where the rewrite meets the untouched chain is marked, and anchors (`verify
 * --anchor`, checkpoints, the witness) are what catch a rewrite of the newest entries.
 */
import { canonicalizeEntry, type CanonicalResult } from '../pyjson/canonical.js';
import { ByteCanonicalizer } from '../pyjson/canonical-bytes.js';
import type { AuditFile } from '../read/files.js';
import type { ChainTracker, ReadEntry, ReadItem, UnverifiedReason } from '../read/entries.js';
import { parseJsonLine } from '../read/entries.js';
import { decodeLine } from '../read/decode.js';
import type { LineChainKind, RawLine, SkippedGap } from '../read/lines.js';
import { DEFAULT_MAX_LINE_BYTES, joinGaps } from '../read/lines.js';
import { isJsAuditLogEntry, jsAuditLogHash, JS_GENESIS, JS_KEYS } from './js-auditlog.js';
import { chainHash, GENESIS_HASH, HASH_KEYS, sha256Hex } from './rule.js';
import { dashboardLineKind, lastGapOf } from './stored-hash.js';

/** Number-like-keyed objects tried in every by-value combination up to this many (as diagnosis.ts). */
const MAX_NUMBER_KEY_OBJECTS = 6;

type Chain = 'dashboard' | 'js-auditlog';

/**
 * The {@link ChainTracker} of a read of `files` (a directory's audit files in chain order, all
 * of them, not only those read: the state before the first file read comes from the ones
 * before it). Files may be read in any order (newest first for `tail`); each file not read
 * right after its predecessor starts from that predecessor's last stored hash, read from its
 * end backwards.
 */
export class ChainCoverage implements ChainTracker {
  private prev = GENESIS_HASH;
  private broken = false;
  private chain: Chain = 'dashboard';
  private current: AuditFile | null = null;
  private skipped: RawLine[] = [];
  /** The byte canonicalizer (verify's fast path) for lines in the writer's exact form, and its input. */
  private readonly canon = new ByteCanonicalizer();
  private scratch = Buffer.allocUnsafe(64 * 1024);
  /** Chains whose verify verdict is intact for the files read: their hashed entries need no hashing. */
  private readonly trusted: ReadonlySet<Chain>;
  /** Only an entry's hash is looked at (summary --no-chain): a hashed entry is left unchecked. */
  private readonly presenceOnly: boolean;

  /**
   * @param files all audit files of the directory, in chain order (AuditSource.files).
   * @param options.trusted chains a full verify just found intact over the files about to be
   *   read (summary's chain check): an entry of them is verified iff it carries a stored hash.
   * @param options.presenceOnly hash nothing: an entry without a hash is `no-hash`, one with a
   *   hash keeps `unverified` unset, not checked (`summary --no-chain`).
   */
  constructor(
    private readonly files: readonly AuditFile[],
    private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES,
    options: { trusted?: Iterable<Chain>; presenceOnly?: boolean } = {},
  ) {
    this.trusted = new Set(options.trusted ?? []);
    this.presenceOnly = options.presenceOnly === true;
  }

  /**
   * The line's canonical text (without its hash member) at `canon.out[64, end)` and its stored
   * hash, when it is in the writer's exact byte form (canonical-bytes.ts); null otherwise (the
   * general canonicalizer decides). No string or object made for the line but the hash.
   */
  private writerForm(bytes: Buffer): { end: number; stored: string } | null {
    if (bytes.length + 1 > this.scratch.length) {
      if (bytes.length > 8 * 1024 * 1024) return null;
      this.scratch = Buffer.allocUnsafe(2 * (bytes.length + 1));
    }
    const buf = this.scratch;
    bytes.copy(buf, 0);
    buf[bytes.length] = 0x0a; // the canonicalizer's scans stop at the newline
    const c = this.canon;
    const end = c.entry(buf, 0, bytes.length);
    if (end < 0 || c.hashEnd - c.hashStart !== 64) return null;
    return { end, stored: buf.toString('latin1', c.hashStart, c.hashEnd) };
  }

  /**
   * Goes on after `head`, the stored hash of the last entry before the lines that come next
   * (null: none, they start the history), in the dashboard chain: for `tail --follow`, which
   * hands every new line to {@link item} in order.
   */
  resume(head: string | null): void {
    this.current = null;
    this.chain = 'dashboard';
    this.skipped = [];
    this.prev = head ?? GENESIS_HASH;
    this.broken = false;
  }

  async startFile(file: AuditFile): Promise<void> {
    const chain: Chain = file.chain === 'js-auditlog' ? 'js-auditlog' : 'dashboard';
    const last = this.current;
    this.current = file;
    this.chain = chain;
    this.skipped = [];
    if (chain === 'js-auditlog') {
      // Each audit.jsonl is its own chain (spec §5).
      this.prev = JS_GENESIS;
      this.broken = false;
      return;
    }
    const line = this.files.filter((f) => f.chain === 'dashboard');
    const at = line.indexOf(file);
    if (last && at > 0 && line[at - 1] === last) return; // read right after its predecessor
    let state: SkippedGap = { hash: null, broken: false };
    for (let i = at - 1; i >= 0; i--) {
      let g: SkippedGap;
      try {
        g = await lastGapOf(line[i], (b) => this.classifyAs('dashboard', b), this.maxLineBytes);
      } catch {
        g = { hash: null, broken: true }; // an unreadable file: what it held is unknown
      }
      state = joinGaps(g, state);
      if (state.hash !== null) break;
    }
    this.prev = state.hash ?? GENESIS_HASH;
    this.broken = state.broken;
  }

  classify(line: Buffer): LineChainKind {
    return this.classifyAs(this.chain, line);
  }

  private classifyAs(chain: Chain, line: Buffer): LineChainKind {
    if (chain === 'dashboard') {
      const w = this.writerForm(line);
      if (w) return { kind: 'hashed', hash: w.stored };
    }
    const d = decodeLine(
      { bytes: line, line: 0, offset: 0, length: line.length, terminated: true, tooLong: false, crlf: false },
      this.maxLineBytes,
    );
    if (d.kind === 'blank') return { kind: 'blank' };
    if (d.kind === 'undecodable') return { kind: 'unreadable' };
    if (chain === 'js-auditlog') {
      let v: unknown;
      try {
        v = parseJsonLine(d.text).value;
      } catch {
        return { kind: 'unreadable' };
      }
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return { kind: 'unreadable' };
      const h = (v as { hash?: unknown }).hash;
      return isJsAuditLogEntry(v) && typeof h === 'string' ? { kind: 'hashed', hash: h } : { kind: 'unhashed' };
    }
    return dashboardLineKind(d.text);
  }

  gap(gap: SkippedGap): void {
    this.resolveSkipped();
    this.apply(gap);
  }

  skip(raw: RawLine): void {
    this.skipped.push(raw);
  }

  item(item: ReadItem): void {
    this.resolveSkipped();
    if (item.kind === 'problem') {
      this.broken = true;
      return;
    }
    if (this.presenceOnly) {
      if (item.view.hash === null) item.unverified = 'no-hash';
      return;
    }
    const { reason, hash } = this.trusted.has(this.chain)
      ? { reason: item.view.hash === null ? ('no-hash' as const) : null, hash: item.view.hash }
      : this.chain === 'js-auditlog'
        ? this.judgeJs(item.record)
        : this.judgeDashboard(item);
    item.unverified = reason;
    if (hash !== null) {
      this.prev = hash;
      this.broken = false;
    }
  }

  endBatch(): void {
    this.resolveSkipped();
  }

  /** Folds the lines the prefilters skipped into the state: from the last one back to the first hashed one. */
  private resolveSkipped(): void {
    const s = this.skipped;
    if (s.length === 0) return;
    let broken = false;
    let hash: string | null = null;
    for (let i = s.length - 1; i >= 0; i--) {
      const k = this.classify(s[i].bytes);
      if (k.kind === 'hashed') {
        hash = k.hash;
        break;
      }
      if (k.kind === 'unreadable') broken = true;
    }
    this.skipped = [];
    this.apply({ hash, broken });
  }

  private apply(g: SkippedGap): void {
    if (g.hash !== null) {
      this.prev = g.hash;
      this.broken = g.broken;
    } else if (g.broken) this.broken = true;
  }

  /** A dashboard entry's verdict and the stored hash the next entry chains from (null: none, the state stays). */
  private judgeDashboard(item: ReadEntry): { reason: UnverifiedReason | null; hash: string | null } {
    // The entry's text and record only when its bytes are not enough (an entry read on its
    // bytes makes them on first use: entries.ts).
    const w = this.writerForm(item.bytes);
    if (w) {
      const out = this.canon.out;
      out.write(this.prev, 0, 'latin1');
      if (this.prev.length === 64 && sha256Hex(out.subarray(0, w.end)) === w.stored)
        return { reason: null, hash: w.stored };
      // A mismatch: the general path below decides (number-like keys, the reason).
    }
    const text = item.text;
    let r: CanonicalResult;
    try {
      r = canonicalizeEntry(text, { hashKeys: HASH_KEYS });
    } catch {
      // Read by JSON.parse but not by Python's json (a 4301-digit number, nesting too deep):
      // no writer wrote it, and the verifier cannot read it (an unreadable line to it).
      this.broken = true;
      const record = item.record;
      const hashed = HASH_KEYS.some((k) => typeof record[k] === 'string' && record[k] !== '');
      return { reason: hashed ? 'does-not-chain' : 'no-hash', hash: null };
    }
    const stored = r.hashValue;
    if (typeof stored !== 'string' || stored === '') return { reason: 'no-hash', hash: null };
    // json.dumps never writes a key twice: a duplicated key is never writer output (spec §2.1).
    const ok =
      !r.duplicateKeys && (chainHash(this.prev, r.canonical) === stored || this.numberKeysChain(text, r, stored));
    return { reason: ok ? null : this.broken ? 'after-unreadable' : 'does-not-chain', hash: stored };
  }

  /** The writer quirk (spec §10.3, §10.18): number-like dict keys sorted by value before they became strings. */
  private numberKeysChain(text: string, r: CanonicalResult, stored: string): boolean {
    const n = r.numberKeyObjects.length;
    if (n === 0) return false;
    const all = (1 << Math.min(n, MAX_NUMBER_KEY_OBJECTS)) - 1;
    const masks = n <= MAX_NUMBER_KEY_OBJECTS ? Array.from({ length: all }, (_, i) => all - i) : [-1];
    for (const mask of masks) {
      const byValue = (i: number) => mask === -1 || ((mask >> i) & 1) === 1;
      const alt = canonicalizeEntry(text, { hashKeys: HASH_KEYS, numberKeysByValue: byValue });
      if (chainHash(this.prev, alt.canonical) === stored) return true;
    }
    return false;
  }

  private judgeJs(record: Record<string, unknown>): { reason: UnverifiedReason | null; hash: string | null } {
    const h = record.hash;
    if (!isJsAuditLogEntry(record) || typeof h !== 'string') return { reason: 'no-hash', hash: null };
    const ok =
      record.previousHash === this.prev &&
      jsAuditLogHash(record) === h &&
      Object.keys(record).every((k) => JS_KEYS.has(k));
    return { reason: ok ? null : this.broken ? 'after-unreadable' : 'does-not-chain', hash: h };
  }
}
