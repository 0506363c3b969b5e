/**
 * A real syslog-ng (Debian's syslog-ng-core 3.38) on a loopback port, as a foreground process
 * with its own config, started by a test and stopped after it.
 *
 * Debian's syslog-ng-core conflicts with rsyslog (both provide the system log daemon), which the
 * other tests need, so .ci/run does not install it: it unpacks the package (`apt-get download`,
 * `dpkg -x`) into /opt/syslog-ng-deb and installs its libraries; a syslog-ng already installed
 * in /usr/sbin is used as it is. Found at `SYSLOG_NG_ROOT` (the unpacked root) first.
 *
 * What it does with a message (one log path each, `syslog()` source: RFC 5424 with RFC 6587
 * octet counting, or RFC 3164, on TCP):
 * - `messages.jsonl`: one JSON object per message, syslog-ng's own parse of it:
 *   `$(format-json --scope rfc5424 --scope nv-pairs --key MSG)` (PROGRAM, HOST, PRIORITY, MSG …).
 * - with `cefOfJson`: the MSG parsed by `json-parser(prefix("j."))` and written back by
 *   syslog-ng's own CEF extension formatter, `$(format-cef-extension --subkeys j.)`: the
 *   reference for how a real implementation escapes CEF extension values (modules/cef in
 *   syslog-ng: `\=`, `\\`, `\n`, `\r`, other control characters as `\u00XX`, invalid UTF-8 as `\xXX`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './cli.js';
import { freePort } from './rsyslog.js';
import { waitFor } from './wait.js';

/** The unpacked package root holding usr/sbin/syslog-ng, or '' for the system's. */
function findRoot(): string | null {
  for (const root of [process.env.SYSLOG_NG_ROOT, '/opt/syslog-ng-deb'].filter(Boolean) as string[])
    if (existsSync(join(root, 'usr/sbin/syslog-ng'))) return root;
  return existsSync('/usr/sbin/syslog-ng') ? '' : null;
}
const ROOT = findRoot();

/** Why syslog-ng tests cannot run here, or false. In CI (CI=true) a missing syslog-ng is a failure, not a skip. */
export function syslogNgMissing(): string | false {
  if (ROOT !== null) return false;
  if (process.env.CI === 'true')
    throw new Error('syslog-ng is not installed: .ci/run must unpack syslog-ng-core into /opt/syslog-ng-deb');
  return 'syslog-ng not found (.ci/run unpacks syslog-ng-core into /opt/syslog-ng-deb)';
}

export interface SyslogNgMessage {
  PROGRAM?: string;
  HOST?: string;
  PRIORITY?: string;
  FACILITY?: string;
  PID?: string;
  MSGID?: string;
  SDATA?: string;
  MSG: string;
  /** RFC 5424 STRUCTURED-DATA as syslog-ng parsed it: SD-ID → PARAM-NAME → value. */
  _SDATA?: Record<string, Record<string, string>>;
  [k: string]: unknown;
}

export interface SyslogNg {
  port: number;
  /** syslog-ng's parse of each message received, in arrival order. */
  messages(): SyslogNgMessage[];
  /** With `cefOfJson`: syslog-ng's CEF extension of each message's JSON, in arrival order. */
  cefExtensions(): string[];
  /** Waits until `n` messages were written; rejects after `ms` with syslog-ng's output. */
  waitFor(n: number, ms?: number): Promise<SyslogNgMessage[]>;
  /** syslog-ng's own log (stderr) so far, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/** Starts syslog-ng on a free loopback TCP port; resolves once it accepts connections. */
export async function startSyslogNg(options: { cefOfJson?: boolean } = {}): Promise<SyslogNg> {
  if (ROOT === null) throw new Error(String(syslogNgMissing()));
  const t = tempDir('loki-audit-syslog-ng-');
  const port = await freePort();
  const out = join(t.dir, 'messages.jsonl');
  const cef = join(t.dir, 'cef.txt');
  const conf = join(t.dir, 'syslog-ng.conf');
  writeFileSync(
    conf,
    [
      '@version: 3.38',
      // keep-hostname: HOSTNAME as sent; no DNS; the default 64 KiB message size limit raised
      // to the largest message the tests send.
      'options { stats-freq(0); keep-hostname(yes); use-dns(no); log-msg-size(1048576); };',
      `source s_net { syslog(ip("127.0.0.1") port(${port}) transport("tcp") max-connections(100)); };`,
      `destination d_msg { file("${out}" flush-lines(1) template("$(format-json ` +
        `--scope rfc5424 --scope nv-pairs --key MSG)\\n")); };`,
      'log { source(s_net); destination(d_msg); };',
      ...(options.cefOfJson
        ? [
            'parser p_json { json-parser(prefix("j.") template("$MSG")); };',
            `destination d_cef { file("${cef}" flush-lines(1) template("$(format-cef-extension --subkeys j.)\\n")); };`,
            'log { source(s_net); parser(p_json); destination(d_cef); };',
          ]
        : []),
      '',
    ].join('\n'),
  );
  const bin = join(ROOT, 'usr/sbin/syslog-ng');
  const env = { ...process.env };
  const args = [
    '-F',
    '-e',
    '-f',
    conf,
    `--persist-file=${join(t.dir, 'persist')}`,
    `--pidfile=${join(t.dir, 'pid')}`,
    `--control=${join(t.dir, 'ctl')}`,
  ];
  if (ROOT) {
    env.LD_LIBRARY_PATH = join(ROOT, 'usr/lib/syslog-ng');
    args.push(`--module-path=${join(ROOT, 'usr/lib/syslog-ng/3.38')}`);
  }
  const child: ChildProcess = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (b) => (log += b));
  child.stderr!.on('data', (b) => (log += b));
  let exited: number | null | undefined;
  const closed = new Promise<void>((r) =>
    child.on('close', (code) => {
      exited = code;
      r();
    }),
  );
  await waitFor(() => exited !== undefined || log.includes('syslog-ng starting up'), {
    timeoutMs: 15_000,
    describe: () => `syslog-ng to start: ${log}`,
  });
  if (exited !== undefined) throw new Error(`syslog-ng exited (${exited}): ${log}`);

  const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : []);
  const messages = () => read(out).map((l) => JSON.parse(l) as SyslogNgMessage);
  return {
    port,
    messages,
    cefExtensions: () => read(cef),
    async waitFor(n, ms = 15_000) {
      await waitFor(() => read(out).length >= n, {
        timeoutMs: ms,
        describe: () => `${n} messages in syslog-ng's file (have ${read(out).length}); syslog-ng: ${log}`,
      });
      return messages();
    },
    log: () => log,
    async stop() {
      if (exited === undefined) child.kill('SIGTERM');
      await closed;
      t.cleanup();
    },
  };
}
