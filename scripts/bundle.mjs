// Bundles the CLI (src/cli.ts, with oclif and every dependency) into dist/cli.cjs, and the
// worker threads next to it (dist/verify-worker.js, which src/core/chain/parallel/fast-path.ts
// starts; dist/fleet-worker.js, which src/core/chain/fleet.ts starts for `verify` of several
// directories), so that a start loads one file instead of ~250 modules (see src/cli.ts). V8's code
// cache for it is written next (scripts/code-cache.mjs); type checking is tsc's.
import { readFile, writeFile } from 'node:fs/promises';
import { isAscii } from 'node:buffer';
import { build } from 'esbuild';

/**
 * Source edits of dependencies that only cost start-up time, each checked: a pattern that is no
 * longer there fails the build (the dependency changed; look again). Measured with callgrind on
 * `search --dir examples/audit --action kill -c` (instructions, which a loaded machine does not
 * blur): 448 M in all, Node's own start 86 M.
 */
const STARTUP_EDITS = [
  {
    // oclif sorts the manifest's commands with localeCompare: the first call builds ICU's
    // collator and its locale list, 69 M instructions (~20 ms) of every start. Command ids are
    // ASCII, where code-unit order is the same order.
    file: /@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/,
    from: '.sort((a, b) => a.id.localeCompare(b.id))',
    to: '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))',
  },
  {
    // fdir resolves and loads picomatch from node_modules at its import, outside the bundle
    // and its code cache (16 M instructions); tinyglobby's own picomatch is in the bundle, and
    // it is the one fdir gets now (fdir uses it only for its glob(), which tinyglobby never calls).
    file: /fdir[\\/]dist[\\/]index\.mjs$/,
    from: '__require.resolve("picomatch");\n\tpm = __require("picomatch");',
    to: 'pm = require("picomatch");',
  },
];
const startupEdits = {
  name: 'startup-edits',
  setup(b) {
    for (const edit of STARTUP_EDITS)
      b.onLoad({ filter: edit.file }, async (args) => {
        const text = await readFile(args.path, 'utf8');
        if (!text.includes(edit.from)) throw new Error(`${args.path}: no longer has ${JSON.stringify(edit.from)}`);
        return { contents: text.replace(edit.from, edit.to), loader: 'js' };
      });
  },
};

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
  plugins: [startupEdits],
});
await asciiOnly('dist/cli.cjs');
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

/**
 * Makes the bundle pure ASCII, so that bin/load-cli.js decodes it as latin1 into a one-byte
 * string (a UTF-8 decode of the 1.9 MB into UTF-16 was 42 M instructions, ~9% of a small
 * search). esbuild already escapes non-ASCII in strings, templates and identifiers
 * (charset ascii); what it leaves are comments and regular-expression literals, where a
 * \\uXXXX escape stands for the same character. A tagged template (String.raw) would see its
 * escape instead: the build fails on a non-ASCII character after a backtick outside a comment.
 */
async function asciiOnly(path) {
  const bytes = await readFile(path);
  if (isAscii(bytes)) return;
  const lines = bytes.toString('utf8').split('\n');
  for (const [i, line] of lines.entries()) {
    if (isAscii(Buffer.from(line))) continue;
    lines[i] = line.replace(/[^\0-\x7f]/g, (c, at) => {
      const before = line.slice(0, at);
      const comment = /^\s*(\*|\/\*)/.test(line) || before.includes('//');
      if (!comment && before.includes('`')) throw new Error(`${path}:${i + 1}: non-ASCII in a template literal`);
      return '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0');
    });
  }
  await writeFile(path, lines.join('\n'));
}
