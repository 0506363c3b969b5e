/**
 * forward against the Loki push receiver (test/helpers/loki-receiver.ts): delivery, labels,
 * structured metadata, auth and tenant, retries on 429/500/down, dead letters, restarts with
 * no loss, state checks, follow.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { generateSample, prng } from '../../scripts/sample.js';
import type { PyValue } from '../../src/core/pyjson/dumps.js';
import { sealEntry } from '../../src/core/write/seal.js';
import { assertExit, BIN, LOKI, ROOT, runCli, tempDir } from '../helpers/cli.js';
import { deepLines, RAW_HOSTILE, UNSAFE_ON_TTY, writeDay, writerLine } from '../helpers/hostile.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';
import { makePki } from '../helpers/pki.js';
import { waitFor } from '../helpers/wait.js';

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

/** All lines of a directory's chain files, in chain order. */
function allLines(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => /^audit-.*\.jsonl$/.test(n))
    .sort((a, b) => (a.replace('.jsonl', '~') < b.replace('.jsonl', '~') ? -1 : 1))
    .flatMap((n) => readFileSync(join(dir, n), 'utf8').split('\n').filter(Boolean));
}

/**
 * Appends `n` entries written now to today's file of `dir`, chained after its last entry, in one
 * write; returns their lines.
 */
function appendNow(
  dir: string,
  n: number,
  details: (i: number) => { [k: string]: PyValue } = (i) => ({ i }),
): string[] {
  let prev = JSON.parse(allLines(dir).at(-1)!)._integrity_hash as string;
  const now = Date.now();
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = sealEntry(
      {
        timestamp: new Date(now - (n - i) * 10).toISOString().replace('Z', '+00:00'),
        action: 'login',
        resource_type: 'auth',
        resource_id: null,
        user_id: 'live',
        token_id: null,
        ip_address: null,
        user_agent: null,
        success: true,
        error: null,
        details: details(i),
      },
      prev,
    );
    prev = s.hash;
    lines.push(s.line);
  }
  appendFileSync(join(dir, `audit-${new Date().toISOString().slice(0, 10)}.jsonl`), lines.join(''));
  return lines.map((l) => l.trimEnd());
}

describe('forward to Loki', () => {
  let t: { dir: string; cleanup: () => void };
  let audit: string;
  let state: string;
  let rx: LokiReceiver;
  beforeEach(async () => {
    t = tempDir();
    audit = join(t.dir, 'audit');
    state = join(t.dir, 'state.json');
    generateSample(audit, { seed: 9, startDate: daysAgo(3), perDay: [120, 120], maxFileBytes: 24 * 1024 });
    rx = new LokiReceiver({ requireTenant: true });
    await rx.start();
  });
  afterEach(async () => {
    await rx.stop();
    t.cleanup();
  });
  const fwd = (...a: string[]) =>
    runCli([
      'forward',
      '--dir',
      audit,
      '--loki',
      rx.url,
      '--tenant',
      'acme',
      '--state',
      state,
      ...(a.includes('--batch-wait') ? [] : ['--batch-wait', '100']),
      ...a,
    ]);

  it(
    'delivers every entry once: original line, low-cardinality ' + 'labels, chain hash as structured metadata, ns time',
    async () => {
      const r = await fwd();
      assert.equal(r.code, 0, r.stderr);
      const lines = allLines(audit);
      assert.equal(rx.stored.length, 240);
      assert.deepEqual(rx.stored.map((e) => e.line).sort(), [...lines].sort());
      const first = JSON.parse(lines[0]);
      const e = rx.stored.find((x) => x.line === lines[0])!;
      assert.deepEqual(Object.keys(e.labels).sort(), ['event_family', 'host', 'job', 'level', 'service_name']);
      assert.equal(e.labels.event_family, first.resource_type);
      assert.equal(e.metadata.chain_hash, first._integrity_hash);
      assert.equal(e.tenant, 'acme');
      // Nanoseconds from the entry's own time, microseconds kept: 2026-…T00:21:10.216214 → …216214000.
      const whole = BigInt(Date.parse(first.timestamp.replace(/\.\d+/, ''))) * 1_000_000n;
      const frac = BigInt((/\.(\d+)\+/.exec(first.timestamp)?.[1] ?? '').padEnd(9, '0'));
      assert.equal(e.ts, (whole + frac).toString());
      assert.equal(rx.lastHeaders['content-encoding'], 'gzip');
      // Nothing new: a second run sends nothing.
      const pushes = rx.pushes;
      const again = await fwd();
      assert.equal(again.code, 0, again.stderr);
      assert.equal(rx.pushes, pushes);
      assert.match(again.stdout, /: 0 delivered/);
      // query_range reads back by label (over the last 30 days: Loki's default range is the last hour)
      const q = await fetch(
        `${rx.url}/loki/api/v1/query_range?query=${encodeURIComponent('{event_family="auth"}')}` +
          `&start=${Date.now() - 30 * 86_400_000}000000&limit=1000`,
        { headers: { 'X-Scope-OrgID': 'acme' } },
      ).then((x) => x.json() as Promise<{ data: { result: Array<{ values: unknown[] }> } }>);
      assert.equal(
        q.data.result.reduce((n, s) => n + s.values.length, 0),
        lines.filter((l) => JSON.parse(l).resource_type === 'auth').length,
      );
    },
  );

  it(
    'bearer token from the environment, never printed; basic + ' +
      'bearer together is an error; credentials in a URL are refused',
    async () => {
      await rx.stop();
      rx = new LokiReceiver({ authorization: 'Bearer s3cret-token' });
      await rx.start();
      const r = await runCli(['forward', '--dir', audit, '--loki', rx.url, '--state', state, '--json'], {
        env: { LOKI_AUDIT_LOKI_TOKEN: 's3cret-token' },
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(rx.stored.length, 240);
      assert.doesNotMatch(r.stdout + r.stderr, /s3cret/);
      const both = await runCli(
        ['forward', '--dir', audit, '--loki', rx.url, '--state', state, '--loki-username', 'u'],
        {
          env: { LOKI_AUDIT_LOKI_TOKEN: 's3cret-token', LOKI_AUDIT_LOKI_PASSWORD: 'pw' },
        },
      );
      assert.equal(both.code, 2, both.stderr);
      assert.match(both.stderr, /mutually exclusive/);
      assert.doesNotMatch(both.stderr, /s3cret|pw\b/);
      const url = await runCli([
        'forward',
        '--dir',
        audit,
        '--loki',
        'http://user:hunter2@127.0.0.1:1',
        '--state',
        state,
      ]);
      assert.equal(url.code, 2, url.stderr);
      assert.doesNotMatch(url.stderr, /hunter2/);
    },
  );

  it(
    'an expired token stops the run (exit 15): of a 5,000-entry backlog ' +
      'nothing is dead-lettered or skipped; the right token delivers each once',
    async () => {
      await rx.stop();
      rx = new LokiReceiver({ authorization: 'Bearer good-token' });
      await rx.start();
      const run = (token: string) =>
        runCli(['forward', '--dir', audit, '--loki', rx.url, '--state', state, '--batch-entries', '1000'], {
          env: { LOKI_AUDIT_LOKI_TOKEN: token },
        });
      assertExit(await run('good-token'), 0);
      assert.equal(rx.stored.length, 240);
      const saved = readFileSync(state, 'utf8');
      const backlog = appendNow(audit, 5000);
      const pushes = rx.pushes;
      const r = assertExit(await run('expired-token'), 15);
      assert.equal(rx.pushes, pushes + 1, 'stopped at the first refusal, not retried');
      assert.match(r.stderr, /loki-audit: error: loki:http:\/\/127\.0\.0\.1:\d+: HTTP 401: unauthorized\n/);
      assert.match(
        r.stderr,
        /loki-audit: hint: the credentials were refused: check LOKI_AUDIT_LOKI_TOKEN or --loki-token-file/,
      );
      assert.match(r.stderr, /nothing was dead-lettered and the position is kept/);
      assert.doesNotMatch(r.stderr + r.stdout, /expired-token|good-token/, 'secrets never printed');
      assert.match(r.stdout, /: 0 delivered, stopped: HTTP 401: unauthorized/);
      assert.equal(readFileSync(state, 'utf8'), saved, 'the position is unchanged');
      assert.equal(existsSync(join(t.dir, 'state.dead-letter.jsonl')), false, 'nothing dead-lettered');
      assertExit(await run('good-token'), 0);
      assert.equal(rx.stored.length, 5240);
      assert.equal(rx.duplicatesDropped, 0);
      assert.deepEqual(
        rx.stored
          .slice(240)
          .map((e) => e.line)
          .sort(),
        [...backlog].sort(),
        'each entry of the backlog once',
      );
    },
  );

  it(
    "a URL without the proxy's prefix stops with exit 16 (HTTP " +
      '404), naming the push URL; with the prefix all is delivered',
    async () => {
      await rx.stop();
      rx = new LokiReceiver({ requireTenant: true, pathPrefix: '/loki-proxy' });
      await rx.start();
      const r = assertExit(await fwd(), 16);
      assert.match(r.stderr, /HTTP 404: 404 page not found \(POST http:\/\/127\.0\.0\.1:\d+\/loki\/api\/v1\/push\)/);
      assert.match(
        r.stderr,
        /hint: nothing takes pushes at that URL: check its path \(behind a proxy, give the prefix/,
      );
      assert.equal(existsSync(state), false, 'no position saved');
      const ok = await runCli([
        'forward',
        '--dir',
        audit,
        '--loki',
        `${rx.url}/loki-proxy`,
        '--tenant',
        'acme',
        '--state',
        state,
      ]);
      assertExit(ok, 0);
      assert.equal(rx.stored.length, 240);
    },
  );

  it(
    'a 400 about the push, not its entries (structured metadata ' +
      'disallowed), stops with exit 18: nothing dead-lettered',
    async () => {
      rx.failNext(
        1,
        400,
        'stream \'{job="loki-audit"}\' includes structured metadata, but this feature is disallowed. Please ' +
          'see `limits_config.allow_structured_metadata` or contact your Loki administrator to enable it',
      );
      const r = assertExit(await fwd('--batch-entries', '100'), 18);
      assert.match(r.stderr, /hint: the receiver refused the push itself, not an entry in it/);
      assert.equal(existsSync(join(t.dir, 'state.dead-letter.jsonl')), false);
      assert.equal(existsSync(state), false);
      assertExit(await fwd(), 0);
      assert.equal(rx.stored.length, 240);
    },
  );

  it(
    '--follow: a 401 is retried with backoff and reported; the ' +
      'token file, once fixed, is read again and every entry delivered',
    async () => {
      await rx.stop();
      rx = new LokiReceiver({ authorization: 'Bearer good-token' });
      await rx.start();
      const tokenFile = join(t.dir, 'token');
      writeFileSync(tokenFile, 'expired-token\n');
      const child = spawn(
        process.execPath,
        [
          BIN,
          'forward',
          '--dir',
          audit,
          '--loki',
          rx.url,
          '--state',
          state,
          '--loki-token-file',
          tokenFile,
          '--follow',
        ],
        { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (b) => (stderr += b));
      const closed = new Promise<number | null>((r) => child.on('close', r));
      try {
        await waitFor(() => /HTTP 401: unauthorized; retrying \(attempt 1, next in \d+ ms\)\n.*hint/.test(stderr), {
          wakeOn: [[child.stderr, 'data']],
          describe: () => `the 401 reported; forward's stderr: ${stderr}`,
        });
        assert.match(stderr, /hint: the credentials were refused: .*a secret file is read again before each retry/);
        await rx.waitFor(() => rx.pushes >= 2, { describe: () => `a retry; forward's stderr: ${stderr}` });
        assert.equal(child.exitCode, null, 'still running: --follow does not exit on a refusal');
        assert.equal(rx.stored.length, 0);
        writeFileSync(tokenFile, 'good-token\n');
        await rx.waitFor(() => rx.stored.length >= 240, {
          timeoutMs: 30_000,
          describe: () => `240 entries; forward's stderr: ${stderr}`,
        });
        await rx.whenIdle();
        assert.equal(rx.stored.length, 240);
        assert.equal(rx.duplicatesDropped, 0);
      } finally {
        child.kill('SIGTERM');
      }
      assert.equal(await closed, 0, `forward --follow ends cleanly on SIGTERM: ${stderr}`);
    },
  );

  it(
    "a proxy's 413 (nginx client_max_body_size): batches " + 'halve until they pass, every entry delivered once',
    async () => {
      await rx.stop();
      rx = new LokiReceiver({ requireTenant: true, maxBodyBytes: 8 * 1024 });
      await rx.start();
      const backlog = appendNow(audit, 5000);
      // No timer closes a batch early (on a busy machine, a 1 s wait closed the first one small
      // enough that one halving sufficed): each batch fills to its byte budget.
      const r = assertExit(await fwd('--batch-bytes', '262144', '--batch-wait', '600000'), 0);
      const budgets = [
        ...r.stderr.matchAll(
          /HTTP 413: 413 Request Entity Too Large; batches of at most (\d+) bytes from now on \(--batch-bytes \1 starts there\)/g,
        ),
      ].map((m) => Number(m[1]));
      assert.ok(budgets.length >= 2, r.stderr);
      assert.ok(
        budgets.every((b, i) => i === 0 || b < budgets[i - 1]),
        `each 413'd batch halves the size: ${budgets.join(', ')}`,
      );
      assert.equal(rx.stored.length, 5240);
      assert.equal(rx.duplicatesDropped, 0, 'a 413 stores nothing: nothing is sent twice into Loki');
      // Every entry once (the backlog among them): batches of several streams may land in any order.
      const stored = new Set(rx.stored.map((e) => e.line));
      assert.equal(stored.size, 5240);
      assert.deepEqual(
        backlog.filter((l) => !stored.has(l)),
        [],
      );
    },
  );

  it(
    'an entry that alone exceeds the proxy limit is dead-lettered ' +
      'with the reason; a limit below any entry stops (exit 17)',
    async () => {
      await rx.stop();
      rx = new LokiReceiver({ requireTenant: true, maxBodyBytes: 16 * 1024 });
      await rx.start();
      // 60 KB of hex digits from a seeded generator: about 30 KB once gzipped.
      const r32 = prng(7);
      const noise = Array.from({ length: 60_000 }, () => Math.floor(r32() * 16).toString(16)).join('');
      const [big] = appendNow(audit, 1, () => ({ noise }));
      appendNow(audit, 20);
      const dl = join(t.dir, 'dead-413.jsonl');
      const r = assertExit(await fwd('--dead-letter', dl), 11);
      const dead = readFileSync(dl, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.deepEqual(
        dead.map((d) => d.entry),
        [big],
      );
      assert.match(
        dead[0].reason,
        /^HTTP 413: 413 Request Entity Too Large: this entry alone makes a push of \d+ bytes \(compressed\), and the receiver took one of \d+$/,
      );
      assert.match(r.stdout, /: 260 delivered, 1 refused \(dead-letter\)/);
      assert.equal(rx.stored.length, 260);

      await rx.stop();
      rx = new LokiReceiver({ requireTenant: true, maxBodyBytes: 100 });
      await rx.start();
      const low = assertExit(
        await runCli([
          'forward',
          '--dir',
          audit,
          '--loki',
          rx.url,
          '--tenant',
          'acme',
          '--state',
          join(t.dir, 's-low.json'),
          '--dead-letter',
          dl,
        ]),
        17,
      );
      assert.match(
        low.stderr,
        /loki-audit: error: loki:http:\/\/127\.0\.0\.1:\d+#acme: HTTP 413: 413 Request Entity Too Large\n/,
      );
      assert.match(
        low.stderr,
        /hint: even a push of one entry is too large for the receiver, which took no smaller one: raise its body size limit \(nginx: client_max_body_size/,
      );
      assert.equal(readFileSync(dl, 'utf8').trim().split('\n').length, 1, 'nothing more dead-lettered');
      assert.equal(existsSync(join(t.dir, 's-low.json')), false, 'no position saved');
      assert.ok(rx.pushes < 20, `stopped after a few lone entries, not all 261: ${rx.pushes} pushes`);
    },
  );

  it('429 storms and 500s are retried with backoff; nothing lost, nothing duplicated', async () => {
    rx.failNext(4, 429, 'Ingestion rate limit exceeded');
    rx.failNext(2, 500, 'internal error');
    const r = await fwd();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /HTTP 429: Ingestion rate limit exceeded; retrying/);
    assert.equal(rx.stored.length, 240);
    assert.equal(rx.duplicatesDropped, 0);
  });

  it('a retry sends the very same bytes (same ingest timestamps), so Loki can drop a duplicate of it', async () => {
    await rx.stop();
    rx = new LokiReceiver({ requireTenant: true, keepBodies: true });
    await rx.start();
    rx.failNext(1, 503, 'try again');
    const r = await fwd('--timestamp', 'ingest', '--batch-entries', '50');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(rx.stored.length, 240);
    assert.ok(rx.bodies.length >= 6, `${rx.bodies.length} pushes`);
    assert.deepEqual(rx.bodies[1], rx.bodies[0], 'the retried push is byte for byte the refused one');
    assert.notDeepEqual(rx.bodies[2], rx.bodies[1]);
  });

  it(
    'receiver down: gives up after --give-up-after with ' + 'exit 9, position kept; the next run delivers all',
    async () => {
      const port = rx.port;
      await rx.stop();
      const r = await runCli([
        'forward',
        '--dir',
        audit,
        '--loki',
        `http://127.0.0.1:${port}`,
        '--state',
        state,
        '--give-up-after',
        '2',
        '--timeout',
        '500',
      ]);
      assert.equal(r.code, 9, r.stderr);
      assert.match(r.stderr, /giving up: cannot reach 127\.0\.0\.1:\d+: ECONNREFUSED/);
      rx = new LokiReceiver();
      await rx.start(port);
      const ok = await runCli(['forward', '--dir', audit, '--loki', `http://127.0.0.1:${port}`, '--state', state]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(rx.stored.length, 240);
    },
  );

  it(
    'entries older than Loki accepts go to the dead-letter ' + 'file (exit 11); --timestamp ingest sends them',
    async () => {
      const dl = join(t.dir, 'dead.jsonl');
      const old = await runCli([
        'forward',
        '--dir',
        join(LOKI, 'extended/valid/writer'),
        '--loki',
        rx.url,
        '--tenant',
        'a',
        '--state',
        join(t.dir, 's2.json'),
        '--dead-letter',
        dl,
      ]);
      assert.equal(old.code, 11, old.stderr);
      assert.equal(rx.stored.length, 0);
      const dead = readFileSync(dl, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.equal(dead.length, 150);
      assert.match(dead[0].reason, /timestamp too old for Loki/);
      assert.equal(dead[0].chain_hash, JSON.parse(dead[0].entry)._integrity_hash);
      const ingest = await runCli([
        'forward',
        '--dir',
        join(LOKI, 'extended/valid/writer'),
        '--loki',
        rx.url,
        '--tenant',
        'a',
        '--state',
        join(t.dir, 's3.json'),
        '--timestamp',
        'ingest',
      ]);
      assert.equal(ingest.code, 0, ingest.stderr);
      assert.equal(rx.stored.length, 150);
    },
  );

  it(
    "entries Loki refuses go to the dead-letter file with Loki's " +
      'text; a 400 counting every entry of a batch is not split',
    async () => {
      const first = allLines(audit).slice(0, 100);
      const refused = new Set(first.map((l) => JSON.parse(l)._integrity_hash as string));
      await rx.stop();
      rx = new LokiReceiver({
        requireTenant: true,
        groupErrors: true,
        refuseEntry: (e) =>
          refused.has(e.metadata.chain_hash)
            ? `entry for stream '${JSON.stringify(e.labels)}' has timestamp too new: ${e.metadata.chain_hash}`
            : null,
      });
      await rx.start();
      const dl = join(t.dir, 'dead.jsonl');
      // Batches close at 100 entries, not on time (a loaded machine must not change their size).
      const r = await fwd('--dead-letter', dl, '--batch-entries', '100', '--batch-wait', '60000');
      assert.equal(r.code, 11, r.stderr);
      assert.match(r.stdout, /: 140 delivered, 100 refused \(dead-letter\)/);
      const dead = readFileSync(dl, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.equal(dead.length, 100);
      assert.equal(rx.pushes, 3, 'Loki counted 100 errors for the 100 entries of the first batch: no split');
      assert.equal(rx.stored.length, 140);
      // Each refused entry exactly as in its file and line (read again from the batch's bytes), in
      // chain order, with Loki's words for it.
      assert.deepEqual(
        dead.map((d) => d.entry),
        first,
      );
      for (const d of dead) {
        const line = readFileSync(join(audit, d.file), 'utf8').split('\n')[d.line - 1];
        assert.equal(d.entry, line, `${d.file}:${d.line}`);
        assert.equal(d.chain_hash, JSON.parse(line)._integrity_hash);
        assert.match(
          d.reason,
          /^HTTP 400: 1 errors like: entry for stream '.*' has timestamp too new: [0-9a-f]{64}; 1 errors like: /,
        );
      }
    },
  );

  it(
    'one entry Loki refuses among 1,000: the batch is split ' +
      'until it is alone; 999 delivered once, 1 dead-lettered',
    async () => {
      const dir = join(t.dir, 'thousand');
      generateSample(dir, { seed: 21, startDate: daysAgo(2), perDay: [500, 500], maxFileBytes: 1 << 20 });
      const lines = allLines(dir);
      const bad = lines[437];
      const badHash = JSON.parse(bad)._integrity_hash as string;
      await rx.stop();
      rx = new LokiReceiver({
        requireTenant: true,
        refuseEntry: (e) =>
          e.metadata.chain_hash === badHash
            ? `entry with timestamp ${e.ts} ignored, reason: 'entry too far behind, entry ` +
              `timestamp is: 2026-01-01T00:00:00Z, oldest acceptable timestamp is: 2026-01-01T01:00:00Z',\nuser ` +
              `'acme', total ignored: 1 out of 1000 for stream: {job="loki-audit"}`
            : null,
      });
      await rx.start();
      const dl = join(t.dir, 'dead-1000.jsonl');
      const r = await runCli([
        'forward',
        '--dir',
        dir,
        '--loki',
        rx.url,
        '--tenant',
        'acme',
        '--state',
        join(t.dir, 's-1000.json'),
        '--dead-letter',
        dl,
        '--batch-entries',
        '1000',
        '--batch-wait',
        '60000',
      ]);
      assertExit(r, 11);
      assert.match(r.stdout, /: 999 delivered, 1 refused \(dead-letter\)/);
      assert.match(
        r.stderr,
        /1 entry refused \(HTTP 400: entry with timestamp \d+ ignored, reason: 'entry too far behind/,
      );
      const dead = readFileSync(dl, 'utf8').trim().split('\n');
      assert.equal(dead.length, 1);
      assert.equal(JSON.parse(dead[0]).entry, bad);
      assert.equal(rx.stored.length, 999);
      assert.deepEqual(
        rx.stored.map((e) => e.line).sort(),
        lines.filter((l) => l !== bad).sort(),
        'every other entry stored once',
      );
      // Halving 1,000 down to the one: two pushes per level, ten levels, and the first.
      assert.ok(rx.pushes <= 21, `${rx.pushes} pushes`);
      const saved = JSON.parse(readFileSync(join(t.dir, 's-1000.json'), 'utf8'));
      assert.equal(
        Object.values(saved.targets as Record<string, { line: number }>)[0].line,
        500,
        'the position moved past all 1,000',
      );
    },
  );

  it(
    'HTTPS Loki: verified against NODE_EXTRA_CA_CERTS, every entry ' +
      'delivered; an unknown CA stops it (exit 20), never a silent send',
    async () => {
      const pki = makePki(join(t.dir, 'pki'));
      const https = new LokiReceiver({
        requireTenant: true,
        tls: { cert: readFileSync(join(pki, 'server.pem')), key: readFileSync(join(pki, 'server.key')) },
      });
      await https.start();
      try {
        const args = ['forward', '--dir', audit, '--loki', https.url, '--tenant', 'acme', '--batch-wait', '100'];
        const untrusted = await runCli([...args, '--state', join(t.dir, 'https-0.json'), '--give-up-after', '1']);
        // A trust failure is a configuration error (exit 20), not an outage (exit 9).
        assert.equal(untrusted.code, 20, untrusted.stderr);
        assert.match(
          untrusted.stderr,
          /TLS: 127\.0\.0\.1:\d+ is not trusted: .*\((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT)\)/,
        );
        assert.equal(https.stored.length, 0);
        const r = await runCli([...args, '--state', join(t.dir, 'https.json')], {
          env: { NODE_EXTRA_CA_CERTS: join(pki, 'ca.pem') },
        });
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(
          https.stored.map((e) => e.line).sort(),
          allLines(audit).sort(),
          'every entry once (a push groups its entries by stream)',
        );
      } finally {
        await https.stop();
      }
    },
  );

  it(
    'lines longer than three reads (200 KB details) and ' + 'lines split across reads arrive whole and in order',
    async () => {
      const dir = join(t.dir, 'long');
      let prev = '0'.repeat(64);
      const lines: string[] = [];
      for (let i = 0; i < 40; i++) {
        const big = i % 7 === 3 ? 'x'.repeat(200_000) : 'y'.repeat(1 + ((i * 7919) % 50_000));
        const s = sealEntry(
          {
            timestamp: new Date(Date.now() - (40 - i) * 1000).toISOString(),
            action: 'update',
            resource_type: 'task',
            resource_id: String(i),
            user_id: 'u',
            token_id: null,
            ip_address: null,
            user_agent: null,
            success: true,
            error: null,
            details: { big },
          },
          prev,
        );
        prev = s.hash;
        lines.push(s.line.trimEnd());
      }
      mkdirSync(dir);
      writeFileSync(join(dir, `audit-${daysAgo(0)}.jsonl`), lines.join('\n') + '\n');
      const r = await runCli([
        'forward',
        '--dir',
        dir,
        '--loki',
        rx.url,
        '--tenant',
        'acme',
        '--state',
        join(t.dir, 'long-state.json'),
        '--batch-wait',
        '100',
        '--batch-entries',
        '3',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        rx.stored.map((e) => e.line),
        lines,
      );
    },
  );

  it(
    'killed mid-batch (SIGKILL) and restarted: every entry ' + 'delivered, duplicates only from the batch in flight',
    async () => {
      rx.slow(300);
      const child = spawn(
        process.execPath,
        [
          BIN,
          'forward',
          '--dir',
          audit,
          '--loki',
          rx.url,
          '--tenant',
          'acme',
          '--state',
          state,
          '--batch-entries',
          '20',
        ],
        { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (b) => (stderr += b));
      const closed = new Promise<NodeJS.Signals | null>((r) => child.on('close', (_code, signal) => r(signal)));
      await rx.waitFor(() => rx.pushes >= 4, {
        describe: () => `4 pushes before the kill; forward's stderr: ${stderr}`,
      });
      child.kill('SIGKILL');
      assert.equal(await closed, 'SIGKILL', `killed while running, not exited before: ${stderr}`);
      // The push in flight when the client died is still answered (and stored) by the receiver.
      await rx.whenIdle();
      rx.slow(0);
      const before = rx.stored.length;
      assert.ok(before > 0 && before < 240, `some delivered before the kill (${before})`);
      const r = await fwd('--batch-entries', '20');
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(rx.stored.map((e) => e.line).sort(), allLines(audit).sort(), 'each entry stored exactly once');
      assert.ok(rx.duplicatesDropped <= 20, `re-sent at most one batch (${rx.duplicatesDropped})`);
    },
  );

  it('a forwarded file rewritten afterwards is reported (exit 10), nothing re-sent', async () => {
    assertExit(await fwd(), 0);
    const live = readdirSync(audit)
      .filter((n) => /^audit-\d{4}-\d{2}-\d{2}\.jsonl$/.test(n))
      .sort()
      .at(-1)!;
    const f = join(audit, live);
    const lines = readFileSync(f, 'utf8').split('\n');
    const edited = lines[lines.length - 2].replace(/"seq": (\d+)/, (_m, n) => `"seq": ${Number(n) + 1000}`);
    assert.notEqual(edited, lines[lines.length - 2]);
    lines[lines.length - 2] = edited;
    writeFileSync(f, lines.join('\n'));
    const pushes = rx.pushes;
    const r = await fwd();
    assert.equal(r.code, 10, r.stderr);
    assert.match(r.stderr, /no longer in the directory: the file was rewritten or removed/);
    assert.match(r.stderr, /loki-audit: hint: then forward from the start: add --reset-state/);
    assert.equal(rx.pushes, pushes);
  });

  it('survives size rotation between runs: the position is found in the renamed piece', async () => {
    assertExit(await fwd(), 0);
    const live = readdirSync(audit)
      .filter((n) => /^audit-\d{4}-\d{2}-\d{2}\.jsonl$/.test(n))
      .sort()
      .at(-1)!;
    renameSync(join(audit, live), join(audit, live.replace('.jsonl', '.235959.jsonl')));
    const { _integrity_hash: head, ...last } = JSON.parse(allLines(audit).at(-1)!);
    const s = sealEntry({ ...last, timestamp: new Date().toISOString().replace('Z', '+00:00') }, head);
    appendFileSync(join(audit, live), s.line);
    const r = await fwd();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /: 1 delivered/);
    assert.equal(rx.stored.length, 241);
  });

  it('state of another directory and a corrupt state file are refused with a clear message', async () => {
    writeFileSync(state, JSON.stringify({ version: 1, dir: '/elsewhere', targets: {} }));
    let r = await fwd();
    assert.equal(r.code, 10, r.stderr);
    assert.match(r.stderr, /belongs to \/elsewhere/);
    assert.match(r.stderr, /^loki-audit: hint: give this directory a state file of its own: --state FILE$/m);
    writeFileSync(state, '{"version": 1, "dir": "x", "tar');
    r = await fwd();
    assert.equal(r.code, 10, r.stderr);
    assert.match(r.stderr, /not valid JSON/);
    assert.match(
      r.stderr,
      /^loki-audit: hint: forward from the start again: loki-audit forward --dir .* --reset-state$/m,
    );
    // The hint works: --reset-state starts again from a corrupt file (not from another directory's).
    const pushes = rx.pushes;
    r = await fwd('--reset-state');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(rx.pushes > pushes, 'the entries were sent again');
    assert.equal(JSON.parse(readFileSync(state, 'utf8')).dir, audit);
    writeFileSync(state, JSON.stringify({ version: 1, dir: '/elsewhere', targets: {} }));
    assert.equal((await fwd('--reset-state')).code, 10, 'another directory stays refused');
  });

  it(
    'a JS AuditLog is never silently skipped: refused ' + 'alone (exit 14), named when beside the dashboard chain',
    async () => {
      const project = join(LOKI, 'field/project-streams');
      writeFileSync(join(audit, 'audit.jsonl'), readFileSync(join(project, '.loki/audit/audit.jsonl')));
      for (const args of [
        ['--dir', project],
        ['--dir', join(project, '.loki/audit')],
        ['--dir', audit, '--stream', 'js'],
      ]) {
        const r = await runCli(['forward', ...args, '--loki', rx.url, '--tenant', 'acme', '--state', state]);
        assert.equal(r.code, 14, `forward ${args.join(' ')}: ${r.stderr}`);
        assert.match(
          r.stderr,
          /^loki-audit: error: forward sends the dashboard audit chain only; the JS AuditLog \(\.loki\/audit\/audit\.jsonl\) is not forwarded$/m,
        );
        assert.match(
          r.stderr,
          /^loki-audit: hint: send it as a one-off export: loki-audit export --stream js --dir .* -o rfc5424$/m,
        );
      }
      const agent = await runCli([
        'forward',
        '--dir',
        project,
        '--stream',
        'agent',
        '--loki',
        rx.url,
        '--state',
        state,
      ]);
      assert.equal(agent.code, 14, agent.stderr);
      assert.match(agent.stderr, /the agent audit \(\.loki\/logs\/agent-audit\.jsonl\) is not forwarded$/m);
      assert.equal(rx.pushes, 0);
      assert.throws(() => readFileSync(state), 'no state written');
      // Beside the dashboard chain: the chain is forwarded, the JS AuditLog named as not forwarded.
      const both = await fwd();
      assert.equal(both.code, 0, both.stderr);
      assert.match(
        both.stderr,
        /^loki-audit: note: audit\.jsonl \(the JS AuditLog \(\.loki\/audit\/audit\.jsonl\)\) is not forwarded: forward sends the dashboard audit chain only$/m,
      );
      assert.deepEqual(rx.stored.map((e) => e.line).sort(), allLines(audit).sort());
      assert.equal(rx.stored.length, 240);
    },
  );

  it('--dry-run shows streams and labels, sends and saves nothing', async () => {
    const r = await fwd('--dry-run');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /240 entries would be sent/);
    assert.match(
      r.stdout,
      /stream \{service_name="loki-audit", job="loki-audit", host="[^"]+", level="info", event_family="task"\}: \d+/,
    );
    assert.equal(rx.pushes, 0);
    assert.throws(() => readFileSync(state));
  });

  it(
    '--dry-run of entries Loki would refuse says so once: ' + '0 would be sent, 150 would be refused (text and --json)',
    async () => {
      const dry = (...a: string[]) =>
        runCli([
          'forward',
          '--dir',
          join(LOKI, 'extended/valid/writer'),
          '--loki',
          rx.url,
          '--state',
          join(t.dir, 'fresh.json'),
          '--dry-run',
          ...a,
        ]);
      const r = assertExit(await dry(), 0);
      assert.match(
        r.stdout,
        /^loki:http:\/\/127\.0\.0\.1:\d+: 0 entries would be sent, 150 would be refused by the target\n/,
      );
      assert.match(r.stdout, /\n {2}would be refused: 150: timestamp too old for Loki\n/);
      assert.match(r.stdout, /hint: --timestamp ingest sends them/);
      assert.doesNotMatch(r.stdout + r.stderr, /150 entries would be sent|\b150 refused|dead-letter/);
      const j = JSON.parse(assertExit(await dry('--json'), 0).stdout);
      assert.equal(j.preview[0].entries, 0);
      assert.deepEqual(j.preview[0].wouldBeRefused, { 'timestamp too old for Loki': 150 });
      assert.equal(j.preview[0].refused, undefined);
      assert.equal(j.targets[0].deadLettered, 0);
      const ingest = assertExit(await dry('--timestamp', 'ingest'), 0);
      assert.match(ingest.stdout, /: 150 entries would be sent\n/);
      assert.doesNotMatch(ingest.stdout, /refused/);
      assert.equal(rx.pushes, 0);
      assert.equal(existsSync(join(t.dir, 'fresh.json')), false);
    },
  );

  it("filters apply (only auth.* at warning and above), and the config file's enterprise.audit.level too", async () => {
    const r = await fwd('--event', 'auth.*', '--level', 'warning');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(rx.stored.length > 0);
    assert.ok(rx.stored.every((e) => e.labels.event_family === 'auth' && e.labels.level !== 'info'));
    const cfg = join(t.dir, 'config.yaml');
    writeFileSync(
      cfg,
      `enterprise:\n  audit:\n    level: error\n    exclude_events: [api.*]\nforward:\n  targets:\n    - ` +
        `loki: ${rx.url}\n      tenant: cfg\n      labels: {env: prod}\n`,
    );
    const c = await runCli(['forward', '--dir', audit, '--config', cfg, '--state', join(t.dir, 's4.json')]);
    assert.equal(c.code, 0, c.stderr);
    const fromCfg = rx.stored.filter((e) => e.tenant === 'cfg');
    assert.ok(fromCfg.length > 0);
    assert.ok(
      fromCfg.every((e) => e.labels.level === 'error' && e.labels.env === 'prod' && e.labels.event_family !== 'api'),
    );
  });

  it('--start-at end: the first (cron) run saves the end; the next sends only what came after', async () => {
    const first = await fwd('--start-at', 'end', '--json');
    assert.equal(first.code, 0, first.stderr);
    assert.equal(JSON.parse(first.stdout).targets[0].delivered, 0);
    assert.equal(rx.stored.length, 0);
    const saved = Object.values(JSON.parse(readFileSync(state, 'utf8')).targets as Record<string, { line: number }>);
    assert.equal(saved.length, 1, 'the end is saved as the position on the first run');
    const added = appendNow(audit, 3);
    const second = await fwd('--start-at', 'end', '--json');
    assert.equal(second.code, 0, second.stderr);
    assert.equal(JSON.parse(second.stdout).targets[0].delivered, 3);
    assert.deepEqual(
      rx.stored.map((e) => e.line),
      added,
    );
  });

  /** `forward --follow` to the receiver as a child: its stderr so far, and its exit once killed. */
  function follower(...extra: string[]) {
    const args = ['forward', '--dir', audit, '--loki', rx.url, '--tenant', 'acme', '--state', state, '--follow'];
    const child = spawn(process.execPath, [BIN, ...args, '--batch-wait', '100', ...extra], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const out = { stderr: '', child, closed: new Promise<number | null>((r) => child.on('close', r)) };
    child.stderr.on('data', (b) => (out.stderr += b));
    return out;
  }

  it('--start-at end --follow: only entries written after the start are sent', async () => {
    const f = follower('--start-at', 'end');
    try {
      // The end is saved before anything is sent: once the state file exists, forward is following.
      await waitFor(() => existsSync(state), { describe: () => `a state file; stderr: ${f.stderr}` });
      const added = appendNow(audit, 2);
      await rx.waitFor(() => rx.stored.length >= 2, { describe: () => `the 2 new entries; stderr: ${f.stderr}` });
      await rx.whenIdle();
      assert.deepEqual(
        rx.stored.map((e) => e.line),
        added,
      );
    } finally {
      f.child.kill('SIGTERM');
    }
    assert.equal(await f.closed, 0, f.stderr);
  });

  it('--follow forwards new entries as they are written, across a new day file', async () => {
    const f = follower();
    try {
      await rx.waitFor(() => rx.stored.length >= 240, {
        describe: () => `the 240 entries already written; forward's stderr: ${f.stderr}`,
      });
      assert.equal(rx.stored.length, 240);
      let prev = JSON.parse(allLines(audit).at(-1)!)._integrity_hash as string;
      const today = new Date().toISOString().slice(0, 10);
      for (let i = 0; i < 5; i++) {
        const s = sealEntry(
          {
            timestamp: new Date().toISOString().replace('Z', '+00:00'),
            action: 'login',
            resource_type: 'auth',
            resource_id: null,
            user_id: 'live',
            token_id: null,
            ip_address: null,
            user_agent: null,
            success: true,
            error: null,
            details: { i },
          },
          prev,
        );
        appendFileSync(join(audit, `audit-${today}.jsonl`), s.line);
        prev = s.hash;
      }
      await rx.waitFor(() => rx.stored.length >= 245, {
        describe: () => `the 5 new entries; forward's stderr: ${f.stderr}`,
      });
      await rx.whenIdle();
      assert.equal(rx.stored.length, 245);
      assert.ok(rx.stored.slice(-5).every((e) => JSON.parse(e.line).user_id === 'live'));
    } finally {
      f.child.kill('SIGTERM');
    }
    assert.equal(await f.closed, 0, `forward --follow ends cleanly on SIGTERM: ${f.stderr}`);
    const saved = JSON.parse(readFileSync(state, 'utf8'));
    assert.equal(Object.values(saved.targets as Record<string, { line: number }>)[0].line, 5);
  });
});

describe('forward: hostile and deep lines', () => {
  let t: { dir: string; cleanup: () => void };
  let rx: LokiReceiver;
  beforeEach(async () => {
    t = tempDir();
    rx = new LokiReceiver();
    await rx.start();
  });
  afterEach(async () => {
    await rx.stop();
    t.cleanup();
  });
  const state = () => join(t.dir, 'state.json');

  it('--dry-run escapes terminal sequences from timestamps and actors (OSC 52, title, clear, bidi)', async () => {
    const osc = '\u001b]52;c;ZXZpbA==\u0007\u001b]0;pwned\u0007\u001b[2J';
    writeDay(t.dir, [
      writerLine({}, { timestamp: osc + RAW_HOSTILE }),
      writerLine({}, { timestamp: '2026-02-01T00:00:00+00:00', user_id: osc + RAW_HOSTILE }),
    ]);
    const loki = assertExit(
      await runCli(['forward', '--dir', t.dir, '--loki', rx.url, '--state', state(), '--dry-run']),
      0,
    );
    const syslog = assertExit(
      await runCli(['forward', '--dir', t.dir, '--syslog', 'udp://127.0.0.1:9', '--state', state(), '--dry-run']),
      0,
    );
    for (const r of [loki, syslog]) {
      assert.doesNotMatch(r.stdout + r.stderr, UNSAFE_ON_TTY, r.stdout);
      // eslint-disable-next-line no-control-regex
      assert.doesNotMatch(r.stdout + r.stderr, /\u001b|\u0007/);
    }
    // The refusal names the timestamp, escaped (it is not RFC 3339).
    assert.match(
      loki.stdout,
      /refused: 1: timestamp "\\x1b\]52;c;ZXZpbA==\\x07\\x1b\]0;pwned\\x07\\x1b\[2J\\x9b2J\\u202eevil/,
    );
    // The sample message is the first entry's, its fields escaped.
    assert.match(
      syslog.stdout,
      /first message: <\d+>1 - .*"timestamp": "\\u001b\]52;c;ZXZpbA==\\u0007.*\\u009b2J\\u202eevil/,
    );
    assert.equal(rx.pushes, 0);
  });

  it('a line nested 10,000 deep: --dry-run to Loki and syslog, and the Loki line as written', async () => {
    const [l1, l2] = deepLines(10_000);
    writeDay(t.dir, [l1, l2]);
    for (const target of [
      ['--loki', rx.url],
      ['--syslog', 'udp://127.0.0.1:9'],
    ]) {
      const r = assertExit(
        await runCli(['forward', '--dir', t.dir, ...target, '--state', state(), '--timestamp', 'ingest', '--dry-run']),
        0,
        target[0],
      );
      assert.match(r.stdout, /: 2 entries would be sent\n/, target[0]);
      assert.doesNotMatch(r.stderr, /RangeError|Maximum call stack/, target[0]);
      if (target[0] === '--syslog')
        assert.match(
          r.stdout,
          /first message: <\d+>1 .* file="audit-2026-02-01\.jsonl" line="1" .*\] \{.*…\[truncated \d+ bytes\]\n/,
        );
    }
    const sent = assertExit(
      await runCli([
        'forward',
        '--dir',
        t.dir,
        '--loki',
        rx.url,
        '--state',
        state(),
        '--timestamp',
        'ingest',
        '--batch-wait',
        '100',
      ]),
      0,
    );
    assert.match(sent.stdout, /2 delivered/);
    assert.deepEqual(
      rx.stored.map((e) => e.line),
      [l1, l2],
    );
  });
});

describe('verify --against-loki (Loki as a witness)', () => {
  it('entries removed locally after forwarding are caught (exit 12); unforwarded ones are a note', async () => {
    const t = tempDir();
    const rx = new LokiReceiver();
    await rx.start();
    try {
      const audit = join(t.dir, 'audit');
      generateSample(audit, { seed: 3, startDate: daysAgo(3), perDay: [50, 50], maxFileBytes: 1 << 20 });
      assertExit(await runCli(['forward', '--dir', audit, '--loki', rx.url, '--state', join(t.dir, 's.json')]), 0);
      assert.equal(rx.stored.length, 100);
      let r = await runCli(['verify', '--dir', audit, '--against-loki', rx.url, '--json']);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      // An entry written after the forward run: not in Loki yet, a note only.
      const { _integrity_hash: head, ...last } = JSON.parse(allLines(audit).at(-1)!);
      const extra = join(audit, `audit-${daysAgo(0)}.jsonl`);
      writeFileSync(
        extra,
        sealEntry({ ...last, timestamp: new Date().toISOString().replace('Z', '+00:00') }, head).line,
      );
      r = await runCli(['verify', '--dir', audit, '--against-loki', rx.url, '--json']);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.ok(
        JSON.parse(r.stdout).notes.some(
          (n: { kind: string; message: string }) =>
            n.kind === 'not-forwarded' && /^1 local entry is not in Loki/.test(n.message),
        ),
      );
      rmSync(extra);
      // Remove the last two entries locally: the chain alone cannot see it, the witness can.
      const live = readdirSync(audit).sort().at(-1)!;
      const f = join(audit, live);
      writeFileSync(f, readFileSync(f, 'utf8').split('\n').slice(0, 48).join('\n') + '\n');
      assertExit(await runCli(['verify', '--dir', audit, '-q']), 0, 'the chain alone says intact');
      r = await runCli(['verify', '--dir', audit, '--against-loki', rx.url, '--json']);
      assert.equal(r.code, 12, r.stderr);
      const rep = JSON.parse(r.stdout);
      assert.equal(rep.findings.filter((x: { reason: string }) => x.reason === 'head-missing').length, 2);
      assert.match(rep.firstProblem.message, /forwarded to Loki .* is not in the local files/);
      const down = await runCli(['verify', '--dir', audit, '--against-loki', 'http://127.0.0.1:1']);
      assert.equal(down.code, 3, down.stderr);
      assert.match(down.stderr, /cannot query 127\.0\.0\.1:1/);
    } finally {
      await rx.stop();
      t.cleanup();
    }
  });
});
