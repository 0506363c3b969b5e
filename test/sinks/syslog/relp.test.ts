/**
 * The RELP client against a RELP server written here on 127.0.0.1 that answers as librelp does
 * (imrelp's `rsp` texts), and that can hold its answers, answer 500, or end the session with
 * `serverclose`: frames, transaction numbers, the window, and what counts as acknowledged.
 */
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  MAX_TXNR,
  RELP_WINDOW,
  RelpClient,
  relpFrame,
  RelpFrameReader,
  RelpProtocolError,
  RelpSessionRefused,
  type RelpFrame,
} from '../../../src/sinks/syslog/relp.js';
import { waitFor } from '../../helpers/wait.js';

/** librelp's answer to our open (rsyslog 8.2302, librelp 1.11.0). */
const OPEN_RSP = '200 OK\nrelp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog';

/** A RELP server: records every frame; `answer` decides each rsp (null: hold it). */
class ScriptedServer {
  readonly frames: RelpFrame[] = [];
  readonly sessions: Socket[] = [];
  /** Held syslog commands, per session, in arrival order. */
  held: Array<{ socket: Socket; txnr: number }> = [];
  answer: (f: RelpFrame) => string | null = (f) => (f.command === 'open' ? OPEN_RSP : '200 OK');
  private readonly server: Server;
  port = 0;

  constructor() {
    this.server = createServer((socket) => {
      this.sessions.push(socket);
      const reader = new RelpFrameReader();
      socket.on('data', (b: Buffer) => {
        for (const f of reader.push(b)) {
          this.frames.push(f);
          if (f.command === 'close') {
            socket.write(relpFrame(f.txnr, 'rsp'));
            socket.end(relpFrame(0, 'serverclose'));
            continue;
          }
          const a = this.answer(f);
          if (a === null) this.held.push({ socket, txnr: f.txnr });
          else socket.write(relpFrame(f.txnr, 'rsp', Buffer.from(a)));
        }
      });
      socket.on('error', () => undefined);
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve) =>
      this.server.listen(0, '127.0.0.1', () => {
        this.port = (this.server.address() as { port: number }).port;
        resolve();
      }),
    );
  }

  /** Answers the held commands "200 OK". */
  release(): void {
    for (const { socket, txnr } of this.held.splice(0)) socket.write(relpFrame(txnr, 'rsp', Buffer.from('200 OK')));
  }

  syslogFrames(): RelpFrame[] {
    return this.frames.filter((f) => f.command === 'syslog');
  }

  close(): Promise<void> {
    for (const s of this.sessions) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const messages = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => Buffer.from(`<134>1 2026-01-01T00:00:00Z h app - - - message ${from + i}`));

describe('RelpFrameReader', () => {
  it('reads the same frames whatever the chunks (split at every byte)', () => {
    const bytes = Buffer.concat([
      relpFrame(1, 'rsp', Buffer.from(OPEN_RSP)),
      relpFrame(2, 'rsp', Buffer.from('200 OK')),
      relpFrame(3, 'rsp'),
      relpFrame(0, 'serverclose'),
    ]);
    const whole = new RelpFrameReader().push(bytes);
    assert.deepEqual(
      whole.map((f) => [f.txnr, f.command, f.data.toString()]),
      [
        [1, 'rsp', OPEN_RSP],
        [2, 'rsp', '200 OK'],
        [3, 'rsp', ''],
        [0, 'serverclose', ''],
      ],
    );
    for (let cut = 1; cut < bytes.length; cut++) {
      const r = new RelpFrameReader();
      assert.deepEqual([...r.push(bytes.subarray(0, cut)), ...r.push(bytes.subarray(cut))], whole, `cut at ${cut}`);
    }
  });

  it('frames as librelp writes them: TXNR SP COMMAND SP DATALEN [SP DATA] LF', () => {
    assert.equal(relpFrame(7, 'syslog', Buffer.from('hi')).toString(), '7 syslog 2 hi\n');
    assert.equal(relpFrame(8, 'close').toString(), '8 close 0\n');
  });

  it('refuses what is not a frame: plain syslog, a missing trailer, a DATALEN without its DATA', () => {
    for (const bad of ['<134>1 2026-01-01T00:00:00Z h app - - - hi\n', '2 rsp 6 200 OKX', '2 rsp 6\n', '1 rsp 0 \n'])
      assert.throws(() => new RelpFrameReader().push(Buffer.from(bad)), RelpProtocolError, JSON.stringify(bad));
  });
});

describe('RelpClient', () => {
  let srv: ScriptedServer;
  const dial = () =>
    new Promise<Socket>((resolve, reject) => {
      const s = connect(srv.port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
  before(async () => {
    srv = new ScriptedServer();
    await srv.listen();
  });
  after(() => srv.close());

  it('opens with relp_version=0 and commands=syslog, then one syslog command per message, txnr 1, 2, 3 …', async () => {
    srv.frames.length = 0;
    const client = new RelpClient(dial, { timeoutMs: 5000 });
    const acked: number[] = [];
    await client.send(messages(300), (i) => acked.push(i));
    await client.close();
    assert.deepEqual(acked, [...Array(300).keys()], 'each acknowledged, in order');
    const [open, ...rest] = srv.frames;
    assert.equal(open.command, 'open');
    assert.equal(open.txnr, 1);
    assert.deepEqual(
      open.data
        .toString()
        .split('\n')
        .filter((o) => !o.startsWith('relp_software=')),
      ['relp_version=0', 'commands=syslog'],
    );
    assert.deepEqual(
      rest.map((f) => [f.txnr, f.command]),
      [...Array(300).keys()].map((i) => [i + 2, 'syslog']).concat([[302, 'close']]),
    );
    assert.equal(rest[299].data.toString(), messages(300)[299].toString());
  });

  it(`keeps at most the window (${RELP_WINDOW}) unanswered, and resolves only when every message is`, async () => {
    srv.frames.length = 0;
    srv.answer = (f) => (f.command === 'open' ? OPEN_RSP : null);
    try {
      const client = new RelpClient(dial, { timeoutMs: 5000 });
      const acked: number[] = [];
      let done = false;
      const sending = client.send(messages(300), (i) => acked.push(i)).then(() => (done = true));
      await waitFor(() => srv.held.length === RELP_WINDOW, { describe: () => `${srv.held.length} held` });
      // Nothing more is sent while the window is full.
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(srv.syslogFrames().length, RELP_WINDOW);
      assert.deepEqual([acked.length, done], [0, false]);
      srv.release();
      await waitFor(() => srv.held.length === RELP_WINDOW, { describe: () => `${srv.held.length} held` });
      assert.equal(acked.length, RELP_WINDOW);
      srv.release();
      await waitFor(() => srv.held.length === 300 - 2 * RELP_WINDOW, { describe: () => `${srv.held.length} held` });
      srv.release();
      await sending;
      assert.equal(acked.length, 300);
      await client.close();
    } finally {
      srv.answer = (f) => (f.command === 'open' ? OPEN_RSP : '200 OK');
    }
  });

  it(
    'serverclose mid-stream: the send fails, only answered ' + 'messages count, the next send opens a new session',
    async () => {
      srv.frames.length = 0;
      let n = 0;
      srv.answer = (f) => (f.command === 'open' ? OPEN_RSP : ++n <= 50 ? '200 OK' : null);
      const client = new RelpClient(dial, { timeoutMs: 5000 });
      const acked = new Set<number>();
      try {
        const sending = client.send(messages(200), (i) => acked.add(i));
        await waitFor(() => srv.held.length > 0, { describe: () => `${srv.held.length} held` });
        srv.held[0].socket.write(relpFrame(0, 'serverclose'));
        srv.held = [];
        await assert.rejects(sending, /serverclose/);
        assert.deepEqual([...acked], [...Array(50).keys()]);
      } finally {
        srv.answer = (f) => (f.command === 'open' ? OPEN_RSP : '200 OK');
      }
      const again = messages(200).filter((_, i) => !acked.has(i));
      await client.send(again, () => undefined);
      await client.close();
      const opens = srv.frames.filter((f) => f.command === 'open');
      assert.deepEqual(
        opens.map((f) => f.txnr),
        [1, 1],
        'a new session, numbered from 1',
      );
      const syslog = srv.syslogFrames().map((f) => f.data.toString());
      assert.equal(new Set(syslog).size, 200, 'every message reached the server');
      assert.ok(syslog.length - 200 <= RELP_WINDOW, `${syslog.length - 200} sent twice, at most the window`);
    },
  );

  it(
    'an rsp other than 200 fails the send; an open refused, ' + 'or without commands=syslog, refuses the session',
    async () => {
      srv.answer = (f) => (f.command === 'open' ? OPEN_RSP : '500 queue full');
      try {
        const client = new RelpClient(dial, { timeoutMs: 5000 });
        await assert.rejects(
          client.send(messages(3), () => undefined),
          /did not take a message: 500 queue full/,
        );
        srv.answer = () => '500 unsupported relp_version';
        await assert.rejects(
          client.send(messages(1), () => undefined),
          RelpSessionRefused,
        );
        srv.answer = () => '200 OK\nrelp_version=0\ncommands=';
        await assert.rejects(
          client.send(messages(1), () => undefined),
          /does not take syslog messages/,
        );
      } finally {
        srv.answer = (f) => (f.command === 'open' ? OPEN_RSP : '200 OK');
      }
    },
  );

  it('a server that never answers breaks the session at the timeout (naming open: "is it a RELP port?")', async () => {
    srv.answer = () => null;
    try {
      const client = new RelpClient(dial, { timeoutMs: 200 });
      await assert.rejects(
        client.send(messages(1), () => undefined),
        /no RELP rsp for 200 ms to open \(is it a RELP port\?\)/,
      );
    } finally {
      srv.held = [];
      srv.answer = (f) => (f.command === 'open' ? OPEN_RSP : '200 OK');
    }
  });

  it(`txnr wraps from ${MAX_TXNR} to 1`, async () => {
    srv.frames.length = 0;
    const client = new RelpClient(dial, { timeoutMs: 5000, firstTxnr: MAX_TXNR - 1 });
    const acked: number[] = [];
    await client.send(messages(3), (i) => acked.push(i));
    await client.close();
    assert.deepEqual(
      srv.frames.map((f) => [f.txnr, f.command]),
      [
        [MAX_TXNR - 1, 'open'],
        [MAX_TXNR, 'syslog'],
        [1, 'syslog'],
        [2, 'syslog'],
        [3, 'close'],
      ],
    );
    assert.deepEqual(acked, [0, 1, 2]);
  });
});
