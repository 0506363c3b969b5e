/**
 * Entries read back from a forwarded copy (Grafana Loki, through the witness's paged reader,
 * core/chain/anchors/witness.ts `ForwardedCopy`, implemented by src/sinks/loki/query.ts) as
 * search's and summary's items: each line parsed as a local line is (core/read/entries.ts), its
 * view taken for the stream its file name says (the `file` `forward` sent as structured
 * metadata), filtered with the local filter, in the local order.
 *
 * Order: the copy comes oldest first by Loki timestamp, and entries of one nanosecond in the
 * order of their streams' labels; the local files are in chain order. Entries of one timestamp
 * are put back in file (chain) order and line order before they are handed out: memory is one
 * such group (the pager already holds one page of them).
 */
import type { CopyEntry, ForwardedCopy } from '../chain/anchors/witness.js';
import { parseLine, type ReadEntry, type ReadItem } from '../read/entries.js';
import { DEFAULT_MAX_LINE_BYTES } from '../read/lines.js';
import type { ViewStream } from '../read/view.js';
import { chainOrderKey, CHAIN_FILE_RE } from '../read/files.js';
import { AGENT_AUDIT_NAME, SESSION_FILE_RE } from '../read/streams.js';
import { compileFilter, type FilterSpec } from './filters.js';

/** Options of {@link searchCopy}. */
export interface CopySearchOptions {
  filter: FilterSpec;
  offset?: number;
  limit?: number;
  /**
   * Newest first: needs `limit` (the last `offset + limit` matches are kept, then handed out in
   * reverse), so that memory stays bounded.
   */
  reverse?: boolean;
  /**
   * How `forward` stamped the entries (`entry`, default, or `ingest`: the delivery time, after
   * the entry's own; the copy is then read up to now whatever `until` is).
   */
  timestamp?: 'entry' | 'ingest';
  maxLineBytes?: number;
  /** Now, ms (tests). */
  now?: number;
}

/** The stream a forwarded entry is from, by the file name `forward` sent (spec §5). */
function streamOfFile(name: string | undefined): ViewStream | undefined {
  if (!name) return undefined;
  if (CHAIN_FILE_RE.test(name)) return 'dashboard';
  if (/^audit\.jsonl(\.gz)?$/.test(name)) return 'js-auditlog';
  if (name === AGENT_AUDIT_NAME) return 'agent';
  if (SESSION_FILE_RE.test(name)) return 'session';
  return undefined;
}

/** Sort key of a file name: the chain order for chain files, else the name. */
function fileKey(name: string): string {
  return chainOrderKey(name) ?? '~' + name;
}

/**
 * One copy entry as a read item: the line parsed as the local reader parses it, at the file
 * and line `forward` sent (`-` and 0 when unknown); `unverified: 'no-hash'` for an entry of a
 * chain's file without a stored hash, else `unverified` unset (not checked). Never throws.
 */
function copyItem(e: CopyEntry, maxLineBytes = DEFAULT_MAX_LINE_BYTES): ReadItem | null {
  const bytes = Buffer.from(e.line, 'utf8');
  const line = Number(e.metadata.line);
  const file = e.metadata.file || '-';
  const stream = streamOfFile(e.metadata.file);
  const item = parseLine(
    {
      bytes,
      line: Number.isSafeInteger(line) && line > 0 ? line : 0,
      offset: 0,
      length: bytes.length,
      terminated: true,
      tooLong: bytes.length > maxLineBytes,
      crlf: false,
    },
    file,
    maxLineBytes,
    undefined,
    stream,
  );
  // Of a chained stream and with no stored hash: no chain covers it, here as in the directory.
  // Others are not checked against their chain (that is verify --against-loki's work).
  if (item?.kind === 'entry' && item.view.hash === null && (stream === 'dashboard' || stream === 'js-auditlog'))
    item.unverified = 'no-hash';
  return item;
}

/** The copy's range for a filter window, in ns: `[since or 0, until or now + 10m)`. */
export function copyRange(
  spec: FilterSpec,
  o: { timestamp?: 'entry' | 'ingest'; now?: number } = {},
): { startNs: bigint; endNs: bigint } {
  const now = o.now ?? Date.now();
  // Loki holds nothing stamped later than now + creation_grace_period (10m).
  const latest = now + 10 * 60_000;
  const since = spec.window?.since ?? 0;
  const until = o.timestamp === 'ingest' ? latest : Math.min(spec.window?.until ?? latest, latest);
  return {
    startNs: BigInt(Math.max(0, Math.floor(since))) * 1_000_000n,
    endNs: BigInt(Math.ceil(Math.max(until, since + 1))) * 1_000_000n,
  };
}

/**
 * The copy's entries and problems (lines that are not entries) in local order, unfiltered: a
 * timestamp's entries sorted by file (chain order) and line.
 * @throws whatever `copy` throws.
 */
export async function* copyItems(
  copy: ForwardedCopy,
  range: { startNs: bigint; endNs: bigint },
  maxLineBytes?: number,
): AsyncGenerator<ReadItem[]> {
  let group: Array<{ e: CopyEntry; item: ReadItem }> = [];
  let groupTs = -1n;
  const flush = () => {
    const g = group;
    group = [];
    if (g.length > 1)
      g.sort((a, b) => {
        const fa = fileKey(a.item.file);
        const fb = fileKey(b.item.file);
        return fa !== fb ? (fa < fb ? -1 : 1) : a.item.line - b.item.line;
      });
    return g.map((x) => x.item);
  };
  for await (const e of copy.entries(range.startNs, range.endNs)) {
    if (e.tsNs !== groupTs && group.length) yield flush();
    groupTs = e.tsNs;
    const item = copyItem(e, maxLineBytes);
    if (item) group.push({ e, item });
  }
  if (group.length) yield flush();
}

/**
 * The copy's entries matching `options.filter`, with the problems met, in local order
 * (oldest first, or newest first with `reverse`), after `offset`, at most `limit`, one batch per
 * timestamp. Memory: one timestamp's entries (and with `reverse`, `offset + limit` matches).
 * @throws FilterError for a bad filter; whatever `copy` throws when it cannot be read.
 */
export async function* searchCopy(copy: ForwardedCopy, options: CopySearchOptions): AsyncGenerator<ReadItem[]> {
  const filter = compileFilter(options.filter);
  const range = copyRange(options.filter, options);
  let skip = options.offset ?? 0;
  let left = options.limit ?? Infinity;
  if (left <= 0) return;
  const matching = (batch: ReadItem[]) =>
    batch.filter((i) => i.kind === 'problem' || filter.matches(i.view, i.record, i.text));
  if (options.reverse) {
    if (!Number.isFinite(left)) throw new RangeError('searchCopy: reverse needs a limit');
    const keep = skip + left;
    const ring: ReadEntry[] = [];
    for await (const batch of copyItems(copy, range, options.maxLineBytes)) {
      const problems: ReadItem[] = [];
      for (const item of matching(batch)) {
        if (item.kind === 'problem') problems.push(item);
        else {
          ring.push(item);
          if (ring.length > keep) ring.shift();
        }
      }
      if (problems.length) yield problems;
    }
    const out = ring.reverse().slice(skip, skip + left);
    if (out.length) yield out;
    return;
  }
  for await (const batch of copyItems(copy, range, options.maxLineBytes)) {
    const out: ReadItem[] = [];
    for (const item of matching(batch)) {
      if (item.kind === 'problem') out.push(item);
      else if (skip > 0) skip--;
      else if (left > 0) {
        left--;
        out.push(item);
      }
    }
    if (out.length) yield out;
    if (left <= 0) return;
  }
}
