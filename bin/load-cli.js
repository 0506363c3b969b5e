// Loads the bundled CLI (dist/cli.cjs) with V8's code cache (dist/cli.cjs.cache, written by the
// build): the compiled code of the bundle and of the functions a start runs is read instead of
// compiled again, ~30 ms of every start (--version 151 -> 121 ms, measured). This is what
// Node >= 22.1 does by itself with module.enableCompileCache(); Node 20 has only the vm API.
//
// The cache is used only when its 8-byte header holds the CRC-32 of the bundle it was made from
// and that of its own payload (V8 checks its version and flags, and rejects a cache that does
// not fit them, but does not checksum the payload in release builds: a damaged one crashed it);
// otherwise the bundle is simply compiled. The module is registered in require.cache, so
// oclif's own require of dist/cli.cjs (package.json oclif.commands) gets this same instance.
import { isAscii } from 'node:buffer';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { crc32 } from 'node:zlib';

export const BUNDLE = fileURLToPath(new URL('../dist/cli.cjs', import.meta.url));
const CODE_CACHE = BUNDLE + '.cache';

/** Evaluates the bundle; returns its exports and a function writing the code cache (for the build). */
export function loadCli() {
  const source = readFileSync(BUNDLE);
  let cachedData;
  try {
    const cache = readFileSync(CODE_CACHE);
    const payload = cache.subarray(8);
    if (cache.length > 8 && cache.readUInt32LE(0) === crc32(source) && cache.readUInt32LE(4) === crc32(payload))
      cachedData = payload;
  } catch {
    // no cache: compile
  }
  // The bundle has no import() (scripts/bundle.mjs), so it needs no importModuleDynamically.
  // The build makes the bundle ASCII (scripts/bundle.mjs): read as latin1, it is a one-byte
  // string made by a copy, where a UTF-8 decode validated and widened it (~12 ms of a start).
  const text = source.toString(isAscii(source) ? 'latin1' : 'utf8');
  const script = new vm.Script(Module.wrap(text), { filename: BUNDLE, cachedData });
  const mod = new Module(BUNDLE);
  mod.filename = BUNDLE;
  mod.paths = Module._nodeModulePaths(dirname(BUNDLE));
  const require = createRequire(BUNDLE);
  script.runInThisContext()(mod.exports, require, mod, BUNDLE, dirname(BUNDLE));
  mod.loaded = true;
  require.cache[BUNDLE] = mod;
  const writeCodeCache = () => {
    const payload = script.createCachedData();
    const header = Buffer.alloc(8);
    header.writeUInt32LE(crc32(source), 0);
    header.writeUInt32LE(crc32(payload), 4);
    writeFileSync(CODE_CACHE, Buffer.concat([header, payload]));
  };
  return {
    exports: mod.exports,
    cacheRejected: cachedData ? script.cachedDataRejected === true : null,
    writeCodeCache,
  };
}
