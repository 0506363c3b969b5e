/**
 * RELP, the Reliable Event Logging Protocol (rsyslog's imrelp and omrelp, librelp): syslog
 * messages over TCP (or TLS) with an acknowledgement for each one. A client opens a session
 * (`open`, offering relp_version=0 and commands=syslog), sends each message as a `syslog`
 * command with the next transaction number (txnr), and the server answers every command with
 * an `rsp` of the same txnr ("200 OK" once it has taken the message). Up to a window of
 * commands may wait for their `rsp` (librelp's default is 128). The server may end a session
 * with an unsolicited `serverclose` (txnr 0); what it did not acknowledge is sent again on the
 * next session, so a crash duplicates at most the window and loses nothing acknowledged.
 *
 * Frames (librelp doc/relp.html): TXNR SP COMMAND SP DATALEN [SP DATA] LF, TXNR 1–999999999
 * (then 1 again), COMMAND 1–32 letters, DATALEN 0–999999999 bytes of DATA.
 */
import type { Socket } from 'node:net';

/** librelp's default window: commands sent and not yet answered with an `rsp`. */
export const RELP_WINDOW = 128;

/** librelp's largest transaction number; the next one is 1 again. */
export const MAX_TXNR = 999_999_999;

/**
 * The offers of our `open`: protocol version 0 (librelp's current), who we are (name, version,
 * where to read about it, as librelp's `relp_software=librelp,1.11.0,http://…`), and the one
 * command we send.
 */
const OPEN_OFFERS = 'relp_version=0\nrelp_software=loki-audit,0.1,docs/forward.md\ncommands=syslog';

/** The server does not speak RELP as we expect: a malformed frame, an `rsp` for nothing sent. */
export class RelpProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RelpProtocolError';
  }
}

/** The server refused the session itself (its `rsp` to `open` is not 200, or it does not take `syslog`). */
export class RelpSessionRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RelpSessionRefused';
  }
}

/** One RELP frame. */
export interface RelpFrame {
  txnr: number;
  command: string;
  data: Buffer;
}

/** A frame's bytes: `TXNR SP COMMAND SP DATALEN [SP DATA] LF`. */
export function relpFrame(txnr: number, command: string, data?: Buffer): Buffer {
  const len = data?.length ?? 0;
  const head = Buffer.from(len ? `${txnr} ${command} ${len} ` : `${txnr} ${command} 0`);
  return Buffer.concat(len ? [head, data!, LF] : [head, LF]);
}

const LF = Buffer.from('\n');

/**
 * Cuts a byte stream into frames, whatever the chunks: `push` each chunk, get the frames it
 * completes. The header is at most 9 + 1 + 32 + 1 + 9 + 1 bytes.
 * @throws RelpProtocolError on anything that is not a frame
 */
export class RelpFrameReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): RelpFrame[] {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: RelpFrame[] = [];
    for (;;) {
      const head = /^(\d{1,9}) ([a-z]{1,32}) (\d{1,9})( |\n)?/i.exec(buf.subarray(0, 64).toString('latin1'));
      if (!head || head[4] === undefined) {
        // Not yet a whole header: fine while it could still become one.
        if (buf.length >= 54 || !/^\d{0,9}( [a-z]{0,32}( \d{0,9})?)?$/i.test(buf.toString('latin1')))
          throw new RelpProtocolError(`not a RELP frame: ${JSON.stringify(buf.subarray(0, 40).toString('latin1'))}`);
        break;
      }
      const len = Number(head[3]);
      const start = head[0].length;
      if (len === 0) {
        if (head[4] !== '\n') throw new RelpProtocolError(`RELP frame of DATALEN 0 not ended by LF`);
        frames.push({ txnr: Number(head[1]), command: head[2], data: Buffer.alloc(0) });
        buf = buf.subarray(start);
        continue;
      }
      if (head[4] !== ' ') throw new RelpProtocolError(`RELP frame of DATALEN ${len} without its DATA`);
      if (buf.length < start + len + 1) break;
      if (buf[start + len] !== 0x0a) throw new RelpProtocolError(`RELP frame of DATALEN ${len} not ended by LF`);
      frames.push({ txnr: Number(head[1]), command: head[2], data: Buffer.from(buf.subarray(start, start + len)) });
      buf = buf.subarray(start + len + 1);
    }
    this.pending = Buffer.from(buf);
    return frames;
  }
}

/** An `rsp`'s status: `200 OK` (and, after `open`, LF and the server's offers). */
function rspStatus(data: Buffer): { code: number; text: string; offers: string[] } {
  const [first, ...offers] = data.toString('utf8').split('\n');
  const m = /^(\d{3})(?: (.*))?$/.exec(first);
  return { code: m ? Number(m[1]) : 0, text: first, offers: offers.filter(Boolean) };
}

interface Waiting {
  onRsp: (f: RelpFrame) => void;
}

/** One RELP session on one connection. */
class RelpSession {
  private readonly reader = new RelpFrameReader();
  /** Commands sent and not yet answered, by txnr, in the order sent. */
  private readonly waiting = new Map<number, Waiting>();
  /** Why the session cannot be used any more, once it cannot. */
  broken: Error | null = null;
  private readonly onBroken: Array<(err: Error) => void> = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly socket: Socket,
    private readonly timeoutMs: number,
    /** The txnr of the session's first command (`open`): 1. */
    private nextTxnr = 1,
  ) {
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const f of this.reader.push(chunk)) this.receive(f);
      } catch (err) {
        this.fail(err as Error);
      }
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  /** Commands waiting for their `rsp`. */
  get unanswered(): number {
    return this.waiting.size;
  }

  private receive(f: RelpFrame): void {
    if (f.command === 'serverclose') {
      // The server ends the session (rsyslog shutting down): what is unanswered goes again.
      this.fail(new Error('the server closed the RELP session (serverclose)'));
      return;
    }
    if (f.command !== 'rsp') throw new RelpProtocolError(`unexpected RELP command "${f.command}" from the server`);
    const w = this.waiting.get(f.txnr);
    if (!w) throw new RelpProtocolError(`RELP rsp for txnr ${f.txnr}, which is not waiting for one`);
    this.waiting.delete(f.txnr);
    this.arm();
    w.onRsp(f);
  }

  /** The rsp timeout runs while anything waits: a server that stops answering breaks the session. */
  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = this.waiting.size
      ? setTimeout(() => this.fail(new Error(`no RELP rsp for ${this.timeoutMs} ms`)), this.timeoutMs)
      : null;
  }

  /** Sends a command; `onRsp` gets its answer (never, if the session breaks first). */
  command(command: string, data: Buffer | undefined, onRsp: (f: RelpFrame) => void): void {
    if (this.broken) throw this.broken;
    const txnr = this.nextTxnr;
    this.nextTxnr = txnr === MAX_TXNR ? 1 : txnr + 1;
    this.waiting.set(txnr, { onRsp });
    if (this.waiting.size === 1) this.arm();
    this.socket.write(relpFrame(txnr, command, data));
  }

  /** Calls `f` once the session breaks (at once if it is broken); returns what stops that. */
  whenBroken(f: (err: Error) => void): () => void {
    if (this.broken) f(this.broken);
    else this.onBroken.push(f);
    return () => {
      const i = this.onBroken.indexOf(f);
      if (i >= 0) this.onBroken.splice(i, 1);
    };
  }

  fail(err: Error): void {
    if (this.broken) return;
    this.broken = err;
    if (this.timer) clearTimeout(this.timer);
    this.waiting.clear();
    this.socket.destroy();
    for (const f of this.onBroken.splice(0)) f(err);
  }
}

/** How a RELP client reaches its server: a new TCP or TLS connection each time. */
export type RelpDialer = () => Promise<Socket>;

/**
 * A RELP client: sends syslog messages and says which the server acknowledged. The session is
 * opened on first use and again after it breaks; messages not acknowledged on a broken session
 * are the caller's to send again.
 */
export class RelpClient {
  private session: RelpSession | null = null;

  constructor(
    private readonly dial: RelpDialer,
    private readonly options: {
      /** How long the server may leave every command unanswered before the session counts as broken, ms. */
      timeoutMs: number;
      /** Commands sent and not yet answered, at most (default {@link RELP_WINDOW}). */
      window?: number;
      /** The first txnr of each session (default 1; tests start near {@link MAX_TXNR} to see it wrap). */
      firstTxnr?: number;
    },
  ) {}

  private async open(): Promise<RelpSession> {
    if (this.session && !this.session.broken) return this.session;
    this.session = null;
    const s = new RelpSession(await this.dial(), this.options.timeoutMs, this.options.firstTxnr);
    let unwatch = () => {};
    await new Promise<void>((resolve, reject) => {
      unwatch = s.whenBroken(reject);
      s.command('open', Buffer.from(OPEN_OFFERS), (f) => {
        const { code, text, offers } = rspStatus(f.data);
        const commands = offers.find((o) => o.startsWith('commands='))?.slice('commands='.length) ?? '';
        if (code !== 200) s.fail(new RelpSessionRefused(`the RELP server refused the session: ${text}`));
        else if (!commands.split(',').includes('syslog'))
          s.fail(new RelpSessionRefused(`the RELP server does not take syslog messages (commands=${commands})`));
        else resolve();
      });
    })
      .catch((err: Error) => {
        throw /no RELP rsp/.test(err.message) ? new Error(`${err.message} to open (is it a RELP port?)`) : err;
      })
      .finally(() => unwatch());
    this.session = s;
    return s;
  }

  /**
   * Sends `messages` in order as `syslog` commands, at most the window unanswered at a time;
   * calls `onAck(i)` for each one the server answered "200 OK". Resolves when all are.
   * @throws RelpSessionRefused when the server refuses the session
   * @throws Error when the session breaks (connection, serverclose, timeout, an rsp other than
   *   200): the messages not acknowledged are to be sent again
   */
  async send(messages: readonly Buffer[], onAck: (i: number) => void): Promise<void> {
    if (!messages.length) return;
    const s = await this.open();
    const window = this.options.window ?? RELP_WINDOW;
    let unwatch = () => {};
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let acked = 0;
      unwatch = s.whenBroken(reject);
      const fill = () => {
        while (next < messages.length && s.unanswered < window && !s.broken) {
          const i = next++;
          s.command('syslog', messages[i], (f) => {
            const { code, text } = rspStatus(f.data);
            if (code !== 200) {
              s.fail(new Error(`the RELP server did not take a message: ${text}`));
              return;
            }
            onAck(i);
            if (++acked === messages.length) resolve();
            else fill();
          });
        }
      };
      fill();
    }).finally(() => unwatch());
  }

  /** Ends the session with `close` (and its `rsp`), or just the connection if it is broken. */
  async close(): Promise<void> {
    const s = this.session;
    this.session = null;
    if (!s || s.broken) return;
    await new Promise<void>((resolve) => {
      s.whenBroken(() => resolve());
      s.command('close', undefined, () => {
        s.socket.end();
        resolve();
      });
    });
  }
}
