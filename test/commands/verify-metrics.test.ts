/**
 * `verify --metrics-file` read back by a real node_exporter's textfile collector (what Prometheus
 * scrapes), checked by promtool, written atomically, and rewritten by a failed run so an old
 * "intact" never outlives the run that broke.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { assertExit, LOKI, runCli, tempDir } from '../helpers/cli.js';
import { NODE_EXPORTER, parseExposition, startNodeExporter, type NodeExporter } from '../helpers/node-exporter.js';

const VALID = join(LOKI, 'extended/valid/writer');
const HEAD_EPOCH = Date.parse('2026-02-03T11:57:19+00:00') / 1000;
const PROMTOOL = spawnSync('promtool', ['--version']).status === 0;

/** `promtool check metrics` of a file: exit code and output (nothing when all is well). */
function promtool(file: string): string {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: readFileSync(file), encoding: 'utf8' });
  return `${r.status} ${r.stdout}${r.stderr}`.trim();
}

/** The value of `name` with exactly these labels among `samples`, or undefined. */
function value(samples: ReturnType<typeof parseExposition>, name: string, labels: Record<string, string>) {
  return samples.find(
    (s) =>
      s.name === name &&
      JSON.stringify(Object.entries(s.labels).sort()) === JSON.stringify(Object.entries(labels).sort()),
  )?.value;
}

describe('verify --metrics-file', () => {
  let t: { dir: string; cleanup: () => void };
  let audit: string;
  let textfiles: string;
  let prom: string;
  beforeEach(() => {
    t = tempDir();
    // A directory name a label must escape: a quote and a backslash.
    audit = join(t.dir, 'audit "a\\b"');
    textfiles = join(t.dir, 'textfile');
    mkdirSync(textfiles);
    prom = join(textfiles, 'loki-audit-verify.prom');
    cpSync(VALID, audit, { recursive: true });
  });
  afterEach(() => t.cleanup());
  const verify = (...a: string[]) => runCli(['verify', '--dir', audit, '--metrics-file', prom, ...a]);

  describe('through node_exporter', { skip: NODE_EXPORTER ? false : 'prometheus-node-exporter not installed' }, () => {
    let ne: NodeExporter;
    beforeEach(async () => {
      ne = await startNodeExporter(textfiles);
    });
    afterEach(async () => ne?.stop());

    it('an intact run: verdict intact, exit code 0, entries, head time, last run and success', async () => {
      const before = Date.now() / 1000;
      assertExit(await verify('--quiet'), 0);
      const s = await ne.scrape();
      const dir = { dir: audit };
      assert.equal(value(s, 'node_textfile_scrape_error', {}), 0, ne.log());
      assert.equal(value(s, 'loki_audit_verify_verdict', { ...dir, class: 'intact' }), 1);
      for (const c of ['tampered', 'stale-head', 'io-error', 'error'])
        assert.equal(value(s, 'loki_audit_verify_verdict', { ...dir, class: c }), 0, c);
      assert.equal(value(s, 'loki_audit_verify_exit_code', dir), 0);
      assert.equal(value(s, 'loki_audit_entries_verified', dir), 150);
      assert.equal(value(s, 'loki_audit_files_checked', dir), 3);
      assert.equal(value(s, 'loki_audit_chain_head_timestamp_seconds', dir), HEAD_EPOCH);
      const run = { command: 'verify', dir: audit };
      const last = value(s, 'loki_audit_last_run_timestamp_seconds', run) as number;
      assert.ok(last >= before - 1 && last <= Date.now() / 1000 + 1, String(last));
      assert.equal(value(s, 'loki_audit_last_success_timestamp_seconds', run), last);
      const took = value(s, 'loki_audit_run_duration_seconds', run) as number;
      assert.ok(took > 0 && took < 60, String(took));
    });

    it('a tampered run says tampered and 1; the last success stays that of the run before', async () => {
      assertExit(await verify('--quiet'), 0);
      const good = value(await ne.scrape(), 'loki_audit_last_success_timestamp_seconds', {
        command: 'verify',
        dir: audit,
      });
      assert.ok(good);
      const f = join(audit, 'audit-2026-02-02.jsonl');
      writeFileSync(f, readFileSync(f, 'utf8').replace('"success": true', '"success": false'));
      assertExit(await verify('--quiet'), 1);
      const s = await ne.scrape();
      assert.equal(value(s, 'node_textfile_scrape_error', {}), 0, ne.log());
      assert.equal(value(s, 'loki_audit_verify_verdict', { dir: audit, class: 'tampered' }), 1);
      assert.equal(value(s, 'loki_audit_verify_verdict', { dir: audit, class: 'intact' }), 0);
      assert.equal(value(s, 'loki_audit_verify_exit_code', { dir: audit }), 1);
      assert.equal(value(s, 'loki_audit_last_success_timestamp_seconds', { command: 'verify', dir: audit }), good);
      assert.ok(
        (value(s, 'loki_audit_last_run_timestamp_seconds', { command: 'verify', dir: audit }) as number) >=
          (good as number),
      );
    });

    it('stale head and checkpoints: exit 21, the checkpoint count and the newest checkpoint time', async () => {
      const key = join(t.dir, 'ck');
      const store = join(t.dir, 'store');
      assertExit(await runCli(['checkpoint', '--new-key', key]), 0);
      assertExit(await runCli(['checkpoint', '--dir', audit, '--key', key, '--store', store]), 0);
      const signed = JSON.parse(readFileSync(join(store, readdirSync(store)[0]), 'utf8')).statement.time as string;
      assertExit(await verify('--max-age', '1d', '--checkpoints', store, '--public-key', key + '.pub', '-q'), 21);
      const s = await ne.scrape();
      assert.equal(value(s, 'node_textfile_scrape_error', {}), 0, ne.log());
      assert.equal(value(s, 'loki_audit_verify_verdict', { dir: audit, class: 'stale-head' }), 1);
      assert.equal(value(s, 'loki_audit_verify_exit_code', { dir: audit }), 21);
      assert.equal(value(s, 'loki_audit_checkpoints_checked', { dir: audit }), 1);
      assert.equal(
        value(s, 'loki_audit_checkpoint_newest_timestamp_seconds', { dir: audit }),
        Date.parse(signed) / 1000,
      );
      assert.equal(value(s, 'loki_audit_last_success_timestamp_seconds', { command: 'verify', dir: audit }), undefined);
    });

    it('an error after parsing (a missing directory, a bad --max-age) replaces an intact file with class error', async () => {
      assertExit(await verify('--quiet'), 0);
      assertExit(await verify('--max-age', 'soon'), 2);
      let s = await ne.scrape();
      assert.equal(value(s, 'loki_audit_verify_verdict', { dir: audit, class: 'error' }), 1);
      assert.equal(value(s, 'loki_audit_verify_verdict', { dir: audit, class: 'intact' }), 0);
      assert.equal(value(s, 'loki_audit_verify_exit_code', { dir: audit }), 2);
      assert.equal(value(s, 'loki_audit_entries_verified', { dir: audit }), undefined);
      t.cleanup();
      mkdirSync(textfiles, { recursive: true });
      const r = assertExit(await verify(), 3);
      assert.match(r.stderr, /^loki-audit: error: audit directory not found: /);
      s = await ne.scrape();
      assert.equal(value(s, 'node_textfile_scrape_error', {}), 0, ne.log());
      assert.equal(value(s, 'loki_audit_verify_verdict', { dir: audit, class: 'error' }), 1);
      assert.equal(value(s, 'loki_audit_verify_exit_code', { dir: audit }), 3);
    });
  });

  it(
    'promtool check metrics finds nothing to say about the file, intact or failed',
    { skip: PROMTOOL ? false : 'promtool not installed' },
    async () => {
      assertExit(await verify('-q'), 0);
      assert.equal(promtool(prom), '0');
      assertExit(await verify('-q', '--max-age', '1d'), 21);
      assert.equal(promtool(prom), '0');
      assertExit(await runCli(['verify', '--dir', join(t.dir, 'none'), '--metrics-file', prom]), 3);
      assert.equal(promtool(prom), '0');
    },
  );

  it('writes mode 644 by rename: no temporary file left, a planted link is refused and not followed', async () => {
    assertExit(await verify('-q'), 0);
    assert.equal(statSync(prom).mode & 0o777, 0o644 & ~process.umask());
    assert.deepEqual(readdirSync(textfiles), ['loki-audit-verify.prom']);
    const victim = join(t.dir, 'victim');
    writeFileSync(victim, 'keep\n');
    const linked = join(textfiles, 'linked.prom');
    symlinkSync(victim, linked);
    const r = await runCli(['verify', '--dir', audit, '--metrics-file', linked, '-q']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /symbolic link/);
    assert.equal(readFileSync(victim, 'utf8'), 'keep\n');
    assert.ok(lstatSync(linked).isSymbolicLink());
    assert.deepEqual(readdirSync(textfiles).sort(), ['linked.prom', 'loki-audit-verify.prom']);
  });

  it('checkpoint --metrics-file: signed time and entries; a chain not intact writes exit 1 and nothing signed', async () => {
    const key = join(t.dir, 'ck');
    const store = join(t.dir, 'store');
    const cp = join(textfiles, 'loki-audit-checkpoint.prom');
    assertExit(await runCli(['checkpoint', '--new-key', key]), 0);
    assertExit(await runCli(['checkpoint', '--dir', audit, '--key', key, '--store', store, '--metrics-file', cp]), 0);
    const signed = JSON.parse(readFileSync(join(store, readdirSync(store)[0]), 'utf8')).statement.time as string;
    let s = parseExposition(readFileSync(cp, 'utf8'));
    assert.equal(value(s, 'loki_audit_checkpoint_exit_code', { dir: audit }), 0);
    assert.equal(
      value(s, 'loki_audit_checkpoint_signed_timestamp_seconds', { dir: audit, store }),
      Date.parse(signed) / 1000,
    );
    assert.equal(value(s, 'loki_audit_checkpoint_signed_entries', { dir: audit, store }), 150);
    const f = join(audit, 'audit-2026-02-02.jsonl');
    writeFileSync(f, readFileSync(f, 'utf8').replace('"success": true', '"success": false'));
    assertExit(await runCli(['checkpoint', '--dir', audit, '--key', key, '--store', store, '--metrics-file', cp]), 1);
    s = parseExposition(readFileSync(cp, 'utf8'));
    assert.equal(value(s, 'loki_audit_checkpoint_exit_code', { dir: audit }), 1);
    assert.equal(value(s, 'loki_audit_checkpoint_signed_timestamp_seconds', { dir: audit, store }), undefined);
    const success = value(s, 'loki_audit_last_success_timestamp_seconds', { command: 'checkpoint', dir: audit });
    assert.ok(
      success &&
        success <= (value(s, 'loki_audit_last_run_timestamp_seconds', { command: 'checkpoint', dir: audit }) as number),
    );
  });

  it('the dir label is the absolute directory, escaped, and parses back to it', async () => {
    assertExit(await verify('-q'), 0);
    const text = readFileSync(prom, 'utf8');
    assert.ok(text.includes(`dir="${audit.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`), text);
    const s = parseExposition(text);
    assert.equal(value(s, 'loki_audit_entries_verified', { dir: audit }), 150);
  });
});
