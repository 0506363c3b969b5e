/**
 * Syslog transport: `udp://` (RFC 5426, one message per datagram), `tcp://` (RFC 6587
 * octet counting by default, LF framing as an option), `tls://` (RFC 5425: TLS, octet
 * counting, server verified against `ca`, client certificate and key for mutual TLS),
 * `relp://` (RELP over TCP, relp.ts: each message acknowledged by the receiver) and
 * `relp+tls://` (RELP over TLS, as rsyslog's imrelp with tls="on": verified like `tls://`).
 * Messages are RFC 5424 lines from the formats module. Connections are opened lazily and
 * re-opened after an error; the forwarder retries with backoff.
 *
 * What "sent" means: UDP — handed to the kernel; TCP/TLS — written to the socket and flushed
 * (the write callback). Plain syslog has no application acknowledgement, so a connection that
 * breaks may lose what was in flight: the forwarder re-sends the whole batch after any error,
 * and each message carries its chain hash for the receiver to drop repeats. RELP's `rsp` says
 * the receiver took the message: only that counts as delivered.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as tlsConnect } from 'node:tls';
import { RelpClient } from './relp.js';

export type SyslogProtocol = 'udp' | 'tcp' | 'tls' | 'relp' | 'relp+tls';

export interface SyslogTargetConfig {
  /**
   * `udp://host:port`, `tcp://host:port`, `tls://host:port`, `relp://host:port`,
   * `relp+tls://host:port` (default ports 514, 514, 6514, 20514, 20514).
   */
  url: string;
  /** TCP/TLS framing: RFC 6587 octet counting (default) or a trailing LF. */
  framing?: 'octet-counting' | 'lf';
  /** PEM files for TLS: CA to verify the server, client certificate and key (mutual TLS). */
  ca?: string;
  cert?: string;
  key?: string;
  /** Server name to verify (default: the URL host). */
  servername?: string;
  timeoutMs?: number;
}

/** A bad syslog URL or TLS file. */
export class SyslogConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SyslogConfigError';
  }
}

/** Parses a syslog target URL. @throws SyslogConfigError */
function parseSyslogUrl(url: string): { protocol: SyslogProtocol; host: string; port: number } {
  const m = /^(udp|tcp|tls|relp|relp\+tls):\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(url);
  if (!m)
    throw new SyslogConfigError(
      `invalid syslog URL "${url}": use udp://HOST:PORT, tcp://HOST:PORT, ` +
        `tls://HOST:PORT, relp://HOST:PORT or relp+tls://HOST:PORT`,
    );
  const protocol = m[1] as SyslogProtocol;
  const port = m[3] ? Number(m[3]) : DEFAULT_PORTS[protocol];
  if (port < 1 || port > 65535) throw new SyslogConfigError(`invalid port in ${url}`);
  return { protocol, host: m[2].replace(/^\[|\]$/g, ''), port };
}

/** RFC 5426, RFC 6587 (514), RFC 5425 (6514), librelp's RELP_DFLT_PORT (20514, with TLS too). */
const DEFAULT_PORTS: Readonly<Record<SyslogProtocol, number>> = {
  udp: 514,
  tcp: 514,
  tls: 6514,
  relp: 20514,
  'relp+tls': 20514,
};

/** Pause after every 8 UDP datagrams, ms. */
const UDP_PACE_MS = 1;

/** How long a new TLS connection must stay open before it is used (see connect()). */
const TLS_SETTLE_MS = 250;

/** RFC 5426 §3.2: a datagram holds one message; IPv4 UDP payloads stop at 65 507 bytes. */
const MAX_UDP_PAYLOAD = 65_507;

/** Sends syslog messages to one target. */
export class SyslogSender {
  readonly protocol: SyslogProtocol;
  private readonly host: string;
  private readonly port: number;
  private socket: Socket | null = null;
  private udp: UdpSocket | null = null;
  private relp: RelpClient | null = null;
  private readonly tlsFiles: { ca?: Buffer; cert?: Buffer; key?: Buffer };

  /** @throws SyslogConfigError for a bad URL or unreadable TLS files. */
  constructor(readonly config: SyslogTargetConfig) {
    const u = parseSyslogUrl(config.url);
    this.protocol = u.protocol;
    this.host = u.host;
    this.port = u.port;
    const read = (what: string, path?: string) => {
      if (!path) return undefined;
      try {
        return readFileSync(path);
      } catch (err) {
        throw new SyslogConfigError(`cannot read TLS ${what} ${path}: ${(err as Error).message}`);
      }
    };
    this.tlsFiles = { ca: read('CA', config.ca), cert: read('certificate', config.cert), key: read('key', config.key) };
    if (!!this.tlsFiles.cert !== !!this.tlsFiles.key)
      throw new SyslogConfigError('a client certificate needs its key, and a key its certificate');
  }

  /** Over TLS: `tls://`, `relp+tls://`. */
  get tls(): boolean {
    return this.protocol === 'tls' || this.protocol === 'relp+tls';
  }

  /** RELP (`relp://`, `relp+tls://`): each message acknowledged by the receiver. */
  get acknowledged(): boolean {
    return this.protocol === 'relp' || this.protocol === 'relp+tls';
  }

  /** A message framed for TCP/TLS (RFC 6587): `LEN SP MSG` (octet counting) or `MSG LF`. */
  frameText(message: string): string {
    return this.config.framing === 'lf' ? message + '\n' : `${Buffer.byteLength(message)} ${message}`;
  }

  private async connect(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return this.socket;
    const socket = await this.dial();
    // Errors after connecting surface on the next write; keep the process alive meanwhile.
    socket.on('error', () => socket.destroy());
    this.socket = socket;
    return socket;
  }

  /**
   * A new connection to the target: TCP, or TLS verified as configured (and settled, see below).
   * RELP (relp.ts) dials its sessions with it.
   * @throws Error (network, TLS)
   */
  async dial(): Promise<Socket> {
    const timeout = this.config.timeoutMs ?? 10_000;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const onError = (err: Error) => {
        s.destroy();
        reject(err);
      };
      const s: Socket = this.tls
        ? tlsConnect(
            {
              host: this.host,
              port: this.port,
              ca: this.tlsFiles.ca,
              cert: this.tlsFiles.cert,
              key: this.tlsFiles.key,
              servername: this.config.servername ?? (isIP(this.host) ? undefined : this.host),
              rejectUnauthorized: true,
            },
            () => {
              s.removeListener('error', onError);
              resolve(s);
            },
          )
        : netConnect({ host: this.host, port: this.port }, () => {
            s.removeListener('error', onError);
            resolve(s);
          });
      s.setTimeout(timeout, () => onError(new Error(`connect timed out after ${timeout} ms`)));
      s.once('error', onError);
    });
    socket.setTimeout(0);
    socket.setKeepAlive(true, 30_000);
    if (this.tls) {
      // TLS 1.3: a server that refuses our certificate (or wants one) says so just after the
      // handshake completes on our side. Wait one short moment so that such a refusal fails
      // the connection instead of silently swallowing the first batch.
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(done, TLS_SETTLE_MS);
        function done(err?: Error) {
          clearTimeout(t);
          socket.removeListener('close', onClose);
          socket.removeListener('error', done);
          if (err) reject(err);
          else resolve();
        }
        const onClose = () =>
          done(
            new Error(
              'the server closed the TLS connection right after the ' +
                'handshake (client certificate required or refused?)',
            ),
          );
        socket.once('close', onClose);
        socket.once('error', done);
      });
    }
    return socket;
  }

  /**
   * UDP: sends each message as one datagram (RFC 5426), in order; resolves when all are handed
   * to the kernel.
   * @throws Error (network, or a message over {@link MAX_UDP_PAYLOAD}) — the caller retries the batch.
   */
  async sendDatagrams(messages: string[]): Promise<void> {
    this.udp ??= createSocket(this.host.includes(':') ? 'udp6' : 'udp4');
    for (let i = 0; i < messages.length; i++) {
      const b = Buffer.from(messages[i]);
      if (b.length > MAX_UDP_PAYLOAD) throw new Error(`message of ${b.length} bytes exceeds the UDP limit`);
      await new Promise<void>((resolve, reject) =>
        this.udp!.send(b, this.port, this.host, (err) => (err ? reject(err) : resolve())),
      );
      // Pace bursts: a receiver's socket buffer holds only so many datagrams, and UDP drops
      // the rest silently (RFC 5426 §3.6). 8 datagrams, then 1 ms.
      if (i % 8 === 7) await sleep(UDP_PACE_MS);
    }
  }

  /**
   * TCP/TLS: writes bytes already framed ({@link frameText}), in order; resolves when the last
   * piece is written.
   * @throws Error (network) — the caller retries the batch.
   */
  async sendFramed(pieces: Buffer[]): Promise<void> {
    const socket = await this.connect();
    await new Promise<void>((resolve, reject) => {
      const onClose = () => reject(new Error('connection closed while sending'));
      socket.once('close', onClose);
      // Writes complete in order: the last one's callback covers them all.
      pieces.forEach((p, i) =>
        socket.write(
          p,
          i < pieces.length - 1
            ? undefined
            : (err) => {
                socket.removeListener('close', onClose);
                if (err) {
                  socket.destroy();
                  reject(err);
                } else resolve();
              },
        ),
      );
      if (pieces.length === 0) {
        socket.removeListener('close', onClose);
        resolve();
      }
    });
  }

  /**
   * RELP: sends each message as a `syslog` command, in order, on the session (opened, or opened
   * again, as needed); calls `onAck(i)` for each one the receiver acknowledged. Resolves once all
   * are.
   * @throws RelpSessionRefused when the receiver refuses the session
   * @throws Error when the session breaks: the caller sends the unacknowledged ones again
   */
  sendAcknowledged(messages: readonly Buffer[], onAck: (i: number) => void): Promise<void> {
    this.relp ??= new RelpClient(() => this.dial(), { timeoutMs: this.config.timeoutMs ?? 10_000 });
    return this.relp.send(messages, onAck);
  }

  /** Closes the connection (RELP: the session, with `close`), waiting for written data to be flushed. */
  async close(): Promise<void> {
    await this.relp?.close();
    this.relp = null;
    this.udp?.close();
    this.udp = null;
    const s = this.socket;
    this.socket = null;
    if (s && !s.destroyed) await new Promise<void>((resolve) => s.end(resolve));
  }

  /** Where messages go. */
  get endpoint(): string {
    return `${this.protocol}://${this.host}:${this.port}`;
  }
}
