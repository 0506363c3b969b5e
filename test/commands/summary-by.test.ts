import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { assertExit, HAS_SCRIPT, runCli, runCliOnTty, tempDir } from '../helpers/cli.js';
import { writerEntry } from '../helpers/hostile.js';

/** Appends writer-schema entries to the day files of their UTC dates (files are cut at UTC midnight). */
function write(dir: string, entries: Array<{ t: string; action?: string; resource_type?: string; success?: boolean }>) {
  for (const e of entries) {
    const timestamp = new Date(e.t).toISOString().replace('Z', '+00:00');
    const line = writerEntry({
      timestamp,
      action: e.action ?? 'login',
      resource_type: e.resource_type ?? 'auth',
      success: e.success ?? true,
      error: e.success === false ? 'denied' : null,
    });
    appendFileSync(join(dir, `audit-${timestamp.slice(0, 10)}.jsonl`), JSON.stringify(line) + '\n');
  }
}

const tsvRows = (stdout: string) =>
  stdout
    .trimEnd()
    .split('\n')
    .map((l) => l.split('\t'));

describe('summary --by', () => {
  const { dir, cleanup } = tempDir('loki-audit-by-');
  after(cleanup);
  // 09:xx, 10:00 exactly, 10:xx, nothing at 11, 12:xx; event families auth, task.
  write(dir, [
    { t: '2026-02-01T09:10:00Z' },
    { t: '2026-02-01T09:59:59.999Z', success: false },
    { t: '2026-02-01T10:00:00Z', action: 'create', resource_type: 'task' },
    { t: '2026-02-01T10:30:00Z', success: false },
    { t: '2026-02-01T12:45:00Z', action: 'delete', resource_type: 'task', success: false },
  ]);

  it('piped: a header, then one line per bucket, the empty one included, boundary entry in the later bucket', async () => {
    const r = assertExit(await runCli(['summary', '--dir', dir, '--all', '--by', '1h']), 0);
    assert.deepEqual(tsvRows(r.stdout), [
      ['start', 'end', 'count', 'failures', 'family:auth', 'family:task'],
      ['2026-02-01T09:00:00+00:00', '2026-02-01T10:00:00+00:00', '2', '1', '2', '0'],
      ['2026-02-01T10:00:00+00:00', '2026-02-01T11:00:00+00:00', '2', '1', '1', '1'],
      ['2026-02-01T11:00:00+00:00', '2026-02-01T12:00:00+00:00', '0', '0', '0', '0'],
      ['2026-02-01T12:00:00+00:00', '2026-02-01T13:00:00+00:00', '1', '1', '0', '1'],
    ]);
    assert.equal(r.stderr, '');
  });

  it('--by 1h,event and --by actor,1h: the columns are events or actors instead of families', async () => {
    const byEvent = assertExit(await runCli(['summary', '--dir', dir, '--all', '--by', '1h,event']), 0);
    assert.deepEqual(tsvRows(byEvent.stdout).slice(0, 3), [
      ['start', 'end', 'count', 'failures', 'event:auth.login', 'event:task.create', 'event:task.delete'],
      ['2026-02-01T09:00:00+00:00', '2026-02-01T10:00:00+00:00', '2', '1', '2', '0', '0'],
      ['2026-02-01T10:00:00+00:00', '2026-02-01T11:00:00+00:00', '2', '1', '1', '1', '0'],
    ]);
    const json = JSON.parse(
      assertExit(await runCli(['summary', '--dir', dir, '--all', '--by', '1h,event', '-o', 'json']), 0).stdout,
    );
    assert.deepEqual(json[3].events, { 'auth.login': 0, 'task.create': 0, 'task.delete': 1 });
    assert.equal(json[3].families, undefined);

    const { dir: people, cleanup: done } = tempDir('loki-audit-by-actor-');
    try {
      const lines = [
        writerEntry({ timestamp: '2026-02-01T09:05:00+00:00', user_id: 'ann' }),
        writerEntry({ timestamp: '2026-02-01T09:06:00+00:00', user_id: 'bob', success: false, error: 'denied' }),
        writerEntry({ timestamp: '2026-02-01T10:06:00+00:00', user_id: 'ann' }),
        writerEntry({ timestamp: '2026-02-01T10:07:00+00:00', user_id: null, token_id: 'ci' }),
      ];
      appendFileSync(join(people, 'audit-2026-02-01.jsonl'), lines.map((l) => JSON.stringify(l) + '\n').join(''));
      const r = assertExit(await runCli(['summary', '--dir', people, '--all', '--by', 'actor,1h']), 0);
      assert.deepEqual(tsvRows(r.stdout), [
        ['start', 'end', 'count', 'failures', 'actor:ann', 'actor:bob', 'actor:token:ci'],
        ['2026-02-01T09:00:00+00:00', '2026-02-01T10:00:00+00:00', '2', '1', '1', '1', '0'],
        ['2026-02-01T10:00:00+00:00', '2026-02-01T11:00:00+00:00', '2', '0', '1', '0', '1'],
      ]);
    } finally {
      done();
    }
  });

  it('refuses two groupings or no width in --by, exit 2', async () => {
    for (const by of ['1h,event,actor', 'event', '1h,2h', '1h,user']) {
      const r = assertExit(await runCli(['summary', '--dir', dir, '--all', '--by', by]), 2);
      assert.match(r.stderr, /cannot use ".*" as --by/, by);
      assert.equal(r.stdout, '');
    }
  });

  it('--top 1 folds the other families into an "other" column', async () => {
    const r = assertExit(await runCli(['summary', '--dir', dir, '--all', '--by', '1h', '--top', '1']), 0);
    const rows = tsvRows(r.stdout);
    assert.deepEqual(rows[0], ['start', 'end', 'count', 'failures', 'family:auth', 'other']);
    assert.deepEqual(rows[4].slice(2), ['1', '1', '0', '1']);
  });

  it('-o json and --json: an array of {start, end, count, failures, families, other}', async () => {
    for (const flag of [['-o', 'json'], ['--json']]) {
      const r = assertExit(await runCli(['summary', '--dir', dir, '--all', '--by', '2h', ...flag]), 0);
      assert.deepEqual(JSON.parse(r.stdout), [
        {
          start: '2026-02-01T08:00:00+00:00',
          end: '2026-02-01T10:00:00+00:00',
          count: 2,
          failures: 1,
          families: { auth: 2, task: 0 },
          other: 0,
        },
        {
          start: '2026-02-01T10:00:00+00:00',
          end: '2026-02-01T12:00:00+00:00',
          count: 2,
          failures: 1,
          families: { auth: 1, task: 1 },
          other: 0,
        },
        {
          start: '2026-02-01T12:00:00+00:00',
          end: '2026-02-01T14:00:00+00:00',
          count: 1,
          failures: 1,
          families: { auth: 0, task: 1 },
          other: 0,
        },
      ]);
    }
  });

  it('combines with filters and the window: --outcome, --event, --since/--until', async () => {
    let r = assertExit(await runCli(['summary', '--dir', dir, '--all', '--by', '1h', '--outcome', 'failure']), 0);
    assert.deepEqual(
      tsvRows(r.stdout).map((row) => row.slice(0, 4)),
      [
        ['start', 'end', 'count', 'failures'],
        ['2026-02-01T09:00:00+00:00', '2026-02-01T10:00:00+00:00', '1', '1'],
        ['2026-02-01T10:00:00+00:00', '2026-02-01T11:00:00+00:00', '1', '1'],
        ['2026-02-01T11:00:00+00:00', '2026-02-01T12:00:00+00:00', '0', '0'],
        ['2026-02-01T12:00:00+00:00', '2026-02-01T13:00:00+00:00', '1', '1'],
      ],
    );
    r = assertExit(await runCli(['summary', '--dir', dir, '--all', '--by', '1h', '--event', 'task.*']), 0);
    assert.deepEqual(
      tsvRows(r.stdout)
        .slice(1)
        .map((row) => [row[0], row[2]]),
      [
        ['2026-02-01T10:00:00+00:00', '1'],
        ['2026-02-01T11:00:00+00:00', '0'],
        ['2026-02-01T12:00:00+00:00', '1'],
      ],
    );
    // --since is inclusive, --until exclusive: the 10:00:00 entry is in, the 12:45 one out.
    r = assertExit(
      await runCli([
        'summary',
        '--dir',
        dir,
        '--since',
        '2026-02-01T10:00:00Z',
        '--until',
        '2026-02-01T12:00Z',
        '--by',
        '15m',
      ]),
      0,
    );
    assert.deepEqual(
      tsvRows(r.stdout)
        .slice(1)
        .map((row) => [row[0], row[2]]),
      [
        ['2026-02-01T10:00:00+00:00', '1'],
        ['2026-02-01T10:15:00+00:00', '0'],
        ['2026-02-01T10:30:00+00:00', '1'],
      ],
    );
  });

  it('filters also narrow the plain summary', async () => {
    const r = assertExit(await runCli(['summary', '--dir', dir, '--all', '--event', 'task.*', '--no-chain']), 0);
    assert.match(r.stdout, /^total\t2$/m);
    assert.match(r.stdout, /^failure\t1$/m);
  });

  it('an empty result prints only the header (TSV) or [] (JSON)', async () => {
    let r = assertExit(await runCli(['summary', '--dir', dir, '--all', '--by', '1h', '--actor', 'nobody']), 0);
    assert.equal(r.stdout, 'start\tend\tcount\tfailures\n');
    r = assertExit(await runCli(['summary', '--dir', dir, '--all', '--by', '1h', '--actor', 'nobody', '--json']), 0);
    assert.deepEqual(JSON.parse(r.stdout), []);
  });

  it('a line that is no entry is named on stderr; the buckets of the rest are printed', async () => {
    const bad = tempDir('loki-audit-by-bad-');
    try {
      write(bad.dir, [{ t: '2026-02-01T09:10:00Z' }]);
      appendFileSync(join(bad.dir, 'audit-2026-02-01.jsonl'), '{"timestamp": "2026-02-01T09:20:00+00:00", torn\n');
      write(bad.dir, [{ t: '2026-02-01T09:30:00Z' }]);
      const r = assertExit(await runCli(['summary', '--dir', bad.dir, '--all', '--by', '1h']), 0);
      assert.deepEqual(
        tsvRows(r.stdout)
          .slice(1)
          .map((row) => row.slice(0, 3)),
        [['2026-02-01T09:00:00+00:00', '2026-02-01T10:00:00+00:00', '2']],
      );
      assert.match(r.stderr, /^warning: audit-2026-02-01\.jsonl:2: malformed JSON/m);
    } finally {
      bad.cleanup();
    }
  });

  it('refuses a width that does not tile a day in one line, exit 2', async () => {
    const r = assertExit(await runCli(['summary', '--dir', dir, '--all', '--by', '7m']), 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^loki-audit: error: cannot use "7m" as --by: a duration that divides a day/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });

  it('refuses more than 100000 buckets (1m over 80 days) with exit 2 and the way out', async () => {
    const far = tempDir('loki-audit-by-far-');
    try {
      write(far.dir, [{ t: '2026-01-01T00:00:00Z' }, { t: '2026-03-22T00:00:00Z' }]);
      const r = assertExit(await runCli(['summary', '--dir', far.dir, '--all', '--by', '1m']), 2);
      assert.match(
        r.stderr,
        /--by 1m needs more than 100000 buckets here.*use a wider --by or a narrower --since\/--until/,
      );
      assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
      // The same span in hours is fine: 80 × 24 + 1 buckets.
      const ok = assertExit(await runCli(['summary', '--dir', far.dir, '--all', '--by', '1h']), 0);
      assert.equal(tsvRows(ok.stdout).length, 1 + 80 * 24 + 1);
    } finally {
      far.cleanup();
    }
  });
});

describe('summary --by across DST (Europe/Berlin)', () => {
  const { dir, cleanup } = tempDir('loki-audit-by-dst-');
  after(cleanup);
  write(dir, [
    { t: '2026-03-28T22:59:59Z' }, // 23:59:59 +01:00, 28 March
    { t: '2026-03-28T23:00:00Z' }, // 00:00 +01:00, the 23-hour 29 March
    { t: '2026-03-29T21:59:59Z' }, // 23:59:59 +02:00, still 29 March
    { t: '2026-03-29T22:00:00Z' }, // 00:00 +02:00, 30 March
    { t: '2026-10-24T22:00:00Z' }, // 00:00 +02:00, the 25-hour 25 October
    { t: '2026-10-25T22:59:59Z' }, // 23:59:59 +01:00, still 25 October
  ]);

  it('1d buckets are local days: 23 h in March, 25 h in October, edges on either side', async () => {
    const r = assertExit(
      await runCli(['summary', '--dir', dir, '--all', '--by', '1d', '--timezone', 'Europe/Berlin', '--json']),
      0,
    );
    const buckets = JSON.parse(r.stdout) as Array<{ start: string; end: string; count: number }>;
    const hours = (b: { start: string; end: string }) => (Date.parse(b.end) - Date.parse(b.start)) / 3_600_000;
    assert.deepEqual(
      buckets.slice(0, 3).map((b) => [b.start, hours(b), b.count]),
      [
        ['2026-03-28T00:00:00+01:00', 24, 1],
        ['2026-03-29T00:00:00+01:00', 23, 2],
        ['2026-03-30T00:00:00+02:00', 24, 1],
      ],
    );
    const october = buckets.find((b) => b.start === '2026-10-25T00:00:00+02:00');
    assert.ok(october, r.stdout.slice(0, 500));
    assert.deepEqual([october.end, hours(october), october.count], ['2026-10-26T00:00:00+01:00', 25, 2]);
    // Every local day from 28 March through 25 October, empty ones included.
    assert.equal(buckets.length, 212);
    assert.equal(
      buckets.reduce((n, b) => n + b.count, 0),
      6,
    );
  });

  it('TZ chooses the zone too; --utc overrides it (UTC days)', async () => {
    const tz = assertExit(
      await runCli(['summary', '--dir', dir, '--all', '--by', '1d'], { env: { TZ: 'Europe/Berlin' } }),
      0,
    );
    assert.equal(tsvRows(tz.stdout)[2][0], '2026-03-29T00:00:00+01:00');
    const utc = assertExit(
      await runCli(['summary', '--dir', dir, '--all', '--by', '1d', '--utc'], { env: { TZ: 'Europe/Berlin' } }),
      0,
    );
    assert.deepEqual(
      tsvRows(utc.stdout)
        .slice(1, 3)
        .map((row) => [row[0], row[2]]),
      [
        ['2026-03-28T00:00:00+00:00', '2'],
        ['2026-03-29T00:00:00+00:00', '2'],
      ],
    );
  });
});

describe('summary --by on a terminal', { skip: !HAS_SCRIPT && 'needs util-linux script' }, () => {
  const { dir, cleanup } = tempDir('loki-audit-by-tty-');
  after(cleanup);
  write(dir, [
    ...Array.from({ length: 8 }, (_, i) => ({ t: `2026-02-01T09:0${i}:00Z`, success: i > 3 })),
    { t: '2026-02-01T11:00:00Z' },
    { t: '2026-02-01T11:30:00Z', action: '\u001b[31mevil\u001b[0m', resource_type: 'x\u202ey' },
  ]);

  it('NO_COLOR: bars of unicode blocks, no escape sequence, data escaped; 80 columns', async () => {
    // script(1) without a terminal of its own gives a size of 0: the chart assumes 80 columns.
    const r = await runCliOnTty(['summary', '--dir', dir, '--all', '--by', '1h']);
    assert.equal(r.code, 0, r.output);
    assert.ok(!r.output.includes('\u001b'), r.output);
    const lines = r.output.trimEnd().split('\n');
    assert.match(lines[0], /^bucket\s+count\s+fail\s+per 1h, UTC$/);
    // The fullest bucket's bar fills the 42 cells 80 columns leave; 2 of 8 is 10.5 cells.
    assert.equal(lines[1], `2026-02-01 09:00+00:00      8      4  ${'█'.repeat(42)}`);
    assert.equal(lines[2], '2026-02-01 10:00+00:00      0      0  ');
    assert.equal(lines[3], `2026-02-01 11:00+00:00      2      0  ${'█'.repeat(10)}▌`);
    assert.match(lines[4], /^10 entries in 3 buckets; families: auth, x\\u202ey \(piped or --json\)$/);
    for (const l of lines) assert.ok([...l].length <= 80, l);
  });

  it('with colour, the failures’ share of the bar is red', async () => {
    const r = await runCliOnTty(['summary', '--dir', dir, '--all', '--by', '1h'], { env: { NO_COLOR: undefined } });
    assert.equal(r.code, 0, r.output);
    assert.match(
      r.output,
      new RegExp(`09:00\\+00:00 +8 +4  \\u001b\\[31m${'█'.repeat(21)}\\u001b\\[39m${'█'.repeat(21)}`),
    );
  });
});
