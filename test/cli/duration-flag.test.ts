/** Time flags take a bare number in their documented unit or a duration with its unit. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFlagDuration } from '../../src/cli/duration-flag.js';
import { runCli } from '../helpers/cli.js';

describe('duration flags', () => {
  it('a bare number keeps the flag unit; a duration is converted to it', () => {
    assert.equal(parseFlagDuration('500', 'ms', 1), 500);
    assert.equal(parseFlagDuration('300', 's', 1), 300);
    assert.equal(parseFlagDuration('250ms', 'ms', 1), 250);
    assert.equal(parseFlagDuration('2s', 'ms', 1), 2000);
    assert.equal(parseFlagDuration('5m', 's', 1), 300);
    assert.equal(parseFlagDuration('1h30m', 's', 1), 5400);
    assert.equal(parseFlagDuration('2000ms', 's', 1), 2);
    assert.equal(parseFlagDuration(' 30s ', 'ms', 100), 30000);
  });

  it('refuses what is not a whole number of the unit, below the minimum, or no duration', () => {
    assert.throws(() => parseFlagDuration('1500ms', 's', 1), /"1500ms" is not a whole number of seconds/);
    assert.throws(() => parseFlagDuration('0', 'ms', 1), /at least 1 millisecond, got "0"$/);
    assert.throws(() => parseFlagDuration('50ms', 'ms', 100), /at least 100 milliseconds/);
    for (const bad of ['soon', '-5', '1.5', '5 parsecs', '', 's', '9'.repeat(30)])
      assert.throws(() => parseFlagDuration(bad, 's', 1), /expected seconds or a duration|too long/, bad);
  });

  it('forward takes --batch-wait 2s and --give-up-after 5m; a bad value is one line, exit 2', async () => {
    const args = ['forward', '--dir', 'examples/audit', '--loki', 'http://127.0.0.1:9', '--dry-run'];
    const ok = await runCli([...args, '--batch-wait', '2s', '--give-up-after', '5m', '--timeout', '30s']);
    assert.equal(ok.code, 0, ok.stderr);
    const bad = await runCli([...args, '--give-up-after', '1500ms']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.equal(
      bad.stderr,
      'loki-audit: error: --give-up-after: "1500ms" is not a whole number of seconds\n' +
        'loki-audit: hint: see: loki-audit forward --help\n',
    );
  });
});
