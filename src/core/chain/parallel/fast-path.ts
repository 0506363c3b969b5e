/**
 * Parallel verification of an intact chain: the fast path of `verify`.
 *
 * Every entry stores its own hash, so entry *n* can be checked against the **stored** hash of
 * entry *n−1* without waiting for anything before it (spec §3: `hash_n = sha256(stored_{n−1} +
 * canonical_n)`). The files are cut into jobs (a plain file into byte ranges on line
 * boundaries, a `.gz` file whole); each job checks its entries against their predecessors
 * inside the job, on worker threads, and hands back its first entry's canonical text, which
 * the coordinator checks against the previous job's last stored hash, in chain order.
 *
 * This path only ever proves "intact". At the first thing that is not a plain, intact,
 * writer-formatted entry (a mismatch, a malformed or blank line, CRLF, raw non-ASCII, a torn
 * last line, an entry without a hash, an unreadable file) it gives up and returns null, and the
 * caller runs the sequential verifier (../sequential/walker.ts), which produces the exact diagnosis. Lines not
 * in the writer's byte form but valid go through the general canonicalizer (pyjson/canonical.ts), as the
 * sequential verifier does.
 */
import { closeSync, readSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { AuditFile } from '../../read/files.js';
import { openAuditFile } from '../../read/lines.js';
import { openRegularFile } from '../../read/open.js';
import { chainHash, GENESIS_HASH, HASH_KEYS, sha256Hex } from '../rule.js';
import { ByteCanonicalizer } from '../../pyjson/canonical-bytes.js';
import { canonicalizeEntry, pyStrip } from '../../pyjson/canonical.js';

/** One unit of work: the lines of `path` that start in `[start, end)` (end -1: to the end of the file). */
export interface ChainJob {
  path: string;
  gz: boolean;
  start: number;
  end: number;
  maxLineBytes: number;
  /** Stored hashes to report the location of (anchors). */
  lookFor: string[];
}

/** What a job found. When `ok` is false, nothing else is meaningful. */
export interface ChainJobResult {
  ok: boolean;
  /** Why the fast path gave up (for tests and debugging). */
  reason?: string;
  /** Entries (= lines: a job with any other line gives up). */
  entries: number;
  /**
   * The first entry: canonical text (checked by the coordinator against the previous job's last hash)
   * and stored hash.
   */
  firstCanonical: string | null;
  firstStored: string | null;
  lastStored: string | null;
  /** Offset and SHA-256 of the last entry's bytes (without newline). */
  lastOffset: number;
  lastSha256: string | null;
  /** Offset just past the last line's newline. */
  endOffset: number;
  writer: number;
  documented: number;
  /** [hash, entry index in the job (0-based), offset] of each `lookFor` hash seen. */
  found: [string, number, number][];
}

function emptyResult(): ChainJobResult {
  return {
    ok: true,
    entries: 0,
    firstCanonical: null,
    firstStored: null,
    lastStored: null,
    lastOffset: -1,
    lastSha256: null,
    endOffset: 0,
    writer: 0,
    documented: 0,
    found: [],
  };
}

function giveUp(reason: string): ChainJobResult {
  return { ...emptyResult(), ok: false, reason };
}

/** Per-thread buffers, reused by every job of the thread (no allocation churn: flat RSS). */
const scratch = { buf: Buffer.allocUnsafe(1024 * 1024), canon: new ByteCanonicalizer() };

class JobScanner {
  readonly result: ChainJobResult = emptyResult();
  buf: Buffer = scratch.buf;
  len = 0;
  /** File offset of buf[0]. */
  base = 0;
  skipFirst: boolean;
  done = false;
  private readonly canon = scratch.canon;
  private readonly lookFor: Set<string>;
  /** Whether an entry was seen (then canon.out[0, 64) holds its stored hash). */
  private started = false;
  private lastLine: Buffer | null = null;
  /** DataViews of `buf` and of the canonicalizer's output, for word-wise compares (renewed when either is replaced). */
  private bufView: DataView = new DataView(new ArrayBuffer(0));
  private viewed: Buffer | null = null;
  private outView: DataView = new DataView(new ArrayBuffer(0));
  private outViewed: Buffer | null = null;

  constructor(private readonly job: ChainJob) {
    this.skipFirst = job.start > 0;
    this.lookFor = new Set(job.lookFor);
  }

  fail(reason: string): void {
    if (!this.done) Object.assign(this.result, giveUp(reason));
    this.done = true;
  }

  /** Processes the whole lines in buf[0, len); keeps the rest at the front. */
  lines(): void {
    const buf = this.buf;
    const end = this.job.end;
    let p = 0;
    let lastStart = -1;
    let lastEnd = -1;
    while (!this.done) {
      const nl = buf.indexOf(10, p);
      if (nl < 0 || nl >= this.len) break;
      if (this.skipFirst) {
        this.skipFirst = false;
        p = nl + 1;
        continue;
      }
      if (end >= 0 && this.base + p >= end) {
        this.done = true;
        break;
      }
      if (nl - p > this.job.maxLineBytes) return this.fail('line too long');
      this.line(buf, p, nl);
      lastStart = p;
      lastEnd = nl;
      this.result.endOffset = this.base + nl + 1;
      p = nl + 1;
    }
    if (lastStart >= 0) this.lastLine = Buffer.from(buf.subarray(lastStart, lastEnd));
    if (this.done) return;
    buf.copyWithin(0, p, this.len);
    this.base += p;
    this.len -= p;
    if (this.len === buf.length) {
      if (buf.length > this.job.maxLineBytes + 2) return this.fail('line too long');
      const bigger = Buffer.allocUnsafe(buf.length * 2);
      buf.copy(bigger, 0, 0, this.len);
      this.buf = bigger;
      if (bigger.length <= 8 * 1024 * 1024) scratch.buf = bigger;
    }
  }

  private line(buf: Buffer, start: number, end: number): void {
    const c = this.canon;
    const r = this.result;
    const n = c.entry(buf, start, end);
    // The previous stored hash lives in c.out[0, 64) (the hash input's prefix), as bytes.
    if (n > 0) {
      const hs = c.hashStart;
      if (c.hashEnd - hs !== 64) return this.fail('stored hash is not 64 characters');
      const out = c.out;
      if (buf !== this.viewed) {
        this.viewed = buf;
        this.bufView = new DataView(buf.buffer, buf.byteOffset, buf.length);
      }
      if (out !== this.outViewed) {
        this.outViewed = out;
        this.outView = new DataView(out.buffer, out.byteOffset, out.length);
      }
      const bv = this.bufView;
      const ov = this.outView;
      if (!this.started) {
        r.firstCanonical = out.toString('latin1', 64, n);
        r.firstStored = buf.toString('latin1', hs, hs + 64);
        buf.copy(out, 0, hs, hs + 64);
      } else {
        // The digest goes where the next entry's prev belongs; it is kept only if it equals the
        // stored hash (4 bytes at a time: ~2x a char loop, measured). A plain Uint8Array view
        // of the input costs less than a Buffer's subarray.
        out.write(sha256Hex(new Uint8Array(out.buffer, out.byteOffset, n)), 0, 64, 'latin1');
        for (let i = 0; i < 64; i += 4) if (ov.getUint32(i) !== bv.getUint32(hs + i)) return this.fail('hash mismatch');
      }
      this.count(c.hashKind, start, this.lookFor.size ? buf.toString('latin1', hs, hs + 64) : null);
      return;
    }
    // Not in the writer's byte form: the general canonicalizer, as the sequential verifier.
    // Anything that verifier would note or report (CR, raw non-ASCII, blank, malformed,
    // no string hash) makes this path give up.
    for (let i = start; i < end; i++) {
      const b = buf[i];
      if (b === 0x0d || b >= 0x80) return this.fail('CR or non-ASCII byte');
    }
    const text = pyStrip(buf.toString('latin1', start, end));
    if (!text) return this.fail('blank line');
    let parsed;
    try {
      parsed = canonicalizeEntry(text, { hashKeys: HASH_KEYS });
    } catch {
      return this.fail('not JSON as Python reads it');
    }
    if (!parsed.isObject || typeof parsed.hashValue !== 'string') return this.fail('not an entry with a hash');
    if (parsed.duplicateKeys) return this.fail('a key twice in an object');
    const stored = parsed.hashValue;
    const out = c.out;
    if (!this.started) {
      r.firstCanonical = parsed.canonical;
      r.firstStored = stored;
    } else if (chainHash(out.toString('latin1', 0, 64), parsed.canonical) !== stored) return this.fail('hash mismatch');
    if (stored.length !== 64) return this.fail('stored hash is not 64 characters');
    for (let i = 0; i < 64; i++) out[i] = stored.charCodeAt(i);
    this.count(parsed.hashKey === '_integrity_hash' ? 1 : 2, start, this.lookFor.size ? stored : null);
  }

  /** Books a verified entry; its stored hash is in canon.out[0, 64). */
  private count(kind: number, start: number, stored: string | null): void {
    const r = this.result;
    this.started = true;
    if (kind === 1) r.writer++;
    else r.documented++;
    if (stored !== null && this.lookFor.has(stored)) r.found.push([stored, r.entries, this.base + start]);
    r.entries++;
    r.lastOffset = this.base + start;
  }

  finish(): ChainJobResult {
    if (!this.done && this.len > 0) this.fail('last line has no newline');
    if (this.result.ok && this.started) this.result.lastStored = this.canon.out.toString('latin1', 0, 64);
    if (this.result.ok && this.lastLine) this.result.lastSha256 = sha256Hex(this.lastLine);
    return this.result;
  }
}

/**
 * Runs one job (in a worker or in process).
 * Never throws: an I/O error gives up like any other surprise (the sequential verifier reports it).
 */
export async function runChainJob(job: ChainJob): Promise<ChainJobResult> {
  const s = new JobScanner(job);
  try {
    if (job.gz) {
      for await (const chunk of openAuditFile(job.path) as AsyncIterable<Buffer>) {
        let at = 0;
        while (at < chunk.length && !s.done) {
          const n = Math.min(chunk.length - at, s.buf.length - s.len);
          chunk.copy(s.buf, s.len, at, at + n);
          s.len += n;
          at += n;
          s.lines();
        }
        if (s.done) break;
      }
    } else {
      const fd = openRegularFile(job.path);
      try {
        s.base = job.start > 0 ? job.start - 1 : 0;
        while (!s.done) {
          const r = readSync(fd, s.buf, s.len, s.buf.length - s.len, s.base + s.len);
          if (r === 0) break;
          s.len += r;
          s.lines();
        }
      } finally {
        closeSync(fd);
      }
    }
  } catch (err) {
    return giveUp(`cannot read: ${(err as Error).message}`);
  }
  return s.finish();
}

/** Per-file facts the sequential verifier reports, from the jobs of one file. */
export interface FastFileResult {
  entries: number;
  bytes: number;
  lastHash: string | null;
  lastEntryOffset: number | null;
  lastEntrySha256: string | null;
  schema: 'writer' | 'documented' | 'mixed' | 'none';
  found: { hash: string; line: number; offset: number }[];
}

/** Options for {@link verifyChainFast}. */
export interface FastChainOptions {
  maxLineBytes: number;
  startHash?: string;
  lookFor?: ReadonlySet<string>;
  /** Worker threads (default: available cores, at most 4); 1 runs in this thread. */
  jobs?: number;
  /**
   * This thread is busy elsewhere (summary's counting pass runs beside the check): it takes no
   * job, and `jobs` workers take them all. The caller must let the event loop run often, or the
   * workers wait for their next job.
   */
  workersOnly?: boolean;
  /** Below this many bytes, no worker threads are started (their start-up costs more). */
  parallelMinBytes?: number;
  /** Size of the byte ranges a plain file is cut into (default 16 MiB). */
  jobBytes?: number;
  /** Called with each file's result, in chain order, as soon as it and all before it are done. */
  onFile?: (index: number, result: FastFileResult) => void;
  /** Starts a worker thread running verify-worker (default {@link startVerifyWorker}). */
  startWorker?: () => Worker;
}

/**
 * A worker thread running the built `verify-worker.js` next to this module: in the bundle,
 * dist/verify-worker.js beside dist/cli.cjs (scripts/bundle.mjs). Code run from the TypeScript
 * sources passes its own `startWorker`.
 */
function startVerifyWorker(): Worker {
  return new Worker(new URL('./verify-worker.js', import.meta.url));
}

/**
 * The fast path's answer: every file proven intact, or why it gave up (the sequential verifier then
 * says what is wrong).
 */
export type FastChainResult = { ok: true; files: FastFileResult[] } | { ok: false; reason: string };

/** Default number of worker threads: the cores available, at most 4. */
function defaultJobs(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/**
 * Proves a chain intact in parallel, or gives up with the reason when it is not simply intact
 * (then run the sequential verifier for the diagnosis). Files are in chain order; files with a
 * `stream` or `startOffset` are not handled. Never throws: an error (a worker that cannot start,
 * a file that vanished) is a reason to give up.
 */
export async function verifyChainFast(files: AuditFile[], options: FastChainOptions): Promise<FastChainResult> {
  try {
    return await proveIntact(files, options);
  } catch (err) {
    return { ok: false, reason: `error: ${(err as Error).message}` };
  }
}

async function proveIntact(files: AuditFile[], options: FastChainOptions): Promise<FastChainResult> {
  if (files.some((f) => f.stream || f.startOffset)) return { ok: false, reason: 'a stream or a resumed file' };
  const jobs: { file: number; job: ChainJob }[] = [];
  const lookFor = [...(options.lookFor ?? [])];
  let total = 0;
  const jobBytes = options.jobBytes ?? 16 * 1024 * 1024;
  for (let i = 0; i < files.length; i++) {
    const f = files[i];
    let size: number;
    try {
      size = statSync(f.path).size;
    } catch (err) {
      return { ok: false, reason: `${f.name}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
    }
    total += size;
    const base = { path: f.path, gz: f.gz, maxLineBytes: options.maxLineBytes, lookFor };
    if (f.gz || size <= jobBytes * 1.5) {
      jobs.push({ file: i, job: { ...base, start: 0, end: -1 } });
      continue;
    }
    for (let start = 0; start < size; start += jobBytes) {
      jobs.push({ file: i, job: { ...base, start, end: start + jobBytes >= size ? -1 : start + jobBytes } });
    }
  }
  const threads = Math.min(options.jobs ?? defaultJobs(), jobs.length);
  const useWorkers = threads > (options.workersOnly ? 0 : 1) && total >= (options.parallelMinBytes ?? 32 * 1024 * 1024);
  const results: (ChainJobResult | undefined)[] = new Array(jobs.length);
  const perFile: FastFileResult[] = files.map(() => ({
    entries: 0,
    bytes: 0,
    lastHash: null,
    lastEntryOffset: null,
    lastEntrySha256: null,
    schema: 'none',
    found: [],
  }));
  let prev = options.startHash ?? GENESIS_HASH;
  let stitched = 0;
  let broken: string | null = null;
  // Stitch jobs in chain order as they complete: each job's first entry against the last
  // stored hash before it.
  const stitch = (): void => {
    while (!broken && stitched < jobs.length && results[stitched]) {
      const r = results[stitched]!;
      const { file } = jobs[stitched];
      if (!r.ok || (r.firstCanonical !== null && chainHash(prev, r.firstCanonical) !== r.firstStored)) {
        const where = `${files[file].name} (bytes from ${jobs[stitched].job.start})`;
        broken = r.ok ? `${where}: the first entry does not chain from the entry before it` : `${where}: ${r.reason}`;
        return;
      }
      const f = perFile[file];
      // Every line of a proven job is an entry: the file's entries so far are its lines so far.
      for (const [hash, index, offset] of r.found) f.found.push({ hash, line: f.entries + index + 1, offset });
      f.entries += r.entries;
      f.bytes = Math.max(f.bytes, r.endOffset);
      if (r.lastStored !== null) {
        prev = r.lastStored;
        f.lastHash = r.lastStored;
        f.lastEntryOffset = r.lastOffset;
        f.lastEntrySha256 = r.lastSha256;
      }
      const kinds =
        (r.writer ? 1 : 0) |
        (r.documented ? 2 : 0) |
        (f.schema === 'writer' ? 1 : f.schema === 'documented' ? 2 : f.schema === 'mixed' ? 3 : 0);
      if (kinds === 3) {
        // Both hash fields in one file: the sequential verifier notes it (a writer uses one).
        broken = `${files[file].name}: entries with both _integrity_hash and chain_hash`;
        return;
      }
      f.schema = kinds === 1 ? 'writer' : kinds === 2 ? 'documented' : 'none';
      stitched++;
      const next = jobs[stitched];
      if (!next || next.file !== file) options.onFile?.(file, f);
    }
  };
  if (!useWorkers) {
    for (let i = 0; i < jobs.length && !broken; i++) {
      results[i] = await runChainJob(jobs[i].job);
      stitch();
    }
  } else {
    await runOnWorkers(
      jobs.map((j) => j.job),
      options.workersOnly ? { here: false, workers: threads } : { here: true, workers: threads - 1 },
      options.startWorker ?? startVerifyWorker,
      (i, r) => {
        results[i] = r;
        stitch();
        return !broken;
      },
    );
  }
  if (broken) return { ok: false, reason: broken };
  return stitched < jobs.length ? { ok: false, reason: 'not every job finished' } : { ok: true, files: perFile };
}

/**
 * Runs jobs on `threads.workers` workers and, with `threads.here`, this thread (each worker holds
 * two jobs, so it never waits for this thread to hand it the next). `done` returns false to stop.
 */
async function runOnWorkers(
  jobs: ChainJob[],
  threads: { here: boolean; workers: number },
  startWorker: () => Worker,
  done: (index: number, r: ChainJobResult) => boolean,
): Promise<void> {
  let next = 0;
  let stop = false;
  const workers: Worker[] = [];
  const take = (): number => (stop || next >= jobs.length ? -1 : next++);
  const worker = () =>
    new Promise<void>((resolve, reject) => {
      const w = startWorker();
      workers.push(w);
      const queue: number[] = [];
      const feed = () => {
        const i = take();
        if (i >= 0) {
          queue.push(i);
          w.postMessage(jobs[i]);
        }
      };
      w.on('message', (r: ChainJobResult) => {
        if (!done(queue.shift()!, r)) stop = true;
        feed();
        if (!queue.length) resolve();
      });
      w.on('error', reject);
      w.on('exit', (code) => {
        if (queue.length) reject(new Error(`verify worker exited with code ${code}`));
      });
      feed();
      feed();
      if (!queue.length) resolve();
    });
  const here = async () => {
    if (!threads.here) return;
    for (let i = take(); i >= 0; i = take()) {
      if (!done(i, await runChainJob(jobs[i]))) stop = true;
      await new Promise((r) => setImmediate(r)); // let the workers' answers in
    }
  };
  try {
    await Promise.all([here(), ...Array.from({ length: threads.workers }, worker)]);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
