/**
 * `verify` over a whole audit directory: the dashboard chain (both schemas) plus any JS
 * AuditLog file, foreign files listed and ignored, head anchors checked, one verdict.
 */
import type { ChainReport, FileReport, Finding, Note } from './report.js';
import { verifyDashboardChain, type VerifyOptions } from './verify-chain.js';
import { discoverAuditFiles, type AuditFile } from '../read/files.js';
import { verifyJsAuditLog } from './js-auditlog.js';
import { statSync } from 'node:fs';
import { loadVerifyState, saveVerifyState, verifyIncremental, type VerifyState } from './incremental.js';
import type { ReadProgress } from '../read/entries.js';
import type { VerdictClass } from './verdict.js';
import { worse } from './verdict.js';
import { missingHeads, type HeadAnchor } from './anchors/heads.js';
import { retentionRuledOut } from './retention.js';
import { mergeOmitted, omittedFindings, type Omitted } from './bounded.js';
import { attachFindingEntries } from './finding-entries.js';
import { DEFAULT_MAX_LINE_BYTES } from '../read/lines.js';
import { entryTimeAt, freshnessFindings, type FreshnessLimits } from './freshness.js';

/** The result `verify --json` prints. */
export interface DirectoryReport {
  dir: string;
  verdict: VerdictClass;
  /** Whether --strict was asked for. */
  strict: boolean;
  /** Whether the report fails under --strict: anything not intact, or a note in {@link STRICT_NOTES}. */
  failsStrict: boolean;
  filesChecked: number;
  entriesVerified: number;
  /** The first finding in chain order (what Loki Mode's verifier would name), or null. */
  firstProblem: Finding | null;
  /** Every finding counted, kept or not. */
  problems: number;
  /** The first findings of each class and notes of each kind (bounded.ts); the rest in `omitted`. */
  findings: Finding[];
  notes: Note[];
  /** Findings and notes counted but not kept, per class and kind; absent when all were kept. */
  omitted?: Omitted;
  /**
   * The last stored hash and where it is; `time` (the head entry's `timestamp`, ISO 8601 as
   * written, null when unreadable) only when asked for (`readHeadTime`, `freshness`).
   */
  chainHead: (NonNullable<ChainReport['chainHead']> & { time?: string | null }) | null;
  genesisFile: string | null;
  files: FileReport[];
  /** Files named like audit files that are not part of the chain (never read). */
  ignored: string[];
  /** With --state: how many files were only checked by their remembered tail. */
  incremental?: { filesSkipped: number; state: string };
  /** With --checkpoints: what the store held. */
  checkpoints?: CheckpointsChecked;
  /** With --against-loki: what was compared (all counted, see core/chain/anchors/witness.ts). */
  witness?: WitnessSummary;
}

/** The Loki witness's counts (entries). */
export interface WitnessSummary {
  url: string;
  local: number;
  inLoki: number;
  matched: number;
  duplicates: number;
  notInLocal: number;
  differs: number;
  notInLoki: number;
  notForwarded: number;
}

/** Notes that make `--strict` fail. */
export const STRICT_NOTES: readonly Note['kind'][] = [
  'gap',
  'pre-integrity',
  'foreign',
  'rewritten',
  'resync',
  'mixed-schema',
  'no-checkpoints',
];

/** What `--checkpoints` checked: the store, how many checkpoints it held, the newest one's time. */
export interface CheckpointsChecked {
  store: string;
  /** Checkpoints read from the store (valid signature or not). */
  checked: number;
  /** `time` of the newest checkpoint with a valid signature (ISO 8601), or null. */
  newest: string | null;
}

/** Progress of a verification (for a terminal display). Bytes are file sizes on disk. */
export type VerifyProgress = ReadProgress;

/** Options for {@link verifyDirectory}. */
export interface VerifyDirectoryOptions extends Pick<
  VerifyOptions,
  'onProgress' | 'onFastPathGaveUp' | 'jobs' | 'startWorker' | 'maxLineBytes' | 'onFile'
> {
  strict?: boolean;
  /**
   * Loki Mode's retention (`LOKI_AUDIT_MAX_FILES`): with it, history starting mid-chain, or
   * remembered oldest files gone, while at most this many files (+ the live one) remain, is
   * retention — a note, not an alarm.
   */
  retentionFiles?: number;
  /**
   * Incremental: a state file of what was verified before (see incremental.ts); updated when nothing
   * was tampered with.
   */
  statePath?: string;
  /**
   * Heads recorded outside the log (signed checkpoints, `--expect-head`) that must be in the
   * chain. `where` is where the head was when recorded (for the message).
   */
  anchors?: HeadAnchor[];
  /** Problems with anchors found before verifying (e.g. a bad checkpoint signature, a witness). */
  anchorFindings?: Finding[];
  /** Notes from outside the chain (e.g. entries not forwarded yet). */
  extraNotes?: Note[];
  /** With --checkpoints: what the store held (copied into the report). */
  checkpoints?: CheckpointsChecked;
  /** Only these of the directory's two chains (`--stream`; default: both). */
  chains?: ReadonlyArray<'dashboard' | 'js'>;
  /** Read the chain head entry's `timestamp` into `chainHead.time` (for metrics). */
  readHeadTime?: boolean;
  /** `--max-age`, `--max-checkpoint-age`: stale heads and checkpoints become findings (freshness.ts). */
  freshness?: FreshnessLimits;
}

/**
 * Verifies one chain read from a byte stream (standard input): lines in chain order, e.g.
 * `search -o raw` or `zcat old.jsonl.gz`. `startHash` is the hash the first entry chains from
 * (default: the genesis hash).
 */
export async function verifyStream(
  stream: AsyncIterable<Buffer>,
  name: string,
  options: VerifyDirectoryOptions & { startHash?: string } = {},
): Promise<DirectoryReport> {
  const file: AuditFile = { path: name, name, date: null, piece: null, gz: false, chain: 'dashboard', stream };
  const r = await verifyDashboardChain([file], options);
  return assemble(name, [r], [], options.strict === true);
}

/**
 * Verifies every chain in `dir`.
 * @throws AuditDirError when the directory is missing, unreadable, or has no audit file.
 */
export async function verifyDirectory(dir: string, options: VerifyDirectoryOptions = {}): Promise<DirectoryReport> {
  const found = await discoverAuditFiles(dir);
  if (options.chains && !options.chains.includes('dashboard')) found.files = [];
  if (options.chains && !options.chains.includes('js')) found.jsFiles = [];
  const reports: ChainReport[] = [];
  const lookFor = new Set((options.anchors ?? []).map((a) => a.hash));
  let incremental: { next: VerifyState; skipped: number } | null = null;
  if (options.statePath && !options.anchors?.length) {
    const state = loadVerifyState(options.statePath, dir);
    if (state && found.files.length) {
      const r = await verifyIncremental(dir, found.files, state, {
        maxLineBytes: options.maxLineBytes,
        retentionFiles: options.retentionFiles,
        foreign: found.foreign,
      });
      reports.push(r.report);
      incremental = r;
    }
  }
  if (!incremental && found.files.length) {
    const r = await verifyDashboardChain(found.files, { ...options, lookFor });
    const midChain = r.findings.find((f) => f.reason === 'history-mid-chain' && f.file === found.files[0].name);
    if (options.retentionFiles !== undefined && midChain) {
      const max = options.retentionFiles;
      const why = retentionRuledOut(found.files, found.foreign, max, midChain.line);
      if (why) {
        r.notes.push({
          kind: 'retention',
          file: midChain.file,
          line: midChain.line,
          message: `retention of ${max} files (LOKI_AUDIT_MAX_FILES) does not explain the missing start: ${why}`,
        });
      } else {
        const retained = [midChain];
        r.findings = r.findings.filter((f) => !retained.includes(f));
        r.notes.push({
          kind: 'retention',
          file: retained[0].file,
          line: retained[0].line,
          message:
            `history starts mid-chain at ${retained[0].file}: older files removed, as retention of ${max} ` +
            `files does (${max} files up to the newest rotated piece, the oldest starting at its first line)`,
        });
        r.verdict = r.findings.reduce<VerdictClass>((v, f) => worse(v, f.class), 'intact');
        for (const fr of r.files)
          if (fr.file === retained[0].file)
            fr.verdict = r.findings
              .filter((f) => f.file === fr.file)
              .reduce<VerdictClass>((v, f) => worse(v, f.class), 'intact');
      }
    }
    reports.push(r);
  }
  for (const js of found.jsFiles) {
    const r = await verifyJsAuditLog(js, options.maxLineBytes);
    options.onFile?.(r.files[0]);
    reports.push(r);
  }
  const anchorFindings = [...(options.anchorFindings ?? []), ...missingHeads(options.anchors ?? [], reports)];
  if (anchorFindings.length) {
    reports.push({
      verdict: anchorFindings.reduce<VerdictClass>((v, f) => worse(v, f.class), 'intact'),
      files: [],
      findings: anchorFindings,
      notes: [],
      entriesVerified: 0,
      chainHead: null,
      genesisFile: null,
      found: new Map(),
    });
  }
  // The head entry's own time, read back from its file (one line; the chain walk does not keep it).
  const main = reports[0];
  // --state with nothing new since the last run: the head is the last entry the state remembers.
  if (main && !main.chainHead && incremental) {
    const last = incremental.next.files.filter((f) => f.lastEntryOffset !== null && f.lastHash).at(-1);
    if (last?.lastHash && last.lastEntryOffset !== null)
      main.chainHead = { file: last.name, line: last.lines, offset: last.lastEntryOffset, hash: last.lastHash };
  }
  let headTime: string | null | undefined;
  if (main?.chainHead && (options.readHeadTime || options.freshness)) {
    const head = main.chainHead;
    const path =
      main.files.find((f) => f.file === head.file)?.path ??
      [...found.files, ...found.jsFiles].find((f) => f.name === head.file)?.path;
    headTime = path ? await entryTimeAt(path, head.offset, options.maxLineBytes) : null;
  }
  if (options.freshness) {
    const stale = freshnessFindings(
      main?.chainHead ? { ...main.chainHead, time: headTime ?? null } : null,
      options.checkpoints,
      options.freshness,
    );
    if (stale.length)
      reports.push({
        verdict: stale.reduce<VerdictClass>((v, f) => worse(v, f.class), 'intact'),
        files: [],
        findings: stale,
        notes: [],
        entriesVerified: 0,
        chainHead: null,
        genesisFile: null,
        found: new Map(),
      });
  }
  if (options.extraNotes?.length)
    reports.push({
      verdict: 'intact',
      files: [],
      findings: [],
      notes: options.extraNotes,
      entriesVerified: 0,
      chainHead: null,
      genesisFile: null,
      found: new Map(),
    });
  const result = assemble(dir, reports, found.foreign, options.strict === true);
  const chainFiles = [
    ...found.files.map((f) => ({ file: f.name, path: f.path, js: false })),
    ...found.jsFiles.map((f) => ({ file: f.name, path: f.path, js: true })),
  ];
  await attachFindingEntries(result.findings, chainFiles, options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
  if (options.statePath && result.verdict !== 'tampered' && result.verdict !== 'anchor-mismatch') {
    const next: VerifyState = incremental?.next ?? {
      version: 1,
      dir,
      verifiedAt: new Date().toISOString(),
      entries: main?.entriesVerified ?? 0,
      files: (main?.files ?? []).map((f) => ({
        name: f.file,
        ino: inodeOf(f.path),
        bytes: f.completeBytes,
        lines: f.bytes > f.completeBytes ? f.lines - 1 : f.lines,
        lastEntryOffset: f.lastEntryOffset,
        lastEntrySha256: f.lastEntrySha256,
        lastHash: f.lastHash,
      })),
    };
    saveVerifyState(options.statePath, next);
  }
  if (incremental) result.incremental = { filesSkipped: incremental.skipped, state: options.statePath as string };
  if (options.checkpoints) result.checkpoints = options.checkpoints;
  if (result.chainHead && headTime !== undefined) result.chainHead = { ...result.chainHead, time: headTime };
  return result;
}

function inodeOf(path: string): number | null {
  try {
    return statSync(path).ino;
  } catch {
    return null;
  }
}

/** One report and verdict from the chains of a directory. */
function assemble(dir: string, reports: ChainReport[], foreign: string[], strict: boolean): DirectoryReport {
  const findings = reports.flatMap((r) => r.findings);
  const notes = reports.flatMap((r) => r.notes);
  const omitted = mergeOmitted(reports.map((r) => r.omitted));
  if (foreign.length) {
    notes.push({
      kind: 'foreign',
      message:
        `ignored ${foreign.length} file(s) not named audit-YYYY-MM-DD[.HHMMSS].jsonl[.gz]: ` + foreign.join(', '),
    });
  }
  let verdict: VerdictClass = 'intact';
  for (const r of reports) verdict = worse(verdict, r.verdict);
  const failsStrict = verdict !== 'intact' || notes.some((n) => STRICT_NOTES.includes(n.kind));
  const main = reports[0];
  return {
    dir,
    verdict,
    strict,
    failsStrict,
    filesChecked: reports.reduce((n, r) => n + r.files.length, 0),
    entriesVerified: reports.reduce((n, r) => n + r.entriesVerified, 0),
    firstProblem: findings[0] ?? null,
    problems: findings.length + omittedFindings(omitted),
    findings,
    notes,
    ...(omitted ? { omitted } : {}),
    chainHead: main?.chainHead ?? null,
    genesisFile: main?.genesisFile ?? null,
    files: reports.flatMap((r) => r.files),
    ignored: foreign,
  };
}
