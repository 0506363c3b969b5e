/**
 * The Node floor for `verify`: one SHA-256 per line over the same lines, no parsing, no
 * canonical text, one thread (`npx tsx bench/hash-floor.ts DIR [createHash|hash]`). Each line
 * is hashed with the previous digest's hex in front, as the chain rule does
 * (`sha256(prev + line)`), so the bytes hashed are those verify hashes, give or take the
 * member order. Prints `lines seconds`; a floor to set verify's time against, not a verifier.
 */
import { createHash, hash } from 'node:crypto';
import { closeSync, openSync, readSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const how = process.argv[3] === 'hash' ? 'hash' : 'createHash';
if (!dir) throw new Error('usage: hash-floor.ts DIR [createHash|hash]');
const files = readdirSync(dir)
  .filter((f) => /^audit-.*\.jsonl$/.test(f))
  .sort();
const buf = Buffer.allocUnsafe(1 << 20);
let prev = '0'.repeat(64);
let lines = 0;
const t0 = performance.now();
for (const f of files) {
  const fd = openSync(join(dir, f), 'r');
  let pos = 0;
  let carry = Buffer.alloc(0);
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, pos);
    if (n === 0) break;
    pos += n;
    const chunk = carry.length ? Buffer.concat([carry, buf.subarray(0, n)]) : buf.subarray(0, n);
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      const line = chunk.subarray(start, nl);
      prev =
        how === 'hash'
          ? hash('sha256', Buffer.concat([Buffer.from(prev, 'latin1'), line]), 'hex')
          : createHash('sha256').update(prev, 'latin1').update(line).digest('hex');
      lines++;
      start = nl + 1;
    }
    carry = Buffer.from(chunk.subarray(start));
  }
  closeSync(fd);
}
process.stdout.write(`${lines} ${((performance.now() - t0) / 1000).toFixed(2)}\n`);
