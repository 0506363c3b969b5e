/**
 * forward with targets from the config file: every flag given wins over its key, for every
 * target of its kind, and without the flag the key is used — each shown by what the receiver
 * got (Loki: tenant header, stream labels, entry timestamps, pushes per batch size, a timeout;
 * syslog: framing, PRI and HOSTNAME on a raw TCP socket). Unknown keys are refused, and
 * docs/forward.md's table of keys is the loader's list.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { generateSample } from '../../scripts/sample.js';
import { TARGET_KEYS } from '../../src/cli/forward-config-keys.js';
import { buildTargets } from '../../src/cli/forward-targets.js';
import { FACILITIES } from '../../src/formats/syslog.js';
import { assertExit, ROOT, runCli, tempDir } from '../helpers/cli.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';
import { makePki } from '../helpers/pki.js';

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

describe('forward: flags win over the config file', () => {
  let t: { dir: string; cleanup: () => void };
  let audit: string;
  let rx: LokiReceiver;
  let runs = 0;
  beforeEach(async () => {
    t = tempDir();
    audit = join(t.dir, 'audit');
    generateSample(audit, { seed: 5, startDate: daysAgo(3), perDay: [60, 60], maxFileBytes: 1 << 20 });
    rx = new LokiReceiver();
    await rx.start();
  });
  afterEach(async () => {
    await rx.stop();
    t.cleanup();
  });

  /** Writes `yaml` as the config file and runs forward with it (a fresh state each run). */
  const withConfig = (yaml: string, ...flags: string[]) => {
    const cfg = join(t.dir, `config-${++runs}.yaml`);
    writeFileSync(cfg, yaml);
    return runCli([
      'forward',
      '--dir',
      audit,
      '--config',
      cfg,
      '--state',
      join(t.dir, `state-${runs}.json`),
      ...(flags.includes('--batch-wait') ? [] : ['--batch-wait', '100']),
      ...flags,
    ]);
  };
  const lokiTarget = (keys: string) => `forward:\n  targets:\n    - loki: ${rx.url}\n${keys}`;
  const entryTimes = () => rx.stored.map((e) => BigInt(e.ts) / 1_000_000n);

  it('--tenant over tenant:, for every Loki target of the file', async () => {
    const rx2 = new LokiReceiver();
    await rx2.start();
    try {
      const two =
        `forward:\n  targets:\n    - loki: ${rx.url}\n      tenant: ` + `a\n    - loki: ${rx2.url}\n      tenant: b\n`;
      assert.equal((await withConfig(two)).code, 0);
      assert.deepEqual([...new Set(rx.stored.map((e) => e.tenant))], ['a']);
      assert.deepEqual([...new Set(rx2.stored.map((e) => e.tenant))], ['b']);
      rx.stored.length = 0;
      rx2.stored.length = 0;
      const r = await withConfig(two, '--tenant', 'x');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(rx.stored.length, 120);
      assert.deepEqual([...new Set(rx.stored.map((e) => e.tenant))], ['x']);
      assert.equal(rx2.stored.length, 120);
      assert.deepEqual([...new Set(rx2.stored.map((e) => e.tenant))], ['x']);
    } finally {
      await rx2.stop();
    }
  });

  it('two file targets made the same by a flag are refused (they would share a position)', async () => {
    const same =
      `forward:\n  targets:\n    - loki: ${rx.url}\n      tenant: ` + `a\n    - loki: ${rx.url}\n      tenant: b\n`;
    const r = assertExit(await withConfig(same, '--tenant', 'x'), 2);
    assert.match(r.stderr, /forward\.targets\[0\] and \[1\] are the same target \(loki:http:\/\/127\.0\.0\.1:\d+#x\)/);
    assert.equal(rx.pushes, 0);
  });

  it('--label adds to labels: and wins for a name in both', async () => {
    const cfg = lokiTarget('      labels: {env: file, team: blue}\n');
    assert.equal((await withConfig(cfg)).code, 0);
    assert.equal(rx.stored.length, 120);
    assert.ok(rx.stored.every((e) => e.labels.env === 'file' && e.labels.team === 'blue'));
    rx.stored.length = 0;
    const r = await withConfig(cfg, '--label', 'env=flag', '--label', 'dc=x');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(rx.stored.length, 120);
    assert.ok(
      rx.stored.every((e) => e.labels.env === 'flag' && e.labels.team === 'blue' && e.labels.dc === 'x'),
      JSON.stringify(rx.stored[0].labels),
    );
  });

  it('--timestamp over timestamp:', async () => {
    const own = new Set(
      readFileSync(join(audit, `audit-${daysAgo(3)}.jsonl`), 'utf8')
        .trim()
        .split('\n')
        .map((l) => Date.parse(JSON.parse(l).timestamp.replace(/(\.\d{3})\d*/, '$1'))),
    );
    const cfg = lokiTarget('      timestamp: ingest\n');
    const before = Date.now();
    assert.equal((await withConfig(cfg)).code, 0);
    assert.equal(rx.stored.length, 120);
    assert.ok(
      entryTimes().every((ms) => Number(ms) >= before - 1000),
      'the file says ingest: every timestamp is the time of sending',
    );
    rx.stored.length = 0;
    const r = await withConfig(cfg, '--timestamp', 'entry');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(rx.stored.length, 120);
    const sent = entryTimes().map(Number);
    assert.equal(sent.filter((ms) => own.has(ms)).length, 60, "the first day's 60 entries carry their own time");
    assert.ok(
      sent.every((ms) => ms < before - 86_400_000),
      'no timestamp is the time of sending',
    );
  });

  it('--timeout over timeout_ms:', async () => {
    rx.slow(1500);
    const cfg = lokiTarget('      timeout_ms: 300\n');
    const short = assertExit(await withConfig(cfg, '--give-up-after', '1'), 9);
    assert.match(short.stderr, /timed out after 300 ms/);
    await rx.whenIdle();
    const r = await withConfig(cfg, '--timeout', '20000', '--batch-entries', '1000');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /: 120 delivered\n$/, 'Loki answered within --timeout');
  });

  it('--batch-entries over batch_entries:, --batch-bytes over batch_bytes: (pushes the receiver saw)', async () => {
    /** Pushes and entries the receiver got during `run` (duplicates of an earlier run included). */
    const seen = async (run: Promise<{ code: number | null; stderr: string }>) => {
      const [pushes, received] = [rx.pushes, rx.received];
      const r = await run;
      assert.equal(r.code, 0, r.stderr);
      assert.equal(rx.received - received, 120);
      return rx.pushes - pushes;
    };
    const cfg = lokiTarget('      batch_entries: 10\n');
    assert.equal(await seen(withConfig(cfg, '--batch-wait', '60000')), 12, 'batches of 10');
    assert.equal(await seen(withConfig(cfg, '--batch-wait', '60000', '--batch-entries', '40')), 3, 'batches of 40');
    const bytes = lokiTarget('      batch_bytes: 1048576\n');
    assert.equal(await seen(withConfig(bytes, '--batch-wait', '60000')), 1, 'one MiB holds all 120');
    const small = await seen(withConfig(bytes, '--batch-wait', '60000', '--batch-bytes', '4096'));
    assert.ok(small >= 10, `batches of 4 KiB: ${small} pushes`);
  });
});

describe('forward: syslog flags win over the config file', () => {
  let t: { dir: string; cleanup: () => void };
  let audit: string;
  let server: Server;
  let got: Buffer[];
  beforeEach(async () => {
    t = tempDir();
    audit = join(t.dir, 'audit');
    generateSample(audit, { seed: 6, startDate: '2026-11-10', perDay: [20], maxFileBytes: 1 << 20 });
    got = [];
    server = createServer((s) => s.on('data', (b: Buffer) => got.push(b)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterEach(async () => {
    await new Promise((r) => server.close(r));
    t.cleanup();
  });

  it('--framing, --facility, --hostname over framing:, facility:, hostname: (bytes on the socket)', async () => {
    const port = (server.address() as { port: number }).port;
    const cfg = join(t.dir, 'config.yaml');
    writeFileSync(
      cfg,
      `forward:\n  targets:\n    - syslog: tcp://127.0.0.1:${port}\n      framing: ` +
        `lf\n      facility: local3\n      hostname: filehost\n`,
    );
    const run = (state: string, ...flags: string[]) =>
      runCli(['forward', '--dir', audit, '--config', cfg, '--state', join(t.dir, state), ...flags]);
    const r1 = await run('s1.json');
    assert.equal(r1.code, 0, r1.stderr);
    // Every message ends the connection's data in order; closing the run closes the socket.
    const lf = Buffer.concat(got).toString('utf8');
    const lines = lf.split('\n').filter(Boolean);
    assert.equal(lines.length, 20, 'LF framing: one message per line');
    for (const l of lines) {
      const m = /^<(\d+)>1 \S+ (\S+) /.exec(l);
      assert.ok(m, l.slice(0, 80));
      assert.equal(Math.floor(Number(m[1]) / 8), FACILITIES.local3);
      assert.equal(m[2], 'filehost');
    }
    got = [];
    const r2 = await run('s2.json', '--framing', 'octet-counting', '--facility', 'local5', '--hostname', 'flaghost');
    assert.equal(r2.code, 0, r2.stderr);
    let data = Buffer.concat(got).toString('utf8');
    let n = 0;
    while (data.length) {
      const m = /^(\d+) /.exec(data);
      assert.ok(m, `octet counting: ${data.slice(0, 40)}`);
      const len = Number(m[1]);
      const msg = Buffer.from(data.slice(m[0].length)).subarray(0, len).toString('utf8');
      const head = /^<(\d+)>1 \S+ (\S+) /.exec(msg);
      assert.ok(head);
      assert.equal(Math.floor(Number(head[1]) / 8), FACILITIES.local5);
      assert.equal(head[2], 'flaghost');
      data = Buffer.from(data.slice(m[0].length)).subarray(len).toString('utf8');
      n++;
    }
    assert.equal(n, 20);
  });

  it('--ca, --cert, --key over ca:, cert:, key: (a missing file in the config is not read)', async () => {
    const pki = makePki(join(t.dir, 'pki'));
    const config = {
      forward: {
        targets: [
          {
            syslog: 'tls://127.0.0.1:6514',
            ca: '/nonexistent/ca.pem',
            cert: '/nonexistent/c.pem',
            key: '/nonexistent/k.pem',
          },
        ],
      },
    };
    await assert.rejects(buildTargets({}, config, {}), /\/nonexistent\//);
    const [target] = await buildTargets(
      { ca: join(pki, 'ca.pem'), cert: join(pki, 'client.pem'), key: join(pki, 'client.key') },
      config,
      {},
    );
    assert.equal(target.id, 'syslog:tls://127.0.0.1:6514');
    await target.close();
  });
});

describe('forward: config file keys', () => {
  it('an unknown or mistyped key is refused with its place and what it takes', async () => {
    const t = tempDir();
    try {
      const cfg = join(t.dir, 'c.yaml');
      const cases: Array<[string, RegExp]> = [
        [
          '    - loki: http://127.0.0.1:9\n      tenat: acme\n',
          /config forward\.targets\[0\]: unknown key "tenat" for a loki target \(it takes: loki, tenant, labels,/,
        ],
        ['    - loki: http://127.0.0.1:9\n      framing: lf\n', /unknown key "framing" for a loki target/],
        [
          '    - loki: http://127.0.0.1:9\n      timeout_ms: fast\n',
          /targets\[0\]\.timeout_ms: must be an integer of at least 100, got "fast"/,
        ],
        [
          '    - syslog: tcp://127.0.0.1:9\n      framing: crlf\n',
          /targets\[0\]\.framing: must be octet-counting or lf, got "crlf"/,
        ],
        [
          '    - loki: http://127.0.0.1:9\n      syslog: tcp://h:1\n',
          /each target needs "loki: URL", "syslog: URL" or "splunk_hec: URL" \(one of them\)/,
        ],
      ];
      for (const [targets, want] of cases) {
        writeFileSync(cfg, `forward:\n  targets:\n${targets}`);
        const r = assertExit(
          await runCli([
            'forward',
            '--dir',
            join(ROOT, 'examples/audit'),
            '--config',
            cfg,
            '--state',
            join(t.dir, 's.json'),
          ]),
          2,
        );
        assert.match(r.stderr, want);
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      }
    } finally {
      t.cleanup();
    }
  });

  it("docs/forward.md's table of target keys is the loader's list: key, kind, type, default, flag, env", () => {
    const doc = readFileSync(join(ROOT, 'docs/forward.md'), 'utf8');
    const at = doc.indexOf('| key | target | type | default | flag | env |');
    assert.ok(at >= 0, 'the table of target keys is in docs/forward.md');
    const rows = doc
      .slice(at)
      .split('\n')
      .slice(2)
      .filter((l, i, all) => l.startsWith('|') && all.slice(0, i).every((x) => x.startsWith('|')))
      .map((l) =>
        l
          .slice(1, -1)
          .split(' | ')
          .map((c) => c.trim().replace(/^`|`$/g, '')),
      );
    const cell = (v: string | null) => v ?? '—';
    const want = TARGET_KEYS.map((k) => [
      k.key,
      k.kind,
      Array.isArray(k.type)
        ? (k.type as readonly string[]).join(' \\| ')
        : k.type === 'integer'
          ? `integer ≥ ${k.min}`
          : String(k.type),
      k.default,
      cell(k.flag),
      cell(k.env),
    ]);
    assert.deepEqual(
      rows.map((r) => r.slice(0, 6)),
      want,
    );
  });
});
