/** bin/load-cli.js: the bundled CLI with V8's code cache, and without it when it does not fit. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { ROOT, tempDir } from '../helpers/cli.js';

/** A copy of the installed CLI (bin, dist, package.json, manifest: the bundle needs no node_modules). */
function installCopy(dir: string): string {
  for (const p of ['bin', 'dist', 'package.json', 'oclif.manifest.json'])
    cpSync(join(ROOT, p), join(dir, p), { recursive: true });
  mkdirSync(join(dir, 'node_modules'));
  return dir;
}

/** What loadCli says of the cache in `root`: false accepted, true rejected by V8, null not used. */
function cacheState(root: string): boolean | null {
  const loader = pathToFileURL(join(root, 'bin', 'load-cli.js')).href;
  const r = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { loadCli } = await import(${JSON.stringify(loader)}); ` +
        `console.log(JSON.stringify(loadCli().cacheRejected));`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim()) as boolean | null;
}

/** `verify` of examples/audit with the CLI installed at `root`; its stdout, once it exited 0. */
const verify = (root: string): string => {
  const r = spawnSync(
    process.execPath,
    [join(root, 'bin', 'run.js'), 'verify', '--dir', join(ROOT, 'examples', 'audit')],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 0, `verify with the CLI in ${root}: ${r.stderr}`);
  assert.match(r.stdout, /^intact: .* 700 entries verified/m);
  return r.stdout;
};

describe('load-cli', () => {
  it("the build's code cache is accepted by this Node", () => {
    assert.equal(cacheState(ROOT), false);
  });

  it('a cache made for another bundle is not used; one V8 refuses is rejected; the CLI works the same either way', () => {
    const t = tempDir();
    try {
      const root = installCopy(t.dir);
      const want = verify(ROOT);
      assert.equal(verify(root), want, 'the installed copy runs without node_modules');
      const cachePath = join(root, 'dist', 'cli.cjs.cache');
      const cache = readFileSync(cachePath);
      // Another bundle's CRC-32: not used at all.
      const other = Buffer.from(cache);
      other[0] ^= 0xff;
      writeFileSync(cachePath, other);
      assert.equal(cacheState(root), null);
      assert.equal(verify(root), want);
      // A damaged payload (V8 would crash on it: it does not checksum code caches in release builds): not used.
      const damaged = Buffer.from(cache);
      for (let i = 40; i < damaged.length; i += 97) damaged[i] ^= 0x5a;
      writeFileSync(cachePath, damaged);
      assert.equal(cacheState(root), null);
      assert.equal(verify(root), want);
      // Intact, but for another V8 (its version hash changed, both CRCs made to fit): V8 refuses it.
      const foreign = Buffer.from(cache);
      foreign[8 + 4] ^= 0x01; // the payload's version hash (after V8's 4-byte magic number)
      foreign.writeUInt32LE(crc32(foreign.subarray(8)), 4);
      writeFileSync(cachePath, foreign);
      assert.equal(cacheState(root), true);
      assert.equal(verify(root), want);
      writeFileSync(cachePath, Buffer.alloc(0));
      assert.equal(cacheState(root), null);
      assert.equal(verify(root), want);
    } finally {
      t.cleanup();
    }
  });
});
