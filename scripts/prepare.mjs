// npm's `prepare` (and, with --always, `prepack`): makes the clone runnable as installed. npm runs it
// after `npm ci`/`npm install` in a clone, for `npm install -g .` and `npm link` (which link the
// clone, so its dist/ is what runs), and before `npm pack`/`npm publish` (the tarball's dist/).
//
// It builds when dist/ is missing or older than a source (`--always`: every time), and first
// installs the devDependencies the build needs when they are absent: `npm install -g .` in an
// unbuilt clone installs no devDependencies, and the bundle holds every runtime dependency, so
// the package declares none (package.json).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUTPUTS = [
  'dist/cli.cjs',
  'dist/cli.cjs.cache',
  'dist/verify-worker.js',
  'dist/fleet-worker.js',
  'oclif.manifest.json',
  'dist/man/loki-audit.1',
];
const SOURCES = ['src', 'scripts', 'bin', 'package.json', 'package-lock.json', 'docs/exit-codes.md'];

/** The newest modification time (ms) of a file or of any file under a directory. */
function newest(path) {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

function built() {
  const outputs = OUTPUTS.map((p) => statSync(join(ROOT, p), { throwIfNoEntry: false })?.mtimeMs ?? 0);
  return Math.min(...outputs) >= Math.max(...SOURCES.map((p) => newest(join(ROOT, p))));
}

const npm = process.env.npm_execpath
  ? [process.execPath, [process.env.npm_execpath]]
  : [process.platform === 'win32' ? 'npm.cmd' : 'npm', []];
// Under `npm install -g .` the environment says global, with the global prefix: these commands are the clone's.
const env = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !/^npm_config_(global|prefix|location)$/i.test(k)),
);
function run(args) {
  try {
    execFileSync(npm[0], [...npm[1], ...args], { cwd: ROOT, env, stdio: 'inherit' });
  } catch (err) {
    // npm printed why; a stack trace of this script would only bury it.
    console.error(`loki-audit: prepare: npm ${args.join(' ')} failed (exit ${err.status})`);
    process.exit(err.status || 1);
  }
}

if (process.argv.includes('--always') || !built()) {
  if (!existsSync(join(ROOT, 'node_modules', 'esbuild')) || !existsSync(join(ROOT, 'node_modules', 'typescript'))) {
    console.log('loki-audit: installing the build tools (devDependencies) to build dist/');
    // --ignore-scripts: npm ci would run this script again (prepare).
    run(['ci', '--global=false', '--prefix', ROOT, '--include=dev', '--ignore-scripts', '--no-audit', '--no-fund']);
  }
  run(['run', 'build']);
}
