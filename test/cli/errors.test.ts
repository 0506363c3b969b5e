/** One message style for every error, with the next step where there is one (docs/exit-codes.md). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';

describe('errors: one line, a hint, the documented exit code', () => {
  it('a mistyped flag: one error line, "did you mean", where the help is; no help dump', async () => {
    const r = await runCli(['verify', '--qiet', '--dir', 'examples/audit']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      r.stderr,
      'loki-audit: error: Nonexistent flag: --qiet\nloki-audit: hint: did ' +
        'you mean --quiet?\nloki-audit: hint: see: loki-audit verify --help\n',
    );
    assert.equal(r.stdout, '');
  });

  it('two letters swapped in a flag still find it: --dri is --dir', async () => {
    const r = await runCli(['summary', '--dri', 'examples/audit', '--all']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      r.stderr,
      'loki-audit: error: Nonexistent flag: --dri\nloki-audit: hint: did ' +
        'you mean --dir?\nloki-audit: hint: see: loki-audit summary --help\n',
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

  it("a value a flag's type refuses: one line naming the flag, exit 2, where the help is", async () => {
    const batchWait = (value: string) =>
      runCli(['forward', '--dir', 'examples/audit', '--loki', 'http://127.0.0.1:9', '--batch-wait', value]);
    const r = await batchWait('soon');
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      r.stderr,
      'loki-audit: error: --batch-wait: expected milliseconds or a duration (250ms, 2s, 5m, 1h30m), got "soon"\n' +
        'loki-audit: hint: see: loki-audit forward --help\n',
    );
    const min = await batchWait('0');
    assert.equal(min.code, 2, min.stderr);
    assert.match(min.stderr, /^loki-audit: error: --batch-wait: at least 1 millisecond, got "0"\n/);
    assert.doesNotMatch(min.stderr, /\\n|\\t|Parsing/);
  });

  it('a token or tenant no HTTP header can carry: exit 2, one line, the secret not shown, nothing sent', async () => {
    const t = tempDir();
    const rx = new LokiReceiver();
    await rx.start();
    try {
      const tokenFile = join(t.dir, 'token');
      writeFileSync(tokenFile, 'tok\u0001en-s3cr3t\n', { mode: 0o600 });
      const args = ['forward', '--dir', 'examples/audit', '--loki', rx.url, '--state', join(t.dir, 's.json')];
      const bad = await runCli([...args, '--loki-token-file', tokenFile, '--timestamp', 'ingest']);
      assert.equal(bad.code, 2, bad.stderr);
      assert.equal(
        bad.stderr,
        'loki-audit: error: the Loki bearer token has a character an HTTP header cannot carry (a space, control or ' +
          'non-ASCII character, at position 4); check the token file or variable\n',
      );
      const tenant = await runCli(['search', '--from-loki', rx.url, '--tenant', 'a\r\nX-Injected: 1']);
      assert.equal(tenant.code, 2, tenant.stderr);
      assert.match(tenant.stderr, /^loki-audit: error: invalid Loki tenant "a\\r\\nX-Injected: 1": /);
      assert.equal(rx.pushes + rx.queries.length, 0, 'no request reached Loki');
      writeFileSync(tokenFile, 'token-s3cr3t\n');
      const good = await runCli([...args, '--loki-token-file', tokenFile, '--timestamp', 'ingest']);
      assert.equal(good.code, 0, good.stderr);
      assert.ok(rx.pushes > 0, 'the same run with a usable token pushes');
    } finally {
      await rx.stop();
      t.cleanup();
    }
  });

  it('values from the command line are shown escaped, never raw', async () => {
    const r = await runCli(['verify', '--dir', '/nonexistent/\u001b[31mred']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stderr, 'loki-audit: error: audit directory not found: /nonexistent/\\x1b[31mred\n');
  });

  it('--since, --grep and option values from the command line are escaped too, also in --json', async () => {
    const osc = '\u001b]52;c;ZXZpbA==\u0007\u202e\u009b';
    const shown = '\\x1b]52;c;ZXZpbA==\\x07\\u202e\\x9b';
    const since = await runCli(['search', '--dir', 'examples/audit', '--since', osc]);
    assert.equal(since.code, 2, since.stderr);
    assert.ok(
      since.stderr.startsWith(`loki-audit: error: cannot read time "${shown}": use e.g. 2026-02-01T12:00:00Z`),
      since.stderr,
    );
    const grep = await runCli(['search', '--dir', 'examples/audit', '--grep', `(${osc}`]);
    assert.equal(grep.code, 2, grep.stderr);
    assert.match(grep.stderr, /^loki-audit: error: --grep: Invalid regular expression: \/\(\\x1b\]52;c;ZXZpbA==\\x07/);
    const option = await runCli(['search', '--dir', 'examples/audit', '--outcome', osc]);
    assert.equal(option.code, 2, option.stderr);
    assert.ok(option.stderr.startsWith(`loki-audit: error: Expected --outcome=${shown} to be one of`), option.stderr);
    const json = await runCli(['summary', '--dir', 'examples/audit', '--json', '--since', osc]);
    assert.equal(json.code, 2, json.stderr);
    assert.ok(json.stdout.includes('cannot read time \\"\\u001b]52;c;ZXZpbA==\\u0007\\u202e\\u009b\\"'), json.stdout);
    assert.equal(JSON.parse(json.stdout).error.message.slice(0, 30), `cannot read time "${osc}"`.slice(0, 30));
    for (const r of [since, grep, option, json])
      // eslint-disable-next-line no-control-regex
      assert.doesNotMatch(r.stdout + r.stderr, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
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
