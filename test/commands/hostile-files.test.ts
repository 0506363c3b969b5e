/**
 * Issue #16.3 and #16.6: only regular files are read, and a file that cannot be read never
 * silently shrinks a result. FIFOs, sockets, devices, directories and symlinks out of the
 * directory named like audit files are reported as unreadable files (exit 3) by every command,
 * without blocking; search, export, summary and tail print what they could and exit 3 naming the
 * file; forward delivers the readable days before and after a corrupt one (also with --follow).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { generateSample } from '../../scripts/sample.js';
import { sealEntry } from '../../src/core/write/seal.js';
import { assertExit, BIN, ROOT, runCli, tempDir } from '../helpers/cli.js';
import { daysAgo } from '../helpers/entries.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';
import { waitFor } from '../helpers/wait.js';

/** Lines of the plain chain files of `dir` (the readable ones). */
function linesOf(dir: string, names: string[]): string[] {
  return names.flatMap((n) => readFileSync(join(dir, n), 'utf8').split('\n').filter(Boolean));
}

function noStackTrace(s: string): void {
  assert.doesNotMatch(s, /^\s+at .+:\d+:\d+\)?$/m, s);
}

describe('paths that are not regular files', { timeout: 120_000 }, () => {
  let t: { dir: string; cleanup: () => void };
  let dir: string;
  let server: Server;
  const planted = {
    fifo: 'audit-2026-05-02.000001.jsonl',
    zero: 'audit-2026-05-02.000002.jsonl',
    socket: 'audit-2026-05-02.000003.jsonl',
    directory: 'audit-2026-05-02.000004.jsonl',
    outside: 'audit-2026-04-30.jsonl',
  };
  before(async () => {
    t = tempDir();
    dir = join(t.dir, 'audit');
    generateSample(dir, { seed: 21, startDate: '2026-05-01', perDay: [6, 6, 6] });
    execFileSync('mkfifo', [join(dir, planted.fifo)]);
    symlinkSync('/dev/zero', join(dir, planted.zero));
    server = createServer();
    await new Promise<void>((r) => server.listen(join(dir, planted.socket), r));
    mkdirSync(join(dir, planted.directory));
    writeFileSync(join(t.dir, 'secret.txt'), 'not for the audit tool\n');
    symlinkSync(join(t.dir, 'secret.txt'), join(dir, planted.outside));
  });
  after(() => {
    server.close();
    t.cleanup();
  });

  const kinds: Array<[keyof typeof planted, RegExp]> = [
    ['fifo', /a FIFO, not a regular file/],
    ['zero', /a symbolic link to \/dev\/zero, outside the audit directory/],
    ['socket', /a socket, not a regular file/],
    ['directory', /a directory, not a regular file/],
    ['outside', /a symbolic link to .*secret\.txt, outside the audit directory/],
  ];

  for (const args of [
    ['verify'],
    ['verify', '--json'],
    ['verify', '--jobs', '1'],
    ['summary', '--since', '2000-01-01'],
    ['search'],
    ['export', '-o', 'jsonl'],
    ['export', '-o', 'csv'],
    ['forward', '--dry-run', '--loki', 'http://127.0.0.1:9'],
  ]) {
    it(`${args.join(' ')}: exit 3, each planted path named, the rest read`, async () => {
      const r = assertExit(await runCli([...args, '--dir', dir]), 3, args.join(' '));
      const said = r.stdout + r.stderr;
      for (const [k, what] of kinds) {
        assert.ok(said.includes(planted[k]), `${k}: ${said.slice(0, 3000)}`);
        assert.match(said, what, k);
      }
      assert.doesNotMatch(said, /not for the audit tool/);
      noStackTrace(said);
      if (args[0] === 'search' || args[0] === 'export') {
        // Everything readable was still written out: the 18 entries.
        const rows = r.stdout.trim().split('\n').filter(Boolean);
        assert.equal(rows.length, args.includes('csv') ? 19 : 18, r.stdout.slice(0, 500));
        assert.match(r.stderr, /loki-audit: error: 5 file\(s\) could not be read, their entries are missing: /);
      }
      if (args[0] === 'verify' && args.includes('--json')) {
        const rep = JSON.parse(r.stdout);
        assert.equal(rep.verdict, 'io-error');
        assert.equal(rep.entriesVerified, 18);
      }
    });
  }

  it('tail -n: exit 3 when the newest file is not a regular file, the entries before it shown', async () => {
    const d = join(t.dir, 'tail');
    generateSample(d, { seed: 22, startDate: '2026-05-01', perDay: [4, 4] });
    execFileSync('mkfifo', [join(d, 'audit-2026-05-03.jsonl')]);
    const r = assertExit(await runCli(['tail', '-n', '3', '--dir', d, '-o', 'jsonl']), 3);
    assert.equal(r.stdout.trim().split('\n').length, 3);
    assert.match(r.stderr, /audit-2026-05-03\.jsonl: a FIFO, not a regular file/);
  });

  it('tail -f: a newest file linked to /dev/zero is refused, not read for ever; a later file is followed', async () => {
    const d = join(t.dir, 'follow');
    generateSample(d, { seed: 23, startDate: daysAgo(3), perDay: [3] });
    const zero = `audit-${daysAgo(1)}.jsonl`;
    symlinkSync('/dev/zero', join(d, zero));
    const child = spawn(
      process.execPath,
      [BIN, 'tail', '-f', '-n', '1', '--dir', d, '-o', 'jsonl', '--poll-ms', '50'],
      {
        cwd: ROOT,
        env: { ...process.env, NO_COLOR: '1' },
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    const exited = new Promise<number | null>((r) => child.on('close', r));
    try {
      await waitFor(() => /a symbolic link to \/dev\/zero/.test(err), {
        describe: () => `the refusal; stderr: ${err}`,
        wakeOn: [[child.stderr, 'data']],
      });
      const today = new Date().toISOString().slice(0, 10);
      const s = sealEntry(
        {
          timestamp: new Date().toISOString().replace('Z', '+00:00'),
          action: 'login',
          resource_type: 'auth',
          resource_id: null,
          user_id: 'after-the-trap',
          token_id: null,
          ip_address: null,
          user_agent: null,
          success: true,
          error: null,
          details: {},
        },
        '0'.repeat(64),
      );
      writeFileSync(join(d, `audit-${today}.jsonl`), s.line);
      await waitFor(() => out.includes('after-the-trap'), {
        describe: () => `the entry of the later file; stdout: ${out}; stderr: ${err}`,
        wakeOn: [[child.stdout, 'data']],
      });
      assert.equal(out.trim().split('\n').length, 2, out);
    } finally {
      child.kill('SIGINT');
    }
    await exited;
    noStackTrace(err);
  });

  it('a symlink to a file below the directory (an archive folder) is read as usual', async () => {
    const d = join(t.dir, 'archived');
    generateSample(d, { seed: 24, startDate: '2026-05-01', perDay: [3, 3] });
    mkdirSync(join(d, '.archive'));
    renameSync(join(d, 'audit-2026-05-01.jsonl'), join(d, '.archive', 'audit-2026-05-01.jsonl'));
    symlinkSync('.archive/audit-2026-05-01.jsonl', join(d, 'audit-2026-05-01.jsonl'));
    const rep = JSON.parse(assertExit(await runCli(['verify', '--dir', d, '--json']), 0).stdout);
    assert.equal(rep.entriesVerified, 6);
  });
});

describe('forward around a corrupt day', { timeout: 120_000 }, () => {
  let t: { dir: string; cleanup: () => void };
  let audit: string;
  let state: string;
  let rx: LokiReceiver;
  let readable: string[];
  let corrupt: string;
  beforeEach(async () => {
    t = tempDir();
    audit = join(t.dir, 'audit');
    state = join(t.dir, 'state.json');
    generateSample(audit, { seed: 25, startDate: daysAgo(4), perDay: [10, 10, 10] });
    const names = readdirSync(audit).sort();
    assert.equal(names.length, 3);
    // The middle day gzipped, then damaged in the middle of its compressed data.
    const gz = gzipSync(readFileSync(join(audit, names[1])));
    gz[Math.floor(gz.length / 2)] ^= 0xff;
    corrupt = `${names[1]}.gz`;
    writeFileSync(join(audit, corrupt), gz);
    execFileSync('rm', [join(audit, names[1])]);
    readable = [names[0], names[2]];
    rx = new LokiReceiver();
    await rx.start();
  });
  afterEach(async () => {
    await rx.stop();
    t.cleanup();
  });

  it('delivers every readable day before and after it, names it, exits 3', async () => {
    const r = assertExit(
      await runCli(['forward', '--dir', audit, '--loki', rx.url, '--state', state, '--batch-wait', '100']),
      3,
    );
    const want = linesOf(audit, readable);
    const got = rx.stored.map((e) => e.line);
    for (const line of want) assert.ok(got.includes(line), `not delivered: ${line.slice(0, 120)}\n${r.stderr}`);
    assert.match(r.stderr, new RegExp(`cannot read ${corrupt.replace(/\./g, '\\.')}: corrupt gzip data`));
    assert.match(r.stdout, /1 file\(s\) could not be read \(audit-.*\.jsonl\.gz\): their entries were not sent/);
    noStackTrace(r.stdout + r.stderr);
  });

  it('--follow goes on past it: new entries are delivered', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'forward', '--dir', audit, '--loki', rx.url, '--state', state, '--follow', '--batch-wait', '100'],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (b) => (stderr += b));
    const closed = new Promise<number | null>((r) => child.on('close', r));
    try {
      const want = linesOf(audit, readable);
      await rx.waitFor(() => rx.stored.length >= want.length, {
        describe: () => `the ${want.length} readable entries; forward's stderr: ${stderr}`,
      });
      const last = JSON.parse(want[want.length - 1])._integrity_hash as string;
      const s = sealEntry(
        {
          timestamp: new Date().toISOString().replace('Z', '+00:00'),
          action: 'login',
          resource_type: 'auth',
          resource_id: null,
          user_id: 'still-following',
          token_id: null,
          ip_address: null,
          user_agent: null,
          success: true,
          error: null,
          details: {},
        },
        last,
      );
      appendFileSync(join(audit, readable[1]), s.line);
      await rx.waitFor(() => rx.stored.some((e) => e.line.includes('still-following')), {
        describe: () => `the entry written after the start; forward's stderr: ${stderr}`,
      });
      assert.match(stderr, /corrupt gzip data/);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await closed, 3, `forward --follow ends on SIGTERM with the unreadable file's code: ${stderr}`);
  });
});
