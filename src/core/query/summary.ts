/**
 * `summary`: what happened in a time window — totals, outcomes, counts by event, level and
 * actor, first and last time, the most recent failures, and the chain status of the files
 * covered. Files are picked by name before any is opened; entries stream one at a time.
 */
import { KEPT_PER_KIND, omittedFindings } from '../chain/bounded.js';
import type { Finding } from '../chain/report.js';
import { verifyJsAuditLog } from '../chain/js-auditlog.js';
import type { ChainReport } from '../chain/report.js';
import { lastStoredHash } from '../chain/stored-hash.js';
import { ChainCoverage } from '../chain/coverage.js';
import { verifyDashboardChain } from '../chain/verify-chain.js';
import { filesInDateRange } from '../read/files.js';
import type { StreamKind } from '../read/streams.js';
import { resolveAuditSource } from '../read/streams.js';
import { compileFilter } from './filters.js';
import { compactJson, memberText } from '../read/json-text.js';
import type { Level } from '../read/view.js';
import { LEVELS } from '../read/view.js';
import { readEntries, type ReadItem, type ReadProgress } from '../read/entries.js';
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
  const dashboard = source.files.filter((f) => f.chain === 'dashboard');
  const chainFiles = files.filter((f) => f.chain === 'dashboard');
  const jsFiles = files.filter((f) => f.chain === 'js-auditlog');
  const { since, until } = options.window;
  const top = options.top ?? 10;
  const keepFailures = options.recentFailures ?? 5;
  const inWindow = compileFilter({ window: options.window });

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

  const onProgress = options.onProgress;
  let chain: ChainStatus | null = null;
  if (options.verifyChain !== false && chainFiles.length > 0) {
    const index = dashboard.indexOf(chainFiles[0]);
    let startHash: string | undefined;
    if (index > 0) {
      try {
        startHash = (await lastStoredHash(dashboard[index - 1], options.maxLineBytes)) ?? undefined;
      } catch {
        startHash = undefined;
      }
    }
    const r = await verifyDashboardChain(chainFiles, {
      maxLineBytes: options.maxLineBytes,
      startHash,
      onProgress: onProgress && ((p) => onProgress(p, 'chain')),
      onFastPathGaveUp: options.onFastPathGaveUp,
    });
    chain = chainStatus([r]);
  }
  let jsChain: ChainStatus | null = null;
  if (options.verifyChain !== false && jsFiles.length > 0) {
    const reports: ChainReport[] = [];
    for (const f of jsFiles) reports.push(await verifyJsAuditLog(f, options.maxLineBytes));
    jsChain = chainStatus(reports);
  }

  // The chain check ran first: where it found the files intact, an entry is verified iff it
  // carries a hash, and the counting pass hashes nothing again (coverage.ts).
  const trusted: Array<'dashboard' | 'js-auditlog'> = [];
  if (chain?.verdict === 'intact' && chain.findings === 0) trusted.push('dashboard');
  if (jsChain?.verdict === 'intact' && jsChain.findings === 0) trusted.push('js-auditlog');

  for await (const item of options.entries ??
    readEntries(files, {
      maxLineBytes: options.maxLineBytes,
      onProgress: onProgress && ((p) => onProgress(p, 'reading')),
      // Without the chain check, only whether an entry has a hash (see `unchecked`).
      chain: new ChainCoverage(source.files, options.maxLineBytes, {
        trusted,
        presenceOnly: options.verifyChain === false,
      }),
    })) {
    if (item.kind === 'problem') {
      problemCount++;
      if (item.code === 'io-error') unreadableFiles++;
      if (problems.length < MAX_PROBLEMS_KEPT)
        problems.push({ file: item.file, line: item.line, code: item.code, message: item.message });
      continue;
    }
    const v = item.view;
    // The same window rule as search (entries without a readable time only when unbounded).
    if (!inWindow.matches(v, item.record, item.text)) continue;
    total++;
    if (item.unverified === null) verified++;
    else if (item.unverified === undefined) {
      if (v.schema !== 'agent-audit' && v.schema !== 'session-audit') unchecked++;
    } else {
      unverified.total++;
      if (item.unverified === 'no-hash') unverified.noHash++;
      else if (item.unverified === 'after-unreadable') unverified.afterUnreadable++;
      else unverified.doesNotChain++;
    }
    byEvent.set(v.event, (byEvent.get(v.event) ?? 0) + 1);
    byActor.set(v.actor, (byActor.get(v.actor) ?? 0) + 1);
    if (v.schema === 'writer') {
      count(byAction, rawKey(item.record, item.text, item.strictJson, 'action'));
      count(byResourceType, rawKey(item.record, item.text, item.strictJson, 'resource_type'));
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
    first: first?.s ?? null,
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
