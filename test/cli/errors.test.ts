/** One message style for every error, with the next step where there is one (docs/exit-codes.md). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';

describe('errors: one line, a hint, the documented exit code', () => {
  it('a mistyped flag: one error line, "did you mean", where the help is; no help dump', async () => {
    const r = await runCli(['verify', '--qiet', '--dir', 'examples/audit']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      r.stderr,
      'loki-audit: error: Nonexistent flag: --qiet\nloki-audit: hint: did you mean --quiet?\nloki-audit: hint: see: loki-audit verify --help\n',
    );
    assert.equal(r.stdout, '');
  });

  it('two letters swapped in a flag still find it: --dri is --dir', async () => {
    const r = await runCli(['summary', '--dri', 'examples/audit', '--all']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      r.stderr,
      'loki-audit: error: Nonexistent flag: --dri\nloki-audit: hint: did you mean --dir?\nloki-audit: hint: see: loki-audit summary --help\n',
    );
  });

  it('a bad option value and an unexpected argument: the same style', async () => {
    const a = await runCli(['search', '--outcome', 'nope', '--dir', 'examples/audit']);
    assert.equal(a.code, 2, a.stderr);
    assert.match(a.stderr, /^loki-audit: error: Expected --outcome=nope to be one of: success, failure\n/);
    assert.doesNotMatch(a.stderr, /USAGE|›/);
    const b = await runCli(['summary', '--all', '--dir', 'examples/audit', 'extra']);
    assert.equal(b.code, 2, b.stderr);
    assert.match(b.stderr, /^loki-audit: error: Unexpected argument: extra\n/);
  });

  it('values from the command line are shown escaped, never raw', async () => {
    const r = await runCli(['verify', '--dir', '/nonexistent/\u001b[31mred']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stderr, 'loki-audit: error: audit directory not found: /nonexistent/\\x1b[31mred\n');
  });

  it('with --json the error is one JSON object on stdout, with the exit code and the hints', async () => {
    const r = await runCli(['verify', '--json', '--bogus']);
    assert.equal(r.code, 2, r.stderr);
    const e = JSON.parse(r.stdout).error;
    assert.equal(e.message, 'Nonexistent flag: --bogus');
    assert.equal(e.oclif.exit, 2);
    assert.deepEqual(e.suggestions, ['see: loki-audit verify --help']);
  });

  it('a usage error of our own is one line in the same style', async () => {
    const r = await runCli(['checkpoint', '--dir', 'examples/audit']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr, 'loki-audit: error: --store DIR is required\n');
  });
});
