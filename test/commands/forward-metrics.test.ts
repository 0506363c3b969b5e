/**
 * `forward --metrics-file` and `forward --follow --metrics-listen`: per target the entries taken
 * (a counter going on across runs in the file), the lag and the dead letters, against the Loki
 * push receiver; and the files of verify, checkpoint and forward read together by one real
 * node_exporter (shared families agree, so its textfile collector takes all three).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { generateSample } from '../../scripts/sample.js';
import { assertExit, BIN, runCli, tempDir } from '../helpers/cli.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';
import { freePort, NODE_EXPORTER, parseExposition, startNodeExporter } from '../helpers/node-exporter.js';
import { waitFor } from '../helpers/wait.js';
import { parseListenAddress } from '../../src/output/metrics-server.js';

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

type Samples = ReturnType<typeof parseExposition>;
const get = (s: Samples, name: string, labels: Record<string, string> = {}) =>
  s.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v))?.value;

describe('forward metrics', () => {
  let t: { dir: string; cleanup: () => void };
  let audit: string;
  let state: string;
  let prom: string;
  let rx: LokiReceiver;
  let refuse: Set<string>;
  beforeEach(async () => {
    t = tempDir();
    audit = join(t.dir, 'audit');
    state = join(t.dir, 'state.json');
    mkdirSync(join(t.dir, 'textfile'));
    prom = join(t.dir, 'textfile', 'loki-audit-forward.prom');
    generateSample(audit, { seed: 18, startDate: daysAgo(2), perDay: [60, 40], maxFileBytes: 1 << 20 });
    refuse = new Set();
    rx = new LokiReceiver({
      refuseEntry: (e) =>
        refuse.has(e.metadata.chain_hash)
          ? `entry for stream '${JSON.stringify(e.labels)}' has timestamp too new: ${e.metadata.chain_hash}`
          : null,
    });
    await rx.start();
  });
  afterEach(async () => {
    await rx.stop();
    t.cleanup();
  });
  const fwd = (...a: string[]) =>
    runCli(['forward', '--dir', audit, '--loki', rx.url, '--state', state, '--batch-wait', '100', ...a]);
  const lines = () =>
    readdirSync(audit)
      .sort()
      .flatMap((n) => readFileSync(join(audit, n), 'utf8').split('\n').filter(Boolean));
  const read = () => parseExposition(readFileSync(prom, 'utf8'));

  it(
    'a run: delivered, dead letters, lag 0, exit code; the ' +
      'next run adds to the counter and recounts the dead letters',
    async () => {
      for (const l of lines().slice(0, 3)) refuse.add(JSON.parse(l)._integrity_hash);
      assertExit(await fwd('--metrics-file', prom, '--batch-entries', '10'), 11);
      let s = read();
      const target = s.find((x) => x.name === 'loki_audit_forward_delivered_total')?.labels.target as string;
      assert.ok(target, readFileSync(prom, 'utf8'));
      const labels = { dir: audit, target };
      assert.equal(get(s, 'loki_audit_forward_delivered_total', labels), 97);
      assert.equal(get(s, 'loki_audit_dead_letter_entries', labels), 3);
      assert.equal(get(s, 'loki_audit_forward_lag_entries', labels), 0);
      assert.equal(get(s, 'loki_audit_forward_exit_code', { dir: audit }), 11);
      assert.equal(get(s, 'loki_audit_last_success_timestamp_seconds', { command: 'forward' }), undefined);
      // Nothing new: the counter stays (it sums runs), the dead letters are counted from their file.
      assertExit(await fwd('--metrics-file', prom), 0);
      s = read();
      assert.equal(get(s, 'loki_audit_forward_delivered_total', labels), 97);
      assert.equal(get(s, 'loki_audit_dead_letter_entries', labels), 3);
      assert.equal(get(s, 'loki_audit_forward_exit_code', { dir: audit }), 0);
      assert.ok(get(s, 'loki_audit_last_success_timestamp_seconds', { command: 'forward', dir: audit }));
    },
  );

  it('a target that stays down: lag is every entry, nothing delivered, exit 9', async () => {
    await rx.stop();
    assertExit(await fwd('--metrics-file', prom, '--give-up-after', '1', '--timeout', '200'), 9);
    const s = read();
    assert.equal(get(s, 'loki_audit_forward_lag_entries', { dir: audit }), 100);
    assert.equal(get(s, 'loki_audit_forward_delivered_total', { dir: audit }), 0);
    assert.equal(get(s, 'loki_audit_forward_exit_code', { dir: audit }), 9);
  });

  it(
    '--follow --metrics-listen serves /metrics: the counter ' +
      'and lag move per batch; the file is written at the end',
    async () => {
      const port = await freePort();
      const child = spawn(
        process.execPath,
        [
          BIN,
          'forward',
          '--dir',
          audit,
          '--loki',
          rx.url,
          '--state',
          state,
          '--batch-wait',
          '100',
          '--follow',
          '--metrics-listen',
          `127.0.0.1:${port}`,
          '--metrics-file',
          prom,
        ],
        { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      try {
        let seen: Samples = [];
        let inFlight = false;
        const scrape = async () => {
          if (inFlight) return;
          inFlight = true;
          try {
            const r = await fetch(`http://127.0.0.1:${port}/metrics`);
            assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
            seen = parseExposition(await r.text());
          } catch {
            // Not listening yet.
          } finally {
            inFlight = false;
          }
        };
        const scrapeUntil = (ok: (s: Samples) => boolean, what: string) =>
          waitFor(
            () => {
              void scrape();
              return ok(seen);
            },
            {
              describe: () => `${what}; scraped ${JSON.stringify(seen)}; stderr ${stderr}`,
              pollMs: 100,
              timeoutMs: 30_000,
              wakeOn: [[child, 'exit']],
            },
          );
        await scrapeUntil(
          (s) => get(s, 'loki_audit_forward_delivered_total') === 100 && get(s, 'loki_audit_forward_lag_entries') === 0,
          '100 delivered, lag 0',
        );
        assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
        // Five more entries: the counter follows, the lag comes back to 0.
        const five = '{"action":"login","resource_type":"auth"}\n'.repeat(5);
        assertExit(await runCli(['append', '--dir', audit, '--stdin'], { input: five }), 0);
        await scrapeUntil(
          (s) => get(s, 'loki_audit_forward_delivered_total') === 105 && get(s, 'loki_audit_forward_lag_entries') === 0,
          '105 delivered, lag 0',
        );
      } finally {
        child.kill('SIGTERM');
      }
      assert.equal(await exited, 0, stderr);
      const s = read();
      assert.equal(get(s, 'loki_audit_forward_delivered_total', { dir: audit }), 105);
      assert.equal(get(s, 'loki_audit_forward_exit_code', { dir: audit }), 0);
    },
  );

  it('--metrics-listen takes PORT, HOST:PORT and [IPv6]:PORT; needs --follow', async () => {
    assert.deepEqual(parseListenAddress('9464'), { host: '127.0.0.1', port: 9464 });
    assert.deepEqual(parseListenAddress('0.0.0.0:9464'), { host: '0.0.0.0', port: 9464 });
    assert.deepEqual(parseListenAddress('[::1]:9464'), { host: '::1', port: 9464 });
    for (const bad of ['', 'x', '1.2.3.4:', ':99999', 'a b:1']) assert.throws(() => parseListenAddress(bad), bad);
    assert.match(assertExit(await fwd('--metrics-listen', '9464'), 2).stderr, /--follow/);
  });

  it(
    'verify, checkpoint and forward files side by side: node_exporter reads all three',
    { skip: NODE_EXPORTER ? false : 'prometheus-node-exporter not installed' },
    async () => {
      const dir = join(t.dir, 'textfile');
      const key = join(t.dir, 'ck');
      assertExit(await fwd('--metrics-file', prom), 0);
      assertExit(
        await runCli(['verify', '--dir', audit, '-q', '--metrics-file', join(dir, 'loki-audit-verify.prom')]),
        0,
      );
      assertExit(await runCli(['checkpoint', '--new-key', key]), 0);
      assertExit(
        await runCli([
          'checkpoint',
          '--dir',
          audit,
          '--key',
          key,
          '--store',
          join(t.dir, 'store'),
          '--metrics-file',
          join(dir, 'loki-audit-checkpoint.prom'),
        ]),
        0,
      );
      const ne = await startNodeExporter(dir);
      try {
        const s = await ne.scrape();
        assert.equal(get(s, 'node_textfile_scrape_error'), 0, ne.log());
        for (const command of ['verify', 'checkpoint', 'forward'])
          assert.ok(
            get(s, 'loki_audit_last_success_timestamp_seconds', { command, dir: audit }),
            `${command}: ${ne.log()}`,
          );
        assert.equal(get(s, 'loki_audit_verify_verdict', { dir: audit, class: 'intact' }), 1);
        assert.equal(get(s, 'loki_audit_entries_verified', { dir: audit }), 100);
        assert.equal(get(s, 'loki_audit_checkpoint_signed_entries', { dir: audit }), 100);
        assert.equal(get(s, 'loki_audit_checkpoint_exit_code', { dir: audit }), 0);
        assert.equal(get(s, 'loki_audit_forward_delivered_total', { dir: audit }), 100);
      } finally {
        await ne.stop();
      }
    },
  );
});
