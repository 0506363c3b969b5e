/**
 * A real rsyslog (Debian package) on a loopback port, as an ordinary foreground process with
 * its own config (shared/recipes/rsyslog-loopback.md). Started by a test, stopped after it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from './cli.js';

const RSYSLOGD = ['/usr/sbin/rsyslogd', '/sbin/rsyslogd'].find((p) => existsSync(p)) ?? null;

/** Why rsyslog tests cannot run here, or false. In CI (CI=true) a missing rsyslog is a failure, not a skip. */
export function rsyslogMissing(): string | false {
  if (RSYSLOGD) return false;
  if (process.env.CI === 'true') throw new Error('rsyslogd is not installed: .ci/run must apt-get install rsyslog');
  return 'rsyslogd not installed (apt-get install rsyslog rsyslog-gnutls)';
}

/** A free TCP port on 127.0.0.1 (also used for UDP). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Rsyslog {
  port: number;
  /** Parsed received messages, in arrival order. */
  messages(): RsyslogMessage[];
  /** Waits until at least `n` messages arrived (or the timeout passes). */
  waitFor(n: number, ms?: number): Promise<RsyslogMessage[]>;
  stop(): Promise<void>;
}

export interface RsyslogMessage {
  pri: number;
  facility: string;
  severity: string;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  structuredData: string;
  msg: string;
}

/**
 * Starts rsyslogd listening on UDP and TCP (octet counting and LF framing), optionally TLS.
 * Writes each message as one tab-separated line of the parsed fields.
 */
export async function startRsyslog(
  options: { tls?: { ca: string; cert: string; key: string; requireClientCert?: boolean } } = {},
): Promise<Rsyslog> {
  const t = tempDir('loki-audit-rsyslog-');
  const work = join(t.dir, 'work');
  mkdirSync(work);
  const port = await freePort();
  const out = join(t.dir, 'out.log');
  const tlsLines = options.tls
    ? [
        `global(DefaultNetstreamDriver="gtls" DefaultNetstreamDriverCAFile="${options.tls.ca}" DefaultNetstreamDriverCertFile="${options.tls.cert}" DefaultNetstreamDriverKeyFile="${options.tls.key}")`,
        `module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="${options.tls.requireClientCert ? 'x509/certvalid' : 'anon'}")`,
        `input(type="imtcp" address="127.0.0.1" port="${port}" supportOctetCountedFraming="on")`,
      ]
    : [
        'module(load="imudp")',
        'module(load="imtcp")',
        `input(type="imudp" address="127.0.0.1" port="${port}")`,
        `input(type="imtcp" address="127.0.0.1" port="${port}" supportOctetCountedFraming="on")`,
      ];
  const conf = [
    `global(workDirectory="${work}" maxMessageSize="64k")`,
    'main_queue(queue.workerThreads="1")',
    ...tlsLines,
    'template(name="t" type="string" string="%pri%\\t%syslogfacility-text%\\t%syslogseverity-text%\\t%timereported:::date-rfc3339%\\t%hostname%\\t%app-name%\\t%procid%\\t%msgid%\\t%structured-data%\\t%msg%\\n")',
    `*.* action(type="omfile" file="${out}" template="t")`,
  ].join('\n');
  const confPath = join(t.dir, 'rsyslog.conf');
  writeFileSync(confPath, conf + '\n');
  const check = spawnSync(RSYSLOGD as string, ['-N1', '-f', confPath], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`rsyslog config rejected: ${check.stderr}`);
  const child: ChildProcess = spawn(RSYSLOGD as string, ['-n', '-f', confPath, '-i', join(t.dir, 'pid')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (b) => (stderr += b));
  // Listening 12–15 ms after start; wait for the TCP port.
  const deadline = Date.now() + 5000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`rsyslogd did not listen on ${port}: ${stderr}`);
    }
    await sleep(20);
  }
  const messages = (): RsyslogMessage[] => {
    if (!existsSync(out)) return [];
    return readFileSync(out, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [pri, facility, severity, timestamp, hostname, appName, procId, msgId, structuredData, ...msg] =
          l.split('\t');
        return {
          pri: Number(pri),
          facility,
          severity,
          timestamp,
          hostname,
          appName,
          procId,
          msgId,
          structuredData,
          msg: msg.join('\t'),
        };
      });
  };
  return {
    port,
    messages,
    async waitFor(n: number, ms = 10_000) {
      const end = Date.now() + ms;
      while (messages().length < n && Date.now() < end) await sleep(25);
      return messages();
    },
    async stop() {
      const closed = new Promise((resolve) => child.once('close', resolve));
      child.kill('SIGTERM');
      await Promise.race([closed, sleep(3000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
      t.cleanup();
    },
  };
}
