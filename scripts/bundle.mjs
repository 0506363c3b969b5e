// Bundles the CLI (src/cli.ts, with oclif and every dependency) into dist/cli.cjs, and the
// worker threads next to it (dist/verify-worker.js, which src/core/chain/parallel/fast-path.ts
// starts; dist/fleet-worker.js, which src/core/chain/fleet.ts starts for `verify` of several
// directories), so that a start loads one file instead of ~250 modules (see src/cli.ts). V8's code
// cache for it is written next (scripts/code-cache.mjs); type checking is tsc's.
import { build } from 'esbuild';

const common = { bundle: true, platform: 'node', target: 'node20', logLevel: 'warning', legalComments: 'eof' };
await build({
  ...common,
  entryPoints: { cli: 'src/cli.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  // CommonJS: the form V8's code cache can be made for on Node 20 (vm.Script).
  format: 'cjs',
  define: { 'import.meta.url': '__bundleUrl' },
  // No import() left (lazy imports become require()): Node 20 loses a vm.Script's dynamic-import
  // callback when its code comes from the code cache (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING).
  supported: { 'dynamic-import': false },
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  // oclif's TypeScript support for linked plugins (never used by an installed CLI).
  external: ['typescript', 'ts-node'],
});
await build({
  ...common,
  entryPoints: {
    'verify-worker': 'src/core/chain/parallel/verify-worker.ts',
    'fleet-worker': 'src/core/chain/fleet-worker.ts',
  },
  outdir: 'dist',
  format: 'esm',
  // The CommonJS dependencies call require() for Node's built-in modules.
  banner: {
    js:
      'import { createRequire as __bundleRequire } from ' +
      "'node:module'; const require = __bundleRequire(import.meta.url);",
  },
});
console.log('dist/cli.cjs: bundled');
