/**
 * Huge audit lines for the streaming chain hash (src/core/pyjson/streaming-canonical.ts): writes a
 * file with one entry of a given size among ordinary ones, sealed with the writer's rule
 * (`sealEntry`), and verifies a file in a child process that runs the module bundled for plain
 * Node (no TypeScript loader, whose own ~40 MB would count in the child's peak RSS), reporting the
 * peak RSS and the time. Used by test/core/pyjson/streaming-canonical.test.ts and bench/bigline.ts.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import { makeEntry, prng } from '../../scripts/sample.js';
import { GENESIS_HASH } from '../../src/core/chain/rule.js';
import { sealEntry } from '../../src/core/write/seal.js';
import { ROOT } from './cli.js';

/**
 * A string of `chars` characters as a tool's captured output might be: plain text with, every ~4 KB,
 * quotes, a backslash, a tab, a newline and non-ASCII (two-byte, three-byte and astral) characters
 * that the writer escapes. (Denser escapes make `sealEntry`'s pyQuote, not the hash, the slow part.)
 */
export function bigText(chars: number): string {
  const unit =
    'build step 17: "compile" \\ ok\tcafé 李雷 😀 /usr/lib\n' + 'lorem ipsum dolor sit amet, consectetur '.repeat(100);
  return unit.repeat(Math.ceil(chars / unit.length)).slice(0, chars);
}

/**
 * Writes `file`: `before` ordinary entries, one whose `details.output` holds `chars` characters
 * (the line is larger: escapes), `after` ordinary entries, chained from the genesis with the
 * writer's rule. Returns the stored hashes in line order.
 */
export function writeBigLineFile(file: string, chars: number, { before = 3, after = 2, seed = 1 } = {}): string[] {
  const r = prng(seed);
  const fd = openSync(file, 'w');
  const hashes: string[] = [];
  let prev = GENESIS_HASH;
  let micros = 1_780_000_000_000_000n;
  try {
    for (let i = 0; i < before + 1 + after; i++) {
      micros += 1_234_567n;
      const entry = makeEntry(r, micros, i + 1, 0.5, 'writer');
      if (i === before) entry.details = { ...(entry.details as object), output: bigText(chars), exit_code: 0 };
      const { line, hash } = sealEntry(entry, prev);
      writeSync(fd, line);
      hashes.push(hash);
      prev = hash;
    }
  } finally {
    closeSync(fd);
  }
  return hashes;
}

/** Bundles src/core/pyjson/NAME.ts into `dir/NAME.mjs` for plain Node; returns its path. */
export function bundleStreaming(dir: string, name = 'streaming-canonical'): string {
  const outfile = join(dir, `${name}.mjs`);
  buildSync({
    entryPoints: [join(ROOT, 'src', 'core', 'pyjson', `${name}.ts`)],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    outfile,
    logLevel: 'warning',
  });
  return outfile;
}

/** What the child found. */
export interface ChildReport {
  /** Stored hashes of the lines, in order. */
  stored: string[];
  /** Lines whose computed hash was not the stored one (1-based), or that did not hash. */
  failures: Array<{ line: number; why: string }>;
  /** Longest line, bytes. */
  longest: number;
  /** Peak RSS of the child, bytes (`process.resourceUsage().maxRSS`). */
  maxRss: number;
  /** Peak RSS before the first hash (the module loaded, nothing read), bytes. */
  baseRss: number;
  /** Time spent hashing (line scanning included), ms. */
  ms: number;
}

// The child: finds the lines with 1 MiB reads (offsets only) and chains them from the genesis.
const CHILD = `
import { closeSync, openSync, readSync } from 'node:fs';
const { streamingChainHash, fdByteSource } = await import(process.argv[1]);
const file = process.argv[2];
const baseRss = process.resourceUsage().maxRSS * 1024;
const t0 = performance.now();
const fd = openSync(file, 'r');
const source = fdByteSource(fd);
const buf = Buffer.alloc(1 << 20);
const stored = [];
const failures = [];
let prev = '0'.repeat(64);
let lineStart = 0;
let lineNo = 0;
let longest = 0;
let pos = 0;
for (;;) {
  const n = readSync(fd, buf, 0, buf.length, pos);
  if (n === 0) break;
  let from = 0;
  for (let nl = buf.indexOf(10, 0); nl >= 0 && nl < n; nl = buf.indexOf(10, from)) {
    const end = pos + nl;
    lineNo++;
    longest = Math.max(longest, end - lineStart);
    const r = streamingChainHash(source, lineStart, end, prev, { hashKeys: ['_integrity_hash', 'chain_hash'] });
    if (r.kind !== 'entry' || typeof r.stored !== 'string') failures.push({ line: lineNo, why: r.kind });
    else {
      if (r.computed !== r.stored) failures.push({ line: lineNo, why: 'computed ' + r.computed });
      stored.push(r.stored);
      prev = r.stored;
    }
    lineStart = end + 1;
    from = nl + 1;
  }
  pos += n;
}
closeSync(fd);
const ms = performance.now() - t0;
console.log(JSON.stringify({ stored, failures, longest, maxRss: process.resourceUsage().maxRSS * 1024, baseRss, ms }));
`;

// For comparison, the in-memory path (bench only): the whole line as a string, canonicalizeEntry, one SHA-256.
const IN_MEMORY_CHILD = `
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
const { canonicalizeEntry, pyStrip } = await import(process.argv[1]);
const baseRss = process.resourceUsage().maxRSS * 1024;
const t0 = performance.now();
const data = readFileSync(process.argv[2]);
const stored = [];
const failures = [];
let prev = '0'.repeat(64);
let longest = 0;
let lineNo = 0;
for (let start = 0, nl = data.indexOf(10); nl >= 0; start = nl + 1, nl = data.indexOf(10, start)) {
  lineNo++;
  longest = Math.max(longest, nl - start);
  const text = pyStrip(data.toString('utf8', start, nl));
  const r = canonicalizeEntry(text, { hashKeys: ['_integrity_hash', 'chain_hash'] });
  const computed = createHash('sha256').update(prev + r.canonical).digest('hex');
  if (computed !== r.hashValue) failures.push({ line: lineNo, why: 'computed ' + computed });
  stored.push(r.hashValue);
  prev = r.hashValue;
}
const ms = performance.now() - t0;
console.log(JSON.stringify({ stored, failures, longest, maxRss: process.resourceUsage().maxRSS * 1024, baseRss, ms }));
`;

/**
 * Verifies every line of `file` in a child running the bundle from {@link bundleStreaming}; with
 * `inMemory`, the bundle is canonical.ts's and each line is canonicalized as one string instead.
 */
export function verifyInChild(bundle: string, file: string, inMemory = false): ChildReport {
  const code = inMemory ? IN_MEMORY_CHILD : CHILD;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code, pathToFileURL(bundle).href, file], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`the verifying child failed (exit ${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout) as ChildReport;
}
