import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toView } from '../../src/core/read/view.js';
import type { ReadEntry } from '../../src/core/read/entries.js';
import { safeText } from '../../src/formats/escape.js';
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

/**
 * A strict RFC 5424 parser (§6): HEADER SP STRUCTURED-DATA [SP MSG]. Inside PARAM-VALUE only
 * `\"`, `\\` and `\]` are escapes (§6.3.3) and an unescaped `"` or `]` cannot occur; every
 * SD-ELEMENT is closed. Throws on anything else.
 */
function parseRfc5424(line: string): {
  pri: number;
  header: string[];
  sd: Array<{ id: string; params: Array<[string, string]> }>;
  msg: string;
} {
  const m = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) /.exec(line);
  if (!m) throw new Error(`bad header: ${line.slice(0, 80)}`);
  for (const [field, max] of [
    [m[3], 255],
    [m[4], 48],
    [m[5], 128],
    [m[6], 32],
  ] as const)
    if (field.length > max || !/^[\x21-\x7e]+$/.test(field)) throw new Error(`bad header field ${field}`);
  let i = m[0].length;
  const sd: Array<{ id: string; params: Array<[string, string]> }> = [];
  const name = () => {
    const n = /^[^= \]"]{1,32}/.exec(line.slice(i));
    if (!n || !/^[\x21-\x7e]+$/.test(n[0])) throw new Error(`bad SD-NAME at ${i}`);
    i += n[0].length;
    return n[0];
  };
  if (line[i] === '-') i++;
  else
    while (line[i] === '[') {
      i++;
      const el = { id: name(), params: [] as Array<[string, string]> };
      while (line[i] === ' ') {
        i++;
        const key = name();
        if (line.slice(i, i + 2) !== '="') throw new Error(`no ="" after ${key} at ${i}`);
        i += 2;
        let value = '';
        for (;;) {
          const c = line[i];
          if (c === undefined) throw new Error(`unterminated PARAM-VALUE of ${key}`);
          if (c === '\\') {
            const n = line[i + 1];
            if (n !== '"' && n !== '\\' && n !== ']') throw new Error(`bad escape \\${n} in ${key}`);
            value += n;
            i += 2;
          } else if (c === '"') {
            i++;
            break;
          } else if (c === ']') throw new Error(`unescaped ] in ${key}`);
          else {
            value += c;
            i++;
          }
        }
        el.params.push([key, value]);
      }
      if (line[i] !== ']') throw new Error(`SD-ELEMENT ${el.id} not closed at ${i}: ${line.slice(i, i + 20)}`);
      i++;
      sd.push(el);
    }
  if (i < line.length && line[i] !== ' ') throw new Error(`no SP after STRUCTURED-DATA at ${i}`);
  return { pri: Number(m[1]), header: m.slice(2, 7), sd, msg: line.slice(i + 1) };
}

/** A logfmt head (`key=bare` or `key="quoted \" \\"`) up to ` entry=`; throws on a malformed one. */
function parseKeyValues(msg: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let i = 0;
  while (i < msg.length) {
    const k = /^([a-z_]+)=/.exec(msg.slice(i));
    if (!k) throw new Error(`no key at ${i}: ${msg.slice(i, i + 30)}`);
    i += k[0].length;
    if (k[1] === 'entry') return out.concat([['entry', msg.slice(i)]]);
    let value = '';
    if (msg[i] === '"') {
      i++;
      for (;;) {
        const c = msg[i];
        if (c === undefined) throw new Error(`unterminated value of ${k[1]}`);
        if (c === '\\') {
          value += msg[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          break;
        } else {
          value += c;
          i++;
        }
      }
    } else {
      const b = /^[^ ]*/.exec(msg.slice(i))![0];
      value = b;
      i += b.length;
    }
    out.push([k[1], value]);
    if (msg[i] === ' ') i++;
    else if (i < msg.length) throw new Error(`no space after ${k[1]} at ${i}`);
  }
  return out;
}

const HOSTILE_ACTORS = [
  'a]b',
  'a"b',
  'a\\b',
  'a\nb<13>forged',
  '"]\\'.repeat(4000),
  ']'.repeat(10_000),
  'x'.repeat(10_000),
  'é'.repeat(5_000),
  '\u{e0041}'.repeat(3_000),
  '\\'.repeat(10_001),
  'a\ud800b',
];
const HASH = 'b'.repeat(64);

describe('syslog: hostile fields never break the message', () => {
  it('RFC 5424: STRUCTURED-DATA always parses, every SD element closed, hash/file/line exact, within the limit', () => {
    for (const maxBytes of [256, 480, 1024, 2048, 8192])
      for (const actor of HOSTILE_ACTORS)
        for (const hash of [HASH, '"]\\\n'.repeat(50)]) {
          const e = entry({ ...base, user_id: actor, _integrity_hash: hash, action: ']"\\' });
          const line = new SyslogFormatter({ layout: 'rfc5424', hostname: 'host1', maxBytes }).format(e);
          const what = `max ${maxBytes}, actor ${JSON.stringify(actor.slice(0, 12))}…, hash ${hash.slice(0, 4)}`;
          const p = parseRfc5424(line);
          assert.ok(Buffer.byteLength(line) - '<132>'.length <= maxBytes, what);
          assert.equal(p.sd.length, 1, what);
          const params = new Map(p.sd[0].params);
          assert.deepEqual(
            p.sd[0].params.map(([k]) => k),
            ['chain_hash', 'seq', 'file', 'line', 'event', 'level', 'actor', 'outcome'],
            what,
          );
          assert.equal(params.get('file'), 'audit-2026-02-01.jsonl', what);
          assert.equal(params.get('line'), '7', what);
          assert.equal(params.get('outcome'), 'success', what);
          if (hash === HASH) assert.equal(params.get('chain_hash'), HASH, what);
          const shown = params.get('actor')!;
          if (shown !== safeText(actor)) {
            assert.match(shown, /…(\[truncated \d+ bytes\])?$/, what);
            assert.ok(safeText(actor).startsWith(shown.replace(/…(\[truncated \d+ bytes\])?$/, '')), what);
          }
          if (maxBytes >= 1024 && actor.length > 1000) assert.match(shown, /…\[truncated \d+ bytes\]$/, what);
        }
  });

  it(
    'syslog and rfc3164: a 10 KB actor is shortened with a marker; ' +
      'chain hash, file and line still follow, within the limit',
    () => {
      for (const layout of ['syslog', 'rfc3164'] as const)
        for (const maxBytes of [256, 1024, 2048])
          for (const actor of HOSTILE_ACTORS) {
            const e = entry({ ...base, user_id: actor, success: false, error: `err ${actor}`, _integrity_hash: HASH });
            const line = new SyslogFormatter({ layout, hostname: 'host1', maxBytes }).format(e);
            const what = `${layout} max ${maxBytes}, actor ${JSON.stringify(actor.slice(0, 12))}…`;
            assert.ok(Buffer.byteLength(line) - '<132>'.length <= maxBytes, what);
            // eslint-disable-next-line no-control-regex
            assert.doesNotMatch(line, /[\u0000-\u001f\u007f]/, what);
            const msg = layout === 'syslog' ? line.slice('<132>'.length) : line.slice(line.indexOf(': ') + 2);
            const kv = parseKeyValues(msg);
            const keys = kv.map(([k]) => k).filter((k) => k !== 'error');
            assert.deepEqual(
              keys,
              ['time', 'event', 'level', 'actor', 'outcome', 'chain_hash', 'file', 'line', 'entry'],
              what,
            );
            const m = new Map(kv);
            assert.equal(m.get('time'), base.timestamp, what);
            assert.equal(m.get('chain_hash'), HASH, what);
            assert.equal(m.get('file'), 'audit-2026-02-01.jsonl', what);
            assert.equal(m.get('line'), '7', what);
            assert.equal(m.get('level'), 'error', what);
            if (actor.length > 1000) assert.match(m.get('actor')!, /…(\[truncated \d+ bytes\])?$/, what);
            if (maxBytes >= 1024 && actor.length > 1000) {
              assert.match(m.get('actor')!, /…\[truncated \d+ bytes\]$/, what);
              assert.ok(Buffer.byteLength(m.get('actor')!) <= 128, what);
            }
          }
    },
  );
});

describe('SyslogFormatter cef and leef layouts: the RFC 5424 header, the record as MSG', () => {
  const big = { ...base, _integrity_hash: 'f'.repeat(64), details: { note: 'é|='.repeat(2000) } };
  for (const layout of ['cef', 'leef'] as const) {
    it(`${layout}: header kept, within the limit, the chain fields kept and a visible marker`, () => {
      const f = new SyslogFormatter({ layout, hostname: 'h', maxBytes: 1024, device: { version: '9' } });
      const line = f.format(entry(big));
      assert.match(
        line,
        new RegExp(
          `^<132>1 2026-02-01T00:21:36\\.451467\\+00:00 h loki-audit - auth\\.login - ` +
            `${layout === 'cef' ? 'CEF:0' : 'LEEF:2\\.0'}\\|Autonomi\\|Loki Mode\\|9\\|login\\|`,
        ),
      );
      assert.ok(Buffer.byteLength(line.slice('<132>'.length)) <= 1024, String(Buffer.byteLength(line)));
      assert.match(line, /…\[truncated \d+ bytes\]$/);
      assert.ok(line.includes('f'.repeat(64)), 'the chain hash is kept');
      assert.ok(!/[\r\n]/.test(line));
      const small = f.format(entry({ ...base, _integrity_hash: 'f'.repeat(64) }));
      assert.doesNotMatch(small, /truncated/);
    });
  }
});
