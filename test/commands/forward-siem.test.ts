/**
 * forward --syslog-format cef|leef: CEF and LEEF 2.0 records as the MSG of RFC 5424 messages, to
 * a real rsyslog on loopback over TCP: one record per entry, hostile strings intact as values
 * (parsed back with a parser written from the CEF standard), the chain carried record to record,
 * also across a resumed run and a filter.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GENESIS_HASH } from '../../src/core/chain/rule.js';
import { safeText, UNSAFE_SOURCE } from '../../src/formats/escape.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { rsyslogMissing, startRsyslog } from '../helpers/rsyslog.js';
import { HOSTILE, parseCef, parseLeef } from '../helpers/siem.js';

const skip = rsyslogMissing();

/** A CEF value read back: what safeText escapes (but CR, LF) as its visible text. */
const readBack = (s: string) =>
  s.replace(new RegExp(UNSAFE_SOURCE, 'gu'), (c) => (c === '\n' || c === '\r' ? c : safeText(c)));

const hash = (i: number) => i.toString(16).padStart(64, '0');

describe('forward --syslog-format cef|leef to a real rsyslog', { skip }, () => {
  let t: { dir: string; cleanup: () => void };
  const N = 40;
  before(() => {
    t = tempDir();
    const lines: string[] = [];
    for (let i = 1; i <= N; i++)
      lines.push(
        JSON.stringify({
          timestamp: `2026-02-01T00:00:${String(i).padStart(2, '0')}.000001+00:00`,
          action: i % 4 === 0 ? 'logout' : 'login',
          resource_type: 'auth',
          resource_id: HOSTILE,
          user_id: `${HOSTILE}#${i}`,
          token_id: null,
          ip_address: '10.0.0.1',
          user_agent: 'x',
          success: i % 3 !== 0,
          error: i % 3 === 0 ? HOSTILE : null,
          details: { v: HOSTILE, n: 0 },
          _integrity_hash: hash(i),
        }).replace('"n":0', '"n":18446744073709551617'),
      );
    writeFileSync(join(t.dir, 'audit-2026-02-01.jsonl'), lines.join('\n') + '\n');
  });
  after(() => t.cleanup());

  it('cef over tcp: one CEF record per entry, hostile strings intact, the chain record to record', async () => {
    const rs = await startRsyslog();
    try {
      const r = await runCli([
        'forward',
        '--dir',
        t.dir,
        '--syslog',
        `tcp://127.0.0.1:${rs.port}`,
        '--syslog-format',
        'cef',
        '--state',
        join(t.dir, 'cef.json'),
        '--hostname',
        'host1',
      ]);
      assert.equal(r.code, 0, r.stderr);
      await rs.waitFor(N);
      const messages = await rs.flush();
      assert.equal(messages.length, N, rs.stderr());
      let prev = GENESIS_HASH;
      for (const [i, m] of messages.entries()) {
        assert.equal(m.hostname, 'host1');
        assert.equal(m.structuredData, '-');
        const c = parseCef(m.msg);
        assert.equal(c.ext.get('cs4'), hash(i + 1));
        assert.equal(c.ext.get('cs5'), prev);
        assert.equal(c.ext.get('cn1'), String(i + 1));
        assert.equal(c.ext.get('suser'), readBack(`${HOSTILE}#${i + 1}`));
        assert.equal(c.ext.get('cs2'), readBack(HOSTILE));
        assert.equal(c.ext.get('loki.v'), readBack(HOSTILE));
        assert.equal(c.ext.get('loki.n'), '18446744073709551617');
        if ((i + 1) % 3 === 0) assert.equal(c.ext.get('msg'), readBack(HOSTILE));
        assert.equal(c.header[5], (i + 1) % 3 === 0 ? '8' : '3');
        prev = c.ext.get('cs4')!;
      }
    } finally {
      await rs.stop();
    }
  });

  it('leef, resumed from a saved position and filtered: the first record still has its chain predecessor', async () => {
    const rs = await startRsyslog();
    try {
      const args = (extra: string[]) => [
        'forward',
        '--dir',
        t.dir,
        '--syslog',
        `tcp://127.0.0.1:${rs.port}`,
        '--syslog-format',
        'leef',
        '--state',
        join(t.dir, 'leef.json'),
        ...extra,
      ];
      const first = await runCli(args(['--action', 'nothing-matches']));
      assert.equal(first.code, 0, first.stderr);
      // The position is at the end now; append entries and forward only the logouts.
      const more: string[] = [];
      for (let i = N + 1; i <= N + 8; i++)
        more.push(
          JSON.stringify({
            timestamp: `2026-02-01T00:01:${String(i - N).padStart(2, '0')}+00:00`,
            action: i % 2 === 0 ? 'logout' : 'login',
            resource_type: 'auth',
            user_id: 'u',
            success: true,
            details: {},
            _integrity_hash: hash(i),
          }),
        );
      writeFileSync(join(t.dir, 'audit-2026-02-01.jsonl'), more.join('\n') + '\n', { flag: 'a' });
      const second = await runCli(args(['--action', 'logout']));
      assert.equal(second.code, 0, second.stderr);
      await rs.waitFor(4);
      const messages = await rs.flush();
      assert.equal(messages.length, 4, rs.stderr());
      for (const m of messages) {
        // rsyslog writes a received tab as #011 (parser.escapeControlCharacterTab, on by default);
        // the records hold no other tab and no "#011" of their own.
        const a = parseLeef(m.msg.replaceAll('#011', '\t')).attrs;
        const line = Number(a.get('line'));
        assert.equal(a.get('chainHash'), hash(line));
        assert.equal(a.get('prevHash'), hash(line - 1), `line ${line}: the entry before it, which was not forwarded`);
      }
    } finally {
      await rs.stop();
    }
  });
});
