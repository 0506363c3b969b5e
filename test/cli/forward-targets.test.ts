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
