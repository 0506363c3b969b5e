import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { GENESIS_HASH } from '../../src/core/chain/rule.js';
import { sealEntry } from '../../src/core/write/seal.js';
import { assertExit, BIN, HAS_SCRIPT, LOKI, ROOT, runCli, runCliOnTty, tempDir } from '../helpers/cli.js';
import { EXACT_NUMBERS, RAW_HOSTILE, UNSAFE_ON_TTY, writeDay, writerLine } from '../helpers/hostile.js';

/** The fixture's entries of one day. */
const day = (d: string): Array<{ timestamp: string }> =>
  readFileSync(join(LOKI, 'extended/valid/writer', `audit-2026-02-${d}.jsonl`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

/** A writer-schema entry at `timestamp` (ISO 8601 with +00:00). */
const writerEntry = (timestamp: string, action: string) => ({
  timestamp,
  action,
  resource_type: 'task',
  resource_id: null,
  user_id: 'alice',
  token_id: null,
  ip_address: null,
  user_agent: null,
  success: true,
  error: null,
  details: {},
});

const plain = (stdout: string) =>
  new Map(
    stdout
      .trim()
      .split('\n')
      .map((l) => [l.split('\t').slice(0, -1).join('\t'), l.split('\t').at(-1)]),
  );

describe('summary', () => {
  it('counts the writer fixture by event, level and actor (plain text when piped)', async () => {
    const r = await runCli(['summary', '--dir', join(LOKI, 'extended/valid/writer'), '--all']);
    assert.equal(r.code, 0, r.stderr);
    const m = plain(r.stdout);
    assert.equal(m.get('total'), '150');
    assert.equal(m.get('success'), '112');
    assert.equal(m.get('failure'), '38');
    assert.equal(m.get('files'), '3');
    assert.equal(m.get('first'), '2026-02-01T00:21:36.451467+00:00');
    assert.equal(m.get('last'), '2026-02-03T11:57:19+00:00');
    assert.equal(m.get('level\terror'), '38');
    assert.equal(m.get('level\twarning'), '25');
    assert.equal(m.get('level\tinfo'), '87');
    assert.equal(m.get('event\tapi.request'), '21');
    assert.equal(m.get('actor\tbob'), '23');
    assert.match(r.stdout, /^chain\tintact\t150\t-$/m);
    // Loki Mode's own CLI lists these as its last failures (spec §6.1).
    assert.match(
      r.stdout,
      /^failure-entry\t2026-02-03T07:18:54\.939273\+00:00\tauth\.login\tanonymous\tvalidation failed: "name" is required$/m,
    );
    assert.match(
      r.stdout,
      /^failure-entry\t2026-02-03T11:57:19\+00:00\tapi\.request\tops@example\.com\tpermission denied$/m,
    );
  });

  it('--json gives one object with the same numbers', async () => {
    const r = await runCli(['summary', '--dir', join(LOKI, 'extended/valid/writer'), '--all', '--json', '--top', '3']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.total, 150);
    assert.equal(s.byEvent.length, 3);
    assert.deepEqual(s.byEvent[0], { key: 'api.request', count: 21 });
    assert.equal(s.chain.verdict, 'intact');
    assert.equal(s.recentFailures.length, 5);
  });

  it("byAction and byResourceType are Loki Mode's own split (its summary API's by_action, by_resource_type)", async () => {
    // What dashboard/audit.py get_audit_summary counts (spec §6.2): entry.get("action", "unknown").
    const entries = ['01', '02', '03'].flatMap(day) as unknown as Array<Record<string, unknown>>;
    const loki = (key: string) => {
      const m: Record<string, number> = {};
      for (const e of entries) {
        const k = String(e[key] ?? 'unknown');
        m[k] = (m[k] ?? 0) + 1;
      }
      return m;
    };
    const r = await runCli([
      'summary',
      '--dir',
      join(LOKI, 'extended/valid/writer'),
      '--all',
      '--json',
      '--top',
      '1000',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    const asObject = (counts: Array<{ key: string; count: number }>) =>
      Object.fromEntries(counts.map((c) => [c.key, c.count]));
    assert.deepEqual(asObject(s.byAction), loki('action'));
    assert.deepEqual(asObject(s.byResourceType), loki('resource_type'));
    assert.equal(s.distinctActions, Object.keys(loki('action')).length);
    // Most frequent first, ties by name, --top rows; also when piped.
    const top = await runCli(['summary', '--dir', join(LOKI, 'extended/valid/writer'), '--all', '--top', '2']);
    assert.equal(top.code, 0, top.stderr);
    assert.deepEqual(
      top.stdout.split('\n').filter((l) => /^(action|resource-type)\t/.test(l)),
      ['action\trequest\t21', 'action\tcreate\t14', 'resource-type\tapi\t41', 'resource-type\tauth\t34'],
    );
    // Only writer-schema entries have these fields: the documented schema gives none.
    const doc = await runCli(['summary', '--dir', join(LOKI, 'documented/valid'), '--all', '--json']);
    assert.equal(doc.code, 0, doc.stderr);
    assert.deepEqual([JSON.parse(doc.stdout).byAction, JSON.parse(doc.stdout).byResourceType], [[], []]);
  });

  it('picks files for the window by name and entries by time', async () => {
    const r = await runCli([
      'summary',
      '--dir',
      join(LOKI, 'extended/valid/writer'),
      '--since',
      '2026-02-02',
      '--until',
      '2026-02-02',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.deepEqual(s.files, ['audit-2026-02-02.jsonl']);
    assert.equal(s.total, 50);
    assert.equal(s.since, '2026-02-02T00:00:00.000Z');
    assert.equal(s.until, '2026-02-03T00:00:00.000Z');
    // The window starts mid-history: the chain is checked from the previous file's last hash.
    assert.equal(s.chain.verdict, 'intact');
    const n = await runCli([
      'summary',
      '--dir',
      join(LOKI, 'extended/valid/writer'),
      '--from',
      '2026-02-02T10:00:00Z',
      '--to',
      '2026-02-02T12:00:00Z',
      '--json',
    ]);
    assert.equal(n.code, 0, n.stderr);
    const narrow = JSON.parse(n.stdout);
    // Exactly the entries of [10:00, 12:00), first and last of them.
    const inWindow = day('02').filter(
      (e) =>
        Date.parse(e.timestamp) >= Date.parse('2026-02-02T10:00:00Z') &&
        Date.parse(e.timestamp) < Date.parse('2026-02-02T12:00:00Z'),
    );
    assert.ok(inWindow.length > 0 && inWindow.length < 50);
    assert.equal(narrow.total, inWindow.length);
    assert.equal(narrow.first, inWindow[0].timestamp);
    assert.equal(narrow.last, inWindow.at(-1)!.timestamp);
  });

  it("--since differs from Loki Mode's 7-day file window as docs/summary.md says", async () => {
    const t = tempDir();
    try {
      const day = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);
      // Two entries a day, at the start and the end of the UTC day, in files named by that day.
      const days = [-8, -7, 0, 2];
      for (const d of days)
        writeFileSync(
          join(t.dir, `audit-${day(d)}.jsonl`),
          [`${day(d)}T00:00:30+00:00`, `${day(d)}T23:59:30+00:00`]
            .map((ts) => JSON.stringify(writerEntry(ts, 'start')))
            .join('\n') + '\n',
        );
      writeFileSync(
        join(t.dir, 'audit-notes.jsonl'),
        JSON.stringify(writerEntry(`${day(0)}T01:00:00+00:00`, 'x')) + '\n',
      );
      // Loki Mode (spec §6.1): every line of the files whose name minus .jsonl >= audit-<UTC today - 7 days>.
      const floor = `audit-${day(-7)}`;
      const loki = [...days.map((d) => `audit-${day(d)}.jsonl`), 'audit-notes.jsonl']
        .filter((n) => n.replace(/\.jsonl$/, '') >= floor)
        .reduce((n, name) => n + readFileSync(join(t.dir, name), 'utf8').split('\n').filter(Boolean).length, 0);
      assert.equal(loki, 7, 'days -7, 0 and +2 whole, and audit-notes.jsonl');
      const total = async (...args: string[]) => {
        const r = await runCli(['summary', '--dir', t.dir, '--no-chain', '--json', ...args]);
        assert.equal(r.code, 0, r.stderr);
        return JSON.parse(r.stdout).total;
      };
      // `--since 7d` run at noon: from the instant 7 x 24 h back, so half of day -7; future entries count.
      assert.equal(await total('--since', `${day(-7)}T12:00:00Z`), 5);
      // From UTC midnight 7 days back: Loki Mode's number, less the foreign file.
      assert.equal(await total('--since', day(-7)), 6);
    } finally {
      t.cleanup();
    }
  });

  it('the default window is the last 24 hours', async () => {
    const r = await runCli(['summary', '--dir', join(LOKI, 'extended/valid/writer'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.total, 0);
    assert.ok(Math.abs(Date.parse(s.since) - (Date.now() - 86_400_000)) < 60_000);
    assert.deepEqual(s.files, []);
    // The other side: an entry of an hour ago counts, one of three days ago does not.
    const t = tempDir();
    try {
      const iso = (msAgo: number) => new Date(Date.now() - msAgo).toISOString().replace('Z', '+00:00');
      const old = sealEntry(writerEntry(iso(3 * 86_400_000), 'old'), GENESIS_HASH);
      const recent = sealEntry(writerEntry(iso(3_600_000), 'recent'), old.hash);
      const name = (e: { line: string }) => `audit-${JSON.parse(e.line).timestamp.slice(0, 10)}.jsonl`;
      writeFileSync(join(t.dir, name(old)), old.line);
      writeFileSync(join(t.dir, name(recent)), recent.line);
      const w = await runCli(['summary', '--dir', t.dir, '--json']);
      assert.equal(w.code, 0, w.stderr);
      const ws = JSON.parse(w.stdout);
      assert.equal(ws.total, 1);
      assert.deepEqual(ws.byEvent, [{ key: 'task.recent', count: 1 }]);
      assert.deepEqual(ws.files, [name(recent)]);
    } finally {
      t.cleanup();
    }
  });

  it('summarizes the documented schema and a .gz day', async () => {
    const r = await runCli(['summary', '--dir', join(LOKI, 'documented/valid'), '--all', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.total, 180);
    assert.ok(s.byLevel.debug > 0);
    assert.ok(s.files.includes('audit-2026-02-13.jsonl.gz'));
    assert.equal(s.chain.verdict, 'intact');
  });

  it("a user's audit.jsonl (cat of the day files, spec §10.22) is counted once, not twice", async () => {
    const dir = join(LOKI, 'field/docs-audit-jsonl');
    const r = await runCli(['summary', '--dir', dir, '--all', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.deepEqual(s.files, ['audit-2026-03-01.jsonl', 'audit-2026-03-02.jsonl', 'audit-2026-03-03.jsonl']);
    assert.equal(s.total, 90);
    assert.equal(s.chain.verdict, 'intact');
    const found = await runCli(['search', '--dir', dir, '-o', 'jsonl']);
    assert.equal(found.code, 0, found.stderr);
    assert.equal(found.stdout.split('\n').filter(Boolean).length, 90, 'search reads each entry once too');
  });

  it("reports the JS AuditLog's chain like the dashboard chain's: intact, tampered, and as verify says", async () => {
    const intact = await runCli(['summary', '--dir', join(LOKI, 'js-auditlog/valid'), '--all']);
    assert.equal(intact.code, 0, intact.stderr);
    assert.match(intact.stdout, /^js-chain\tintact\t80\t-\nchain\tnot-checked\t-\t-\n$/m);
    const t = tempDir();
    try {
      const lines = readFileSync(join(LOKI, 'js-auditlog/valid/audit.jsonl'), 'utf8').split('\n');
      const e = JSON.parse(lines[9]);
      e.who = 'mallory';
      lines[9] = JSON.stringify(e);
      writeFileSync(join(t.dir, 'audit.jsonl'), lines.join('\n'));
      const r = await runCli(['summary', '--dir', t.dir, '--all', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout);
      assert.equal(s.chain, null);
      assert.deepEqual(
        [s.jsChain.verdict, s.jsChain.firstProblem.reason, s.jsChain.firstProblem.file, s.jsChain.firstProblem.line],
        ['tampered', 'hash-mismatch', 'audit.jsonl', 10],
      );
      assert.equal(s.jsChain.entriesVerified, 79);
      const none = await runCli(['summary', '--dir', t.dir, '--all', '--json', '--no-chain']);
      assert.equal(none.code, 0, none.stderr);
      assert.equal(JSON.parse(none.stdout).jsChain, null, '--no-chain skips it');
    } finally {
      t.cleanup();
    }
    // Two AuditLog instances in one project (spec §10.23): whatever verify makes of it, summary says the same.
    const dir = join(LOKI, 'field/js-two-writers');
    const [v, s] = await Promise.all([
      runCli(['verify', '--dir', dir, '--json']),
      runCli(['summary', '--dir', dir, '--all', '--json']),
    ]);
    assert.equal(s.code, 0, s.stderr);
    const report = JSON.parse(v.stdout);
    const js = JSON.parse(s.stdout).jsChain;
    assert.notEqual(report.verdict, 'intact');
    assert.deepEqual(
      [js.verdict, js.entriesVerified, js.findings, js.firstProblem.line],
      [report.verdict, report.entriesVerified, report.findings.length, report.firstProblem.line],
    );
  });

  it("summarizes Loki Mode's agent and session audits (--stream), which carry no chain", async () => {
    const project = join(LOKI, 'field/project-streams');
    const agent = await runCli(['summary', '--dir', project, '--stream', 'agent', '--all']);
    assert.equal(agent.code, 0, agent.stderr);
    const a = plain(agent.stdout);
    assert.deepEqual(
      ['total', 'success', 'failure', 'first', 'last', 'event\tcli_invoke', 'actor\tpid:21674', 'level\twarning'].map(
        (k) => a.get(k),
      ),
      ['6', '5', '1', '2026-12-01T20:04:28Z', '2026-12-01T20:04:28Z', '3', '6', '1'],
    );
    assert.match(
      agent.stdout,
      /^failure-entry\t2026-12-01T20:04:28Z\tpolicy_denied\tpid:21674\tPolicy denied execution$/m,
    );
    assert.match(agent.stdout, /\nchain\tnone\t-\t-\n$/);
    const session = await runCli([
      'summary',
      '--dir',
      join(project, '.loki/logs'),
      '--stream',
      'session',
      '--all',
      '--json',
    ]);
    assert.equal(session.code, 0, session.stderr);
    const s = JSON.parse(session.stdout);
    assert.deepEqual(
      [s.streams, s.files, s.total, s.failure, s.first, s.last, s.chain, s.jsChain, s.problemCount],
      [['session'], ['audit-20261201.jsonl'], 6, 2, '2026-12-01T20:04:27Z', '2026-12-01T20:04:28Z', null, null, 0],
    );
    assert.deepEqual(s.byEvent[0], { key: 'BLOCKED_COMMAND', count: 2 });
    assert.deepEqual(s.byActor, [{ key: 'root', count: 6 }]);
    // The project itself is its JS AuditLog: counted with its who/what view, its chain checked.
    const js = await runCli(['summary', '--dir', project, '--all']);
    assert.equal(js.code, 0, js.stderr);
    const j = plain(js.stdout);
    assert.deepEqual(
      ['total', 'actor\tclaude', 'event\tpolicy_violation', 'js-chain\tintact\t6'].map((k) => j.get(k)),
      ['6', '2', '1', '-'],
    );
  });

  it('agent audit lines out of time order (background writers): first and last are by time', async () => {
    const t = tempDir();
    try {
      writeFileSync(
        join(t.dir, 'agent-audit.jsonl'),
        ['20:00:05', '20:00:01', '20:00:09', '20:00:03']
          .map((ts, i) =>
            JSON.stringify({
              timestamp: `2026-12-01T${ts}Z`,
              action: 'cli_invoke',
              description: '',
              details: '',
              iteration: i,
              pid: 7,
            }),
          )
          .join('\n') + '\n',
      );
      const r = await runCli(['summary', '--dir', t.dir, '--all', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout);
      assert.deepEqual(
        [s.streams, s.total, s.first, s.last],
        [['agent'], 4, '2026-12-01T20:00:01Z', '2026-12-01T20:00:09Z'],
      );
      const window = assertExit(
        await runCli([
          'summary',
          '--dir',
          t.dir,
          '--since',
          '2026-12-01T20:00:02Z',
          '--until',
          '2026-12-01T20:00:06Z',
          '--json',
        ]),
        0,
      );
      assert.equal(JSON.parse(window.stdout).total, 2, window.stderr);
    } finally {
      t.cleanup();
    }
  });

  it('a runaway unclosed brace in a session file is reported at its line, with bounded memory, and the rest counted', async () => {
    const t = tempDir();
    try {
      const entry = (ts: string) =>
        `{\n  "timestamp": "${ts}",\n  "event": "SESSION_START",\n  "data": "",\n  "user": "u",\n  "pid": 1\n}\n`;
      // 8 MB of lines inside an object that never closes, then a good object.
      const runaway = '{\n' + `  "k": "${'v'.repeat(100)}",\n`.repeat(80_000);
      writeFileSync(
        join(t.dir, 'audit-20261201.jsonl'),
        entry('2026-12-01T10:00:00Z') + runaway + entry('2026-12-01T11:00:00Z'),
      );
      const r = await runCli(['summary', '--dir', t.dir, '--all', '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        r.stderr,
        'warning: audit-20261201.jsonl:8: object starting at line 8 is longer than the limit of 4194304 bytes ' +
          '(--max-line-bytes) without closing (an unclosed brace?): skipped up to the next line starting with {\n',
      );
      const s = JSON.parse(r.stdout);
      assert.deepEqual([s.total, s.problemCount, s.last], [2, 1, '2026-12-01T11:00:00Z']);
    } finally {
      t.cleanup();
    }
  });

  it('the chain line reports tampering in the files covered', async () => {
    const r = await runCli(['summary', '--dir', join(LOKI, 'extended/tampered/edited-field'), '--all']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^chain\ttampered\t149\taudit-2026-02-02\.jsonl:17$/m);
  });

  it('bad lines are skipped with a warning naming file and line', async () => {
    const r = await runCli(['summary', '--dir', join(LOKI, 'extended/tampered/non-object-line'), '--all']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^warning: audit-2026-02-02\.jsonl:12: line is valid JSON but not an object$/m);
    assert.match(r.stdout, /^total\t149$/m, 'the other 149 entries are counted');
    const u = await runCli(['summary', '--dir', join(LOKI, 'extended/tampered/invalid-utf8'), '--all']);
    assert.equal(u.code, 0, u.stderr);
    assert.match(u.stderr, /^warning: audit-2026-02-02\.jsonl:12: invalid UTF-8 at byte \d+ of the line$/m);
    assert.match(u.stdout, /^total\t149$/m);
  });

  it('never writes control characters or ANSI escapes from the log to the output', async () => {
    const t = tempDir();
    try {
      const evil = {
        timestamp: '2026-02-01T00:00:00+00:00',
        action: 'login\u001b[2J\u001b[31m',
        resource_type: 'auth',
        user_id: 'mal\rlory\u202e',
        success: false,
        error: 'x\u001b]0;pwned\u0007\nforged line',
        details: {},
      };
      writeFileSync(join(t.dir, 'audit-2026-02-01.jsonl'), JSON.stringify(evil) + '\n');
      for (const args of [[], ['--color', 'always']]) {
        const r = await runCli(['summary', '--dir', t.dir, '--all', '--no-chain', ...args]);
        assert.equal(r.code, 0, r.stderr);
        // eslint-disable-next-line no-control-regex
        const stripped = r.stdout.replace(/\u001b\[[0-9;]*m/g, ''); // our own colours only
        // eslint-disable-next-line no-control-regex
        assert.doesNotMatch(stripped, /[\u0000-\u0008\u000b-\u001f\u007f\u202e]/);
        assert.match(stripped, /login\\x1b\[2J\\x1b\[31m/);
        assert.match(stripped, /mal\\rlory\\u202e/);
        assert.match(stripped, /x\\x1b\]0;pwned\\x07\\nforged line/);
      }
    } finally {
      t.cleanup();
    }
  });

  it('bad times and flags exit 2 with a clear message', async () => {
    let r = await runCli(['summary', '--dir', join(LOKI, 'extended/valid/writer'), '--since', 'last tuesday']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cannot read time "last tuesday"/);
    r = await runCli([
      'summary',
      '--dir',
      join(LOKI, 'extended/valid/writer'),
      '--since',
      '2026-02-03',
      '--until',
      '2026-02-01',
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /empty window/);
    r = await runCli(['summary', '--top', 'x']);
    assert.equal(r.code, 2, r.stderr);
  });

  it('missing directory exits 3', async () => {
    const r = await runCli(['summary', '--dir', '/nonexistent/audit']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stderr, 'loki-audit: error: audit directory not found: /nonexistent/audit\n');
  });

  it('summary | head -1 exits quietly (EPIPE is not an error)', async () => {
    const t = tempDir();
    try {
      // 4000 distinct events: the output (>64 KiB) outlives head and hits a closed pipe.
      let prev = GENESIS_HASH;
      let text = '';
      for (let i = 0; i < 4000; i++) {
        const sealed = sealEntry(
          {
            timestamp: '2026-02-01T00:00:00+00:00',
            action: `act${i}`,
            resource_type: 'api',
            resource_id: null,
            user_id: `user${i}`,
            token_id: null,
            ip_address: null,
            user_agent: null,
            success: true,
            error: null,
            details: {},
          },
          prev,
        );
        text += sealed.line;
        prev = sealed.hash;
      }
      writeFileSync(join(t.dir, 'audit-2026-02-01.jsonl'), text);
      const out = await new Promise<{ code: number | null; stderr: string; first: string }>((resolve) => {
        const child = spawn(
          'bash',
          ['-o', 'pipefail', '-c', `node ${BIN} summary --all --top 5000 --dir ${t.dir} | head -1`],
          { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } },
        );
        let stderr = '';
        let first = '';
        child.stderr.on('data', (b) => (stderr += b));
        child.stdout.on('data', (b) => (first += b));
        child.on('close', (code) => resolve({ code, stderr, first }));
      });
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stderr, '');
      assert.equal(out.first, 'since\t-\n');
    } finally {
      t.cleanup();
    }
  });

  it(
    'a table on a terminal (cli-table3), plain when piped',
    { skip: spawnSync('script', ['--version']).status === 0 ? false : 'util-linux script not installed' },
    async () => {
      const piped = await runCli(['summary', '--dir', join(LOKI, 'extended/valid/writer'), '--all']);
      assert.equal(piped.code, 0, piped.stderr);
      assert.doesNotMatch(piped.stdout, /┌/);
      assert.match(piped.stdout, /^total\t150$/m, 'plain lines instead');
      const tty = spawnSync(
        'script',
        ['-qec', `node ${BIN} summary --all --dir ${join(LOKI, 'extended/valid/writer')}`, '/dev/null'],
        { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } },
      );
      assert.equal(tty.status, 0, tty.stdout + tty.stderr);
      assert.match(tty.stdout, /Audit summary {2}beginning \.\. now/);
      assert.match(tty.stdout, /│ api\.request +│ +21 │ +14\.0 │/);
      assert.match(tty.stdout, /Chain: intact \(150 entries verified/);
      // eslint-disable-next-line no-control-regex
      assert.doesNotMatch(tty.stdout, /\u001b\[/, 'NO_COLOR is honoured on a terminal');
    },
  );

  it('a numeric user_id is counted and shown exactly as written (plain, --json, recent failures)', async () => {
    const t = tempDir();
    try {
      writeDay(t.dir, [
        writerLine({ user_id: EXACT_NUMBERS.big }),
        writerLine({ user_id: EXACT_NUMBERS.big }),
        // 18446744073709551616 is the same double: it must still count as another actor.
        writerLine({ user_id: '18446744073709551616', error: EXACT_NUMBERS.one }, { success: false }),
      ]);
      const args = ['summary', '--dir', t.dir, '--all', '--no-chain'];
      const plain = assertExit(await runCli(args), 0).stdout.split('\n');
      assert.ok(plain.includes('actor\t18446744073709551617\t2'), plain.join('\n'));
      assert.ok(plain.includes('actor\t18446744073709551616\t1'), plain.join('\n'));
      assert.ok(
        plain.includes('failure-entry\t2026-02-01T00:00:00+00:00\tauth.login\t18446744073709551616\t1.0'),
        plain.join('\n'),
      );
      const json = JSON.parse(assertExit(await runCli([...args, '--json']), 0).stdout);
      assert.deepEqual(json.byActor, [
        { key: '18446744073709551617', count: 2 },
        { key: '18446744073709551616', count: 1 },
      ]);
      assert.equal(json.recentFailures[0].error, '1.0');
    } finally {
      t.cleanup();
    }
  });

  it("Loki Mode's action and resource-type split keeps numbers as written, NaN as NaN", async () => {
    const t = tempDir();
    try {
      writeDay(t.dir, [
        writerLine({ action: EXACT_NUMBERS.big, resource_type: EXACT_NUMBERS.one }),
        // The same double as …617, another action; -0.0 is not 0.
        writerLine({ action: '18446744073709551616', resource_type: EXACT_NUMBERS.negZero }),
        writerLine({ action: EXACT_NUMBERS.nan, resource_type: 'null' }),
        writerLine({}, { action: 'login', resource_type: 'auth' }),
      ]);
      const args = ['summary', '--dir', t.dir, '--all', '--no-chain', '--json'];
      const s = JSON.parse(assertExit(await runCli(args), 0).stdout);
      const keys = (counts: Array<{ key: string }>) => counts.map((c) => c.key).sort();
      assert.deepEqual(keys(s.byAction), ['18446744073709551616', '18446744073709551617', 'NaN', 'login']);
      assert.deepEqual(keys(s.byResourceType), ['-0.0', '1.0', 'auth', 'unknown']);
      const plain = assertExit(await runCli(args.slice(0, -1)), 0).stdout.split('\n');
      assert.ok(plain.includes('action\t18446744073709551617\t1'), plain.join('\n'));
      assert.ok(plain.includes('resource-type\t-0.0\t1'), plain.join('\n'));
    } finally {
      t.cleanup();
    }
  });

  it('--json escapes hostile characters on a terminal and in a pipe, with the same values', async () => {
    const t = tempDir();
    try {
      const entry = { ...writerEntry('2026-02-01T00:00:00+00:00', 'delete'), user_id: RAW_HOSTILE, success: false };
      writeDay(t.dir, [JSON.stringify({ ...entry, error: `e${RAW_HOSTILE}` })]);
      const args = ['summary', '--dir', t.dir, '--all', '--no-chain', '--json'];
      const piped = assertExit(await runCli(args), 0);
      assert.doesNotMatch(piped.stdout, UNSAFE_ON_TTY);
      assert.match(piped.stdout, /^\{\n {2}"dir": ".*",\n {2}"streams": \[\n/, 'indented, one member a line');
      const s = JSON.parse(piped.stdout);
      assert.deepEqual(s.byActor, [{ key: RAW_HOSTILE, count: 1 }]);
      assert.equal(s.recentFailures[0].error, `e${RAW_HOSTILE}`);
      if (!HAS_SCRIPT) return;
      const tty = await runCliOnTty(args);
      assert.equal(tty.code, 0, tty.output);
      assert.equal(tty.output, piped.stdout);
    } finally {
      t.cleanup();
    }
  });
});

describe('summary on unreadable input', () => {
  it('a file that cannot be read is named on stderr, the rest is summarized, exit 3', async () => {
    const { mkdirSync, cpSync } = await import('node:fs');
    const t = tempDir();
    try {
      cpSync(join(LOKI, 'extended/valid/writer'), t.dir, { recursive: true });
      mkdirSync(join(t.dir, 'audit-2026-02-04.jsonl'));
      const r = await runCli(['summary', '--dir', t.dir, '--all', '--no-chain']);
      assert.equal(r.code, 3, r.stderr);
      assert.match(
        r.stderr,
        /^warning: audit-2026-02-04\.jsonl:1: cannot read audit-2026-02-04\.jsonl: a directory, not a regular file$/m,
      );
      assert.match(
        r.stderr,
        /^loki-audit: error: 1 file\(s\) could not be read, their entries are missing: audit-2026-02-04\.jsonl$/m,
      );
      assert.match(r.stdout, /^total\t150$/m);
    } finally {
      t.cleanup();
    }
  });

  it('a 10 MB line is skipped with a warning at its line; memory stays bounded', async () => {
    const { cpSync, readFileSync } = await import('node:fs');
    const t = tempDir();
    try {
      cpSync(join(LOKI, 'extended/valid/writer'), t.dir, { recursive: true });
      const f = join(t.dir, 'audit-2026-02-01.jsonl');
      const lines = readFileSync(f, 'utf8').split('\n');
      lines.splice(3, 0, '{"x": "' + 'y'.repeat(10 * 1024 * 1024) + '"}');
      writeFileSync(f, lines.join('\n'));
      const r = await runCli(['summary', '--dir', t.dir, '--all', '--no-chain']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stderr,
        /^warning: audit-2026-02-01\.jsonl:4: line of 10485769 bytes is longer than the limit of 4194304 bytes \(--max-line-bytes\)$/m,
      );
      assert.match(r.stdout, /^total\t150$/m);
    } finally {
      t.cleanup();
    }
  });

  it('--timezone places the window; the JSON keeps UTC instants', async () => {
    const dir = join(LOKI, 'extended/valid/writer');
    const r = assertExit(
      await runCli([
        'summary',
        '--dir',
        dir,
        '--since',
        '2026-02-02',
        '--until',
        '2026-02-02',
        '--timezone',
        'America/New_York',
        '--json',
      ]),
      0,
    );
    const s = JSON.parse(r.stdout) as { since: string; until: string };
    assert.deepEqual([s.since, s.until], ['2026-02-02T05:00:00.000Z', '2026-02-03T05:00:00.000Z']);
    const tz = JSON.parse(
      assertExit(
        await runCli(['summary', '--dir', dir, '--since', '2026-02-01 09:00', '--until', '@1770000000', '--json'], {
          env: { TZ: 'Asia/Tokyo' },
        }),
        0,
      ).stdout,
    ) as { since: string; until: string };
    assert.deepEqual([tz.since, tz.until], ['2026-02-01T00:00:00.000Z', '2026-02-02T02:40:00.000Z']);
  });
});
