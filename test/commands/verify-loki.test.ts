/**
 * verify --against-loki under Loki's query limits: a directory forwarded (the real `forward`)
 * to the receiver with max_entries_limit_per_query 50 and max_query_length 12h, compared window
 * by window and page by page; entries removed or changed on either side, reported by file and
 * line; --since/--until; entries forwarded with --timestamp ingest.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateSample } from '../../scripts/sample.js';
import { assertExit, runCli, tempDir } from '../helpers/cli.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';

const DAY = 86_400_000;
const day = (n: number) => new Date(Date.now() - n * DAY).toISOString().slice(0, 10);
const H12 = 12 * 3_600_000;

type Report = {
  verdict: string;
  findings: Array<{ reason: string; file: string; line: number; message: string }>;
  notes: Array<{ kind: string; file?: string; line?: number; message: string }>;
  witness: { local: number; inLoki: number; matched: number; notInLocal: number; differs: number; notInLoki: number };
};

describe('verify --against-loki under Loki limits (entry limit 50, max_query_length 12h)', () => {
  let t: { dir: string; cleanup: () => void };
  let audit: string;
  let rx: LokiReceiver;
  const files = () => [day(4), day(3), day(2)].map((d) => join(audit, `audit-${d}.jsonl`));
  const witness = async (...extra: string[]) => {
    const r = await runCli([
      'verify',
      '--dir',
      audit,
      '--against-loki',
      rx.url,
      '--loki-entry-limit',
      '50',
      '--loki-max-query-length',
      '12h',
      '--json',
      ...extra,
    ]);
    return { code: r.code, stderr: r.stderr, report: JSON.parse(r.stdout || '{}') as Report };
  };

  before(async () => {
    t = tempDir();
    audit = join(t.dir, 'audit');
    generateSample(audit, { seed: 7, startDate: day(4), perDay: [120, 120, 60], maxFileBytes: 1 << 20 });
    rx = new LokiReceiver({ maxEntriesLimitPerQuery: 50, maxQueryLengthMs: H12 });
    await rx.start();
    const sent = await runCli(['forward', '--dir', audit, '--loki', rx.url, '--state', join(t.dir, 's.json')]);
    assertExit(sent, 0);
    assert.equal(rx.stored.length, 300, sent.stdout + sent.stderr);
  });
  after(async () => {
    await rx.stop();
    t.cleanup();
  });

  it('one query for the whole history, as verify used to ask, gets Loki 400s with its messages', async () => {
    const q = (start: number, end: number, limit: number) =>
      fetch(
        `${rx.url}/loki/api/v1/query_range?` +
          new URLSearchParams({
            query: '{service_name="loki-audit"}',
            start: `${start}000000`,
            end: `${end}000000`,
            limit: String(limit),
            direction: 'forward',
          }),
      );
    const now = Date.now();
    let res = await q(now - 5 * DAY, now, 5000);
    assert.equal(res.status, 400);
    assert.equal(
      (await res.text()).trim(),
      'max entries limit per query exceeded, limit > max_entries_limit_per_query (5000 > 50)',
    );
    res = await q(now - 5 * DAY, now, 50);
    assert.equal(res.status, 400);
    assert.equal(
      (await res.text()).trim(),
      'the query time range exceeds the limit (query length: 120h0m0s, limit: 12h)',
    );
    // Exactly at the limits: answered, at most 50 entries.
    res = await q(now - 3 * DAY, now - 3 * DAY + H12, 50);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { data: { resultType: string; result: Array<{ values: unknown[] }> } };
    assert.equal(body.data.resultType, 'streams');
    assert.ok(body.data.result.reduce((n, s) => n + s.values.length, 0) <= 50);
  });

  it('the witness reads every entry in windows and pages within both limits: intact', async () => {
    rx.queries.length = 0;
    const { code, stderr, report } = await witness();
    assert.equal(code, 0, stderr);
    assert.equal(report.witness.local, 300);
    assert.equal(report.witness.inLoki, 300);
    assert.equal(report.witness.matched, 300);
    assert.ok(rx.queries.length >= 10, `${rx.queries.length} queries`);
    for (const q of rx.queries) {
      assert.ok(q.limit <= 50 && q.direction === 'forward');
      assert.ok(Number((q.end - q.start) / 1_000_000n) <= H12);
    }
    // Loki's limits discovered from its 400s when not given: the same result.
    const d = await runCli(['verify', '--dir', audit, '--against-loki', rx.url, '--json']);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(JSON.parse(d.stdout).witness.matched, 300);
  });

  it('an entry deleted from Loki is reported by its local file and line', async () => {
    const [f] = files();
    const i = rx.stored.findIndex((e) => e.metadata.file === 'audit-' + day(4) + '.jsonl' && e.metadata.line === '40');
    assert.ok(i >= 0);
    const [gone] = rx.stored.splice(i, 1);
    try {
      const { code, stderr, report } = await witness();
      assert.equal(code, 0, stderr);
      const n = report.notes.filter((x) => x.kind === 'not-in-loki');
      assert.equal(n.length, 1, JSON.stringify(report.notes));
      assert.equal(join(audit, n[0].file!), f);
      assert.equal(n[0].line, 40);
      assert.equal(report.witness.matched, 299);
    } finally {
      rx.stored.splice(i, 0, gone);
    }
  });

  it('a local entry changed (hash kept) or removed after forwarding is reported by file and line', async () => {
    const f = files()[1];
    const text = readFileSync(f, 'utf8');
    const lines = text.split('\n');
    try {
      // Line 10: another user, the stored hash kept (the chain sees it too).
      const e = JSON.parse(lines[9]);
      lines[9] = JSON.stringify({ ...e, user_id: 'mallory' });
      // Line 30 removed.
      lines.splice(29, 1);
      writeFileSync(f, lines.join('\n'));
      const { code, report } = await witness();
      assert.equal(code, 1, 'the chain says tampered');
      const differs = report.findings.filter((x) => x.reason === 'loki-differs');
      assert.equal(differs.length, 1, JSON.stringify(report.findings));
      assert.equal(differs[0].line, 10);
      assert.match(differs[0].file, new RegExp(day(3)));
      const missing = report.findings.filter((x) => x.reason === 'head-missing');
      assert.equal(missing.length, 1, JSON.stringify(report.findings));
      assert.equal(missing[0].line, 30);
      assert.match(missing[0].message, new RegExp(`sent from audit-${day(3)}\\.jsonl:30`));
      // Text output names them too.
      const txt = assertExit(
        await runCli(['verify', '--dir', audit, '--against-loki', rx.url, '--loki-entry-limit', '50']),
        1,
        'tampered',
      );
      assert.match(txt.stdout, /:10 ANCHOR MISMATCH \(loki-differs\)/);
      assert.match(txt.stdout, /:30 ANCHOR MISMATCH \(head-missing\)/);
      assert.match(txt.stdout, /loki: 299 local entries compared with 300 in/);
    } finally {
      writeFileSync(f, text);
    }
  });

  it('--since/--until limit both sides', async () => {
    rx.queries.length = 0;
    const since = `${day(3)}T00:00:00Z`;
    const until = `${day(2)}T00:00:00Z`;
    const { code, stderr, report } = await witness('--since', since, '--until', until);
    assert.equal(code, 0, stderr);
    const inDay = readFileSync(files()[1], 'utf8')
      .split('\n')
      .filter(Boolean)
      .filter((l) => {
        const ms = Date.parse(JSON.parse(l).timestamp);
        return ms >= Date.parse(since) && ms < Date.parse(until);
      }).length;
    assert.ok(inDay > 100);
    assert.equal(report.witness.local, inDay);
    assert.equal(report.witness.matched, inDay);
    for (const q of rx.queries) {
      assert.ok(q.start >= BigInt(Date.parse(since)) * 1_000_000n);
      assert.ok(q.end <= BigInt(Date.parse(until)) * 1_000_000n);
    }
    const bad = await runCli(['verify', '--dir', audit, '--since', since]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /need --against-loki/);
  });
});

describe('verify --against-loki for entries forwarded with --timestamp ingest', () => {
  it('compares by the event time in the line; Loki is read up to now', async () => {
    const t = tempDir();
    // Loki's default max_query_length (721h): from January to now is a dozen windows.
    const rx = new LokiReceiver({ maxEntriesLimitPerQuery: 50 });
    await rx.start();
    try {
      const audit = join(t.dir, 'audit');
      // Older than Loki's 168h: only --timestamp ingest can forward them.
      generateSample(audit, { seed: 9, startDate: '2026-01-10', perDay: [80, 70], maxFileBytes: 1 << 20 });
      assertExit(
        await runCli([
          'forward',
          '--dir',
          audit,
          '--loki',
          rx.url,
          '--timestamp',
          'ingest',
          '--state',
          join(t.dir, 's.json'),
        ]),
        0,
      );
      assert.equal(rx.stored.length, 150);
      const base = ['verify', '--dir', audit, '--against-loki', rx.url, '--loki-entry-limit', '50', '--json'];
      let r = await runCli([...base, '--loki-timestamp', 'ingest']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).witness.matched, 150);
      // One day by event time: Loki's timestamps (now) are outside it, the lines' times are not.
      r = await runCli([
        ...base,
        '--loki-timestamp',
        'ingest',
        '--since',
        '2026-01-11T00:00:00Z',
        '--until',
        '2026-01-12T00:00:00Z',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const w = JSON.parse(r.stdout).witness;
      assert.ok(w.local >= 60 && w.local <= 80, JSON.stringify(w));
      assert.equal(w.matched, w.local);
      assert.equal(w.inLoki, w.local);
    } finally {
      await rx.stop();
      t.cleanup();
    }
  });
});
