/**
 * search and summary --from-loki: one directory (a generated chain with tricky values, and a
 * day of hostile entries) forwarded by the real `forward` to the loopback receiver, which
 * enforces max_entries_limit_per_query (20) and max_query_length (12h) and evaluates the LogQL
 * sent (test/helpers/logql.ts); then, for every filter flag and some combinations, the local
 * search and the search over Loki print the same entries in the same order, and summary counts
 * the same. --print-logql's queries parse; Loki's failures exit as forward's.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateSample } from '../../scripts/sample.js';
import { assertExit, runCli, tempDir } from '../helpers/cli.js';
import { hostileDay } from '../helpers/hostile.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';
import { parseLogQL } from '../helpers/logql.js';

const DAY = 86_400_000;
const H12 = 12 * 3_600_000;
const day = (n: number) => new Date(Date.now() - n * DAY).toISOString().slice(0, 10);

describe('search and summary --from-loki (receiver limits: 20 entries, 12h per query)', () => {
  let t: { dir: string; cleanup: () => void };
  let audit: string;
  let rx: LokiReceiver;
  const since = day(5);
  const loki = () => ['--from-loki', rx.url, '--loki-entry-limit', '20', '--loki-max-query-length', '12h'];

  before(async () => {
    t = tempDir();
    audit = join(t.dir, 'audit');
    generateSample(audit, { seed: 11, startDate: day(4), perDay: [70, 70, 60], trickyShare: 0.3 });
    writeFileSync(join(audit, `audit-${day(1)}.jsonl`), hostileDay(day(1)).join('\n') + '\n');
    rx = new LokiReceiver({ maxEntriesLimitPerQuery: 20, maxQueryLengthMs: H12 });
    await rx.start();
    const sent = await runCli(['forward', '--dir', audit, '--loki', rx.url, '--state', join(t.dir, 's.json')]);
    assertExit(sent, 0);
    assert.equal(rx.stored.length, 200 + hostileDay(day(1)).length, sent.stdout + sent.stderr);
  });
  after(async () => {
    await rx.stop();
    t.cleanup();
  });

  /** The local search and the search over Loki: same exit code and output; the output. */
  async function same(args: string[], { matches = true } = {}): Promise<string> {
    const window = args.includes('--since') ? [] : ['--since', since];
    const [local, remote] = await Promise.all([
      runCli(['search', '--dir', audit, ...window, ...args]),
      runCli(['search', ...loki(), ...window, ...args]),
    ]);
    const what = `search ${args.join(' ')}`;
    assert.equal(local.code, matches ? 0 : 1, `${what}: local: ${local.stderr}`);
    assert.equal(remote.code, local.code, `${what}: over Loki: ${remote.stderr}`);
    assert.equal(remote.stdout, local.stdout, what);
    return local.stdout;
  }

  const FILTERS: string[][] = [
    ['--event', 'auth.login'],
    ['--event', 'auth.*,token.*'],
    ['--event', '*.delete'],
    ['--event', 'zzz_custom.deploy'],
    ['--event', 'a.b.c'],
    ['--level', 'warning'],
    ['--level', '=info'],
    ['--level', 'debug..info'],
    ['--actor', 'alice'],
    ['--actor', 'token:*'],
    ['--outcome', 'failure'],
    ['--outcome', 'success'],
    ['--action', 'login'],
    ['--resource-type', 'api'],
    ['--user', 'alice'],
    ['--user', 'ops@*,ci-bot'],
    ['--field', 'details.path=/api/v1/projects/*'],
    ['--field', 'details.status>=500'],
    ['--field', 'details.status<300'],
    ['--field', 'details.source!=api'],
    ['--field', 'details.tags=*admin*'],
    ['--field', 'details.path=null'],
    ['--field', 'details.note=a*quota'],
    ['--field', 'details.status={"code":500}'],
    ['--field', 'details.nested=*[1,2.5*'],
    ['--field', `timestamp>=${day(2)}T12:00:00Z`],
    ['--grep', 'quota exceeded'],
    ['--grep', 'time(out|d) after \\d+s'],
    ['--grep', '\\\\u001b'],
    ['-i', '--user', 'ALICE'],
    ['-i', '--grep', 'permission denied'],
    ['--until', day(2)],
    ['--since', day(3), '--until', `${day(2)}T06:00:00Z`],
  ];

  it('every filter flag selects the same entries in the same order locally and over Loki', async () => {
    rx.queries.length = 0;
    for (const f of FILTERS) await same(['-o', 'raw', ...f]);
    // The hostile entries were among them: escaped ASCII, NaN, an array, a newline.
    const alice = await same(['-o', 'raw', '--user', 'alice']);
    assert.match(alice, /\\u0061lice/);
    assert.match(await same(['-o', 'raw', '--field', 'details.status>=500']), /NaN/);
    // Paging and windows were used, within both limits.
    for (const q of rx.queries) {
      assert.ok(q.limit <= 20, `limit ${q.limit}`);
      assert.ok(Number((q.end - q.start) / 1_000_000n) <= H12);
    }
    assert.ok(rx.queries.some((q) => /\| json /.test(q.query) && /level=~/.test(rx.queries[0].query) !== undefined));
  });

  it('combinations, offset, limit, reverse and count agree too', async () => {
    for (const f of [
      ['--event', 'auth.*', '--outcome', 'failure'],
      ['--level', 'error', '--field', 'details.status>=500'],
      ['-i', '--user', 'alice', '--grep', 'LOGIN'],
      ['--resource-type', 'api', '--field', 'details.status<300', '--field', 'details.path=/api/v1/*'],
      ['--offset', '3', '--limit', '5'],
      ['--reverse', '--limit', '7'],
      ['--reverse', '--limit', '4', '--offset', '2', '--event', 'api.*'],
    ])
      await same(['-o', 'raw', ...f]);
    const count = await same(['-c', '--level', 'warning']);
    assert.ok(Number(count) > 5, count);
    await same(['-q', '--event', 'auth.login']);
    await same(['--event', 'no.such'], { matches: false });
  });

  it('the same output formats (text, json, jsonl)', async () => {
    // The hostile day's entries have no hash: marked `no-hash` on both sides.
    for (const o of ['text', 'json', 'jsonl']) {
      const out = await same(['-o', o, '--event', 'auth.*,api.*']);
      assert.match(out, o === 'text' ? /\[unverified: no-hash\] / : /"unverified":"no-hash"/);
    }
  });

  it('entries of one timestamp in several streams come in file order', async () => {
    const out = await same(['-o', 'raw', '--since', `${day(1)}T09:00:00Z`, '--until', `${day(1)}T09:00:01Z`]);
    // Loki orders them by stream (event_family api before auth), the files by line.
    const who = out
      .trim()
      .split('\n')
      .map((l) => {
        const j = JSON.parse(l) as { user_id?: string | null; actor?: string };
        return j.user_id ?? j.actor ?? '-';
      });
    assert.deepEqual(who, ['-', 'bob', 'carol']);
  });

  it('summary counts the same over Loki', async () => {
    const keys = [
      'total',
      'success',
      'failure',
      'byLevel',
      'byEvent',
      'byActor',
      'byAction',
      'byResourceType',
      'distinctEvents',
      'distinctActors',
      'first',
      'last',
      'recentFailures',
    ];
    for (const w of [
      ['--since', since],
      ['--since', day(3), '--until', day(2)],
    ]) {
      const local = await runCli(['summary', '--dir', audit, '--no-chain', '-o', 'json', ...w]);
      const remote = await runCli(['summary', ...loki(), '-o', 'json', ...w]);
      assert.equal(local.code, 0, local.stderr);
      assert.equal(remote.code, 0, remote.stderr);
      const l = JSON.parse(local.stdout);
      const r = JSON.parse(remote.stdout);
      assert.ok(l.total > 50);
      for (const k of keys) assert.deepEqual(r[k], l[k], `${w.join(' ')}: ${k}`);
      assert.equal(r.chain, null);
      assert.equal(r.dir, rx.url);
    }
  });

  it('--print-logql prints a query Loki parses, and queries nothing', async () => {
    rx.queries.length = 0;
    const r = await runCli([
      'search',
      '--print-logql',
      '--host',
      'web-*',
      '--event',
      'auth.*',
      '--level',
      'warning',
      '--field',
      'details.status>=500',
      '--grep',
      'quota "x"',
    ]);
    assertExit(r, 0);
    assert.equal(
      r.stdout,
      '{service_name="loki-audit", host=~"web-.*", level=~"warning|error", event_family=~"auth|other"} |= "quota ' +
        '\\"x\\"" |~ "auth|\\\\\\\\u00[2-7][0-9a-fA-F]" | json field_details_status="details.status" | ' +
        '(field_details_status >= 500 or field_details_status="" or field_details_status=~"[\\\\[{][\\\\s\\\\S]*")\n',
    );
    assert.doesNotThrow(() => parseLogQL(r.stdout.trim()));
    const s = await runCli(['summary', '--print-logql', '--host', 'db-1']);
    assert.equal(s.stdout, '{service_name="loki-audit", host="db-1"}\n');
    assert.equal(rx.queries.length, 0);
  });

  it("Loki's failures exit as forward's: unreachable 9, credentials 15, path 16", async () => {
    const locked = new LokiReceiver({ authorization: 'Bearer s3cret' });
    await locked.start();
    try {
      const refused = await runCli(['search', '--from-loki', locked.url, '--since', '1h']);
      assert.equal(refused.code, 15, refused.stderr);
      assert.match(refused.stderr, /^loki-audit: error: Loki answered HTTP 401/m);
      const ok = await runCli(['search', '--from-loki', locked.url, '--since', '1h'], {
        env: { LOKI_AUDIT_LOKI_TOKEN: 's3cret' },
      });
      assert.equal(ok.code, 1, ok.stderr);
    } finally {
      await locked.stop();
    }
    const path = await runCli(['search', '--from-loki', rx.url + '/nope', '--since', '1h']);
    assert.equal(path.code, 16, path.stderr);
    const gone = new LokiReceiver();
    await gone.start();
    const url = gone.url;
    await gone.stop();
    const down = await runCli(['search', '--from-loki', url, '--since', '1h']);
    assert.equal(down.code, 9, down.stderr);
    assert.match(down.stderr, /cannot query/);
    // Credentials never in the URL; Loki flags without --from-loki; --reverse needs --limit.
    const u = new URL(rx.url);
    u.username = 'u';
    u.password = 'p';
    assert.equal((await runCli(['search', '--from-loki', u.href])).code, 2);
    assert.equal((await runCli(['search', '--dir', audit, '--tenant', 'x'])).code, 2);
    assert.equal((await runCli(['search', ...loki(), '--reverse'])).code, 2);
  });
});
