/** Help in every form users type, and an unknown command in one line with "did you mean". */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertExit, runCli } from '../helpers/cli.js';

describe('help: help, help CMD, -h, CMD -h, --help', () => {
  it('help, -h and --help print the root help (every command), exit 0', async () => {
    const root = assertExit(await runCli(['--help']), 0).stdout;
    assert.match(root, /^COMMANDS$/m);
    for (const cmd of ['append', 'checkpoint', 'export', 'forward', 'help', 'search', 'summary', 'tail', 'verify'])
      assert.match(root, new RegExp(`^  ${cmd} `, 'm'));
    assert.equal(assertExit(await runCli(['help']), 0).stdout, root);
    assert.equal(assertExit(await runCli(['-h']), 0).stdout, root);
  });

  it("help CMD, CMD -h and CMD --help print the command's help, exit 0", async () => {
    const verify = assertExit(await runCli(['verify', '--help']), 0);
    assert.match(verify.stdout, /^Verify the hash chain of every audit file/);
    assert.match(verify.stdout, /^USAGE\n {2}\$ loki-audit verify /m);
    assert.equal(verify.stderr, '');
    assert.equal(assertExit(await runCli(['help', 'verify']), 0).stdout, verify.stdout);
    assert.equal(assertExit(await runCli(['verify', '-h']), 0).stdout, verify.stdout);
    assert.equal(assertExit(await runCli(['search', '-h']), 0).stdout, (await runCli(['search', '--help'])).stdout);
  });
});

describe('an unknown command: one error line, "did you mean", the help hint, exit 2', () => {
  it('a mistyped command', async () => {
    const r = assertExit(await runCli(['verfy', '--dir', 'examples/audit']), 2);
    assert.equal(
      r.stderr,
      'loki-audit: error: unknown command: verfy\nloki-audit: hint: ' +
        'did you mean verify?\nloki-audit: hint: see: loki-audit --help\n',
    );
    assert.equal(r.stdout, '');
    assert.match(
      assertExit(await runCli(['summry', '--all']), 2).stderr,
      /^loki-audit: hint: did you mean summary\?$/m,
    );
  });

  it('help of a mistyped command: the same', async () => {
    const r = assertExit(await runCli(['help', 'serch']), 2);
    assert.equal(
      r.stderr,
      'loki-audit: error: unknown command: serch\nloki-audit: hint: ' +
        'did you mean search?\nloki-audit: hint: see: loki-audit --help\n',
    );
  });

  it('nothing near: the error and the help hint only', async () => {
    const r = assertExit(await runCli(['frobnicate']), 2);
    assert.equal(
      r.stderr,
      'loki-audit: error: unknown command: frobnicate\nloki-audit: hint: see: loki-audit --help\n',
    );
  });

  it('a flag before any command: says so, and that flags come after the command', async () => {
    const r = assertExit(await runCli(['--bogus']), 2);
    assert.equal(
      r.stderr,
      'loki-audit: error: Nonexistent flag: --bogus\n' +
        'loki-audit: hint: flags come after the command: loki-audit COMMAND --bogus\n' +
        'loki-audit: hint: see: loki-audit --help\n',
    );
  });
});
