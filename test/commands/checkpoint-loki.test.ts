/**
 * Checkpoints kept in Loki: `checkpoint --store loki://…` pushes the signed checkpoint as one
 * entry of its own stream, `verify --checkpoints loki://…` reads them back (paged) and judges
 * them exactly as a file store: round trip, a head removed locally (the same verdict and message
 * as with a directory store), a forged signature refused.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { assertExit, LOKI, runCli, tempDir } from '../helpers/cli.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';

const VALID = join(LOKI, 'extended/valid/writer');

describe('checkpoint --store loki:// and verify --checkpoints loki://', () => {
  let t: { dir: string; cleanup: () => void };
  let audit: string;
  let key: string;
  let rx: LokiReceiver;
  let store: string;
  before(async () => {
    rx = new LokiReceiver({ maxEntriesLimitPerQuery: 2 });
    await rx.start();
    store = `loki://127.0.0.1:${rx.port}`;
  });
  after(() => rx.stop());
  beforeEach(async () => {
    rx.stored.length = 0;
    t = tempDir();
    audit = join(t.dir, 'audit');
    key = join(t.dir, 'ck');
    cpSync(VALID, audit, { recursive: true });
    assertExit(await runCli(['checkpoint', '--new-key', key]), 0);
  });
  afterEach(() => t.cleanup());
  const sign = (...a: string[]) => runCli(['checkpoint', '--dir', audit, '--key', key, '--store', store, ...a]);
  const verify = (s = store, ...a: string[]) =>
    runCli(['verify', '--dir', audit, '--checkpoints', s, '--public-key', key + '.pub', '--json', ...a]);

  it('round trip: three checkpoints pushed to their own stream, read back in pages of 2, intact', async () => {
    for (let i = 0; i < 3; i++) {
      const c = await sign();
      assert.equal(c.code, 0, c.stderr);
      assert.match(
        c.stdout,
        /^checkpoint http:\/\/127\.0\.0\.1:\d+ \{service_name="loki-audit-checkpoints", host=".*"\}: head bd7ec98b/,
      );
    }
    assert.equal(rx.stored.length, 3);
    for (const e of rx.stored) {
      assert.deepEqual(e.labels, {
        service_name: 'loki-audit-checkpoints',
        job: 'loki-audit-checkpoints',
        host: hostname()
          .replace(/[^\x20-\x7e]/g, '_')
          .slice(0, 128),
      });
      assert.equal(
        JSON.parse(e.line).statement.head,
        'bd7ec98b71f417c1dd0b3011cab753365ad55486a6323d1c561b251430dc98af',
      );
    }
    rx.queries.length = 0;
    const r = await verify();
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.verdict, 'intact');
    assert.equal(rep.checkpoints.checked, 3);
    assert.ok(rx.queries.every((q) => q.limit <= 2 && q.query.startsWith('{service_name="loki-audit-checkpoints"')));
    assert.ok(rx.queries.length >= 2, 'paged');
  });

  it('a head removed locally: the same verdict and finding as with a directory store', async () => {
    const dirStore = join(t.dir, 'store');
    assertExit(await sign(), 0);
    assertExit(await runCli(['checkpoint', '--dir', audit, '--key', key, '--store', dirStore]), 0);
    const f = join(audit, 'audit-2026-02-03.jsonl');
    writeFileSync(f, readFileSync(f, 'utf8').split('\n').slice(0, 47).join('\n') + '\n');
    const fromLoki = await verify();
    const fromDir = await verify(dirStore);
    assert.equal(fromLoki.code, 12, fromLoki.stderr);
    assert.equal(fromDir.code, 12, fromDir.stderr);
    const pick = (s: string) => {
      const p = JSON.parse(s).firstProblem;
      return [p.class, p.reason, p.file, p.line];
    };
    assert.deepEqual(pick(fromLoki.stdout), ['anchor-mismatch', 'head-missing', 'audit-2026-02-03.jsonl', 50]);
    assert.deepEqual(pick(fromLoki.stdout), pick(fromDir.stdout));
  });

  it('a forged signature in Loki is refused: anchor mismatch, exit 12', async () => {
    assertExit(await sign(), 0);
    const c = JSON.parse(rx.stored[0].line);
    c.statement.entries = 9999;
    rx.stored[0].line = JSON.stringify(c);
    const r = await verify();
    assert.equal(r.code, 12, r.stderr);
    const p = JSON.parse(r.stdout).firstProblem;
    assert.equal(p.reason, 'checkpoint-signature');
    assert.match(
      p.message,
      /^checkpoint http:\/\/127\.0\.0\.1:\d+ checkpoint .* has no valid signature for this key: forged or altered$/,
    );
  });

  it('an empty Loki store is a note; Loki down is exit 9 for both commands', async () => {
    const r = await verify();
    assert.equal(r.code, 0, r.stderr);
    const note = JSON.parse(r.stdout).notes.find((n: { kind: string }) => n.kind === 'no-checkpoints');
    assert.match(note.message, /holds no checkpoint: nothing outside the log was checked/);
    const down = 'loki://127.0.0.1:9';
    const s = await runCli(['checkpoint', '--dir', audit, '--key', key, '--store', down]);
    assert.equal(s.code, 9, s.stderr);
    assert.match(s.stderr, /cannot push the checkpoint to 127\.0\.0\.1:9/);
    const v = await verify(down);
    assert.equal(v.code, 9, v.stderr);
  });
});
