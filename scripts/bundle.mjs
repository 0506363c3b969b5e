// Bundles the CLI (src/cli.ts, with oclif and every dependency) into dist/cli.js, and each
// worker thread's module next to it (src/core/workers.ts finds them there), so that a start
// loads one file instead of ~250 modules (see src/cli.ts). Type checking is tsc's (npm run build).
import { build } from 'esbuild';

await build({
  entryPoints: { cli: 'src/cli.ts', 'fastchain-worker': 'src/core/fastchain-worker.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // The CommonJS dependencies call require() for Node's built-in modules.
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
  // oclif's TypeScript support for linked plugins (never used by an installed CLI).
  external: ['typescript', 'ts-node'],
  logLevel: 'warning',
  legalComments: 'eof',
});
console.log('dist/cli.js: bundled');
