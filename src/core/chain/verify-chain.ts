/**
 * Verifying Loki Mode's dashboard chain through a list of files: first the parallel fast path
 * (parallel/fast-path.ts), which can only prove the chain intact, then, the moment it gives up,
 * the sequential walker (sequential/walker.ts), which says exactly what is wrong. Both forms
 * exist because the intact case is what cron sees every night and must run at the speed of
 * hashing, while a break needs the whole diagnosis.
 */
import type { Worker } from 'node:worker_threads';
import type { AuditFile } from '../read/files.js';
import { sizeOf, type ReadProgress } from '../read/entries.js';
import { DEFAULT_MAX_LINE_BYTES } from '../read/lines.js';
import { verifyChainFast, type FastFileResult } from './parallel/fast-path.js';
import { gapNote, type ChainReport, type FileReport, type Location } from './report.js';
import { walkChain } from './sequential/walker.js';

/** Options for {@link verifyDashboardChain}. */
export interface VerifyOptions {
  maxLineBytes?: number;
  /**
   * The hash the first entry must chain from, when `files` start mid-history (e.g. the last
   * stored hash of the file before them). Default: the genesis hash.
   */
  startHash?: string;
  /** Stored hashes to look for (checkpointed or expected heads); where each is found is reported. */
  lookFor?: ReadonlySet<string>;
  /** Called after each file. */
  onFile?: (report: FileReport) => void;
  /**
   * Progress over `files` (bytes are sizes on disk), after each file. When the fast path gives
   * up, the sequential verifier starts over and so does the count.
   */
  onProgress?: (p: ReadProgress) => void;
  /** Called with the reason when the fast path gives up (shown with `LOKI_AUDIT_DEBUG=1`). */
  onFastPathGaveUp?: (reason: string) => void;
  /**
   * Worker threads for the parallel fast path (default: the cores, at most 4). 0 turns the fast
   * path off (sequential verifier only, e.g. to compare the two).
   */
  jobs?: number;
  /** The fast path's jobs all go to the workers, none to this thread (see FastChainOptions). */
  workersOnly?: boolean;
  /** Below this many bytes the fast path runs without worker threads (default 32 MiB). */
  parallelMinBytes?: number;
  /** Byte ranges a plain file is cut into for the fast path (default 16 MiB). */
  jobBytes?: number;
  /** Starts the fast path's worker threads (default: the built verify-worker.js). */
  startWorker?: () => Worker;
}

/**
 * Verifies the dashboard chain through `files` (already in chain order).
 * Never throws for bad content; I/O errors on a file become `io-error` findings.
 */
export async function verifyDashboardChain(files: AuditFile[], options: VerifyOptions = {}): Promise<ChainReport> {
  const onFile = fileListener(files, options);
  if (options.jobs !== 0) {
    const fast = await verifyChainFast(files, {
      maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
      startHash: options.startHash || undefined,
      lookFor: options.lookFor,
      jobs: options.jobs,
      workersOnly: options.workersOnly,
      parallelMinBytes: options.parallelMinBytes,
      jobBytes: options.jobBytes,
      startWorker: options.startWorker,
      onFile: onFile ? (i, r) => onFile(fastFileReport(files[i], r)) : undefined,
    });
    if (fast.ok) return fastReport(files, fast.files);
    options.onFastPathGaveUp?.(fast.reason);
  }
  return walkChain(files, { ...options, onFile });
}

/** `onFile` and `onProgress` as one per-file callback. */
function fileListener(files: AuditFile[], options: VerifyOptions): ((r: FileReport) => void) | undefined {
  const { onFile, onProgress } = options;
  if (!onProgress) return onFile;
  const sizes = new Map(files.map((f) => [f.name, sizeOf(f.path)]));
  const progress: ReadProgress = {
    filesDone: 0,
    files: files.length,
    bytesDone: 0,
    bytesTotal: [...sizes.values()].reduce((a, b) => a + b, 0),
  };
  const done = new Set<string>();
  return (fr) => {
    onFile?.(fr);
    // A file reported a second time: the fast path gave up and the walker started over.
    if (done.has(fr.file)) {
      done.clear();
      progress.filesDone = 0;
      progress.bytesDone = 0;
    }
    done.add(fr.file);
    progress.filesDone++;
    progress.bytesDone += sizes.get(fr.file) ?? 0;
    onProgress({ ...progress });
  };
}

function fastFileReport(file: AuditFile, r: FastFileResult): FileReport {
  return {
    file: file.name,
    path: file.path,
    schema: r.schema,
    lines: r.entries,
    entriesVerified: r.entries,
    preIntegrityEntries: 0,
    verdict: 'intact',
    lastHash: r.lastHash,
    bytes: r.bytes,
    completeBytes: r.bytes,
    lastEntryOffset: r.lastEntryOffset,
    lastEntrySha256: r.lastEntrySha256,
  };
}

/** The report of a chain the fast path proved intact: the same as the sequential verifier's. */
function fastReport(files: AuditFile[], results: FastFileResult[]): ChainReport {
  const found = new Map<string, Location>();
  let head: ChainReport['chainHead'] = null;
  let genesisFile: string | null = null;
  let verified = 0;
  results.forEach((r, i) => {
    const name = files[i].name;
    for (const f of r.found) if (!found.has(f.hash)) found.set(f.hash, { file: name, line: f.line, offset: f.offset });
    if (r.entries > 0) {
      genesisFile ??= name;
      head = { file: name, line: r.entries, offset: r.lastEntryOffset ?? 0, hash: r.lastHash ?? '' };
    }
    verified += r.entries;
  });
  const gap = gapNote(files);
  return {
    verdict: 'intact',
    files: results.map((r, i) => fastFileReport(files[i], r)),
    findings: [],
    notes: gap ? [gap] : [],
    entriesVerified: verified,
    chainHead: head,
    genesisFile,
    found,
  };
}
