/**
 * A real rsyslog (Debian package) on a loopback port, as an ordinary foreground process with
 * its own config (shared/recipes/rsyslog-loopback.md). Started by a test, stopped after it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as tlsConnect } from 'node:tls';
import { tempDir } from './cli.js';
import { waitFor } from './wait.js';

/** APP-NAME of the marker messages {@link Rsyslog.flush} sends; never among `messages()`. */
const FLUSH_APP = 'loki-audit-test-flush';

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
  /** Waits until at least `n` messages arrived; rejects after `ms` with the count and rsyslog's stderr. */
  waitFor(n: number, ms?: number): Promise<RsyslogMessage[]>;
  /**
   * Sends a marker message after everything sent so far and waits until rsyslog has written it:
   * then every message that was sent before it over `via` has been written too, and the test can
   * count them without waiting "long enough" for stragglers. Over UDP the marker goes through the
   * same socket queue and input thread as the datagrams before it (and is sent again until one
   * arrives: UDP may drop it); over TCP (TLS on a TLS instance) it goes on a new connection, which
   * rsyslog reads after the bytes already waiting on a connection that was closed before it.
   * Resolves with `messages()`; rejects after `ms` with rsyslog's stderr.
   */
  flush(via?: 'tcp' | 'udp', ms?: number): Promise<RsyslogMessage[]>;
  /** SIGKILLs rsyslogd (a receiver crash: no serverclose, no flush) and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts rsyslogd again after {@link kill}: same port, same output file (appended to). */
  restart(): Promise<void>;
  /** rsyslogd's stderr so far (every instance), for failure messages. */
  stderr(): string;
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

/** Why RELP tests cannot run here (no imrelp), or false; in CI a missing imrelp is a failure. */
export function imrelpMissing(): string | false {
  const missing = rsyslogMissing();
  if (missing) return missing;
  const dirs = ['/usr/lib/x86_64-linux-gnu/rsyslog', '/usr/lib/aarch64-linux-gnu/rsyslog', '/usr/lib/rsyslog'];
  if (dirs.some((d) => existsSync(join(d, 'imrelp.so')))) return false;
  if (process.env.CI === 'true') throw new Error('imrelp is not installed: .ci/run must apt-get install rsyslog-relp');
  return 'imrelp not installed (apt-get install rsyslog-relp)';
}

/**
 * Starts rsyslogd listening on UDP and TCP (octet counting and LF framing), optionally TLS, or
 * (`relp`) on RELP only (imrelp; with `tls`, RELP over TLS requiring a client certificate).
 * Writes each message as one tab-separated line of the parsed fields.
 *
 * With `relp`, the input's ruleset has a Direct queue (docs/forward.md, RELP): imrelp
 * acknowledges a message once it is queued, so with rsyslog's default in-memory queue a SIGKILL
 * loses acknowledged messages; with a Direct queue the message is written to the output file
 * (omfile, flushed at the end of each one-message transaction) before its `rsp`, so
 * acknowledged means in the file.
 */
export async function startRsyslog(
  options: { tls?: { ca: string; cert: string; key: string; requireClientCert?: boolean }; relp?: boolean } = {},
): Promise<Rsyslog> {
  const t = tempDir('loki-audit-rsyslog-');
  const work = join(t.dir, 'work');
  mkdirSync(work);
  const port = await freePort();
  const out = join(t.dir, 'out.log');
  const inputLines = options.relp
    ? [
        'module(load="imrelp")',
        // RELP over TLS: librelp without an authMode is anonymous TLS, which Node does not
        // speak; certvalid wants a client certificate signed by the CA.
        `input(type="imrelp" address="127.0.0.1" port="${port}" ruleset="relp"${
          options.tls
            ? ` tls="on" tls.caCert="${options.tls.ca}" tls.myCert="${options.tls.cert}" ` +
              `tls.myPrivKey="${options.tls.key}" tls.authMode="certvalid"`
            : ''
        })`,
      ]
    : options.tls
      ? [
          `global(DefaultNetstreamDriver="gtls" DefaultNetstreamDriverCAFile="${options.tls.ca}" ` +
            `DefaultNetstreamDriverCertFile="${options.tls.cert}" ` +
            `DefaultNetstreamDriverKeyFile="${options.tls.key}")`,
          `module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" ` +
            `StreamDriver.AuthMode="${options.tls.requireClientCert ? 'x509/certvalid' : 'anon'}")`,
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
    ...inputLines,
    'template(name="t" type="string" ' +
      'string="%pri%\\t%syslogfacility-text%\\t%syslogseverity-text%\\t%timereported:::date-rfc3339%' +
      '\\t%hostname%\\t%app-name%\\t%procid%\\t%msgid%\\t%structured-data%\\t%msg%\\n")',
    options.relp
      ? `ruleset(name="relp" queue.type="Direct") { action(type="omfile" file="${out}" template="t") }`
      : `*.* action(type="omfile" file="${out}" template="t")`,
  ].join('\n');
  const confPath = join(t.dir, 'rsyslog.conf');
  writeFileSync(confPath, conf + '\n');
  const check = spawnSync(RSYSLOGD as string, ['-N1', '-f', confPath], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`rsyslog config rejected: ${check.stderr}`);
  let child: ChildProcess;
  let stderr = '';
  const launch = async () => {
    child = spawn(RSYSLOGD as string, ['-n', '-f', confPath, '-i', join(t.dir, 'pid')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', (b) => (stderr += b));
    // Listening 12–15 ms after start on an idle machine, seconds with TLS on a loaded one (the
    // fuzz test beside it): wait for the TCP port up to 30 s, and not at all once it has exited.
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(
          `rsyslogd exited (${child.exitCode ?? child.signalCode}) before listening on ${port}: ${stderr}`,
        );
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
  };
  await launch();
  const all = (): RsyslogMessage[] => {
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
  const messages = (): RsyslogMessage[] => all().filter((m) => m.appName !== FLUSH_APP);
  /** Sends one marker over TCP (octet-counted, RFC 6587) or TLS, the way a client on its own connection would. */
  const sendStream = (frame: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      const tls = options.tls;
      const s = tls
        ? tlsConnect({
            host: '127.0.0.1',
            port,
            servername: 'localhost',
            ca: readFileSync(tls.ca),
            // The server certificate doubles as a client certificate (same CA) where one is required.
            cert: readFileSync(tls.cert),
            key: readFileSync(tls.key),
          })
        : connect(port, '127.0.0.1');
      s.once(tls ? 'secureConnect' : 'connect', () => s.end(Buffer.concat([Buffer.from(`${frame.length} `), frame])));
      s.once('close', () => resolve());
      s.once('error', reject);
    });
  return {
    port,
    messages,
    waitFor(n: number, ms = 10_000) {
      return waitFor(
        () => {
          const got = messages();
          return got.length >= n && got;
        },
        { timeoutMs: ms, pollMs: 20, describe: () => `${n} messages, got ${messages().length}; stderr: ${stderr}` },
      );
    },
    async flush(via: 'tcp' | 'udp' = 'tcp', ms = 10_000) {
      if (options.relp)
        throw new Error('a RELP rsyslog has no TCP or UDP input (and needs no flush: see startRsyslog)');
      if (via === 'udp' && options.tls) throw new Error('a TLS rsyslog has no UDP input');
      const token = randomUUID();
      const frame = Buffer.from(`<134>1 2026-01-01T00:00:00Z localhost ${FLUSH_APP} - - - flush ${token}`);
      const arrived = () => all().some((m) => m.appName === FLUSH_APP && m.msg.includes(token));
      if (via === 'tcp') {
        await sendStream(frame);
        await waitFor(arrived, { timeoutMs: ms, pollMs: 20, describe: () => `flush marker over TCP: ${stderr}` });
        return messages();
      }
      const udp = createSocket('udp4');
      udp.on('error', () => undefined); // a marker that cannot be sent is sent again, or the wait fails
      const send = () => udp.send(frame, port, '127.0.0.1');
      try {
        send();
        // A dropped marker is sent again; one that arrives comes after every datagram sent before it.
        const again = setInterval(send, 200);
        try {
          await waitFor(arrived, { timeoutMs: ms, pollMs: 20, describe: () => `flush marker over UDP: ${stderr}` });
        } finally {
          clearInterval(again);
        }
      } finally {
        udp.close();
      }
      return messages();
    },
    async kill() {
      const closed = new Promise((resolve) => child.once('close', resolve));
      child.kill('SIGKILL');
      await closed;
    },
    restart: launch,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return t.cleanup();
      const closed = new Promise((resolve) => child.once('close', resolve));
      child.kill('SIGTERM');
      await Promise.race([closed, sleep(3000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
      t.cleanup();
    },
  };
}
