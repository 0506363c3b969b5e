/**
 * Signed checkpoints: the attacks no chain can see (spec §4) are caught once a checkpoint of
 * the head exists outside the log; a checkpoint taken after the attack cannot see it.
 */
import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { assertExit, LOKI, runCli, tempDir } from '../helpers/cli.js';

const VALID = join(LOKI, 'extended/valid/writer');

describe('checkpoint and verify --checkpoints', () => {
  let t: { dir: string; cleanup: () => void };
  let audit: string;
  let store: string;
  let key: string;
  beforeEach(async () => {
    t = tempDir();
    audit = join(t.dir, 'audit');
    store = join(t.dir, 'store');
    key = join(t.dir, 'ck');
    cpSync(VALID, audit, { recursive: true });
    const pair = assertExit(await runCli(['checkpoint', '--new-key', key]), 0);
    assert.equal(pair.stdout, `wrote ${key} (private, keep it secret) and ${key}.pub (for verify --public-key)\n`);
    const c = await runCli(['checkpoint', '--dir', audit, '--key', key, '--store', store]);
    assert.equal(c.code, 0, c.stderr);
    assert.match(
      c.stdout,
      /^checkpoint .*: head bd7ec98b71f417c1dd0b3011cab753365ad55486a6323d1c561b251430dc98af at audit-2026-02-03\.jsonl:50, 150 entries, signed ed25519 key [0-9a-f]{16}$/m,
    );
  });
  afterEach(() => t.cleanup());
  const verify = (...a: string[]) =>
    runCli(['verify', '--dir', audit, '--checkpoints', store, '--public-key', key + '.pub', '--json', ...a]);

  it('an untouched directory proves its checkpoint (the public key alone verifies)', async () => {
    const r = await verify();
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(JSON.parse(r.stdout).verdict, 'intact');
    // The signed file holds no secret.
    const file = readdirSync(store)[0];
    assert.doesNotMatch(readFileSync(join(store, file), 'utf8'), /PRIVATE/);
  });

  it('text and --json say how many checkpoints were checked and when the newest was signed', async () => {
    const rep = JSON.parse(assertExit(await verify(), 0).stdout);
    const file = readdirSync(store)[0];
    const signed = JSON.parse(readFileSync(join(store, file), 'utf8')).statement.time;
    assert.deepEqual(rep.checkpoints, { store, checked: 1, newest: signed });
    const text = assertExit(
      await runCli(['verify', '--dir', audit, '--checkpoints', store, '--public-key', key + '.pub']),
      0,
    ).stdout;
    assert.match(
      text,
      new RegExp(`^checkpoints: 1 checked in ${store}, the newest signed ${signed.replace(/\./g, '\\.')}$`, 'm'),
    );
    assert.match(text, /^note: signed checkpoints vouch for the chain up to /m);
    assert.doesNotMatch(text, /^note: a hash chain cannot see/m);
  });

  it('an empty or missing store warns, and fails with --strict', async () => {
    const empty = join(t.dir, 'empty-store');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(empty);
    for (const [s, what] of [
      [empty, 'holds no checkpoint'],
      [join(t.dir, 'no-such-store'), 'does not exist'],
    ] as const) {
      const args = ['verify', '--dir', audit, '--checkpoints', s, '--public-key', key + '.pub'];
      const rep = JSON.parse(assertExit(await runCli([...args, '--json']), 0).stdout);
      assert.deepEqual(rep.checkpoints, { store: s, checked: 0, newest: null });
      const note = rep.notes.find((n: { kind: string }) => n.kind === 'no-checkpoints');
      assert.ok(note, JSON.stringify(rep.notes));
      assert.match(note.message, new RegExp(`${what}: nothing outside the log was checked`));
      assert.equal(rep.failsStrict, true);
      const text = assertExit(await runCli(args), 0).stdout;
      assert.match(text, /^checkpoints: 0 checked in /m);
      assert.match(text, new RegExp(`^note: checkpoint store .* ${what}`, 'm'));
      const strict = assertExit(await runCli([...args, '--strict', '-q']), 1);
      assert.match(strict.stdout, new RegExp(what));
    }
  });

  it('removed newest entries (invisible to the chain) fail the checkpoint: exit 12', async () => {
    const f = join(audit, 'audit-2026-02-03.jsonl');
    writeFileSync(f, readFileSync(f, 'utf8').split('\n').slice(0, 47).join('\n') + '\n');
    assertExit(await runCli(['verify', '--dir', audit, '-q']), 0, 'the chain alone says intact');
    const r = await verify();
    assert.equal(r.code, 12, r.stderr);
    const p = JSON.parse(r.stdout).firstProblem;
    assert.deepEqual(
      [p.class, p.reason, p.file, p.line],
      ['anchor-mismatch', 'head-missing', 'audit-2026-02-03.jsonl', 50],
    );
  });

  it('a deleted newest file fails the checkpoint', async () => {
    rmSync(join(audit, 'audit-2026-02-03.jsonl'));
    const r = await verify();
    assert.equal(r.code, 12, r.stderr);
  });

  it('an edit with every later hash recomputed (edited-and-rechained) fails the checkpoint', async () => {
    cpSync(join(LOKI, 'extended/tampered/edited-and-rechained'), audit, { recursive: true });
    assertExit(await runCli(['verify', '--dir', audit, '-q']), 0, 'the chain alone says intact');
    const r = await verify();
    assert.equal(r.code, 12, r.stderr);
  });

  it('a checkpoint taken after the attack cannot see it (documented limit)', async () => {
    const f = join(audit, 'audit-2026-02-03.jsonl');
    writeFileSync(f, readFileSync(f, 'utf8').split('\n').slice(0, 47).join('\n') + '\n');
    rmSync(store, { recursive: true });
    assertExit(await runCli(['checkpoint', '--dir', audit, '--key', key, '--store', store]), 0);
    assertExit(await verify(), 0);
  });

  it('a forged or altered checkpoint is an anchor mismatch, and a key that did not sign it too', async () => {
    const file = join(store, readdirSync(store)[0]);
    const c = JSON.parse(readFileSync(file, 'utf8'));
    c.statement.line = 47;
    writeFileSync(file, JSON.stringify(c));
    const r = await verify();
    assert.equal(r.code, 12, r.stderr);
    assert.equal(JSON.parse(r.stdout).firstProblem.reason, 'checkpoint-signature');
    assertExit(await runCli(['checkpoint', '--new-key', key + '2']), 0);
    const other = await runCli(['verify', '--dir', audit, '--checkpoints', store, '--public-key', key + '2.pub', '-q']);
    assert.equal(other.code, 12, other.stderr);
  });

  it('appending after a checkpoint is fine: the checkpointed head stays reachable', async () => {
    const { sealEntry } = await import('../../src/core/write/seal.js');
    const f = join(audit, 'audit-2026-02-03.jsonl');
    const { _integrity_hash: head, ...last } = JSON.parse(readFileSync(f, 'utf8').trim().split('\n').at(-1)!);
    writeFileSync(
      f,
      readFileSync(f, 'utf8') + sealEntry({ ...last, timestamp: '2026-02-03T23:00:00+00:00' }, head).line,
    );
    assertExit(await verify(), 0);
  });

  it('HMAC-SHA256 checkpoints and --expect-head', async () => {
    const secret = join(t.dir, 'secret');
    writeFileSync(secret, 'a-shared-secret-of-enough-bytes\n');
    const hs = join(t.dir, 'hstore');
    assertExit(await runCli(['checkpoint', '--dir', audit, '--hmac-key-file', secret, '--store', hs]), 0);
    assertExit(await runCli(['verify', '--dir', audit, '--checkpoints', hs, '--hmac-key-file', secret, '-q']), 0);
    // The other side: another secret does not verify those checkpoints.
    const otherSecret = join(t.dir, 'other-secret');
    writeFileSync(otherSecret, 'another-shared-secret-of-enough-bytes\n');
    assertExit(
      await runCli(['verify', '--dir', audit, '--checkpoints', hs, '--hmac-key-file', otherSecret, '-q']),
      12,
      'a key that did not sign them',
    );
    const head = 'bd7ec98b71f417c1dd0b3011cab753365ad55486a6323d1c561b251430dc98af';
    assertExit(await runCli(['verify', '--dir', audit, '--expect-head', head, '-q']), 0);
    assertExit(await runCli(['verify', '--dir', audit, '--expect-head', 'f'.repeat(64), '-q']), 12);
    assertExit(await runCli(['verify', '--dir', audit, '--expect-head', 'xyz']), 2);
  });

  it('checkpoint refuses a chain that is not intact, and keys from argv are not accepted', async () => {
    cpSync(join(LOKI, 'extended/tampered/edited-field'), audit, { recursive: true });
    const r = await runCli(['checkpoint', '--dir', audit, '--key', key, '--store', join(t.dir, 's2')]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /not intact: nothing was signed/);
    const none = await runCli(['checkpoint', '--dir', VALID, '--store', join(t.dir, 's3')]);
    assert.equal(none.code, 2, none.stderr);
    assert.match(none.stderr, /--key FILE, --hmac-key-file FILE, or LOKI_AUDIT_CHECKPOINT_KEY/);
  });
});
