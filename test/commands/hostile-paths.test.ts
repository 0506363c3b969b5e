/**
 * Files loki-audit writes, as root from cron, where others may have planted something: a
 * symbolic link at the state file, the verify state, the dead-letter file, a checkpoint or key
 * path, or the audit day file makes the command stop with a clear message, and the file the link
 * points at (one the test owns) is untouched. What it creates is mode 600 (docs/security.md).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { assertExit, LOKI, runCli, tempDir } from '../helpers/cli.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';

const mode = (p: string) => statSync(p).mode & 0o777;
const VICTIM_TEXT = 'root-owned file the link points at\n';

describe('planted links where loki-audit writes', () => {
  let t: { dir: string; cleanup: () => void };
  let audit: string;
  let victim: string;
  let rx: LokiReceiver;
  beforeEach(async () => {
    t = tempDir();
    audit = join(t.dir, 'audit');
    cpSync(join(LOKI, 'extended/valid/writer'), audit, { recursive: true });
    victim = join(t.dir, 'victim');
    writeFileSync(victim, VICTIM_TEXT);
    rx = new LokiReceiver();
    await rx.start();
  });
  afterEach(async () => {
    await rx.stop();
    t.cleanup();
  });
  const untouched = () => assert.equal(readFileSync(victim, 'utf8'), VICTIM_TEXT, 'the linked file is untouched');
  // The fixture's entries are older than Loki accepts: all of them are refused, to the dead-letter file.
  const forward = (...a: string[]) =>
    runCli(['forward', '--dir', audit, '--loki', rx.url, '--timestamp', 'ingest', '--batch-wait', '100', ...a]);

  it('forward --state LINK: refused before anything is sent (exit 3); a state file it writes is mode 600', async () => {
    const state = join(t.dir, 'state.json');
    symlinkSync(victim, state);
    const r = assertExit(await forward('--state', state), 3);
    assert.match(r.stderr, /refusing to write .*state\.json: it is a symbolic link/);
    untouched();
    assert.equal(rx.pushes, 0, 'nothing sent');
    const dangling = join(t.dir, 'dangling-state.json');
    symlinkSync(join(t.dir, 'made-through-link'), dangling);
    const d = assertExit(await forward('--state', dangling), 3);
    assert.match(d.stderr, /refusing to write .*dangling-state\.json: it is a symbolic link/);
    assert.equal(existsSync(join(t.dir, 'made-through-link')), false, 'nothing created where it points');
    assert.equal(rx.pushes, 0, 'nothing sent');
    const real = join(t.dir, 'real-state.json');
    assertExit(await forward('--state', real), 0);
    assert.equal(mode(real), 0o600);
    assert.equal(rx.stored.length, 150);
  });

  it(
    'forward --dead-letter LINK or FIFO: refused before ' + 'anything is sent (exit 3); a dead-letter file is mode 600',
    async () => {
      const dl = join(t.dir, 'dead.jsonl');
      symlinkSync(victim, dl);
      const r = assertExit(await forward('--state', join(t.dir, 's1.json'), '--dead-letter', dl), 3);
      assert.match(r.stderr, /refusing to write .*dead\.jsonl: it is a symbolic link/);
      untouched();
      assert.equal(rx.pushes, 0, 'nothing sent');
      const fifo = join(t.dir, 'dead.fifo');
      execFileSync('mkfifo', [fifo]);
      const f = assertExit(await forward('--state', join(t.dir, 's2.json'), '--dead-letter', fifo), 3);
      assert.match(f.stderr, /refusing to write .*dead\.fifo: it is a FIFO, not a regular file/);
      // Without --timestamp ingest every entry of the fixture is too old for Loki: all dead-lettered.
      const real = join(t.dir, 'dl', 'dead.jsonl');
      const ok = await runCli([
        'forward',
        '--dir',
        audit,
        '--loki',
        rx.url,
        '--state',
        join(t.dir, 's3.json'),
        '--dead-letter',
        real,
      ]);
      assertExit(ok, 11);
      assert.equal(readFileSync(real, 'utf8').trim().split('\n').length, 150);
      assert.equal(mode(real), 0o600);
      assert.equal(mode(join(t.dir, 'dl')), 0o700);
    },
  );

  it('checkpoint --new-key K: nothing written when K or K.pub exists or is a link (no orphan key)', async () => {
    const key = join(t.dir, 'ck');
    writeFileSync(`${key}.pub`, 'an older public key\n');
    let r = assertExit(await runCli(['checkpoint', '--new-key', key]), 2);
    assert.match(r.stderr, /cannot write the key pair: .*ck\.pub exists: not replacing it/);
    assert.equal(existsSync(key), false, 'no private key without its public key');
    assert.equal(readFileSync(`${key}.pub`, 'utf8'), 'an older public key\n');
    const other = join(t.dir, 'ck2');
    writeFileSync(other, 'an older private key\n');
    r = assertExit(await runCli(['checkpoint', '--new-key', other]), 2);
    assert.match(r.stderr, /ck2 exists: not replacing it/);
    assert.equal(existsSync(`${other}.pub`), false);
    for (const [k, link, to] of [
      [join(t.dir, 'ck3'), join(t.dir, 'ck3'), victim],
      [join(t.dir, 'ck4'), join(t.dir, 'ck4.pub'), victim],
      [join(t.dir, 'ck6'), join(t.dir, 'ck6.pub'), join(t.dir, 'made-through-link')],
    ]) {
      symlinkSync(to, link);
      r = assertExit(await runCli(['checkpoint', '--new-key', k]), 2);
      assert.match(r.stderr, /refusing to write .*: it is a symbolic link/);
      untouched();
      assert.equal(k === link || !existsSync(k), true, 'no orphan private key');
    }
    assert.equal(existsSync(join(t.dir, 'made-through-link')), false, 'nothing created where a dangling link points');
    const fresh = join(t.dir, 'ck5');
    assertExit(await runCli(['checkpoint', '--new-key', fresh]), 0);
    assert.equal(mode(fresh), 0o600);
    assert.equal(mode(`${fresh}.pub`) & 0o600, 0o600);
    const store = join(t.dir, 'store');
    const c = assertExit(await runCli(['checkpoint', '--dir', audit, '--key', fresh, '--store', store, '--json']), 0);
    const written = readdirSync(store);
    assert.equal(written.length, 1);
    assert.equal(mode(join(store, written[0])), 0o600);
    assert.equal(mode(store), 0o700);
    assert.equal(JSON.parse(c.stdout).statement.entries, 150);
  });

  it('append: a day file that is a link (or a FIFO) is refused (exit 3), never written through', async () => {
    const day = new Date().toISOString().slice(0, 10);
    const dayFile = join(audit, `audit-${day}.jsonl`);
    symlinkSync(victim, dayFile);
    const r = assertExit(await runCli(['append', '--dir', audit, '--event', 'a.b']), 3);
    assert.match(r.stderr, new RegExp(`refusing to write .*audit-${day}\\.jsonl: it is a symbolic link`));
    untouched();
    rmSync(dayFile);
    execFileSync('mkfifo', [dayFile]);
    const f = assertExit(await runCli(['append', '--dir', audit, '--event', 'a.b']), 3);
    assert.match(f.stderr, /it is a FIFO, not a regular file/);
    rmSync(dayFile);
    assertExit(await runCli(['append', '--dir', audit, '--event', 'a.b']), 0);
    assertExit(await runCli(['verify', '--dir', audit, '-q']), 0);
  });

  it('verify --state LINK: refused (exit 3); a state it writes is mode 600', async () => {
    const state = join(t.dir, 'verify-state.json');
    symlinkSync(victim, state);
    const r = assertExit(await runCli(['verify', '--dir', audit, '--state', state, '-q']), 3);
    assert.match(r.stderr, /refusing to write .*verify-state\.json: it is a symbolic link/);
    untouched();
    const dangling = join(t.dir, 'dangling-state.json');
    symlinkSync(join(t.dir, 'made-through-link'), dangling);
    const d = assertExit(await runCli(['verify', '--dir', audit, '--state', dangling, '-q']), 3);
    assert.match(d.stderr, /refusing to write .*dangling-state\.json: it is a symbolic link/);
    assert.equal(existsSync(join(t.dir, 'made-through-link')), false, 'nothing created where it points');
    const real = join(t.dir, 'real-verify-state.json');
    assertExit(await runCli(['verify', '--dir', audit, '--state', real, '-q']), 0);
    assert.equal(mode(real), 0o600);
  });
});
