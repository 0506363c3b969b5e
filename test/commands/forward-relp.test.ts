/**
 * forward --syslog relp://… to a real rsyslog with imrelp (Debian rsyslog-relp): every entry is
 * acknowledged (`rsp 200`) before its position is saved, so the output says "delivered"; a
 * receiver SIGKILLed mid-stream and restarted loses nothing, and what arrives twice is at most
 * the window of messages sent but not yet acknowledged at the kill. RELP over TLS (imrelp
 * tls="on") verifies the server against the CA and gives the client certificate.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateSample } from '../../scripts/sample.js';
import { assertExit, BIN, runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { makePki } from '../helpers/pki.js';
import { freePort, imrelpMissing, startRsyslog, type Rsyslog } from '../helpers/rsyslog.js';
import { RELP_WINDOW } from '../../src/sinks/syslog/relp.js';

const skip = imrelpMissing();

function hashes(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.jsonl'))
    .sort()
    .flatMap((n) => readFileSync(join(dir, n), 'utf8').split('\n').filter(Boolean))
    .map((l) => JSON.parse(l)._integrity_hash as string);
}

const received = (rs: Rsyslog) =>
  rs.messages().map((m) => /chain_hash="([0-9a-f]{64})"/.exec(m.structuredData)?.[1] ?? `unparsed: ${m.msg}`);

/** How often each hash arrived. */
function counts(got: string[]): Map<string, number> {
  const c = new Map<string, number>();
  for (const h of got) c.set(h, (c.get(h) ?? 0) + 1);
  return c;
}

/** `forward` as a child, its output collected, for a test that acts while it runs. */
function startForward(args: string[]): { done: Promise<CliResult>; stderr: () => string } {
  const child = spawn(process.execPath, [BIN, 'forward', ...args], {
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b) => (stdout += b));
  child.stderr.on('data', (b) => (stderr += b));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { done, stderr: () => stderr };
}

describe('forward over RELP to a real rsyslog (imrelp)', { skip }, () => {
  let t: { dir: string; cleanup: () => void };
  let small: string;
  before(() => {
    t = tempDir();
    small = join(t.dir, 'small');
    generateSample(small, { seed: 11, startDate: '2026-11-10', perDay: [60, 60], maxFileBytes: 20 * 1024 });
  });
  after(() => t.cleanup());

  it('every entry acknowledged and written once; the output says "delivered", the state is saved', async () => {
    const audit = small;
    const rs = await startRsyslog({ relp: true });
    try {
      const url = `relp://127.0.0.1:${rs.port}`;
      const state = join(t.dir, 's-small.json');
      const r = assertExit(
        await runCli(['forward', '--dir', audit, '--syslog', url, '--state', state, '--json', '--hostname', 'host1']),
        0,
      );
      const [report] = JSON.parse(r.stdout).targets;
      assert.deepEqual(
        [report.target, report.acknowledges, report.sent, report.delivered],
        [`syslog:${url}`, true, 120, 120],
      );
      // Acknowledged means written (Direct queue, see startRsyslog): no waiting for stragglers.
      const got = received(rs);
      assert.deepEqual([...got].sort(), hashes(audit).sort(), `rsyslog stderr: ${rs.stderr()}`);
      for (const m of rs.messages()) {
        assert.equal(m.hostname, 'host1');
        assert.equal(m.appName, 'loki-audit');
        assert.equal(JSON.parse(m.msg)._integrity_hash, /chain_hash="([0-9a-f]{64})"/.exec(m.structuredData)?.[1]);
      }
      // The position is the last entry's, saved once it was acknowledged.
      const saved = JSON.parse(readFileSync(state, 'utf8')).targets[`syslog:${url}`];
      assert.equal(saved.chainHash, hashes(audit).at(-1));
      // Nothing new: nothing sent again, and the text output says "delivered".
      const again = assertExit(await runCli(['forward', '--dir', audit, '--syslog', url, '--state', state]), 0);
      assert.equal(again.stdout, `syslog:${url}: 0 delivered\n`);
      assert.equal(rs.messages().length, 120);
    } finally {
      await rs.stop();
    }
  });

  it('receiver SIGKILLed mid-stream and restarted: 0 lost, duplicates only within the window', async () => {
    const audit = join(t.dir, 'big');
    generateSample(audit, { seed: 12, startDate: '2026-11-10', perDay: [6000, 6000] });
    const want = hashes(audit);
    const rs = await startRsyslog({ relp: true });
    try {
      const url = `relp://127.0.0.1:${rs.port}`;
      // Batches of 3,000 (6 × the window): a kill lands mid-batch, where re-sending the whole
      // batch would duplicate up to 3,000; only the unacknowledged window may arrive twice.
      const fwd = startForward([
        '--dir',
        audit,
        '--syslog',
        url,
        '--state',
        join(t.dir, 's-big.json'),
        '--batch-entries',
        '3000',
      ]);
      // Kill it mid-way through the second batch.
      await rs.waitFor(4500, 60_000);
      await rs.kill();
      const atKill = rs.messages().length;
      await rs.restart();
      const r = assertExit(await fwd.done, 0, `rsyslog stderr: ${rs.stderr()}`);
      assert.equal(r.stdout, `syslog:${url}: ${want.length} delivered\n`);
      assert.match(r.stderr, /retrying/, 'the broken session was reported and retried');
      const got = received(rs);
      const c = counts(got);
      const lost = want.filter((h) => !c.has(h));
      const twice = [...c.values()].filter((n) => n > 1).length;
      assert.deepEqual(lost, [], `${lost.length} lost (${atKill} written at the kill)`);
      assert.ok(
        [...c.values()].every((n) => n <= 2),
        'nothing more than twice',
      );
      assert.ok(twice <= RELP_WINDOW, `${twice} duplicated, more than the window of ${RELP_WINDOW}`);
      assert.equal(got.length, want.length + twice);
      const ours = new Set(want);
      assert.ok(
        got.every((h) => ours.has(h)),
        'nothing but our entries',
      );
      process.stdout.write(`# SIGKILL trial: ${atKill} written at the kill, 0 lost, ${twice} duplicated\n`);
    } finally {
      await rs.stop();
    }
  });

  it(
    'a RELP server refusing the session (rsp 500 to open) ' + 'stops the target: exit 18, its words, position kept',
    async () => {
      const port = await freePort();
      const opens: string[] = [];
      const server = createServer((socket) => {
        socket.on('data', (b: Buffer) => {
          opens.push(b.toString());
          const text = '500 relp_version not supported';
          socket.end(`1 rsp ${text.length} ${text}\n`);
        });
        socket.on('error', () => undefined);
      });
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      try {
        const url = `relp://127.0.0.1:${port}`;
        const state = join(t.dir, 's-refused.json');
        const r = assertExit(await runCli(['forward', '--dir', small, '--syslog', url, '--state', state]), 18);
        const said = `${url}: the RELP server refused the session: 500 relp_version not supported`;
        assert.equal(r.stdout, `syslog:${url}: 0 delivered, stopped: ${said}\n`);
        assert.ok(r.stderr.startsWith(`loki-audit: error: syslog:${url}: ${said}\n`), r.stderr);
        assert.match(r.stderr, /nothing was dead-lettered and the position is kept/);
        assert.equal(existsSync(state), false, 'no position saved');
        assert.equal(opens.length, 1, 'asked once, not retried');
        assert.match(opens[0], /^1 open \d+ relp_version=0\n/);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    },
  );

  it('relp+tls: server verified against --ca, client certificate given; without it nothing is delivered', async () => {
    const audit = small;
    const pki = makePki(join(t.dir, 'pki'));
    const rs = await startRsyslog({
      relp: true,
      tls: { ca: join(pki, 'ca.pem'), cert: join(pki, 'server.pem'), key: join(pki, 'server.key') },
    });
    try {
      const url = `relp+tls://127.0.0.1:${rs.port}`;
      const args = ['--dir', audit, '--syslog', url, '--ca', join(pki, 'ca.pem')];
      const without = assertExit(
        await runCli([
          'forward',
          ...args,
          '--state',
          join(t.dir, 's-relptls-0.json'),
          '--give-up-after',
          '1',
          '--timeout',
          '2000',
        ]),
        9,
      );
      assert.match(without.stderr, /closed the TLS connection|ECONNRESET|EPIPE|certificate/);
      assert.equal(
        without.stdout,
        `syslog:${url}: 0 delivered, gave up: ${/giving up: (.*);/.exec(without.stderr)?.[1]}\n`,
      );
      assert.equal(rs.messages().length, 0, `nothing taken without a client certificate; rsyslog: ${rs.stderr()}`);
      const r = assertExit(
        await runCli([
          'forward',
          ...args,
          '--cert',
          join(pki, 'client.pem'),
          '--key',
          join(pki, 'client.key'),
          '--state',
          join(t.dir, 's-relptls.json'),
        ]),
        0,
      );
      assert.equal(r.stdout, `syslog:${url}: 120 delivered\n`);
      assert.deepEqual(received(rs).sort(), hashes(audit).sort(), `rsyslog stderr: ${rs.stderr()}`);
    } finally {
      await rs.stop();
    }
  });
});
