/** Certificates for TLS tests, made with openssl in a directory of the test's. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A test CA, a server certificate for 127.0.0.1/localhost, a client certificate, and an unrelated CA. */
export function makePki(pki: string): string {
  mkdirSync(pki);
  const ossl = (...a: string[]) => execFileSync('openssl', a, { cwd: pki, stdio: 'pipe' });
  ossl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=loki-audit test CA',
  );
  writeFileSync(join(pki, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  for (const [name, cn, ext] of [
    ['server', 'localhost', true],
    ['client', 'loki-audit client', false],
  ] as const) {
    ossl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    ossl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      ...(ext ? ['-extfile', 'ext.cnf'] : []),
    );
  }
  ossl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'other.key',
    '-out',
    'other.pem',
    '-days',
    '2',
    '-subj',
    '/CN=other CA',
  );
  return pki;
}
