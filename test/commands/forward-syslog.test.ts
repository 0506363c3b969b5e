/**
 * forward to a real rsyslog on loopback over TCP (RFC 6587 octet counting, and LF framing) and
 * TLS (RFC 5425, a CA and server certificate made here with openssl): every entry arrives
 * exactly once, as RFC 5424 with the chain hash in STRUCTURED-DATA. Over UDP, which may drop
 * datagrams, every entry that arrives is one of ours, intact, and arrives once.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateSample } from '../../scripts/sample.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { makePki } from '../helpers/pki.js';
import { rsyslogMissing, startRsyslog, type Rsyslog } from '../helpers/rsyslog.js';

const skip = rsyslogMissing();

function hashes(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.jsonl'))
    .flatMap((n) => readFileSync(join(dir, n), 'utf8').split('\n').filter(Boolean))
    .map((l) => JSON.parse(l)._integrity_hash as string);
}

const received = (rs: Rsyslog) => rs.messages().map((m) => /chain_hash="([0-9a-f]{64})"/.exec(m.structuredData)?.[1]);

/** rsyslog received every entry of `dir` exactly once (TCP, TLS: a marker sent after them shows nothing more came). */
async function assertEachEntryOnce(rs: Rsyslog, dir: string): Promise<void> {
  const want = hashes(dir);
  await rs.waitFor(want.length);
  await rs.flush();
  const got = received(rs);
  assert.equal(got.length, want.length);
  assert.deepEqual([...got].sort(), [...want].sort());
}

/**
 * What UDP promises: each message that arrives is an entry of `dir`, none twice, and some arrive
 * (datagrams may be dropped). A marker sent after them through the same socket queue shows that
 * nothing more is on its way.
 */
async function assertEntriesAtMostOnce(rs: Rsyslog, dir: string): Promise<void> {
  const want = new Set(hashes(dir));
  await rs.flush('udp');
  const got = received(rs);
  assert.ok(got.length >= 1, 'some datagrams arrive');
  for (const h of got) assert.ok(h !== undefined && want.has(h), `an entry of the directory: ${h}`);
  assert.equal(new Set(got).size, got.length, 'no entry twice');
}

describe('forward to a real rsyslog', { skip }, () => {
  let t: { dir: string; cleanup: () => void };
  let audit: string;
  let pki: string;
  before(() => {
    t = tempDir();
    audit = join(t.dir, 'audit');
    generateSample(audit, { seed: 11, startDate: '2026-11-10', perDay: [60, 60], maxFileBytes: 20 * 1024 });
    pki = makePki(join(t.dir, 'pki'));
  });
  after(() => t.cleanup());

  for (const [proto, extra] of [
    ['udp', []],
    ['tcp', []],
    ['tcp', ['--framing', 'lf']],
  ] as const) {
    const once = proto === 'udp' ? 'every entry that arrives arrives once' : 'every entry exactly once';
    it(`${proto}${extra.length ? ' ' + extra.join(' ') : ''}: ${once}, RFC 5424 parsed by rsyslog`, async () => {
      const rs = await startRsyslog();
      try {
        const r = await runCli([
          'forward',
          '--dir',
          audit,
          '--syslog',
          `${proto}://127.0.0.1:${rs.port}`,
          '--state',
          join(t.dir, `s-${proto}-${extra.length}.json`),
          '--hostname',
          'host1',
          ...extra,
        ]);
        assert.equal(r.code, 0, r.stderr);
        // No acknowledgement: "sent", never "delivered", in the output and in the report.
        assert.match(
          r.stdout,
          new RegExp(
            `^syslog:${proto}://127\\.0\\.0\\.1:${rs.port}: 120 sent \\(${proto} has no acknowledgement\\)\n$`,
          ),
        );
        if (proto === 'udp') await assertEntriesAtMostOnce(rs, audit);
        else await assertEachEntryOnce(rs, audit);
        for (const m of rs.messages()) {
          assert.equal(m.hostname, 'host1');
          assert.equal(m.appName, 'loki-audit');
          assert.equal(m.facility, 'local0');
          assert.equal(m.timestamp, JSON.parse(m.msg).timestamp, 'the event time');
          assert.match(
            m.structuredData,
            /^\[audit@32473 chain_hash="[0-9a-f]{64}" seq="\d+" file="audit-[^"]+" line="\d+" /,
          );
          assert.equal(JSON.parse(m.msg)._integrity_hash, /chain_hash="([0-9a-f]{64})"/.exec(m.structuredData)?.[1]);
        }
        // The report says the same (after the checks above: this run sends everything again).
        const json = await runCli([
          'forward',
          '--dir',
          audit,
          '--syslog',
          `${proto}://127.0.0.1:${rs.port}`,
          '--state',
          join(t.dir, `s-${proto}-${extra.length}-json.json`),
          '--json',
          ...extra,
        ]);
        assert.equal(json.code, 0, json.stderr);
        const [report] = JSON.parse(json.stdout).targets;
        assert.deepEqual([report.acknowledges, report.sent, report.delivered], [false, 120, 0]);
      } finally {
        await rs.stop();
      }
    });
  }

  it('tls: server verified against the CA (RFC 5425); every entry exactly once; an unknown CA is refused', async () => {
    const rs = await startRsyslog({
      tls: { ca: join(pki, 'ca.pem'), cert: join(pki, 'server.pem'), key: join(pki, 'server.key') },
    });
    try {
      const bad = await runCli([
        'forward',
        '--dir',
        audit,
        '--syslog',
        `tls://127.0.0.1:${rs.port}`,
        '--ca',
        join(pki, 'other.pem'),
        '--state',
        join(t.dir, 's-tls-bad.json'),
        '--give-up-after',
        '1',
        '--timeout',
        '2000',
      ]);
      assert.equal(bad.code, 20, bad.stderr);
      assert.match(bad.stderr, /TLS: the server is not trusted: .*\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);
      const r = await runCli([
        'forward',
        '--dir',
        audit,
        '--syslog',
        `tls://127.0.0.1:${rs.port}`,
        '--ca',
        join(pki, 'ca.pem'),
        '--state',
        join(t.dir, 's-tls.json'),
      ]);
      assert.equal(r.code, 0, r.stderr);
      await assertEachEntryOnce(rs, audit);
    } finally {
      await rs.stop();
    }
  });

  it(
    'mutual TLS: a server that requires a client certificate ' +
      'gets ours (--cert/--key), and refuses a client without one',
    async () => {
      const rs = await startRsyslog({
        tls: {
          ca: join(pki, 'ca.pem'),
          cert: join(pki, 'server.pem'),
          key: join(pki, 'server.key'),
          requireClientCert: true,
        },
      });
      try {
        const without = await runCli([
          'forward',
          '--dir',
          audit,
          '--syslog',
          `tls://127.0.0.1:${rs.port}`,
          '--ca',
          join(pki, 'ca.pem'),
          '--state',
          join(t.dir, 's-mtls-0.json'),
          '--give-up-after',
          '1',
          '--timeout',
          '2000',
          '--batch-entries',
          '120',
        ]);
        assert.equal(without.code, 9, `not reported as delivered: ${without.stderr}`);
        assert.match(without.stderr, /closed the TLS connection|ECONNRESET|EPIPE|certificate/);
        assert.equal(rs.messages().length, 0, 'nothing accepted without a client certificate');
        const r = await runCli([
          'forward',
          '--dir',
          audit,
          '--syslog',
          `tls://127.0.0.1:${rs.port}`,
          '--ca',
          join(pki, 'ca.pem'),
          '--cert',
          join(pki, 'client.pem'),
          '--key',
          join(pki, 'client.key'),
          '--state',
          join(t.dir, 's-mtls.json'),
        ]);
        assert.equal(r.code, 0, r.stderr);
        await assertEachEntryOnce(rs, audit);
      } finally {
        await rs.stop();
      }
    },
  );

  it("Loki Mode's LOKI_AUDIT_SYSLOG_HOST/_PORT/_PROTO configure the target", async () => {
    const rs = await startRsyslog();
    try {
      const r = await runCli(['forward', '--dir', audit, '--state', join(t.dir, 's-env.json')], {
        env: {
          LOKI_AUDIT_SYSLOG_HOST: '127.0.0.1',
          LOKI_AUDIT_SYSLOG_PORT: String(rs.port),
          LOKI_AUDIT_SYSLOG_PROTO: 'tcp',
        },
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /syslog:tcp:\/\/127\.0\.0\.1:\d+: 120 sent \(tcp has no acknowledgement\)/);
      await assertEachEntryOnce(rs, audit);
    } finally {
      await rs.stop();
    }
  });
});
