/**
 * verify --against-loki URL --host H / --all-hosts: four hosts forwarded (the real `forward`,
 * each with its own host label) to the receiver under Loki's limits (50 entries per query,
 * max_query_length 12h), then checked from Loki alone: one intact, one with a line edited in
 * Loki (a break), one with entries deleted from Loki (a gap), one whose head is older than
 * --max-age (stale). Each verdict, the summary and the most severe exit code.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateSample } from '../../scripts/sample.js';
import { assertExit, runCli, tempDir } from '../helpers/cli.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';

const DAY = 86_400_000;
const H12 = 12 * 3_600_000;
const day = (n: number) => new Date(Date.now() - n * DAY).toISOString().slice(0, 10);

type Host = {
  host: string;
  verdict: string;
  exitCode: number;
  entries: number;
  chained: number;
  breaks: number;
  gaps: number;
  start: string;
  stale: boolean;
  findings: Array<{ kind: string; at: { file: string; line: number } | null; message: string }>;
  head: { hash: string; file: string; line: number } | null;
};
type Report = { hosts: Host[]; summary: Record<string, number>; exitCode: number };

describe('verify --host / --all-hosts: each host chain as stored in Loki', () => {
  let t: { dir: string; cleanup: () => void };
  let rx: LokiReceiver;
  const heads: Record<string, string> = {};
  const first = `audit-${day(3)}.jsonl`;
  const check = async (...extra: string[]) => {
    const r = await runCli([
      'verify',
      '--against-loki',
      rx.url,
      '--since',
      '8d',
      '--max-age',
      '4d',
      '--loki-entry-limit',
      '50',
      '--loki-max-query-length',
      '12h',
      ...extra,
    ]);
    return r;
  };
  const json = async (...extra: string[]) => {
    const r = await check('--json', ...extra);
    return { ...r, report: JSON.parse(r.stdout || '{}') as Report };
  };

  before(async () => {
    t = tempDir();
    rx = new LokiReceiver({ maxEntriesLimitPerQuery: 50, maxQueryLengthMs: H12 });
    await rx.start();
    const hosts: Array<[string, number, string, number[]]> = [
      ['web-intact', 1, day(3), [60, 60]],
      ['web-tampered', 2, day(3), [60, 60]],
      ['web-gap', 3, day(3), [60, 60]],
      ['web-stale', 4, day(6), [40]],
    ];
    for (const [host, seed, startDate, perDay] of hosts) {
      const dir = join(t.dir, host);
      heads[host] = generateSample(dir, { seed, startDate, perDay, maxFileBytes: 1 << 20 }).head;
      const sent = await runCli([
        'forward',
        '--dir',
        dir,
        '--loki',
        rx.url,
        '--label',
        `host=${host}`,
        '--state',
        join(t.dir, `${host}.state.json`),
      ]);
      assertExit(sent, 0);
    }
    assert.equal(rx.stored.length, 400);
    // web-tampered: one stored line edited in Loki (its stored hash kept).
    const i = rx.stored.findIndex(
      (e) => e.labels.host === 'web-tampered' && e.metadata.file === first && e.metadata.line === '30',
    );
    assert.ok(i >= 0);
    const o = JSON.parse(rx.stored[i].line) as Record<string, unknown>;
    o.user_id = 'mallory';
    rx.stored[i].line = JSON.stringify(o);
    // web-gap: lines 40–49 of its first file deleted from Loki.
    const before = rx.stored.length;
    for (let k = rx.stored.length - 1; k >= 0; k--) {
      const e = rx.stored[k];
      const n = Number(e.metadata.line);
      if (e.labels.host === 'web-gap' && e.metadata.file === first && n >= 40 && n <= 49) rx.stored.splice(k, 1);
    }
    assert.equal(before - rx.stored.length, 10);
  });
  after(async () => {
    await rx.stop();
    t.cleanup();
  });

  it('the receiver answers label values as Loki documents, under max_query_length', async () => {
    const now = Date.now();
    const q = (start: number, end: number) =>
      fetch(
        `${rx.url}/loki/api/v1/label/host/values?` +
          new URLSearchParams({
            start: `${start}000000`,
            end: `${end}000000`,
            query: '{service_name="loki-audit"}',
          }),
      );
    let res = await q(now - 8 * DAY, now);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /the query time range exceeds the limit \(query length: 192h0m0s, limit: 12h\)/);
    res = await q(now - 6 * DAY, now - 6 * DAY + H12);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { status: string; data: string[] };
    assert.equal(body.status, 'success');
    assert.deepEqual(body.data, ['web-stale']);
  });

  it('--host on an intact host: every entry chains, exit 0, paged under both limits', async () => {
    rx.queries.length = 0;
    const { code, stderr, report } = await json('--host', 'web-intact');
    assert.equal(code, 0, stderr);
    const [h] = report.hosts;
    assert.equal(h.verdict, 'intact');
    assert.equal(h.entries, 120);
    assert.equal(h.chained, 120);
    assert.equal(h.start, 'genesis');
    assert.equal(h.head?.hash, heads['web-intact']);
    assert.ok(rx.queries.length > 3);
    for (const q of rx.queries) {
      assert.ok(q.limit <= 50 && Number((q.end - q.start) / 1_000_000n) <= H12);
      assert.equal(q.query, '{service_name="loki-audit", host="web-intact"}');
    }
  });

  it('--host on the host with an edited line: a break at that line, exit 1', async () => {
    const { code, stderr, report } = await json('--host', 'web-tampered');
    assert.equal(code, 1, stderr);
    const [h] = report.hosts;
    assert.equal(h.verdict, 'tampered');
    assert.equal(h.breaks, 1);
    assert.equal(h.gaps, 0);
    assert.deepEqual(h.findings[0].at, { file: first, line: 30 });
    // The walk goes on from the edited entry's stored hash: the rest chains.
    assert.equal(h.chained, 119);
  });

  it('--host on the host with deleted entries: a gap naming the missing lines, exit 4', async () => {
    const { code, stderr, report } = await json('--host', 'web-gap');
    assert.equal(code, 4, stderr);
    const [h] = report.hosts;
    assert.equal(h.verdict, 'incomplete');
    assert.equal(h.gaps, 1);
    assert.equal(h.breaks, 0);
    assert.equal(h.entries, 110);
    assert.match(h.findings[0].message, new RegExp(`^lines 40–49 of ${first.replace(/\./g, '\\.')} are not in Loki`));
  });

  it('--host on a host silent for longer than --max-age: stale head, exit 21', async () => {
    const { code, stderr, report } = await json('--host', 'web-stale');
    assert.equal(code, 21, stderr);
    assert.equal(report.hosts[0].verdict, 'stale-head');
    assert.equal(report.hosts[0].stale, true);
    // Without --max-age it is intact.
    const r = await runCli(['verify', '--against-loki', rx.url, '--host', 'web-stale', '--since', '8d']);
    assert.equal(r.code, 0, r.stderr);
  });

  it('--all-hosts: every host from the label values API, one verdict each, the most severe exit', async () => {
    rx.labelQueries.length = 0;
    const { code, stderr, report } = await json('--all-hosts');
    assert.equal(code, 1, stderr);
    assert.deepEqual(
      report.hosts.map((h) => [h.host, h.verdict, h.exitCode]),
      [
        ['web-gap', 'incomplete', 4],
        ['web-intact', 'intact', 0],
        ['web-stale', 'stale-head', 21],
        ['web-tampered', 'tampered', 1],
      ],
    );
    assert.deepEqual(report.summary, { intact: 1, tampered: 1, incomplete: 1, 'stale-head': 1 });
    assert.ok(rx.labelQueries.length >= 16, `${rx.labelQueries.length} label queries`);
    for (const q of rx.labelQueries) assert.ok(Number((q.end - q.start) / 1_000_000n) <= H12);
    const text = await check('--all-hosts');
    assert.equal(text.code, 1);
    const lines = text.stdout.trim().split('\n');
    assert.match(
      lines.find((l) => l.startsWith('web-intact:'))!,
      /^web-intact: intact: 120 entries in Loki, 120 chain;/,
    );
    assert.match(
      lines.find((l) => l.startsWith('web-tampered:'))!,
      /TAMPERED: 120 entries in Loki, 119 chain; 1 break/,
    );
    assert.equal(lines.at(-1), `4 host(s) in ${rx.url}: 1 intact, 1 tampered, 1 with gaps, 1 stale (exit 1)`);
  });

  it('without the tampered host the worst is the stale head (21), then the gap (4)', async () => {
    const r = await json('--all-hosts', '--loki-selector', '{service_name="loki-audit", host!="web-tampered"}');
    assert.equal(r.code, 21, r.stderr);
    const r2 = await json('--all-hosts', '--loki-selector', '{service_name="loki-audit", host=~"web-(gap|intact)"}');
    assert.equal(r2.code, 4, r2.stderr);
  });

  it('an unknown host is one error line, exit 3; Loki down is exit 9; both flags need --against-loki', async () => {
    const r = await check('--host', 'nosuch');
    assert.equal(r.code, 3);
    assert.match(r.stderr, /no entries of host "nosuch" in Loki/);
    assert.doesNotMatch(r.stderr, /at .*\.js/);
    const u = await runCli(['verify', '--all-hosts']);
    assert.equal(u.code, 2);
    assert.match(u.stderr, /need --against-loki URL/);
    const down = await runCli(['verify', '--against-loki', 'http://127.0.0.1:9', '--all-hosts']);
    assert.equal(down.code, 9, down.stderr);
    assert.match(down.stderr, /cannot query 127\.0\.0\.1:9/);
  });
});
