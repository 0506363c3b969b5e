/**
 * `summary`: what happened in a time window — totals, outcomes, counts by event, level and
 * actor, first and last time, the most recent failures, and the chain status of the files
 * covered. Files are picked by name before any is opened; entries stream one at a time.
 */
import { availableParallelism } from 'node:os';
import { KEPT_PER_KIND, omittedFindings } from '../chain/bounded.js';
import type { Finding } from '../chain/report.js';
import { verifyJsAuditLog } from '../chain/js-auditlog.js';
import type { ChainReport } from '../chain/report.js';
import { storedHashBefore } from '../chain/stored-hash.js';
import { ChainCoverage } from '../chain/coverage.js';
import { verifyDashboardChain } from '../chain/verify-chain.js';
import { filesInDateRange, type AuditFile } from '../read/files.js';
import type { StreamKind } from '../read/streams.js';
import { resolveAuditSource } from '../read/streams.js';
import type { FilterSpec } from './filters.js';
import { compileFilter, type EntryFilter } from './filters.js';
import { compactJson, memberText } from '../read/json-text.js';
import type { Level } from '../read/view.js';
import { LEVELS } from '../read/view.js';
import { EventLoopTurns } from '../runtime/turns.js';
import { readEntryBatches, type ReadItem, type ReadProgress } from '../read/entries.js';
import type { BytesView } from './byte-facts.js';
import type { TimeWindow } from './time.js';
import { windowDates } from './time.js';
import type { VerdictClass } from '../chain/verdict.js';
import { worse } from '../chain/verdict.js';

/** A count for one key. */
export interface Count {
  key: string;
  count: number;
}

/** A failed entry, for the "recent failures" list. */
export interface FailureLine {
  timestamp: string;
  event: string;
  actor: string;
  error: string | null;
  file: string;
  line: number;
}

/** A line that could not be read as an entry. */
export interface ProblemLine {
  file: string;
  line: number;
  code: string;
  message: string;
}

/** What `summary --json` prints. */
export interface Summary {
  dir: string;
  /** The streams summarized (streams.ts): `dashboard` and/or `js`, or `agent`, or `session`. */
  streams: StreamKind[];
  /** The window, ISO 8601 UTC; null when unbounded. */
  since: string | null;
  until: string | null;
  /** Names of the files read. */
  files: string[];
  total: number;
  success: number;
  failure: number;
  byLevel: Record<Level, number>;
  /** Top `top` events, most frequent first (ties by name). */
  byEvent: Count[];
  byActor: Count[];
  /**
   * Loki Mode's own split (its summary API's `by_action` and `by_resource_type`, spec §6.2): top
   * `top` raw `action` and `resource_type` values of the writer-schema entries (missing or null:
   * `unknown`). Entries of other schemas are not in them.
   */
  byAction: Count[];
  byResourceType: Count[];
  distinctEvents: number;
  distinctActors: number;
  distinctActions: number;
  distinctResourceTypes: number;
  /** Earliest and latest entry timestamps in the window (as written). */
  first: string | null;
  last: string | null;
  /** Most recent failures, newest last (at most `recentFailures`). */
  recentFailures: FailureLine[];
  /** Lines that are not entries (bad JSON, invalid UTF-8, …): count and the first few. */
  problemCount: number;
  problems: ProblemLine[];
  /** Files that could not be read (their entries are missing from the counts). */
  unreadableFiles: number;
  /**
   * Entries of `total` that their chain covers (core/chain/coverage.ts: each carries a stored
   * hash that chains from the entry before it), whatever `verifyChain` says. Entries of a
   * stream without a chain (agent, session) are in neither this nor `unverified`.
   */
  verified: number;
  /** Entries of `total` their chain does not cover, never among `verified`; by reason. */
  unverified: UnverifiedSplit;
  /**
   * Entries of `total` with a stored hash that were not checked (`verifyChain: false`: no
   * hashing at all), in neither `verified` nor `unverified`; 0 otherwise.
   */
  unchecked: number;
  /**
   * Chain status of the dashboard files covered; null with `verifyChain: false` or when no
   * dashboard file is covered.
   */
  chain: ChainStatus | null;
  /**
   * Chain status of the JS AuditLog (`audit.jsonl`, spec §5), checked whole (its file has no
   * date); null with `verifyChain: false` or when there is none.
   */
  jsChain: ChainStatus | null;
}

/** Entries not covered by their chain, by reason (see UnverifiedReason in read/entries.ts). */
export interface UnverifiedSplit {
  total: number;
  /** No stored hash: pre-integrity (written before integrity was on), or not writer output. */
  noHash: number;
  /** After an unreadable line, and not chaining from the entry before that line. */
  afterUnreadable: number;
  /** The stored hash is not the chain rule's hash from the entry before (edited, forged, forked). */
  doesNotChain: number;
}

/** One-line chain status for a summary. */
export interface ChainStatus {
  verdict: VerdictClass;
  entriesVerified: number;
  firstProblem: Finding | null;
  findings: number;
}

/** Options for {@link summarize}. */
export interface SummaryOptions {
  window: TimeWindow;
  /** Entry filters (event, level, actor …) on top of the window; its own `window` is ignored. */
  filter?: FilterSpec;
  /** Which of Loki Mode's streams (default: detected from the directory, see streams.ts). */
  stream?: StreamKind;
  top?: number;
  recentFailures?: number;
  verifyChain?: boolean;
  maxLineBytes?: number;
  /** Progress of the chain check, then of the counting pass (for a terminal display). */
  onProgress?: (p: ReadProgress, phase: 'reading' | 'chain') => void;
  /** Why the chain check's fast path gave up, if it did (see verify-chain.ts). */
  onFastPathGaveUp?: (reason: string) => void;
  /**
   * Entries read elsewhere (`summary --from-loki`: the forwarded copy, core/query/remote.ts),
   * counted instead of `dir`'s files: no file is read and no chain checked (`chain` null, and
   * entries with a stored hash `unchecked`); the window still applies.
   */
  entries?: AsyncIterable<ReadItem>;
}

const MAX_PROBLEMS_KEPT = KEPT_PER_KIND;
/** How long the counting pass runs before it lets the event loop (and the workers' answers) in. */
const YIELD_EVERY_MS = 10;

function topCounts(m: Map<string, number>, top: number): Count[] {
  return [...m.entries()]
    .map(([key, count]) => ({ key, count }))
    .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .slice(0, top);
}

/**
 * A raw field as a key of Loki Mode's split: a string as it is; a number, boolean or nested
 * value as its text in the line (`18446744073709551617`, `1.0`: exactly as written, any depth);
 * `NaN` as `NaN` (the parse read it as null); `unknown` when missing or null. `strict`: the line
 * is standard JSON, so a null is a null.
 */
function rawKey(record: Record<string, unknown>, text: string, strict: boolean, key: string): string {
  const v = record[key];
  if (typeof v === 'string') return v;
  if (v === undefined || (v === null && strict)) return 'unknown';
  const raw = memberText(text, key);
  return raw === undefined || raw === 'null' ? 'unknown' : compactJson(raw);
}

/**
 * Summarizes the entries of `dir` inside `options.window`.
 * @throws AuditDirError when the directory is missing, unreadable or has no audit file.
 * @throws StreamChoiceError when no stream is given and the directory holds several.
 */
export async function summarize(dir: string, options: SummaryOptions): Promise<Summary> {
  const source = options.entries
    ? { streams: [] as StreamKind[], files: [] }
    : await resolveAuditSource(dir, { stream: options.stream });
  const { from, to } = windowDates(options.window);
  const files = filesInDateRange(source.files, from, to);
  const chainFiles = files.filter((f) => f.chain === 'dashboard');
  const jsFiles = files.filter((f) => f.chain === 'js-auditlog');
  const { since, until } = options.window;
  const top = options.top ?? 10;
  const inWindow = compileFilter({ ...options.filter, window: options.window });

  const onProgress = options.onProgress;
  const checkChain = options.verifyChain !== false && (chainFiles.length > 0 || jsFiles.length > 0);
  // The chain check and the counting pass run side by side (the check on worker threads, see
  // verify-chain.ts): the counting pass hashes nothing and notes which entries carry a hash.
  // Where the check then finds the chain intact, an entry is verified iff it carries one
  // (coverage.ts, `trusted`), so those counts stand; otherwise the counting pass runs again,
  // judging each entry against the one before it, as before the check was made parallel.
  const check = checkChain ? checkChains(source.files, chainFiles, jsFiles, options) : null;
  // Its failure is thrown below, once counting is done; not an unhandled rejection meanwhile.
  check?.catch(() => undefined);
  // Reading progress only without a check alongside (one progress line at a time).
  const first = await countEntries(files, source.files, inWindow, options, {
    presenceOnly: options.verifyChain === false || checkChain,
    onProgress: checkChain ? undefined : onProgress,
  });
  const { chain, jsChain } = check ? await check : { chain: null, jsChain: null };
  const trusted: Array<'dashboard' | 'js-auditlog'> = [];
  if (chain?.verdict === 'intact' && chain.findings === 0) trusted.push('dashboard');
  if (jsChain?.verdict === 'intact' && jsChain.findings === 0) trusted.push('js-auditlog');
  let counts = first;
  if (checkChain) {
    const needJudging =
      (chainFiles.length > 0 && !trusted.includes('dashboard')) ||
      (jsFiles.length > 0 && !trusted.includes('js-auditlog'));
    if (needJudging) counts = await countEntries(files, source.files, inWindow, options, { trusted, onProgress });
    else {
      // Hashed entries of trusted chains are verified (what `trusted` coverage says of them).
      counts.verified += counts.hashedBy.dashboard + counts.hashedBy['js-auditlog'];
      counts.unchecked -= counts.hashedBy.dashboard + counts.hashedBy['js-auditlog'];
    }
  }
  const {
    total,
    failure,
    byLevel,
    byEvent,
    byActor,
    byAction,
    byResourceType,
    failures,
    problems,
    problemCount,
    unreadableFiles,
    verified,
    unverified,
    unchecked,
  } = counts;
  const firstSeen = counts.first;
  const last = counts.last;

  return {
    dir,
    streams: source.streams,
    since: since === null ? null : new Date(since).toISOString(),
    until: until === null ? null : new Date(until).toISOString(),
    files: files.map((f) => f.name),
    total,
    success: total - failure,
    failure,
    byLevel,
    byEvent: topCounts(byEvent, top),
    byActor: topCounts(byActor, top),
    byAction: topCounts(byAction, top),
    byResourceType: topCounts(byResourceType, top),
    distinctEvents: byEvent.size,
    distinctActors: byActor.size,
    distinctActions: byAction.size,
    distinctResourceTypes: byResourceType.size,
    first: firstSeen?.s ?? null,
    last: last?.s ?? null,
    recentFailures: failures,
    problemCount,
    problems,
    unreadableFiles,
    verified,
    unverified,
    unchecked,
    chain,
    jsChain,
  };
}

/** What the counting pass of {@link summarize} counts. */
interface Counts {
  total: number;
  failure: number;
  byLevel: Record<Level, number>;
  byEvent: Map<string, number>;
  byActor: Map<string, number>;
  byAction: Map<string, number>;
  byResourceType: Map<string, number>;
  first: { t: number; s: string } | null;
  last: { t: number; s: string } | null;
  failures: FailureLine[];
  problems: ProblemLine[];
  problemCount: number;
  unreadableFiles: number;
  verified: number;
  unverified: UnverifiedSplit;
  unchecked: number;
  /** Of `unchecked`: entries of each chain that carry a hash (verified if that chain is intact). */
  hashedBy: { dashboard: number; 'js-auditlog': number };
}

/**
 * The counting pass over `files` (of the directory's `allFiles`), entries in `inWindow` only.
 * `pass.trusted`: chains a full check found intact; `pass.presenceOnly`: hash nothing (see
 * ChainCoverage). Problems are counted, never thrown.
 */
async function countEntries(
  files: AuditFile[],
  allFiles: AuditFile[],
  inWindow: EntryFilter,
  options: SummaryOptions,
  pass: {
    trusted?: Array<'dashboard' | 'js-auditlog'>;
    presenceOnly?: boolean;
    onProgress?: SummaryOptions['onProgress'];
  },
): Promise<Counts> {
  const onProgress = pass.onProgress;
  const keepFailures = options.recentFailures ?? 5;
  const chainOf = new Map<string, string>(files.map((f) => [f.name, f.chain]));
  const hashedBy = { dashboard: 0, 'js-auditlog': 0 };
  const byEvent = new Map<string, number>();
  const byActor = new Map<string, number>();
  const byAction = new Map<string, number>();
  const byResourceType = new Map<string, number>();
  const count = (m: Map<string, number>, key: string) => m.set(key, (m.get(key) ?? 0) + 1);
  const byLevel = Object.fromEntries(LEVELS.map((l) => [l, 0])) as Record<Level, number>;
  let total = 0;
  let failure = 0;
  let first: { t: number; s: string } | null = null;
  let last: { t: number; s: string } | null = null;
  const failures: FailureLine[] = [];
  const problems: ProblemLine[] = [];
  let problemCount = 0;
  let unreadableFiles = 0;
  let verified = 0;
  let unchecked = 0;
  const unverified: UnverifiedSplit = { total: 0, noHash: 0, afterUnreadable: 0, doesNotChain: 0 };

  // The directory's lines are filtered by the read, those in the writer's exact form on their
  // bytes with their view made from them (core/query/byte-facts.ts); entries read elsewhere here.
  const batches: AsyncIterable<ReadItem[]> = options.entries
    ? oneByOne(options.entries)
    : readEntryBatches(files, {
        maxLineBytes: options.maxLineBytes,
        onProgress: onProgress && ((p) => onProgress(p, 'reading')),
        // With `presenceOnly`, only whether an entry has a hash (see `unchecked`).
        chain: new ChainCoverage(allFiles, options.maxLineBytes, {
          trusted: pass.trusted,
          presenceOnly: pass.presenceOnly,
        }),
        selectBytes: (bytes, stream) => {
          const verdict = inWindow.matchesBytes(bytes, stream);
          return verdict === true ? inWindow.bytesView() : verdict;
        },
        matches: (e) => inWindow.matches(e.view, e.record, e.text),
      });
  const turns = new EventLoopTurns(YIELD_EVERY_MS);
  for await (const batch of batches) {
    // Reads are synchronous and a batch's promise settles as a microtask, so this loop never
    // lets the event loop run: the chain check's workers, waiting for their next job, would idle
    // until the counting is done (runtime/turns.ts).
    const turn = turns.due();
    if (turn) await turn;
    for (const item of batch) {
      if (item.kind === 'problem') {
        problemCount++;
        if (item.code === 'io-error') unreadableFiles++;
        if (problems.length < MAX_PROBLEMS_KEPT)
          problems.push({ file: item.file, line: item.line, code: item.code, message: item.message });
        continue;
      }
      const v: BytesView = item.view;
      // The same window rule as search (entries without a readable time only when unbounded).
      if (options.entries && !inWindow.matches(v, item.record, item.text)) continue;
      total++;
      if (item.unverified === null) verified++;
      else if (item.unverified === undefined) {
        if (v.schema !== 'agent-audit' && v.schema !== 'session-audit') {
          unchecked++;
          const c = chainOf.get(item.file);
          if (c === 'dashboard' || c === 'js-auditlog') hashedBy[c]++;
        }
      } else {
        unverified.total++;
        if (item.unverified === 'no-hash') unverified.noHash++;
        else if (item.unverified === 'after-unreadable') unverified.afterUnreadable++;
        else unverified.doesNotChain++;
      }
      byEvent.set(v.event, (byEvent.get(v.event) ?? 0) + 1);
      byActor.set(v.actor, (byActor.get(v.actor) ?? 0) + 1);
      if (v.schema === 'writer') {
        // From the bytes when the view was made from them (byte-facts.ts), else from the parse.
        count(byAction, v.rawAction ?? rawKey(item.record, item.text, item.strictJson, 'action'));
        count(byResourceType, v.rawResourceType ?? rawKey(item.record, item.text, item.strictJson, 'resource_type'));
      }
      byLevel[v.level]++;
      if (!Number.isNaN(v.time)) {
        if (!first || v.time < first.t) first = { t: v.time, s: v.timestamp };
        if (!last || v.time >= last.t) last = { t: v.time, s: v.timestamp };
      }
      if (v.outcome === 'failure') {
        failure++;
        failures.push({
          timestamp: v.timestamp,
          event: v.event,
          actor: v.actor,
          error: v.error,
          file: item.file,
          line: item.line,
        });
        if (failures.length > keepFailures) failures.shift();
      }
    }
  }

  return {
    total,
    failure,
    byLevel,
    byEvent,
    byActor,
    byAction,
    byResourceType,
    first,
    last,
    failures,
    problems,
    problemCount,
    unreadableFiles,
    verified,
    unverified,
    unchecked,
    hashedBy,
  };
}

/** Items from elsewhere (`--from-loki`) as batches of one. */
async function* oneByOne(items: AsyncIterable<ReadItem>): AsyncGenerator<ReadItem[]> {
  for await (const item of items) yield [item];
}

/**
 * The chain check of summarize: the dashboard files covered, from the last stored hash before
 * them (verify-chain.ts), and the JS AuditLog files.
 */
async function checkChains(
  allFiles: AuditFile[],
  chainFiles: AuditFile[],
  jsFiles: AuditFile[],
  options: SummaryOptions,
): Promise<{ chain: ChainStatus | null; jsChain: ChainStatus | null }> {
  const onProgress = options.onProgress;
  const dashboard = allFiles.filter((f) => f.chain === 'dashboard');
  let chain: ChainStatus | null = null;
  if (chainFiles.length > 0) {
    const index = dashboard.indexOf(chainFiles[0]);
    let startHash: string | undefined;
    if (index > 0)
      startHash = (await storedHashBefore(dashboard, index - 1, Infinity, options.maxLineBytes)) ?? undefined;
    const r = await verifyDashboardChain(chainFiles, {
      maxLineBytes: options.maxLineBytes,
      startHash,
      onProgress: onProgress && ((p) => onProgress(p, 'chain')),
      onFastPathGaveUp: options.onFastPathGaveUp,
      // This thread counts meanwhile: the check's jobs all go to workers, one core fewer
      // (1M writer entries, 2 cores: 6.4 s with this thread taking jobs, 4.4–4.9 s so).
      workersOnly: true,
      jobs: Math.max(1, Math.min(4, availableParallelism() - 1)),
    });
    chain = chainStatus([r]);
  }
  let jsChain: ChainStatus | null = null;
  if (jsFiles.length > 0) {
    const reports: ChainReport[] = [];
    for (const f of jsFiles) reports.push(await verifyJsAuditLog(f, options.maxLineBytes));
    jsChain = chainStatus(reports);
  }
  return { chain, jsChain };
}

/** The one-line status of one or more chain reports: the worst verdict, the first problem. */
function chainStatus(reports: ChainReport[]): ChainStatus {
  const findings = reports.flatMap((r) => r.findings);
  return {
    verdict: reports.reduce<VerdictClass>((v, r) => worse(v, r.verdict), 'intact'),
    entriesVerified: reports.reduce((n, r) => n + r.entriesVerified, 0),
    firstProblem: findings[0] ?? null,
    findings: findings.length + reports.reduce((n, r) => n + omittedFindings(r.omitted), 0),
  };
}
