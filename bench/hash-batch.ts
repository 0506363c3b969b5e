/**
 * Per-call SHA-256 cost of the candidates for verify's hashing, on the same lines
 * (`npx tsx bench/hash-batch.ts DIR [ROUNDS]`): one `createHash` per line, one `crypto.hash`
 * per line, and the npm packages that hash many small messages from one object (hash-wasm's
 * reused WASM hasher: init/update/digest per line; @noble/hashes, pure JS), each fed the
 * lines of a whole 1 MiB read at a time. Each line is hashed with a 64-character hex prefix
 * (as the chain rule does, `sha256(prev + line)`), so the bytes are those verify hashes.
 *
 * The packages are not dependencies of the project (bench/results/decisions.md says why):
 * `npm install --no-save hash-wasm @noble/hashes` first, or their rows print "not installed".
 * Prints one line per method and round: `method lines wall_s cpu_s` (cpu: user+sys of this
 * process), methods interleaved round by round so that load from elsewhere hits all alike.
 */
import { createHash, hash } from 'node:crypto';
import { closeSync, openSync, readSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

type Batch = (prefix: Buffer, lines: Buffer[]) => number;

const dir = process.argv[2];
const rounds = Number(process.argv[3] ?? 3);
if (!dir) throw new Error('usage: hash-batch.ts DIR [ROUNDS]');
const files = readdirSync(dir)
  .filter((f) => /^audit-.*\.jsonl$/.test(f))
  .sort()
  .map((f) => join(dir, f));

/** Calls `each` with the lines (no newline) of every 1 MiB read, in file order. */
function forEachBatch(each: (lines: Buffer[]) => void): void {
  const buf = Buffer.allocUnsafe(1 << 20);
  for (const f of files) {
    const fd = openSync(f, 'r');
    let pos = 0;
    let carry = Buffer.alloc(0);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      pos += n;
      const chunk = carry.length ? Buffer.concat([carry, buf.subarray(0, n)]) : buf.subarray(0, n);
      const lines: Buffer[] = [];
      let start = 0;
      for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
        lines.push(chunk.subarray(start, nl));
        start = nl + 1;
      }
      each(lines);
      carry = Buffer.from(chunk.subarray(start));
    }
    closeSync(fd);
  }
}

const methods: [string, Batch | null][] = [
  [
    'node createHash per line',
    (prefix, lines) => {
      let x = 0;
      for (const l of lines) x ^= createHash('sha256').update(prefix).update(l).digest('hex').charCodeAt(0);
      return x;
    },
  ],
  [
    'node crypto.hash per line',
    (prefix, lines) => {
      let x = 0;
      for (const l of lines) x ^= hash('sha256', Buffer.concat([prefix, l]), 'hex').charCodeAt(0);
      return x;
    },
  ],
  [
    'node crypto.hash per line, one reused input buffer',
    (() => {
      let input = Buffer.allocUnsafe(1 << 16);
      return (prefix: Buffer, lines: Buffer[]) => {
        let x = 0;
        prefix.copy(input, 0);
        for (const l of lines) {
          if (input.length < 64 + l.length) {
            input = Buffer.allocUnsafe(2 * (64 + l.length));
            prefix.copy(input, 0);
          }
          l.copy(input, 64);
          x ^= hash('sha256', input.subarray(0, 64 + l.length), 'hex').charCodeAt(0);
        }
        return x;
      };
    })(),
  ],
];

/** The packages' APIs as used here (they are not dependencies, so not typed from them). */
interface Hasher {
  init(): Hasher;
  update(data: Uint8Array): Hasher;
  digest(as: 'hex'): string;
  digest(as: 'binary'): Uint8Array;
}
/** Imports a package that may not be installed, by a name the type-checker does not resolve. */
const load = (name: string): Promise<Record<string, unknown>> => import(name) as Promise<Record<string, unknown>>;

async function optional(): Promise<void> {
  try {
    const createSHA256 = (await load('hash-wasm')).createSHA256 as () => Promise<Hasher>;
    const h = await createSHA256();
    methods.push([
      'hash-wasm: one WASM hasher, init/update/digest per line',
      (prefix, lines) => {
        let x = 0;
        for (const l of lines) x ^= h.init().update(prefix).update(l).digest('hex').charCodeAt(0);
        return x;
      },
    ]);
    methods.push([
      'hash-wasm: same, binary digest',
      (prefix, lines) => {
        let x = 0;
        for (const l of lines) x ^= h.init().update(prefix).update(l).digest('binary')[0]!;
        return x;
      },
    ]);
  } catch {
    methods.push(['hash-wasm (not installed)', null]);
  }
  try {
    const sha256 = (await load('@noble/hashes/sha2.js')).sha256 as {
      create(): { update(d: Uint8Array): { update(d: Uint8Array): { digest(): Uint8Array } } };
    };
    methods.push([
      '@noble/hashes sha256 per line (pure JS)',
      (prefix, lines) => {
        let x = 0;
        for (const l of lines) x ^= sha256.create().update(prefix).update(l).digest()[0]!;
        return x;
      },
    ]);
  } catch {
    methods.push(['@noble/hashes (not installed)', null]);
  }
}

await optional();
for (const [name, fn] of methods) if (!fn) process.stdout.write(`${name}\n`);
const prefix = Buffer.from('0'.repeat(64), 'latin1');
let sink = 0;
for (let r = 1; r <= rounds; r++) {
  for (const [name, fn] of methods) {
    if (!fn) continue;
    let lines = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    forEachBatch((batch) => {
      lines += batch.length;
      sink ^= fn(prefix, batch);
    });
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    process.stdout.write(`${name}\t${lines}\t${wall.toFixed(2)}\t${((c.user + c.system) / 1e6).toFixed(2)}\n`);
  }
}
process.stdout.write(`(sink ${sink})\n`);
