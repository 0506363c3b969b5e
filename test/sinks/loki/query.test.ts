/**
 * The Loki query client (src/sinks/loki/query.ts) against the test receiver's query side
 * (test/helpers/loki-receiver.ts, written to Loki's HTTP API): windows, pages, entries sharing
 * a timestamp across a page boundary, a page all at one timestamp, limits learnt from Loki's
 * 400s; and the receiver's own parameter parsing, limits and LogQL subset.
 */
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { LokiQueryClient, LokiQueryError } from '../../../src/sinks/loki/query.js';
import { goDuration, LokiReceiver, parseLokiTimestamp, promDuration } from '../../helpers/loki-receiver.js';

const NS = 1_000_000n;
const T0 = BigInt(Date.now() - 3_600_000) * NS; // an hour ago, in ns

/** Pushes `values` ([ns, line, metadata]) to the stream `labels`. */
async function push(rx: LokiReceiver, labels: Record<string, string>, values: Array<[string, string, object?]>) {
  const res = await fetch(`${rx.url}/loki/api/v1/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    body: gzipSync(JSON.stringify({ streams: [{ stream: labels, values }] })),
  });
  assert.equal(res.status, 204, await res.text());
}

const line = (i: number) => JSON.stringify({ timestamp: 'x', i, _integrity_hash: `h${String(i).padStart(4, '0')}` });

async function all(client: LokiQueryClient, start: bigint, end: bigint) {
  const out: Array<{ tsNs: bigint; line: string; metadata: Record<string, string> }> = [];
  for await (const e of client.entries(start, end)) out.push(e);
  return out;
}

describe('LokiQueryClient: windows and pages under the limits', () => {
  let rx: LokiReceiver;
  before(async () => {
    rx = new LokiReceiver({ maxEntriesLimitPerQuery: 50, maxQueryLengthMs: 600_000 });
    await rx.start();
    // 130 entries over 3 streams; groups of 7 share one nanosecond, across streams and within one.
    const streams = ['info', 'warn', 'error'];
    const values: Array<Array<[string, string, object]>> = [[], [], []];
    for (let i = 0; i < 130; i++) {
      const ts = T0 + BigInt(Math.floor(i / 7)) * 60_000_000_000n; // a minute apart per group
      values[i % 3].push([ts.toString(), line(i), { chain_hash: `h${String(i).padStart(4, '0')}` }]);
    }
    for (let s = 0; s < 3; s++) await push(rx, { service_name: 'loki-audit', level: streams[s] }, values[s]);
  });
  after(() => rx.stop());

  it('reads each entry once, none lost, when timestamps are shared across page boundaries', async () => {
    rx.queries.length = 0;
    const client = new LokiQueryClient({
      url: rx.url,
      auth: { kind: 'none' },
      pageSize: 20,
      maxQueryLengthMs: 600_000,
    });
    const got = await all(client, T0, T0 + 19n * 60_000_000_000n);
    const is = got.map((e) => JSON.parse(e.line).i as number).sort((a, b) => a - b);
    assert.deepEqual(
      is,
      Array.from({ length: 130 }, (_, i) => i),
    );
    assert.equal(new Set(got.map((e) => e.line)).size, 130);
    // In timestamp order.
    for (let i = 1; i < got.length; i++) assert.ok(got[i].tsNs >= got[i - 1].tsNs);
    // Windows of at most 10 minutes; a page boundary fell inside a group (20 is not a multiple of 7).
    assert.ok(rx.queries.every((q) => q.end - q.start <= 600_000n * NS && q.limit === 20));
    // Pages inside a window: a query starting at a page's last timestamp, not at a window start.
    assert.ok(rx.queries.some((q) => (q.start - T0) % (600_000n * NS) !== 0n));
    assert.equal(got[0].metadata.chain_hash, JSON.parse(got[0].line)._integrity_hash);
  });

  it('learns both limits from Loki’s 400s when asked for more', async () => {
    rx.queries.length = 0;
    const client = new LokiQueryClient({ url: rx.url, auth: { kind: 'none' } }); // 5000, 720h
    const got = await all(client, T0, T0 + 19n * 60_000_000_000n);
    assert.equal(got.length, 130);
    assert.ok(rx.queries.every((q) => q.limit <= 50));
  });

  it('a full page at one nanosecond is asked again at the max limit, else fails naming the limit', async () => {
    const one = new LokiReceiver({ maxEntriesLimitPerQuery: 100 });
    await one.start();
    try {
      const ts = T0.toString();
      await push(
        one,
        { service_name: 'loki-audit' },
        Array.from({ length: 60 }, (_, i) => [ts, line(i), { chain_hash: `h${i}` }] as [string, string, object]),
      );
      // Pages of 50; raised to 5000 for the stuck page, Loki says 100: that holds the 60.
      one.queries.length = 0;
      const ok = new LokiQueryClient({ url: one.url, auth: { kind: 'none' }, pageSize: 50 });
      const got = await all(ok, T0, T0 + 1n);
      assert.equal(got.length, 60);
      assert.equal(new Set(got.map((e) => e.line)).size, 60);
      assert.deepEqual(
        one.queries.map((q) => q.limit),
        [50, 100],
      );
      const stuck = new LokiQueryClient({ url: one.url, auth: { kind: 'none' }, pageSize: 50, maxEntriesLimit: 50 });
      await assert.rejects(all(stuck, T0, T0 + 1n), (err: Error) => {
        assert.ok(err instanceof LokiQueryError);
        assert.match(
          err.message,
          /more than 50 entries in Loki share the timestamp \d+ ns.*max_entries_limit_per_query/,
        );
        return true;
      });
    } finally {
      await one.stop();
    }
  });

  it('another HTTP error or no Loki is a LokiQueryError', async () => {
    const bad = new LokiQueryClient({ url: rx.url, auth: { kind: 'none' }, selector: '{service_name=~".*"}' });
    await assert.rejects(all(bad, T0, T0 + 1n), /Loki answered HTTP 400: parse error : queries require at least one/);
    const down = new LokiQueryClient({ url: 'http://127.0.0.1:1', auth: { kind: 'none' } });
    await assert.rejects(all(down, T0, T0 + 1n), /cannot query 127\.0\.0\.1:1/);
  });
});

describe('the test receiver’s query_range (Loki HTTP API)', () => {
  let rx: LokiReceiver;
  const base = Date.now() - 600_000;
  const q = async (params: Record<string, string>, headers: Record<string, string> = {}) => {
    const res = await fetch(`${rx.url}/loki/api/v1/query_range?${new URLSearchParams(params)}`, { headers });
    return { status: res.status, text: await res.text() };
  };
  const lines = async (params: Record<string, string>) => {
    const r = await q({
      start: `${base - 1000}000000`,
      end: `${base + 60_000}000000`,
      direction: 'forward',
      ...params,
    });
    assert.equal(r.status, 200, r.text);
    const body = JSON.parse(r.text) as { data: { result: Array<{ stream: object; values: string[][] }> } };
    return body.data.result.flatMap((s) => s.values.map((v) => v[1]));
  };
  before(async () => {
    rx = new LokiReceiver();
    await rx.start();
    const at = (ms: number) => `${ms}000000`;
    await push(rx, { service_name: 'loki-audit', level: 'info' }, [
      [at(base), JSON.stringify({ action: 'login', details: { status: 200 }, user: 'ann' }), { file: 'a', line: '1' }],
      [at(base + 1000), JSON.stringify({ action: 'logout', details: { status: 500 }, user: 'bob' }), {}],
      [at(base + 2000), 'not json', {}],
    ]);
    await push(rx, { service_name: 'other', level: 'warn' }, [
      [at(base + 500), JSON.stringify({ action: 'login', details: { status: 'x' } }), {}],
    ]);
  });
  after(() => rx.stop());

  it('parses start/end as Loki does: ns, seconds, float seconds, RFC 3339; end is exclusive', () => {
    assert.equal(parseLokiTimestamp('1700000000', 'start'), 1_700_000_000_000_000_000n);
    assert.equal(parseLokiTimestamp('1700000000.25', 'start'), 1_700_000_000_250_000_000n);
    assert.equal(parseLokiTimestamp('1700000000123456789', 'start'), 1_700_000_000_123_456_789n);
    assert.equal(parseLokiTimestamp('2023-11-14T22:13:20.5Z', 'start'), 1_700_000_000_500_000_000n);
    assert.throws(() => parseLokiTimestamp('soon', 'end'), /could not parse 'end' parameter/);
    assert.equal(goDuration(744 * 3_600_000), '744h0m0s');
    assert.equal(goDuration(1500), '1.5s');
    assert.equal(promDuration(721 * 3_600_000), '30d1h');
    assert.equal(promDuration(14 * 86_400_000), '2w');
  });

  it('answers the streams shape, end exclusive, default limit 100 and backward, Loki’s 400s', async () => {
    const r = await q({ query: '{service_name="loki-audit"}', start: `${base}000000`, end: `${base + 1000}000000` });
    const body = JSON.parse(r.text);
    assert.equal(body.status, 'success');
    assert.equal(body.data.resultType, 'streams');
    assert.equal(body.data.result.length, 1, 'the entry at end is excluded; metadata makes its own stream');
    assert.deepEqual(body.data.result[0].stream, { service_name: 'loki-audit', level: 'info', file: 'a', line: '1' });
    // Default direction backward and limit 100; forward gives the oldest first.
    const newest = await q({ query: '{level=~"info|warn"}', start: `${base - 1000}000000`, limit: '1' });
    assert.equal(JSON.parse(newest.text).data.result[0].values[0][1], 'not json');
    const oldest = await lines({ query: '{level=~"info|warn"}', limit: '1' });
    assert.deepEqual(
      oldest.map((l) => JSON.parse(l).user),
      ['ann'],
    );
    const cat = await q(
      { query: '{service_name="loki-audit"}', start: `${base}000000`, end: `${base + 1}000000` },
      { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' },
    );
    const cb = JSON.parse(cat.text).data;
    assert.deepEqual(cb.encodingFlags, ['categorize-labels']);
    assert.deepEqual(cb.result[0].values[0][2], { structuredMetadata: { file: 'a', line: '1' } });
    assert.deepEqual(await q({ query: '{level="info"}', limit: '0' }), {
      status: 400,
      text: 'limit must be a positive value\n',
    });
    assert.deepEqual(await q({ query: '{level="info"}', direction: 'sideways' }), {
      status: 400,
      text: "invalid direction 'sideways'\n",
    });
    assert.deepEqual(await q({ query: '{level="info"}', start: '20', end: '10' }), {
      status: 400,
      text: 'end timestamp must not be before or equal to start time\n',
    });
    assert.deepEqual(
      await q({ query: '{level="info"}', start: `${base - 800 * 3_600_000}000000`, end: `${base}000000` }),
      { status: 400, text: 'the query time range exceeds the limit (query length: 800h0m0s, limit: 30d1h)\n' },
    );
    assert.deepEqual(await q({ query: '{level="info"}', limit: '5001' }), {
      status: 400,
      text: 'max entries limit per query exceeded, limit > max_entries_limit_per_query (5001 > 5000)\n',
    });
  });

  it('LogQL subset: matchers, line filters, | json with string and numeric label filters', async () => {
    const sel = '{service_name=~"loki-audit|other"}';
    assert.equal((await lines({ query: sel })).length, 4);
    assert.equal((await lines({ query: '{service_name!="other", level="info"}' })).length, 3);
    assert.equal((await lines({ query: '{service_name=~".+", level!~"warn"}' })).length, 3);
    assert.equal((await lines({ query: `${sel} |= "login"` })).length, 2);
    assert.equal((await lines({ query: `${sel} != "login"` })).length, 2);
    assert.equal((await lines({ query: `${sel} |~ "log(in|out)"` })).length, 3);
    assert.equal((await lines({ query: `${sel} !~ "^\\\\{"` })).length, 1);
    assert.deepEqual(
      (await lines({ query: `${sel} | json | user="bob"` })).map((l) => JSON.parse(l).user),
      ['bob'],
    );
    assert.equal((await lines({ query: `${sel} | json | user!="bob"` })).length, 3);
    assert.equal(
      (await lines({ query: `${sel} | json | details_status >= 500` })).length,
      2,
      'bob, and "x" kept with __error__',
    );
    assert.equal((await lines({ query: `${sel} | json | details_status < 300` })).length, 2);
    assert.equal((await lines({ query: `${sel} | json | details_status == 200` })).length, 2);
    const r = await q({ query: `${sel} | json | details_status > 300`, start: `${base - 1000}000000` });
    const streams = JSON.parse(r.text).data.result as Array<{ stream: Record<string, string> }>;
    assert.ok(streams.some((s) => s.stream.__error__ === 'LabelFilterErr' && s.stream.details_status === 'x'));
    assert.equal((await q({ query: '{level="info"} | nonsense(' })).status, 400);
  });
});
