/** scripts/bundle.mjs: what the build does to the bundle for the CLI's start-up. */
import assert from 'node:assert/strict';
import { isAscii } from 'node:buffer';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, tempDir } from '../helpers/cli.js';

const bundle = readFileSync(join(ROOT, 'dist', 'cli.cjs'));

describe('bundle', () => {
  it('is ASCII (read as latin1), and its escaped comments and regular expressions still mean the same', () => {
    assert.ok(isAscii(bundle), 'dist/cli.cjs has a non-ASCII byte');
    // ansis' strip regex held a raw U+009B (CSI): escaped, it must still strip that sequence.
    const r = spawnSync(
      process.execPath,
      [join(ROOT, 'bin', 'run.js'), 'search', '--dir', join(ROOT, 'examples', 'audit'), '--user', 'jürgen', '-c'],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^[1-9]\d*\n$/, 'a non-ASCII value still matches');
  });

  it("a start builds no ICU collator (oclif's command sort) and loads no module from node_modules", () => {
    // Preloaded: reports every localeCompare call and every module loaded from outside the bundle.
    const hook = [
      "const M = require('node:module');",
      'const load = M._load;',
      'M._load = function (request, parent) {',
      "  const outside = !M.isBuiltin(request) && !request.endsWith('cli.cjs');",
      "  if (outside && String(parent?.filename).endsWith('cli.cjs'))",
      "    process.stderr.write('loaded ' + request + '\\n');",
      '  return load.apply(this, arguments);',
      '};',
      'const lc = String.prototype.localeCompare;',
      'String.prototype.localeCompare = function () {',
      "  process.stderr.write('localeCompare\\n');",
      '  return lc.apply(this, arguments);',
      '};',
    ].join('\n');
    const t = tempDir();
    const hookFile = join(t.dir, 'hook.cjs');
    writeFileSync(hookFile, hook);
    const r = spawnSync(
      process.execPath,
      [
        '--require',
        hookFile,
        join(ROOT, 'bin', 'run.js'),
        'search',
        '--dir',
        join(ROOT, 'examples', 'audit'),
        '--action',
        'kill',
        '-c',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '', 'a start called localeCompare or loaded a module outside the bundle');
    // The hook works: the completion command sorts with localeCompare.
    const c = spawnSync(process.execPath, ['--require', hookFile, join(ROOT, 'bin', 'run.js'), 'completion', 'bash'], {
      encoding: 'utf8',
    });
    assert.equal(c.status, 0, c.stderr);
    assert.match(c.stderr, /localeCompare/);
    t.cleanup();
  });

  it('the commands are still listed in id order', () => {
    const help = spawnSync(process.execPath, [join(ROOT, 'bin', 'run.js'), '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0, help.stderr);
    const ids = [...help.stdout.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]);
    assert.ok(ids.length >= 10, help.stdout);
    assert.deepEqual(ids, [...ids].sort(), help.stdout);
  });
});
