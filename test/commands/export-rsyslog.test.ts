/**
 * End to end against a real rsyslog on loopback: the documented recipe
 * `loki-audit export -o syslog | logger --prio-prefix …` (over TCP) delivers each entry as
 * exactly one message, and rfc5424 lines parse as RFC 5424 (docs/export.md). Over UDP, which may
 * drop datagrams, only what arrives is checked: intact, and never more than once.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GENESIS_HASH } from '../../src/core/chain/rule.js';
import { type PyValue } from '../../src/core/pyjson/dumps.js';
import { sealEntry } from '../../src/core/write/seal.js';
import { BIN, LOKI, ROOT, runCli, tempDir } from '../helpers/cli.js';
import { rsyslogMissing, startRsyslog, type Rsyslog } from '../helpers/rsyslog.js';

const WRITER = join(LOKI, 'extended/valid/writer');
const skip = rsyslogMissing();

/** Runs `loki-audit export ARGS | logger … -T` (TCP) to rsyslog; the pipeline's exit code and stderr. */
function pipeToLogger(exportArgs: string[], port: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const cmd =
      `node ${BIN} export ${exportArgs.map((a) => `'${a}'`).join(' ')} | logger ` +
      `--prio-prefix -t loki-audit -n 127.0.0.1 -P ${port} -T --rfc5424=notq`;
    const child = spawn('bash', ['-o', 'pipefail', '-c', cmd], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stderr = '';
    child.stderr.on('data', (b) => (stderr += b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('export into a real rsyslog', { skip }, () => {
  let rs: Rsyslog;
  before(async () => {
    rs = await startRsyslog();
  });
  after(async () => rs?.stop());

  it(
    'export -o syslog | logger --prio-prefix: each entry ' + 'exactly one message, PRI, event time, chain hash',
    async () => {
      const before = rs.messages().length;
      const p = await pipeToLogger(['--dir', WRITER, '-o', 'syslog'], rs.port);
      assert.equal(p.code, 0, p.stderr);
      await rs.waitFor(before + 150);
      const got = (await rs.flush()).slice(before);
      assert.equal(got.length, 150);
      const lines = ['01', '02', '03']
        .flatMap((d) =>
          readFileSync(join(WRITER, `audit-2026-02-${d}.jsonl`), 'utf8')
            .split('\n')
            .filter(Boolean),
        )
        .map((l) => JSON.parse(l));
      for (let i = 0; i < 150; i++) {
        const e = lines[i];
        const m = got[i];
        const security = ['delete', 'kill', 'stop', 'login', 'logout', 'create_token', 'revoke_token'].includes(
          e.action,
        );
        assert.equal(m.pri, e.success === false || security ? 132 : 134, `entry ${i + 1}`);
        assert.equal(m.facility, 'local0');
        assert.equal(m.appName, 'loki-audit');
        assert.ok(m.msg.startsWith(`time=${e.timestamp} event=${e.resource_type}.${e.action} `), m.msg.slice(0, 120));
        assert.ok(m.msg.includes(` chain_hash=${e._integrity_hash} `));
      }
    },
  );

  it('a 5 KB entry stays one message, shortened with a marker; a newline in a field forges nothing', async () => {
    const t = tempDir();
    try {
      let prev = GENESIS_HASH;
      let text = '';
      const entries: Array<{ [key: string]: PyValue }> = [
        { user_id: 'alice', details: { blob: 'x'.repeat(5000) } },
        { user_id: 'mallory\n<13>Nov 23 00:00:00 host forged: hello\r\nagain', details: { a: 'b\nc' } },
      ];
      for (const [i, extra] of entries.entries()) {
        const s = sealEntry(
          {
            timestamp: `2026-03-01T00:00:0${i}+00:00`,
            action: 'update',
            resource_type: 'task',
            resource_id: null,
            token_id: null,
            ip_address: null,
            user_agent: null,
            success: true,
            error: null,
            ...extra,
          },
          prev,
        );
        text += s.line;
        prev = s.hash;
      }
      writeFileSync(join(t.dir, 'audit-2026-03-01.jsonl'), text);
      const before = rs.messages().length;
      const p = await pipeToLogger(['--dir', t.dir, '-o', 'syslog'], rs.port);
      assert.equal(p.code, 0, p.stderr);
      // After the marker, a forged third message would be in too.
      const got = (await rs.flush()).slice(before);
      assert.equal(got.length, 2);
      assert.match(got[0].msg, /…\[truncated \d+ bytes\]$/);
      assert.ok(Buffer.byteLength(got[0].msg) <= 1024);
      assert.match(got[1].msg, /actor="mallory\\n<13>Nov 23 00:00:00 host forged: hello\\r\\nagain"/);
    } finally {
      t.cleanup();
    }
  });

  it(
    'rfc5424 lines sent as octet-counted TCP frames (RFC 6587) arrive ' +
      'once each, and UDP datagrams at most once, and parse as RFC 5424',
    async () => {
      const r = await runCli(['export', '--dir', WRITER, '-o', 'rfc5424', '--hostname', 'host1', '--limit', '10']);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.split('\n').filter(Boolean);
      assert.equal(lines.length, 10);
      const hashOf = (sd: string) => /chain_hash="([0-9a-f]{64})"/.exec(sd)?.[1];
      const sent = lines.map((l) => hashOf(l) as string);
      const before = rs.messages().length;
      await new Promise<void>((resolve, reject) => {
        const s = connect(rs.port, '127.0.0.1', () => {
          for (const l of lines.slice(0, 5)) {
            const b = Buffer.from(l);
            s.write(`${b.length} `);
            s.write(b);
          }
          s.end(resolve);
        });
        s.on('error', reject);
      });
      const udp = createSocket('udp4');
      for (const l of lines.slice(5))
        await new Promise<void>((resolve, reject) =>
          udp.send(Buffer.from(l), rs.port, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
        );
      udp.close();
      await rs.flush('tcp');
      const got = (await rs.flush('udp')).slice(before);
      const hashes = got.map((m) => hashOf(m.structuredData));
      // TCP: each of the five exactly once. UDP may drop: each at most once, and some arrive.
      for (const h of sent.slice(0, 5)) assert.equal(hashes.filter((x) => x === h).length, 1, `TCP ${h}`);
      const viaUdp = hashes.filter((h) => h !== undefined && sent.slice(5).includes(h));
      assert.ok(viaUdp.length >= 1, 'some UDP datagrams arrive');
      assert.equal(new Set(viaUdp).size, viaUdp.length, 'no UDP datagram twice');
      assert.equal(hashes.length, 5 + viaUdp.length, 'nothing but what was sent');
      for (const m of got) {
        assert.equal(m.hostname, 'host1');
        assert.equal(m.appName, 'loki-audit');
        assert.match(
          m.structuredData,
          /^\[audit@32473 chain_hash="[0-9a-f]{64}" seq="\d+" file="audit-2026-02-01\.jsonl" /,
        );
        assert.equal(JSON.parse(m.msg)._integrity_hash, hashOf(m.structuredData), 'the entry is intact');
      }
      const first = JSON.parse(readFileSync(join(WRITER, 'audit-2026-02-01.jsonl'), 'utf8').split('\n')[0]);
      const m = got.find((x) => x.structuredData.includes(first._integrity_hash));
      assert.ok(m, 'first entry received');
      assert.equal(m.hostname, 'host1');
      assert.equal(m.appName, 'loki-audit');
      assert.equal(m.msgId, 'task.complete');
      assert.equal(m.timestamp, '2026-02-01T00:21:36.451467+00:00');
      assert.equal(m.pri, 134);
      assert.match(
        m.structuredData,
        /^\[audit@32473 chain_hash="[0-9a-f]{64}" seq="1" file="audit-2026-02-01\.jsonl" line="1" event="task\.complete" level="info" actor="ci-bot" outcome="success"\]$/,
      );
      assert.equal(JSON.parse(m.msg)._integrity_hash, first._integrity_hash);
    },
  );

  it(
    'rfc5424 lines with hostile actors (], ", \\, newline, 10 ' +
      'KB) parse in rsyslog: the whole STRUCTURED-DATA, then MSG',
    async () => {
      const t = tempDir();
      try {
        const actors = ['a]b"c\\d\ne', ']"\\'.repeat(3400), 'x'.repeat(10_000), '\u{e0041}\u202e'.repeat(2000)];
        const lines = actors.map((user_id, i) =>
          JSON.stringify({
            timestamp: `2026-03-01T00:00:0${i}+00:00`,
            action: 'update',
            resource_type: 'task',
            user_id,
            success: true,
            details: {},
            _integrity_hash: String(i).repeat(64),
          }),
        );
        writeFileSync(join(t.dir, 'audit-2026-03-01.jsonl'), lines.join('\n') + '\n');
        const r = await runCli(['export', '--dir', t.dir, '-o', 'rfc5424', '--hostname', 'host1']);
        assert.equal(r.code, 0, r.stderr);
        const out = r.stdout.split('\n').filter(Boolean);
        assert.equal(out.length, actors.length);
        const before = rs.messages().length;
        await new Promise<void>((resolve, reject) => {
          const s = connect(rs.port, '127.0.0.1', () => {
            for (const l of out) {
              const b = Buffer.from(l);
              s.write(`${b.length} `);
              s.write(b);
            }
            s.end(resolve);
          });
          s.on('error', reject);
        });
        const got = (await rs.flush('tcp')).slice(before);
        assert.equal(got.length, actors.length);
        for (const [i, m] of got.entries()) {
          const sent = out[i];
          const sdStart = sent.indexOf('[audit@32473 ');
          const sdEnd = sent.indexOf(' outcome="success"] ') + ' outcome="success"]'.length;
          assert.equal(m.structuredData, sent.slice(sdStart, sdEnd), `entry ${i}: rsyslog read the same SD`);
          assert.equal(m.msg, sent.slice(sdEnd + 1), `entry ${i}: and the rest as MSG`);
          assert.equal(m.hostname, 'host1');
          assert.match(m.structuredData, new RegExp(`chain_hash="${String(i).repeat(64)}" seq="${i + 1}"`));
          if (actors[i].length > 100)
            assert.match(m.structuredData, /…\[truncated \d+ bytes\\\]" outcome="success"\]$/);
        }
      } finally {
        t.cleanup();
      }
    },
  );
});
