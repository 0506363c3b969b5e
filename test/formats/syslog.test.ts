import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toView } from '../../src/core/read/view.js';
import type { ReadEntry } from '../../src/core/read/entries.js';
import { FACILITIES, pri, SyslogFormatter } from '../../src/formats/syslog.js';

function entry(record: Record<string, unknown>): ReadEntry {
  const text = JSON.stringify(record);
  return {
    kind: 'entry',
    file: 'audit-2026-02-01.jsonl',
    line: 7,
    offset: 0,
    bytes: Buffer.from(text),
    text,
    strictJson: true,
    record,
    view: toView(record),
  };
}
const base = {
  timestamp: '2026-02-01T00:21:36.451467+00:00',
  action: 'login',
  resource_type: 'auth',
  resource_id: null,
  user_id: 'alice',
  token_id: null,
  success: true,
  error: null,
  details: {},
  _integrity_hash: 'a'.repeat(64),
};

describe('syslog formats', () => {
  it('PRI: LOCAL0, security actions and failures at warning, the rest info (Loki Mode §6.3)', () => {
    assert.equal(pri(FACILITIES.local0, 'warning'), 132);
    assert.equal(pri(FACILITIES.local0, 'error'), 132);
    assert.equal(pri(FACILITIES.local0, 'info'), 134);
    assert.equal(pri(FACILITIES.auth, 'info'), 38);
    const f = new SyslogFormatter({ layout: 'syslog' });
    assert.match(
      f.format(entry(base)),
      /^<132>time=2026-02-01T00:21:36\.451467\+00:00 event=auth\.login level=warning actor=alice outcome=success chain_hash=a{64} file=audit-2026-02-01\.jsonl line=7 entry=\{/,
    );
    assert.match(f.format(entry({ ...base, action: 'read' })), /^<134>/);
  });

  it('a newline or control character in a field can never forge a second line', () => {
    const f = new SyslogFormatter({ layout: 'syslog' });
    for (const layout of ['syslog', 'rfc5424', 'rfc3164'] as const) {
      const out = new SyslogFormatter({ layout }).format(
        entry({ ...base, user_id: 'mal\nlory <13>forged\r\u001b[2J', error: 'x\u2028y', details: { a: 'b\nc' } }),
      );
      // eslint-disable-next-line no-control-regex
      assert.doesNotMatch(out, /[\u0000-\u001f\u007f\u2028\u2029]/, layout);
    }
    assert.match(f.format(entry({ ...base, user_id: 'mal\nlory' })), /actor="mal\\nlory" /);
    assert.match(f.format(entry({ ...base, user_id: 'a "b\\' })), /actor="a \\"b\\\\" /);
    // Invisible characters are never bare: tag characters, soft hyphen, bidi isolates.
    assert.match(f.format(entry({ ...base, user_id: 'ad\u{e0041}min' })), / actor="ad\\u\{e0041\}min" /);
    assert.match(f.format(entry({ ...base, user_id: 'a\u00adb\u2066c' })), / actor="a\\xadb\\u2066c" /);
  });

  it('an over-long entry is shortened with a visible marker, never split; head fields kept', () => {
    const big = entry({ ...base, details: { blob: 'é'.repeat(5000) } });
    const s = new SyslogFormatter({ layout: 'syslog' }).format(big);
    const msg = s.slice('<132>'.length);
    assert.ok(Buffer.byteLength(msg) <= 1024, String(Buffer.byteLength(msg)));
    assert.match(msg, /…\[truncated \d+ bytes\]$/);
    assert.match(msg, /chain_hash=a{64}/);
    assert.doesNotMatch(msg, /\uFFFD/, 'cut on a character boundary');
    const r = new SyslogFormatter({ layout: 'rfc5424', maxBytes: 2048 }).format(big);
    assert.ok(Buffer.byteLength(r) - '<132>'.length <= 2048);
  });

  it('RFC 5424: header fields, SD-PARAM escaping (§6.3.3), MSGID from the event', () => {
    const f = new SyslogFormatter({ layout: 'rfc5424', hostname: 'host1' });
    const s = f.format(entry({ ...base, user_id: 'a"b]c\\d' }));
    assert.match(
      s,
      /^<132>1 2026-02-01T00:21:36\.451467\+00:00 host1 loki-audit - auth\.login \[audit@32473 chain_hash="a{64}" seq="1" file="audit-2026-02-01\.jsonl" line="7" event="auth\.login" level="warning" actor="a\\"b\\]c\\\\d" outcome="success"\] \{/,
    );
    assert.match(f.format(entry(base)), / seq="2" /);
  });

  it('RFC 3164: Mmm dd hh:mm:ss HOSTNAME TAG:', () => {
    const s = new SyslogFormatter({ layout: 'rfc3164', hostname: 'host1' }).format(entry(base));
    assert.match(s, /^<132>Feb {2}1 00:21:36 host1 loki-audit: time=/);
  });
});
