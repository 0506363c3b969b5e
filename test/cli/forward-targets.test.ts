/**
 * Target URLs never carry credentials: whatever form a URL parser would still read a user name
 * or password from, the target is refused, and the message never repeats the secret.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTargets, ForwardConfigError, noCredentialsInUrl } from '../../src/cli/forward-targets.js';

/** URLs from which `new URL` (or a lax parser) reads credentials. */
const WITH_CREDENTIALS = [
  'http://u:pw@host:3100',
  'http:/u:pw@host:3100',
  'http:u:pw@host:3100',
  'http:\\\\u:pw@host',
  'http:\\/u:pw@host',
  'HTTPS://U:PW@host',
  '  http://u:pw@host',
  'ht\ttp://u:p\nw@host',
  'http://u@host',
  'http://:pw@host',
  'http://%75:%70w@host',
  'tcp://u:pw@host:514',
  'tcp:/u:pw@host:514',
  'udp://u@host:514',
  'tls://:pw@host:6514',
];

describe('noCredentialsInUrl', () => {
  it('refuses every form of userinfo the URL parser accepts, and lax ones', () => {
    for (const url of WITH_CREDENTIALS) {
      assert.throws(
        () => noCredentialsInUrl(url, '--loki'),
        (err: Error) => err instanceof ForwardConfigError && /^--loki: credentials in a URL/.test(err.message),
        JSON.stringify(url),
      );
    }
  });

  it('accepts URLs without credentials, an @ in the path or query included', () => {
    for (const url of [
      'http://loki:3100',
      'https://logs.example.com/loki',
      'http://h/@x',
      'http://h?x=@y',
      'http://h#@z',
      'tcp://siem:514',
      'tls://[::1]:6514',
    ])
      assert.doesNotThrow(() => noCredentialsInUrl(url, '--loki'), url);
  });

  it('guards every target source: --loki, --syslog, the config file, LOKI_AUDIT_SYSLOG_HOST', async () => {
    const refused = async (p: Promise<unknown>, where: RegExp) =>
      assert.rejects(p, (err: Error) => {
        assert.ok(err instanceof ForwardConfigError, String(err));
        assert.match(err.message, where);
        assert.doesNotMatch(err.message, /hunter2/);
        return true;
      });
    await refused(buildTargets({ loki: ['http:/u:hunter2@127.0.0.1:1'] }, {}, {}), /^--loki: /);
    await refused(buildTargets({ syslog: ['tcp://u:hunter2@127.0.0.1:514'] }, {}, {}), /^--syslog: /);
    await refused(
      buildTargets({}, { forward: { targets: [{ loki: 'http://127.0.0.1:1' }, { loki: 'http:u:hunter2@h' }] } }, {}),
      /^config forward\.targets\[1\]\.loki: /,
    );
    await refused(
      buildTargets({}, { forward: { targets: [{ syslog: 'udp:/u:hunter2@h:514' }] } }, {}),
      /^config forward\.targets\[0\]\.syslog: /,
    );
    await refused(buildTargets({}, {}, { LOKI_AUDIT_SYSLOG_HOST: 'u:hunter2@h' }), /^LOKI_AUDIT_SYSLOG_HOST: /);
  });
});

describe('syslog formats of targets', () => {
  it(
    '--syslog-format and a target format: choose the message; ' +
      'CEF/LEEF targets track predecessors; bad names refused',
    async () => {
      const sample = async (t: import('../../src/core/forward/target.js').ForwardTarget) => {
        const { entryOf } = await import('../helpers/siem.js');
        const preview = { target: t.id, entries: 0, streams: {}, sample: null as string | null, wouldBeRefused: {} };
        t.preview(entryOf('{"timestamp": "2026-02-01T00:00:00Z", "action": "login", "_integrity_hash": "h"}'), preview);
        await t.close();
        return { sample: preview.sample ?? '', predecessors: t.predecessors === true };
      };
      const env = { LOKI_CEF_VENDOR: 'Acme' };
      const [cef] = await buildTargets(
        { syslog: ['udp://127.0.0.1:514'], 'syslog-format': 'cef', version: '1.2.3' },
        {},
        env,
      );
      const c = await sample(cef);
      assert.match(
        c.sample,
        /^<132>1 2026-02-01T00:00:00Z \S+ loki-audit - login - CEF:0\|Acme\|Loki Mode\|1\.2\.3\|login\|/,
      );
      assert.equal(c.predecessors, true);
      const [leef] = await buildTargets(
        {},
        { forward: { targets: [{ syslog: 'udp://127.0.0.1:514', format: 'leef' }] } },
        {},
      );
      assert.match((await sample(leef)).sample, / - login - LEEF:2\.0\|Autonomi\|/);
      const [plain] = await buildTargets({ syslog: ['udp://127.0.0.1:514'] }, {}, {});
      const p = await sample(plain);
      assert.match(p.sample, /\[audit@32473 chain_hash="h"/);
      assert.equal(p.predecessors, false);
      await assert.rejects(
        buildTargets({}, { forward: { targets: [{ syslog: 'udp://127.0.0.1:514', format: 'cef2' }] } }, {}),
        (e: Error) =>
          e instanceof ForwardConfigError &&
          /targets\[0\]\.format: must be rfc5424 or rfc3164 or cef or leef, got "cef2"/.test(e.message),
      );
    },
  );
});
