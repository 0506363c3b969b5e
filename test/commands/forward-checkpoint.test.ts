/**
 * `forward --checkpoint-every N` against the Loki receiver (test/helpers/loki-receiver.ts): a
 * signed checkpoint of the head of the Nth, 2Nth … acknowledged entry in the checkpoint stream,
 * accepted by `verify --checkpoints loki://…`; none past an edited entry (its hash kept); a store
 * that refuses pushes for a while gets them once it recovers, one that stays down gets the
 * pending one from the next run; a restart counts on from the saved position, with no duplicate.
 */
import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { generateSample } from '../../scripts/sample.js';
import { sealEntry } from '../../src/core/write/seal.js';
import { assertExit, runCli, tempDir } from '../helpers/cli.js';
import { LokiReceiver, type StoredEntry } from '../helpers/loki-receiver.js';

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

/** The chain files of `dir` in chain order (one file per day here: no size rotation). */
const chainFiles = (dir: string) =>
  readdirSync(dir)
    .filter((n) => /^audit-.*\.jsonl$/.test(n))
    .sort();

/** Every entry of `dir` in chain order: its file, line number, stored hash and text. */
function entriesOf(dir: string): Array<{ file: string; line: number; hash: string; text: string }> {
  return chainFiles(dir).flatMap((file) =>
    readFileSync(join(dir, file), 'utf8')
      .split('\n')
      .map((text, i) => ({ file, line: i + 1, text }))
      .filter((e) => e.text !== '')
      .map((e) => ({ ...e, hash: JSON.parse(e.text)._integrity_hash as string })),
  );
}

/** Appends `n` entries chained after the last one of `dir`, to today's file. */
function appendEntries(dir: string, n: number): void {
  let prev = entriesOf(dir).at(-1)!.hash;
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = sealEntry(
      {
        timestamp: new Date(Date.now() - (n - i) * 10).toISOString().replace('Z', '+00:00'),
        action: 'login',
        resource_type: 'auth',
        resource_id: null,
        user_id: 'later',
        token_id: null,
        ip_address: null,
        user_agent: null,
        success: true,
        error: null,
        details: { i },
      },
      prev,
    );
    prev = s.hash;
    lines.push(s.line);
  }
  appendFileSync(join(dir, `audit-${new Date().toISOString().slice(0, 10)}.jsonl`), lines.join(''));
}

/** Edits entry `e` of `dir` in place, keeping its stored hash: the attack that the hash alone does not hide. */
function editKeepingHash(dir: string, e: { file: string; text: string }): void {
  const flipped = e.text.includes('"success": true')
    ? e.text.replace('"success": true', '"success": false')
    : e.text.replace('"success": false', '"success": true');
  assert.notEqual(flipped, e.text);
  const path = join(dir, e.file);
  const before = readFileSync(path, 'utf8');
  writeFileSync(path, before.replace(e.text + '\n', flipped + '\n'));
  assert.notEqual(readFileSync(path, 'utf8'), before);
}

const isCheckpoint = (e: StoredEntry) => e.labels.service_name === 'loki-audit-checkpoints';
const statements = (rx: LokiReceiver) => rx.stored.filter(isCheckpoint).map((e) => JSON.parse(e.line).statement);

describe('forward --checkpoint-every', () => {
  const N = 100;
  let t: { dir: string; cleanup: () => void };
  let audit: string;
  let state: string;
  let key: string;
  let rx: LokiReceiver;
  beforeEach(async () => {
    t = tempDir();
    audit = join(t.dir, 'audit');
    state = join(t.dir, 'state.json');
    key = join(t.dir, 'ck.key');
    generateSample(audit, { seed: 5, startDate: daysAgo(3), perDay: [125, 125], maxFileBytes: 1 << 20 });
    rx = new LokiReceiver();
    await rx.start();
    assertExit(await runCli(['checkpoint', '--new-key', key]), 0);
  });
  afterEach(async () => {
    await rx.stop();
    t.cleanup();
  });
  // Batches of 30: the Nth entry is inside a batch, not at its end.
  const fwd = (...a: string[]) =>
    runCli([
      'forward',
      '--dir',
      audit,
      '--loki',
      rx.url,
      '--state',
      state,
      '--batch-wait',
      '100',
      '--batch-entries',
      '30',
      '--checkpoint-every',
      String(N),
      '--checkpoint-key',
      key,
      ...a,
    ]);
  const verify = (store: string) =>
    runCli(['verify', '--dir', audit, '--checkpoints', store, '--public-key', key + '.pub', '--json']);

  it(
    '2.5×N entries: exactly 2 checkpoints, of the Nth and 2Nth ' +
      'entries, pushed once acknowledged; verify accepts them',
    async () => {
      const r = await fwd('--json');
      assert.equal(r.code, 0, r.stderr);
      const all = entriesOf(audit);
      assert.equal(all.length, 250);
      assert.equal(rx.stored.filter((e) => !isCheckpoint(e)).length, 250);
      const signed = statements(rx);
      assert.equal(signed.length, 2, JSON.stringify(signed));
      for (const [i, s] of signed.entries()) {
        const e = all[(i + 1) * N - 1];
        assert.deepEqual([s.head, s.file, s.line, s.entries], [e.hash, e.file, e.line, (i + 1) * N]);
        assert.equal(s.dir, audit);
        assert.equal(
          s.offset,
          readFileSync(join(audit, e.file), 'utf8').split('\n').slice(0, e.line).join('\n').length + 1,
        );
      }
      // Each checkpoint reached Loki after the entry it anchors had been acknowledged.
      const at = (line: string) => rx.stored.findIndex((e) => e.line === line);
      const cps = rx.stored.map((e, i) => (isCheckpoint(e) ? i : -1)).filter((i) => i >= 0);
      assert.ok(at(all[N - 1].text) < cps[0] && at(all[2 * N - 1].text) < cps[1]);
      const rep = JSON.parse(r.stdout).checkpoints;
      assert.deepEqual(
        [rep.signed, rep.pushed, rep.pending, rep.brokenAt, rep.last.head],
        [2, 2, false, null, all[2 * N - 1].hash],
      );
      const text = await fwd();
      assert.match(
        text.stdout,
        /^checkpoints \(every 100 entries acknowledged by loki:http:\/\/127\.0\.0\.1:\d+\) to http:\/\/127\.0\.0\.1:\d+ \{service_name="loki-audit-checkpoints"\}: 0 signed, 0 pushed$/m,
      );
      const v = await verify(`loki://127.0.0.1:${rx.port}`);
      assert.equal(v.code, 0, v.stderr);
      const vr = JSON.parse(v.stdout);
      assert.equal(vr.verdict, 'intact');
      assert.equal(vr.checkpoints.checked, 2);
    },
  );

  it(
    'an edited entry (its hash kept) is never anchored: a ' +
      'warning names it, forwarding goes on, verify says tampered',
    async () => {
      const all = entriesOf(audit);
      const victim = all[N - 2];
      editKeepingHash(audit, victim);
      const metrics = join(t.dir, 'forward.prom');
      const r = await fwd('--json', '--metrics-file', metrics);
      assert.equal(r.code, 0, r.stderr);
      assert.match(readFileSync(metrics, 'utf8'), /^loki_audit_forward_checkpoint_chain_broken\{dir=".*"\} 1$/m);
      assert.equal(rx.stored.filter((e) => !isCheckpoint(e)).length, 250, 'every entry is forwarded');
      assert.deepEqual(statements(rx), []);
      assert.match(
        r.stderr,
        new RegExp(
          `^loki-audit: warning: ${victim.file}:${victim.line}: the chain breaks here ` +
            `\\(does-not-chain\\): no checkpoint is signed past it; forwarding goes on`,
          'm',
        ),
      );
      assert.deepEqual(JSON.parse(r.stdout).checkpoints.brokenAt, {
        file: victim.file,
        line: victim.line,
        reason: 'does-not-chain',
      });
      // The break is kept: a later run signs nothing past it either, and says so.
      appendEntries(audit, 2 * N);
      const again = await fwd();
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(statements(rx), []);
      assert.match(
        again.stderr,
        new RegExp(`warning: ${victim.file}:${victim.line}: the chain broke here \\(found by an earlier run\\)`),
      );
      const v = await verify(`loki://127.0.0.1:${rx.port}`);
      assert.equal(v.code, 1, v.stderr);
      assert.equal(JSON.parse(v.stdout).verdict, 'tampered');
    },
  );

  it('an edit after the Nth entry: the checkpoints before it are signed, none after', async () => {
    const all = entriesOf(audit);
    const victim = all[N + 49];
    editKeepingHash(audit, victim);
    const r = await fwd();
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      statements(rx).map((s) => s.head),
      [all[N - 1].hash],
    );
    assert.match(
      r.stdout,
      new RegExp(`1 signed, 1 pushed.*; none past ${victim.file}:${victim.line}, where the chain breaks`),
    );
  });

  it(
    'a store refusing pushes for a while: the checkpoints ' + 'arrive once it recovers, forwarding is not held up',
    async () => {
      const store = new LokiReceiver();
      await store.start();
      try {
        store.failNext(3, 503, 'overloaded');
        const r = await fwd('--checkpoint-store', `loki://127.0.0.1:${store.port}`, '--json');
        assert.equal(r.code, 0, r.stderr);
        assert.match(
          r.stderr,
          /checkpoint store http:\/\/127\.0\.0\.1:\d+ \{service_name="loki-audit-checkpoints"\}: .*503.*overloaded; retrying \(attempt 1,/,
        );
        assert.equal(rx.stored.length, 250, 'entries to the forward target, checkpoints to the store');
        const all = entriesOf(audit);
        assert.deepEqual(
          statements(store).map((s) => s.head),
          [all[N - 1].hash, all[2 * N - 1].hash],
        );
        assert.equal(JSON.parse(r.stdout).checkpoints.pushed, 2);
        const v = await verify(`loki://127.0.0.1:${store.port}`);
        assert.equal(v.code, 0, v.stderr);
      } finally {
        await store.stop();
      }
    },
  );

  it(
    'a store down for the whole run: exit 9, every entry ' + 'forwarded, the newest checkpoint pushed by the next run',
    async () => {
      const store = new LokiReceiver();
      await store.start();
      const port = store.port;
      await store.stop();
      const metrics = join(t.dir, 'forward.prom');
      const r = await fwd(
        '--checkpoint-store',
        `loki://127.0.0.1:${port}`,
        '--give-up-after',
        '1',
        '--json',
        '--metrics-file',
        metrics,
      );
      assert.equal(r.code, 9, r.stderr);
      const prom = readFileSync(metrics, 'utf8');
      assert.match(
        prom,
        new RegExp(
          `^loki_audit_forward_checkpoint_pending\\{dir="${audit}",store="http://127\\.0\\.0\\.1:${port} ` +
            `\\{service_name=\\\\"loki-audit-checkpoints\\\\"\\}"\\} 1$`,
          'm',
        ),
      );
      assert.match(prom, /^loki_audit_forward_checkpoint_chain_broken\{dir=".*"\} 0$/m);
      assert.doesNotMatch(prom, /^loki_audit_forward_checkpoint_signed_entries/m);
      assert.equal(rx.stored.length, 250);
      const rep = JSON.parse(r.stdout).checkpoints;
      assert.deepEqual([rep.signed, rep.pushed, rep.pending], [2, 0, true]);
      assert.match(r.stderr, /giving up: .*; the checkpoint is kept and pushed by the next run/);
      const saved = JSON.parse(readFileSync(state, 'utf8'));
      const all = entriesOf(audit);
      assert.equal(saved.pendingCheckpoint.statement.head, all[2 * N - 1].hash);
      await store.start(port);
      try {
        const again = await fwd('--checkpoint-store', `loki://127.0.0.1:${port}`);
        assert.equal(again.code, 0, again.stderr);
        assert.deepEqual(
          store.stored.map((e) => JSON.parse(e.line)),
          [saved.pendingCheckpoint],
        );
        assert.equal(JSON.parse(readFileSync(state, 'utf8')).pendingCheckpoint, null);
      } finally {
        await store.stop();
      }
    },
  );

  it('a restart counts on from the saved position: the next checkpoint at 2N, no duplicate head', async () => {
    generateSample(audit, { seed: 5, startDate: daysAgo(3), perDay: [75, 75], maxFileBytes: 1 << 20 });
    assertExit(await fwd(), 0);
    let all = entriesOf(audit);
    assert.deepEqual(
      statements(rx).map((s) => s.head),
      [all[N - 1].hash],
    );
    const position = Object.values(JSON.parse(readFileSync(state, 'utf8')).targets)[0] as {
      checkpoints: { acknowledged: number; signed: { head: string; acknowledged: number } };
    };
    assert.equal(position.checkpoints.acknowledged, 150);
    assert.deepEqual(position.checkpoints.signed, { head: all[N - 1].hash, acknowledged: N });
    appendEntries(audit, 100);
    assertExit(await fwd(), 0);
    assertExit(await fwd(), 0);
    all = entriesOf(audit);
    assert.equal(all.length, 250);
    assert.deepEqual(
      statements(rx).map((s) => [s.head, s.entries]),
      [
        [all[N - 1].hash, N],
        [all[2 * N - 1].hash, 2 * N],
      ],
    );
    const v = await verify(`loki://127.0.0.1:${rx.port}`);
    assert.equal(v.code, 0, v.stderr);
  });

  it(
    'first enabled on a target already forwarded: the chain up ' +
      'to its position is checked first, the count starts there',
    async () => {
      assertExit(
        await runCli(['forward', '--dir', audit, '--loki', rx.url, '--state', state, '--batch-wait', '100']),
        0,
      );
      appendEntries(audit, N);
      const r = await fwd();
      assert.equal(r.code, 0, r.stderr);
      const all = entriesOf(audit);
      assert.deepEqual(
        statements(rx).map((s) => [s.head, s.entries]),
        [[all[349].hash, 350]],
      );
    },
  );

  it(
    'from the config file: a directory store and an HMAC key; a checkpoint ' +
      'pushed again (a crash before the state said so) is stored once',
    async () => {
      const secret = join(t.dir, 'ck.secret');
      writeFileSync(secret, 'a shared secret of at least sixteen bytes\n', { mode: 0o600 });
      const config = join(t.dir, 'config.yaml');
      writeFileSync(
        config,
        'forward:\n  checkpoint_every: 100\n  checkpoint_store: ./ckstore\n  checkpoint_hmac_key_file: ./ck.secret\n',
      );
      const run = () =>
        runCli([
          'forward',
          '--dir',
          audit,
          '--loki',
          rx.url,
          '--state',
          state,
          '--batch-wait',
          '100',
          '--config',
          config,
        ]);
      const r = await run();
      assert.equal(r.code, 0, r.stderr);
      const store = join(t.dir, 'ckstore');
      const files = readdirSync(store).sort();
      assert.equal(files.length, 2, files.join(' '));
      const all = entriesOf(audit);
      const stored = files.map((f) => JSON.parse(readFileSync(join(store, f), 'utf8')));
      assert.deepEqual(
        stored.map((c) => [c.statement.head, c.signature.alg]),
        [
          [all[N - 1].hash, 'hmac-sha256'],
          [all[2 * N - 1].hash, 'hmac-sha256'],
        ],
      );
      assert.deepEqual(statements(rx), [], 'nothing in the Loki checkpoint stream');
      const v = await runCli(['verify', '--dir', audit, '--checkpoints', store, '--hmac-key-file', secret, '--json']);
      assert.equal(v.code, 0, v.stderr);
      assert.equal(JSON.parse(v.stdout).checkpoints.checked, 2);
      // As if the run had died after the push and before the state file said so.
      const s = JSON.parse(readFileSync(state, 'utf8'));
      s.pendingCheckpoint = stored[1];
      writeFileSync(state, JSON.stringify(s));
      const again = await run();
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(readdirSync(store).sort(), files);
      assert.match(again.stdout, /: 0 signed, 1 pushed/);
      assert.equal(JSON.parse(readFileSync(state, 'utf8')).pendingCheckpoint, null);
    },
  );

  it('usage: a key is needed, and a store (a Loki target, or --checkpoint-store)', async () => {
    const noKey = await runCli([
      'forward',
      '--dir',
      audit,
      '--loki',
      rx.url,
      '--state',
      state,
      '--checkpoint-every',
      '10',
    ]);
    assert.equal(noKey.code, 2);
    assert.match(
      noKey.stderr,
      /--checkpoint-every needs a signing key: --checkpoint-key FILE, --checkpoint-hmac-key-file FILE, or LOKI_AUDIT_CHECKPOINT_KEY/,
    );
    const noStore = await runCli([
      'forward',
      '--dir',
      audit,
      '--syslog',
      'udp://127.0.0.1:9',
      '--state',
      state,
      '--checkpoint-every',
      '10',
      '--checkpoint-key',
      key,
    ]);
    assert.equal(noStore.code, 2);
    assert.match(noStore.stderr, /goes to the forward's Loki target: there is none/);
    assert.equal(rx.pushes, 0);
  });
});
