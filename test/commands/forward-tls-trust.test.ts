/**
 * A TLS trust failure (unknown CA, another host name) is a configuration error with its own exit
 * code (20) and a hint, not an outage retried until --give-up-after (issue #17.13).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { generateSample } from '../../scripts/sample.js';
import { assertExit, runCli, tempDir } from '../helpers/cli.js';
import { makePki } from '../helpers/pki.js';

describe('forward: a TLS certificate that does not verify', { timeout: 120_000 }, () => {
  let t: { dir: string; cleanup: () => void };
  let pki: string;
  let audit: string;
  let https: HttpsServer;
  let tls: TlsServer;
  let pushes = 0;
  let syslogBytes = 0;
  const port = (s: HttpsServer | TlsServer) => (s.address() as AddressInfo).port;
  before(async () => {
    t = tempDir();
    pki = makePki(join(t.dir, 'pki'));
    audit = join(t.dir, 'audit');
    generateSample(audit, {
      seed: 20,
      startDate: new Date(Date.now() - 86_400_000).toISOString().slice(0, 10),
      perDay: [30],
    });
    const creds = { key: readFileSync(join(pki, 'server.key')), cert: readFileSync(join(pki, 'server.pem')) };
    https = createHttpsServer(creds, (req, res) => {
      req.resume();
      req.on('end', () => {
        pushes++;
        res.writeHead(204).end();
      });
    });
    tls = createTlsServer(creds, (socket) => socket.on('data', (b) => (syslogBytes += b.length)));
    await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => tls.listen(0, '127.0.0.2', r));
  });
  after(() => {
    https.close();
    tls.close();
    t.cleanup();
  });
  const fwd = (state: string, a: string[], env: NodeJS.ProcessEnv = {}) =>
    runCli(['forward', '--dir', audit, '--state', join(t.dir, state), '--tenant', 'x', ...a], { env });

  it('Loki over https with an unknown CA: exit 20 at once, the hint names NODE_EXTRA_CA_CERTS', async () => {
    const started = Date.now();
    const loki = ['--loki', `https://127.0.0.1:${port(https)}`];
    const r = assertExit(await fwd('s1.json', loki), 20);
    assert.ok(Date.now() - started < 30_000, 'not retried until --give-up-after (300 s)');
    assert.match(
      r.stderr,
      /^loki-audit: error: loki:https:\/\/127\.0\.0\.1:\d+#x: TLS: 127\.0\.0\.1:\d+ is not trusted: .* \([A-Z_]+\)/m,
    );
    assert.match(r.stderr, /^loki-audit: hint: .*NODE_EXTRA_CA_CERTS=FILE/m);
    assert.equal(pushes, 0);
    // Trusted, the same target delivers.
    assertExit(await fwd('s1.json', loki, { NODE_EXTRA_CA_CERTS: join(pki, 'ca.pem') }), 0);
    assert.ok(pushes > 0);
  });

  it(
    'syslog over TLS with an unknown CA, then a certificate ' + 'for another name: exit 20, the hint names --ca',
    async () => {
      const url = `tls://127.0.0.2:${port(tls)}`;
      let r = assertExit(await fwd('s2.json', ['--syslog', url]), 20);
      assert.match(r.stderr, /TLS: the server is not trusted: .*give its CA with --ca FILE/);
      assert.match(r.stderr, /^loki-audit: hint: .*--ca FILE/m);
      // With the CA, the name still does not match (the certificate is for 127.0.0.1 and localhost).
      r = assertExit(await fwd('s2.json', ['--syslog', url, '--ca', join(pki, 'ca.pem')]), 20);
      assert.match(r.stderr, /another host name \(ERR_TLS_CERT_ALTNAME_INVALID\)/);
      assert.equal(syslogBytes, 0);
      // --follow does not retry it for ever either.
      r = assertExit(await fwd('s3.json', ['--syslog', url, '--follow']), 20);
      assert.match(r.stderr, /not retried/);
    },
  );
});
