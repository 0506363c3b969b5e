/**
 * Freshness (issue 18): a chain that verifies intact but whose head is older than --max-age is its
 * own verdict (exit 21), a newest checkpoint older than --max-checkpoint-age or missing too (22),
 * and tampering still wins over staleness. The fixture's head was written 2026-02-03T11:57:19Z,
 * so "older than a day" holds on any clock after that, "older than ten years" on none before 2036.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ed25519SigningKey, signCheckpoint, type Checkpoint } from '../../src/core/chain/anchors/checkpoints.js';
import { entryTimeAt, formatAge } from '../../src/core/chain/freshness.js';
import { DurationError, parseDuration } from '../../src/core/query/time.js';
import { assertExit, LOKI, runCli, tempDir } from '../helpers/cli.js';

const VALID = join(LOKI, 'extended/valid/writer');
const HEAD_TIME = '2026-02-03T11:57:19+00:00';

describe('verify --max-age and --max-checkpoint-age', () => {
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
    assertExit(await runCli(['checkpoint', '--new-key', key]), 0);
  });
  afterEach(() => t.cleanup());
  const verify = (...a: string[]) => runCli(['verify', '--dir', audit, ...a]);
  const sign = async () => assertExit(await runCli(['checkpoint', '--dir', audit, '--key', key, '--store', store]), 0);
  /** Re-signs the store's one checkpoint as if it had been signed `ageMs` ago. */
  const ageCheckpoint = (ageMs: number) => {
    const file = join(store, readdirSync(store)[0]);
    const c = JSON.parse(readFileSync(file, 'utf8')) as Checkpoint;
    const statement = { ...c.statement, time: new Date(Date.now() - ageMs).toISOString() };
    writeFileSync(file, JSON.stringify(signCheckpoint(statement, ed25519SigningKey(readFileSync(key)))));
    return statement.time;
  };
  const anchors = () => ['--checkpoints', store, '--public-key', key + '.pub'];

  it('a head older than --max-age is stale-head, exit 21, in the text and in --json', async () => {
    const text = assertExit(await verify('--max-age', '1d'), 21).stdout;
    assert.match(
      text,
      new RegExp(
        `^ +audit-2026-02-03\\.jsonl:50 STALE chain head \\(stale-head\\): the chain ` +
          `head was written ${HEAD_TIME.replace(/\+/g, '\\+')}, \\d+d( \\d+h)? ago, longer ` +
          `than --max-age 1d: the writer went silent, or the newest entries were removed$`,
        'm',
      ),
    );
    assert.match(text, /^STALE chain head: 3 file\(s\), 150 entries verified; .* \(exit 21\)$/m);
    const rep = JSON.parse(assertExit(await verify('--max-age', '1d', '--json'), 21).stdout);
    assert.equal(rep.verdict, 'stale-head');
    assert.equal(rep.exitCode, 21);
    assert.equal(rep.chainHead.time, HEAD_TIME);
    assert.deepEqual(
      rep.findings.map((f: { class: string; reason: string }) => [f.class, f.reason]),
      [['stale-head', 'stale-head']],
    );
  });

  it('a head younger than --max-age passes; compound durations are read', async () => {
    const rep = JSON.parse(assertExit(await verify('--max-age', '3650d', '--json'), 0).stdout);
    assert.equal(rep.verdict, 'intact');
    assert.equal(rep.chainHead.time, HEAD_TIME);
    assertExit(await verify('--max-age', '520w1d12h30m', '-q'), 0);
  });

  it('with --state and nothing new since the last run, the head is the one the state remembers', async () => {
    const state = join(t.dir, 'verify-state.json');
    assertExit(await verify('--state', state, '-q'), 0);
    const stale = JSON.parse(assertExit(await verify('--state', state, '--max-age', '1d', '--json'), 21).stdout);
    assert.equal(stale.incremental.filesSkipped, 3);
    assert.equal(stale.chainHead.file, 'audit-2026-02-03.jsonl');
    assert.equal(stale.chainHead.line, 50);
    assert.equal(stale.chainHead.time, HEAD_TIME);
    assertExit(await verify('--state', state, '--max-age', '3650d', '-q'), 0);
  });

  it('a tampered chain is tampered (exit 1) however old its head', async () => {
    const f = join(audit, 'audit-2026-02-02.jsonl');
    writeFileSync(f, readFileSync(f, 'utf8').replace('"success": true', '"success": false'));
    const rep = JSON.parse(assertExit(await verify('--max-age', '1d', '--json'), 1).stdout);
    assert.equal(rep.verdict, 'tampered');
    // The staleness is still reported.
    assert.ok(rep.findings.some((x: { class: string }) => x.class === 'stale-head'));
  });

  it('a bad duration is one usage error line (exit 2)', async () => {
    const r = assertExit(await verify('--max-age', '10y'), 2);
    assert.equal(
      r.stderr,
      'loki-audit: error: --max-age: cannot read duration "10y": use e.g. 90s, 30m, 26h, 1h30m, 2d12h, 1w\n',
    );
    assert.equal(r.stdout, '');
  });

  it('a fresh checkpoint passes --max-checkpoint-age; one re-signed 10 days ago is stale-checkpoint, exit 22', async () => {
    await sign();
    const fresh = JSON.parse(assertExit(await verify(...anchors(), '--max-checkpoint-age', '1h', '--json'), 0).stdout);
    assert.equal(fresh.checkpoints.checked, 1);
    const signed = ageCheckpoint(10 * 86_400_000);
    const r = await verify(...anchors(), '--max-checkpoint-age', '26h');
    assertExit(r, 22);
    assert.match(
      r.stdout,
      new RegExp(`^checkpoints: 1 checked in ${store}, the newest signed ${signed.replace(/\./g, '\\.')}$`, 'm'),
    );
    assert.match(
      r.stdout,
      /STALE checkpoint \(stale-checkpoint\): the newest signed checkpoint is from .*, 10d ago, longer than --max-checkpoint-age 1d 2h: the checkpoint job stopped$/m,
    );
    // Both stale: the head wins (21 before 22).
    const both = JSON.parse(
      assertExit(await verify(...anchors(), '--max-checkpoint-age', '26h', '--max-age', '1d', '--json'), 21).stdout,
    );
    assert.deepEqual(both.findings.map((f: { class: string }) => f.class).sort(), ['stale-checkpoint', 'stale-head']);
  });

  it('an empty or missing store fails --max-checkpoint-age (exit 22), and says 0 checkpoints were checked', async () => {
    mkdirSync(store);
    for (const s of [store, join(t.dir, 'missing')]) {
      const a = ['--checkpoints', s, '--public-key', key + '.pub'];
      const r = assertExit(await verify(...a, '--max-checkpoint-age', '1d'), 22);
      assert.match(r.stdout, new RegExp(`^checkpoints: 0 checked in ${s}$`, 'm'));
      assert.match(
        r.stdout,
        /no validly signed checkpoint in .* \(--max-checkpoint-age 1d\): the checkpoint job never ran or stopped/,
      );
      const rep = JSON.parse(assertExit(await verify(...a, '--max-checkpoint-age', '1d', '--json'), 22).stdout);
      assert.deepEqual(rep.checkpoints, { store: s, checked: 0, newest: null });
      // Without the age limit, the empty store is still reported: a note, failing --strict.
      const plain = assertExit(await verify(...a), 0).stdout;
      assert.match(
        plain,
        /^note: checkpoint store .* (holds no checkpoint|does not exist): nothing outside the log was checked/m,
      );
      assertExit(await verify(...a, '--strict'), 1);
    }
  });

  it('--max-checkpoint-age needs --checkpoints; --max-age does not take --stdin', async () => {
    assert.match(assertExit(await verify('--max-checkpoint-age', '1d'), 2).stderr, /--checkpoints/);
    assert.match(assertExit(await runCli(['verify', '--stdin', '--max-age', '1d']), 2).stderr, /--stdin|--max-age/);
  });
});

describe('freshness pieces', () => {
  it('parseDuration reads the time grammar durations and nothing else', () => {
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('2d12h'), 216_000_000);
    assert.equal(parseDuration('1w'), 604_800_000);
    assert.equal(parseDuration('26 hours'), 93_600_000);
    for (const bad of ['', '0s', '-1h', '1h ago', 'yesterday', '1y', '10'])
      assert.throws(() => parseDuration(bad), DurationError, bad);
  });

  it('formatAge keeps the two largest units', () => {
    assert.deepEqual([40_000, 125 * 60_000, 26 * 3_600_000, 3 * 86_400_000].map(formatAge), [
      '40s',
      '2h 5m',
      '1d 2h',
      '3d',
    ]);
  });

  it('entryTimeAt reads the timestamp of the line at an offset, null for a line that is not one', async () => {
    const file = join(VALID, 'audit-2026-02-03.jsonl');
    const text = readFileSync(file, 'utf8');
    const last = text.lastIndexOf('\n', text.length - 2) + 1;
    assert.equal(await entryTimeAt(file, last), HEAD_TIME);
    assert.equal(await entryTimeAt(file, last + 1), null);
    assert.equal(await entryTimeAt(join(VALID, 'nope.jsonl'), 0), null);
  });
});
