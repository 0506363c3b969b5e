/**
 * forward to a real syslog-ng (Debian's syslog-ng-core, test/helpers/syslog-ng.ts), a second
 * syslog implementation beside rsyslog: its `syslog()` source parses RFC 5424 with RFC 6587
 * octet counting, and every entry, hostile strings included, arrives exactly once as one
 * message whose MSG is the entry's exact line and whose STRUCTURED-DATA carries its chain hash.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertExit, runCli, tempDir } from '../../helpers/cli.js';
import { RAW_HOSTILE, UNSAFE_ON_TTY } from '../../helpers/hostile.js';
import { startSyslogNg, syslogNgMissing, type SyslogNg } from '../../helpers/syslog-ng.js';

const skip = syslogNgMissing();

/** Values that would split a syslog message, a CEF/LEEF field or a terminal line if passed raw. */
const HOSTILE = [
  'pipe|pipe',
  'key=value',
  'back\\slash',
  'line\nfeed',
  'carriage\rreturn',
  'tab\there',
  '\u001b[31mred\u001b[0m',
  '<13>1 2026-01-01T00:00:00Z forged - - - [x] forged message',
  '] [audit@32473 chain_hash="0000"',
  RAW_HOSTILE,
];

describe('forward to a real syslog-ng', { skip }, () => {
  let t: { dir: string; cleanup: () => void };
  let audit: string;
  let ng: SyslogNg;
  before(async () => {
    t = tempDir();
    audit = join(t.dir, 'audit');
    const input = HOSTILE.map((v, i) =>
      JSON.stringify({ event: `auth.login`, user_id: v, details: { note: v, i }, resource_id: `r${i}` }),
    ).join('\n');
    assertExit(await runCli(['append', '--dir', audit, '--create', '--stdin'], { input }), 0);
    ng = await startSyslogNg();
  });
  after(async () => {
    await ng?.stop();
    t.cleanup();
  });

  it(
    'tcp (octet counting): every entry exactly once, ' + 'MSG = the entry line, chain hash in STRUCTURED-DATA',
    async () => {
      const lines = readdirSync(audit)
        .filter((n) => n.endsWith('.jsonl'))
        .flatMap((n) => readFileSync(join(audit, n), 'utf8').split('\n').filter(Boolean));
      assert.equal(lines.length, HOSTILE.length);
      const r = await runCli([
        'forward',
        '--dir',
        audit,
        '--syslog',
        `tcp://127.0.0.1:${ng.port}`,
        '--state',
        join(t.dir, 'state.json'),
        '--hostname',
        'host1',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const got = await ng.waitFor(lines.length);
      assert.equal(got.length, lines.length, `exactly ${lines.length} messages; syslog-ng: ${ng.log()}`);
      assert.deepEqual(
        got.map((m) => m.MSG),
        lines,
        'each MSG is the entry as written, in chain order',
      );
      for (const m of got) {
        assert.equal(m.HOST, 'host1');
        assert.equal(m.PROGRAM, 'loki-audit');
        assert.equal(m.FACILITY, 'local0');
        const hash = (JSON.parse(m.MSG) as { _integrity_hash: string })._integrity_hash;
        assert.match(hash, /^[0-9a-f]{64}$/);
        // syslog-ng's parse of STRUCTURED-DATA (.SDATA.<SD-ID>.<PARAM-NAME>, nested by format-json):
        // one element, ours, with the chain hash and the actor exactly as the entry has it.
        const sd = m._SDATA ?? {};
        assert.deepEqual(Object.keys(sd), ['audit@32473'], JSON.stringify(m));
        assert.equal(sd['audit@32473'].chain_hash, hash);
        // The actor as written when printable; control characters shown escaped (docs/export.md),
        // never raw.
        const actor = (JSON.parse(m.MSG) as { user_id: string }).user_id;
        // eslint-disable-next-line no-control-regex
        if (!/[\u0000-\u001f\u007f-\u009f]/.test(actor)) assert.equal(sd['audit@32473'].actor, actor);
        assert.doesNotMatch(sd['audit@32473'].actor, UNSAFE_ON_TTY);
        assert.equal(m.MSGID, 'auth.login');
      }
      // The hostile values are values: none made a message of its own or a forged SD element.
      const users = got.map((m) => (JSON.parse(m.MSG) as { user_id: string }).user_id);
      assert.deepEqual(users, HOSTILE);
    },
  );
});
