/**
 * Selecting entries: files picked by date, lines rejected cheaply before parsing, then the full
 * filter; offset and limit; oldest first, or newest first (like Loki Mode's dashboard API).
 */
import type { AuditFile } from '../read/files.js';
import { filesInDateRange } from '../read/files.js';
import type { AuditSource, StreamKind } from '../read/streams.js';
import { resolveAuditSource } from '../read/streams.js';
import type { EntryFilter, FilterSpec } from './filters.js';
import { compileFilter } from './filters.js';
import type { ChainTracker, ReadEntry, ReadItem, ReadProgress } from '../read/entries.js';
import { ChainCoverage } from '../chain/coverage.js';
import { readEntryBatches, sizeOf } from '../read/entries.js';
import { windowDates } from './time.js';
import { PredecessorTracker } from '../chain/predecessors.js';
import { storedHashBefore } from '../chain/stored-hash.js';

/** Options for {@link searchEntries}. */
export interface SearchOptions {
  filter: FilterSpec;
  /** Which of Loki Mode's streams (default: detected from the directory, see streams.ts). */
  stream?: StreamKind;
  /** Skip this many matches first. */
  offset?: number;
  /** Stop after this many matches (after the offset). */
  limit?: number;
  /**
   * Newest first. Holds in memory one file's matches at a time, at most `offset + limit` of them.
   */
  reverse?: boolean;
  maxLineBytes?: number;
  /** Progress of the read (for a terminal display). */
  onProgress?: (p: ReadProgress) => void;
  /**
   * The caller writes each batch's entries out before asking for the next batch: their `bytes`
   * may then be views of a reused read buffer, valid only until then (no copy per match).
   * Ignored with `reverse`, which keeps a file's matches.
   */
  transientBytes?: boolean;
  /**
   * Set each entry's `prevHash`, its chain predecessor's stored hash (core/chain/predecessors.ts):
   * every line of the files read is then parsed (no cheap rejection before parsing), and the
   * last hash before the window is looked up in the files before it.
   */
  predecessors?: boolean;
  /**
   * Mark each entry verified or not (`ReadEntry.unverified`, core/chain/coverage.ts); default
   * true. Off for an output that never shows the mark (`-o raw`, `-c`, `-q`): no entry is then
   * canonicalized or hashed, and no skipped line classified.
   */
  chainMarks?: boolean;
  /**
   * The caller reads only each entry's bytes (`-o raw` into a pipe, `-c`, `-q`): a line in the
   * writer's exact form is then taken on its bytes (core/query/byte-facts.ts) even when no filter
   * rejects anything, its text, record and view made only if asked for. With a filter, lines are
   * decided on their bytes either way.
   */
  bytesOnly?: boolean;
}

/**
 * What `dir` holds of the stream asked for (see streams.ts), and those of its files that can
 * hold entries of the filter's window, in reading order (a chain's files in chain order).
 * @throws AuditDirError (also for a directory without audit files when `requireFiles`).
 * @throws StreamChoiceError when no stream is given and the directory holds several.
 */
async function filesForWindow(
  dir: string,
  filter: FilterSpec,
  options: { requireFiles?: boolean; stream?: StreamKind } = {},
): Promise<{ source: AuditSource; files: AuditFile[] }> {
  const source = await resolveAuditSource(dir, options);
  const { from, to } = windowDates(filter.window ?? { since: null, until: null });
  return { source, files: filesInDateRange(source.files, from, to) };
}

/**
 * Streams matching entries (and the problems met on the way, for the caller to report).
 * @throws AuditDirError when the directory is missing, unreadable or has no audit file.
 * @throws StreamChoiceError when no stream is given and the directory holds several.
 * @throws FilterError for a bad filter.
 */
export async function* searchEntries(dir: string, options: SearchOptions): AsyncGenerator<ReadItem> {
  for await (const batch of searchEntryBatches(dir, options)) yield* batch;
}

/**
 * {@link searchEntries} a chunk of the file at a time: the matches and problems of each chunk
 * as one array, in output order (one asynchronous step per chunk instead of per entry, for
 * the hot loops of search and export). Never yields an empty array.
 * @throws AuditDirError when the directory is missing, unreadable or has no audit file.
 * @throws StreamChoiceError when no stream is given and the directory holds several.
 * @throws FilterError for a bad filter.
 */
export async function* searchEntryBatches(dir: string, options: SearchOptions): AsyncGenerator<ReadItem[]> {
  const filter = compileFilter(options.filter);
  const { source, files } = await filesForWindow(dir, options.filter, { stream: options.stream });
  /** A tracker from the start of `file` (its predecessor: the last hash of the files before it). */
  const trackerAt = async (file: AuditFile | undefined): Promise<PredecessorTracker | undefined> => {
    if (!options.predecessors || !file) return undefined;
    const i = source.files.indexOf(file);
    return new PredecessorTracker(
      i > 0 ? await storedHashBefore(source.files, i - 1, Infinity, options.maxLineBytes) : null,
    );
  };
  // Each entry handed out says whether its chain covers it (coverage.ts).
  const chain = options.chainMarks === false ? undefined : new ChainCoverage(source.files, options.maxLineBytes);
  let skip = options.offset ?? 0;
  let left = options.limit ?? Infinity;
  if (left <= 0) return;
  /** The items of `batch` to hand out after offset and limit (problems always pass). */
  const take = (batch: ReadItem[]): ReadItem[] => {
    if (skip === 0 && left >= batch.length) {
      left -= batch.length;
      for (const item of batch) if (item.kind === 'problem') left++;
      return batch;
    }
    const out: ReadItem[] = [];
    for (const item of batch) {
      if (item.kind === 'problem') out.push(item);
      else if (skip > 0) skip--;
      else if (left > 0) {
        left--;
        out.push(item);
      }
    }
    return out;
  };
  if (!options.reverse) {
    for await (const batch of matchingBatches(
      files,
      filter,
      options.maxLineBytes,
      options.onProgress,
      options.transientBytes,
      chain,
      await trackerAt(files[0]),
      options.bytesOnly,
    )) {
      const out = take(batch);
      if (out.length) yield out;
      if (left <= 0) return;
    }
    return;
  }
  const report = options.onProgress;
  const sizes = report ? files.map((f) => sizeOf(f.path)) : [];
  const bytesTotal = sizes.reduce((a, b) => a + b, 0);
  let bytesBefore = 0;
  for (let i = files.length - 1; i >= 0; i--) {
    // Only the newest `skip + left` matches of a file can be handed out or skipped: a ring of
    // that many, so that `--reverse --limit N` holds N entries, not a whole file's matches.
    const cap = skip + left;
    const inFile: ReadEntry[] = [];
    let head = 0;
    const filesBefore = files.length - 1 - i;
    const onProgress =
      report &&
      ((p: ReadProgress) =>
        report({
          filesDone: filesBefore + p.filesDone,
          files: files.length,
          bytesDone: bytesBefore + p.bytesDone,
          bytesTotal,
        }));
    const tracker = await trackerAt(files[i]);
    for await (const batch of matchingBatches(
      [files[i]],
      filter,
      options.maxLineBytes,
      onProgress,
      false,
      chain,
      tracker,
      options.bytesOnly,
    )) {
      const problems: ReadItem[] = [];
      for (const item of batch) {
        if (item.kind === 'problem') problems.push(item);
        else if (inFile.length < cap) inFile.push(item);
        else {
          inFile[head] = item;
          head = head + 1 === cap ? 0 : head + 1;
        }
      }
      if (problems.length) yield problems;
    }
    if (report) bytesBefore += sizes[i];
    const out = take(inFile.slice(head).concat(inFile.slice(0, head)).reverse());
    if (out.length) yield out;
    if (left <= 0) return;
  }
}

/**
 * Entries of `files` that pass `filter`, oldest first, with problems, a chunk at a time (never an
 * empty array). `chain`: marks each entry verified or not (see ReadEntry.unverified). With
 * `tracker` (which must start at `files[0]`), every entry is parsed and seen by it before the
 * filter, so that each match gets its chain predecessor.
 */
async function* matchingBatches(
  files: AuditFile[],
  filter: EntryFilter,
  maxLineBytes?: number,
  onProgress?: (p: ReadProgress) => void,
  transientBytes = false,
  chain?: ChainTracker,
  tracker?: PredecessorTracker,
  bytesOnly = false,
): AsyncGenerator<ReadItem[]> {
  if (tracker) {
    // Every entry parsed and seen by the tracker before the filter.
    for await (const batch of readEntryBatches(files, { maxLineBytes, chain, onProgress, transientBytes })) {
      const out = batch.filter(
        (item) => item.kind === 'problem' || (tracker.see(item), filter.matches(item.view, item.record, item.text)),
      );
      if (out.length) yield out;
    }
    return;
  }
  for await (const batch of readEntryBatches(files, {
    maxLineBytes,
    chain,
    onProgress,
    transientBytes,
    needles: filter.needles,
    prefilter: (t: string) => filter.prefilterRest(t),
    prefilterBytes: (b: Buffer) => filter.prefilterBytes(b),
    // Lines in the writer's exact form are decided on their bytes (byte-facts.ts), the rest parsed.
    // An AND of flags: the needle found one flag's literal; a line without another's is skipped
    // before the byte path reads it (as after it: the prefilter rejects what cannot match).
    selectBytes:
      filter.active || bytesOnly
        ? filter.prefilterNarrows
          ? (b, stream) => filter.prefilterBytes(b) && filter.matchesBytes(b, stream)
          : (b, stream) => filter.matchesBytes(b, stream)
        : undefined,
    matches: (e) => filter.matches(e.view, e.record, e.text),
  }))
    if (batch.length) yield batch;
}
