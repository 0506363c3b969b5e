/**
 * `tail --follow`: the entries written after the history already shown, as they are written,
 * filtered, and with `verify` each one checked against the running chain head as it arrives
 * (spec §3: each entry chains from the one before it). A break is reported once, at the entry
 * that breaks, and the check goes on from that entry's stored hash.
 */
import { LiveChainChecker, type LiveCheck } from '../chain/live.js';
import { ChainCoverage } from '../chain/coverage.js';
import { compileFilter, type FilterSpec } from '../query/filters.js';
import { parseAssembled, parseLine, type ReadEntry, type ReadItem, type ReadProblem } from '../read/entries.js';
import { DEFAULT_MAX_LINE_BYTES } from '../read/lines.js';
import { ObjectAssembler } from '../read/objects.js';
import { STREAM_FILE_CHAIN, STREAM_FILE_NAMES, type AuditSource } from '../read/streams.js';
import { followDirectory, type FollowNotice, type FollowStart } from './directory.js';

/** What following yields, in the order it happens. */
export type LiveTailEvent =
  | { kind: 'entry'; entry: ReadEntry }
  | { kind: 'problem'; problem: ReadProblem }
  | { kind: 'chain-break'; file: string; line: number; check: LiveCheck }
  | { kind: 'notice'; notice: FollowNotice };

export interface LiveTailOptions {
  dir: string;
  /**
   * What the history was read from (`tailEntries().source`): its first stream is followed, in
   * its directory. Default: the dashboard chain in `dir`.
   */
  source?: AuditSource;
  spec: FilterSpec;
  /** Where the history shown ended (`tailEntries().followFrom`); default: the end of the newest file. */
  start?: FollowStart;
  /**
   * Check each new entry's chain hash. `chainHead` is the stored hash of the last entry before
   * `start` (null: the first entry must chain from the genesis hash).
   */
  verify?: { chainHead: string | null };
  /**
   * The stored hash of the last entry before `start` (`tailEntries().chainHead`): each new
   * dashboard-chain entry is then marked verified or not (`ReadEntry.unverified`, coverage.ts).
   * Absent: not marked.
   */
  chainHead?: string | null;
  pollMs?: number;
  maxLineBytes?: number;
  signal?: AbortSignal;
}

/**
 * Follows the directory until `signal` aborts. Every line is checked (with `verify`) before the
 * filter, so a break hidden among entries the filter drops is still reported.
 * @throws FilterError for a bad filter.
 */
export async function* followEntries(options: LiveTailOptions): AsyncGenerator<LiveTailEvent> {
  const filter = compileFilter(options.spec);
  const checker = options.verify ? new LiveChainChecker(options.verify.chainHead) : null;
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const followed = options.source?.streams[0] ?? 'dashboard';
  const stream = STREAM_FILE_CHAIN[followed];
  // The session audit's entries span lines (objects.ts): one assembler per file followed.
  let assembler = stream === 'session' ? new ObjectAssembler(max) : null;
  let current = '';
  const coverage = stream === 'dashboard' && options.chainHead !== undefined ? new ChainCoverage([], max) : null;
  coverage?.resume(options.chainHead ?? null);
  for await (const ev of followDirectory({
    dir: options.source?.home ?? options.dir,
    names: STREAM_FILE_NAMES[followed],
    start: options.start,
    pollMs: options.pollMs,
    maxLineBytes: options.maxLineBytes,
    signal: options.signal,
  })) {
    if (ev.type === 'notice') {
      if (assembler && (ev.notice.kind === 'switch' || ev.notice.kind === 'truncated')) {
        // An object left open in a file the writer has moved on from is reported; a truncated file is read again.
        if (ev.notice.kind === 'switch')
          for (const a of assembler.end(false))
            yield { kind: 'problem', problem: parseAssembled(a, current) as ReadProblem };
        assembler = new ObjectAssembler(max);
      }
      yield { kind: 'notice', notice: ev.notice };
      continue;
    }
    const l = ev.line;
    current = l.file;
    const items: ReadItem[] = [];
    if (assembler) for (const a of assembler.push(l)) items.push(parseAssembled(a, l.file));
    else {
      const item = parseLine(l, l.file, max, undefined, stream);
      if (item) items.push(item);
    }
    for (const item of items) {
      coverage?.item(item);
      if (checker) {
        const check = checker.check(item.kind === 'entry' ? item.text : l.bytes.toString('utf8'));
        if (!check.ok) yield { kind: 'chain-break', file: l.file, line: l.line, check };
      }
      if (item.kind === 'problem') {
        yield { kind: 'problem', problem: item };
        continue;
      }
      if (filter.prefilter(item.text) && filter.matches(item.view, item.record, item.text))
        yield { kind: 'entry', entry: item };
    }
  }
}
