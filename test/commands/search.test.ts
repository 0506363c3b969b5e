/**
 * search: each filter returns exactly the fixture's entries that match it (all of them, and no
 * other), compared with the fixture's own lines selected here; exit 1 when nothing matched.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertExit, HAS_SCRIPT, LOKI, runCli, runCliOnTty, tempDir } from '../helpers/cli.js';
import { deepArray, deepLines, RAW_HOSTILE, UNSAFE_ON_TTY, writeDay, writerEntry } from '../helpers/hostile.js';

const WRITER = join(LOKI, 'extended/valid/writer');

interface WriterEntry {
  timestamp: string;
  action: string;
  resource_type: string;
  user_id: string | null;
  success: boolean;
  details: Record<string, unknown>;
}

/** The fixture's lines, in chain order. */
const fixtureLines = (): string[] =>
  ['01', '02', '03'].flatMap((d) =>
    readFileSync(join(WRITER, `audit-2026-02-${d}.jsonl`), 'utf8')
      .split('\n')
      .filter(Boolean),
  );

/** The fixture's lines whose entry passes `keep` (what a search must print with -o jsonl). */
const expected = (keep: (e: WriterEntry, line: string) => boolean): string[] =>
  fixtureLines().filter((l) => keep(JSON.parse(l) as WriterEntry, l));

/** Runs `search --dir WRITER -o jsonl ARGS`, asserts exit 0, returns the lines printed. */
async function search(...args: string[]): Promise<string[]> {
  const r = await runCli(['search', '--dir', WRITER, '-o', 'jsonl', ...args]);
  assert.equal(r.code, 0, `search ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}

describe('search', () => {
  it('filters combine; exit 1 when nothing matched (like grep)', async () => {
    const want = expected((e) => e.resource_type === 'api' && e.success === false);
    // Each condition alone selects more: the output shows both were applied.
    assert.ok(want.length > 0);
    assert.ok(expected((e) => e.resource_type === 'api').length > want.length);
    assert.ok(expected((e) => e.success === false).length > want.length);
    assert.deepEqual(await search('--event', 'api.*', '--level', 'error'), want);
    const none = await runCli(['search', '--dir', WRITER, '--actor', 'nobody']);
    assert.equal(none.code, 1, none.stderr);
    assert.equal(none.stdout, '');
  });

  it('--level is that level and above; ranges; =level exactly', async () => {
    const count = async (...a: string[]) => (await search(...a)).length;
    assert.equal(await count('--level', 'warning'), 63);
    assert.equal(await count('--level', 'error'), 38);
    assert.equal(await count('--level', 'info..warning'), 112);
    assert.equal(await count('--level', '=warning'), 25);
    assert.equal(await count('--level', 'debug'), 150);
  });

  it('--field on a dotted path, --grep over the raw line, --user, --resource-type, --action', async () => {
    const qa = expected((e) => e.details.agent === 'qa');
    assert.ok(qa.length > 0 && qa.length < 150);
    assert.deepEqual(await search('--field', 'details.agent=qa'), qa);
    const quota = expected((_e, l) => l.includes('quota exceeded'));
    assert.ok(quota.length > 0 && quota.length < 150);
    assert.deepEqual(await search('--grep', 'quota exceeded'), quota);
    const bob = (e: WriterEntry) => e.user_id === 'bob';
    const task = (e: WriterEntry) => e.resource_type === 'task';
    const st = (e: WriterEntry) => /^st/.test(e.action);
    const all3 = expected((e) => bob(e) && task(e) && st(e));
    assert.ok(all3.length > 0);
    // Without any one of the three, more entries match: each flag narrows the result.
    assert.ok(expected((e) => task(e) && st(e)).length > all3.length, 'without --user');
    assert.ok(expected((e) => bob(e) && task(e)).length > all3.length, 'without --action');
    assert.deepEqual(await search('--user', 'bob', '--resource-type', 'task', '--action', 'st*'), all3);
    // bob's st* entries are all tasks: another resource type leaves none.
    assert.deepEqual(
      expected((e) => bob(e) && st(e)),
      all3,
    );
    const other = await runCli([
      'search',
      '--dir',
      WRITER,
      '--user',
      'bob',
      '--resource-type',
      'api',
      '--action',
      'st*',
    ]);
    assert.equal(other.code, 1, other.stderr);
  });

  it('--limit, --offset and --reverse (newest first)', async () => {
    const all = await search();
    assert.deepEqual(all, fixtureLines());
    assert.deepEqual(await search('--offset', '10', '--limit', '5'), all.slice(10, 15));
    assert.deepEqual(await search('--reverse', '--limit', '3'), all.slice(-3).reverse());
  });

  it('the time window picks files by name (files outside are never opened) and entries by time', async () => {
    const t = tempDir();
    try {
      cpSync(WRITER, t.dir, { recursive: true });
      // An unreadable file outside the window is never opened: no warning about it.
      writeFileSync(join(t.dir, 'audit-2026-01-15.jsonl'), Buffer.from([0xff, 0xfe, 0x0a]));
      const r = await runCli([
        'search',
        '--dir',
        t.dir,
        '--since',
        '2026-02-02T00:00:00Z',
        '--until',
        '2026-02-02T06:00:00Z',
        '-o',
        'jsonl',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      const since = Date.parse('2026-02-02T00:00:00Z');
      const until = Date.parse('2026-02-02T06:00:00Z');
      const want = expected((e) => Date.parse(e.timestamp) >= since && Date.parse(e.timestamp) < until);
      assert.ok(want.length > 0 && want.length < 50);
      assert.deepEqual(r.stdout.split('\n').filter(Boolean), want);
      // The unreadable file is read when the window covers it: the warning above would show.
      const wide = await runCli(['search', '--dir', t.dir, '--since', '2026-01-15', '-o', 'jsonl']);
      assert.equal(wide.code, 0, wide.stderr);
      assert.match(wide.stderr, /audit-2026-01-15\.jsonl:1: /);
    } finally {
      t.cleanup();
    }
  });

  it('text output escapes ANSI and control characters from the log; raw is byte-exact', async () => {
    const lines = fixtureLines().filter((l) => /ctl/.test(l));
    assert.ok(lines.length > 0);
    const r = await runCli(['search', '--dir', WRITER, '--grep', 'ctl', '--color', 'always']);
    assert.equal(r.code, 0, r.stderr);
    // eslint-disable-next-line no-control-regex
    const withoutOurColours = r.stdout.replace(/\u001b\[\d+m/g, '');
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(withoutOurColours, /[\u0000-\u0009\u000b-\u001f\u007f]/);
    // One line per match, each with the control character shown escaped (not dropped).
    const text = withoutOurColours.split('\n').filter(Boolean);
    assert.equal(text.length, lines.length);
    for (const l of text) assert.match(l, /del\\x7f/);
    const raw = await runCli(['search', '--dir', WRITER, '--grep', 'ctl', '-o', 'raw']);
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(raw.stdout, lines.map((l) => l + '\n').join(''));
  });

  it('on a terminal, -o json, jsonl and raw escape what the log holds raw; into a pipe raw is the bytes', async () => {
    const t = tempDir();
    try {
      const line = JSON.stringify(writerEntry({ user_id: RAW_HOSTILE, error: `e${RAW_HOSTILE}` }));
      writeDay(t.dir, [line]);
      const piped = assertExit(await runCli(['search', '--dir', t.dir, '-o', 'raw']), 0);
      assert.equal(piped.stdout, line + '\n');
      if (!HAS_SCRIPT) return;
      for (const o of ['json', 'jsonl', 'raw']) {
        const r = await runCliOnTty(['search', '--dir', t.dir, '-o', o]);
        assert.equal(r.code, 0, r.output);
        assert.doesNotMatch(r.output, UNSAFE_ON_TTY, o);
        const value = o === 'json' ? JSON.parse(r.output)[0] : JSON.parse(r.output);
        // An entry without a hash: json and jsonl wrap it as unverified (docs/search.md), raw is the line.
        assert.deepEqual(o === 'raw' ? value : value.entry, JSON.parse(line), o);
        if (o !== 'raw') assert.equal(value.verified, false, o);
      }
    } finally {
      t.cleanup();
    }
  });

  it('a line nested 10,000 deep prints in text, json and jsonl (no RangeError), its JSON exactly as written', async () => {
    const t = tempDir();
    try {
      const depth = 10_000;
      const [l1, l2] = deepLines(depth);
      writeDay(t.dir, [l1, l2]);
      const details = `{"a":${deepArray(depth)}}`;
      const actor = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
      const text = assertExit(await runCli(['search', '--dir', t.dir]), 0, 'text');
      // Lines without a hash: marked unverified (docs/search.md#unverified-entries), wrapped in JSON.
      const tag = '[unverified: no-hash] ';
      const wrap = (l: string) => `{"verified":false,"unverified":"no-hash","entry":${l}}`;
      assert.equal(
        text.stdout,
        `${tag}2026-02-01T00:00:00+00:00 WARN  auth.login alice ` +
          `ok ${details.slice(0, 400)}…(+${details.length - 400})\n` +
          `${tag}2026-02-01T00:00:00+00:00 WARN  auth.login ${actor} ok {}\n`,
      );
      const json = assertExit(await runCli(['search', '--dir', t.dir, '-o', 'json']), 0, 'json');
      assert.equal(json.stdout, `[\n${wrap(l1)},\n${wrap(l2)}\n]\n`);
      const jsonl = assertExit(await runCli(['search', '--dir', t.dir, '-o', 'jsonl']), 0, 'jsonl');
      assert.equal(jsonl.stdout, `${wrap(l1)}\n${wrap(l2)}\n`);
      // The actor is matched too, as its JSON text.
      const byActor = assertExit(await runCli(['search', '--dir', t.dir, '--actor', '{"a":{"a":*', '-o', 'raw']), 0);
      assert.equal(byActor.stdout, `${l2}\n`);
      const byField = assertExit(await runCli(['search', '--dir', t.dir, '--field', 'details.a=[[[*', '-o', 'raw']), 0);
      assert.equal(byField.stdout, `${l1}\n`);
    } finally {
      t.cleanup();
    }
  });
});

const PROJECT = join(LOKI, 'field/project-streams');
const AGENT_LINES = readFileSync(join(PROJECT, '.loki/logs/agent-audit.jsonl'), 'utf8').split('\n').filter(Boolean);
const JS_LINES = readFileSync(join(PROJECT, '.loki/audit/audit.jsonl'), 'utf8').split('\n').filter(Boolean);

describe("search Loki Mode's other streams (spec §5)", () => {
  it('--stream agent: every line of agent-audit.jsonl as written, in file order; filters on its view', async () => {
    const all = await runCli(['search', '--dir', PROJECT, '--stream', 'agent', '-o', 'jsonl']);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stdout, AGENT_LINES.map((l) => l + '\n').join(''));
    const failed = await runCli(['search', '--dir', PROJECT, '--stream', 'agent', '--outcome', 'failure']);
    assert.equal(failed.code, 0, failed.stderr);
    assert.equal(
      failed.stdout,
      '2026-12-01T20:04:28Z ERROR policy_denied pid:21674 FAIL ' +
        'error="Policy denied execution" "enforcement=pre_tool"\n',
    );
    const invoked = await runCli(['search', '--dir', PROJECT, '--stream', 'agent', '--action', 'cli_*', '-o', 'jsonl']);
    assert.equal(invoked.code, 0, invoked.stderr);
    assert.deepEqual(
      invoked.stdout.split('\n').filter(Boolean),
      AGENT_LINES.filter((l) => l.includes('"cli_invoke"')),
    );
  });

  it('--stream session: pretty-printed and raw-tab objects, one strict JSON line each; text shows the data', async () => {
    const r = await runCli(['search', '--dir', PROJECT, '--stream', 'session', '-o', 'jsonl']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const entries = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      entries.map((e) => [e.timestamp, e.event, e.user]),
      [
        ['2026-12-01T20:04:27Z', 'SESSION_START', 'root'],
        ['2026-12-01T20:04:28Z', 'BLOCKED_COMMAND', 'root'],
        ['2026-12-01T20:04:28Z', 'PR_CREATED', 'root'],
        ['2026-12-01T20:04:28Z', 'STAGED_AUTONOMY_WAIT', 'root'],
        ['2026-12-01T20:04:28Z', 'BLOCKED_COMMAND', 'root'],
        ['2026-12-01T20:04:28Z', 'SESSION_END', 'root'],
      ],
    );
    assert.equal(entries[4].data, 'command=echo a\tb,pattern=tab\there');
    const text = await runCli([
      'search',
      '--dir',
      PROJECT,
      '--stream',
      'session',
      '--event',
      'BLOCKED_*',
      '--user',
      'root',
    ]);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(
      text.stdout,
      '2026-12-01T20:04:28Z ERROR BLOCKED_COMMAND root FAIL ' +
        'error="command=rm -rf / --no-preserve-root,pattern=rm -rf /"\n' +
        '2026-12-01T20:04:28Z ERROR BLOCKED_COMMAND root FAIL error="command=echo a\\tb,pattern=tab\\there"\n',
    );
    const started = assertExit(
      await runCli(['search', '--dir', PROJECT, '--stream', 'session', '--event', 'SESSION_START']),
      0,
    );
    assert.equal(
      started.stdout,
      '2026-12-01T20:04:27Z INFO  SESSION_START root ok ' +
        '"prd=./prd.md,dashboard=true,staged_autonomy=false,parallel=false"\n',
    );
  });

  it('a session file is named by the local date: its UTC entries are found a day either side of the name', async () => {
    const t = tempDir();
    try {
      // A host at UTC+1: just after local midnight on 12-02 it is still 12-01 in UTC.
      writeFileSync(
        join(t.dir, 'audit-20261202.jsonl'),
        '{\n  "timestamp": "2026-12-01T23:30:00Z",\n  "event": ' +
          '"SESSION_START",\n  "data": "",\n  "user": "u",\n  "pid": 1\n}\n',
      );
      const r = await runCli([
        'search',
        '--dir',
        t.dir,
        '--since',
        '2026-12-01',
        '--until',
        '2026-12-01',
        '-o',
        'jsonl',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        r.stdout,
        '{"timestamp":"2026-12-01T23:30:00Z","event":"SESSION_START","data":"","user":"u","pid":1}\n',
      );
      const other = await runCli(['search', '--dir', t.dir, '--since', '2026-12-02']);
      assert.equal(other.code, 1, other.stderr);
    } finally {
      t.cleanup();
    }
  });

  it('broken session objects are named with file and line, and the search goes on', async () => {
    const t = tempDir();
    try {
      writeFileSync(
        join(t.dir, 'audit-20261201.jsonl'),
        '{\n  "timestamp": "2026-12-01T10:00:00Z",\n  "event": "A",\n' + // torn: never closed
          '{"timestamp":"2026-12-01T10:00:01Z","event":"B","data":"x","user":"u","pid":1}\n' +
          '{"timestamp":"2026-12-01T10:00:02Z","event":C}\n' +
          '{\n  "timestamp": "2026-12-01T10:00:03Z",\n  "event": "D"\n}\n',
      );
      const r = await runCli(['search', '--dir', t.dir, '-o', 'jsonl']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        r.stdout
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l).event),
        ['B', 'D'],
      );
      assert.match(
        r.stderr,
        /^warning: audit-20261201\.jsonl:1: object starting at line 1 is not closed before line 4/m,
      );
      assert.match(r.stderr, /^warning: audit-20261201\.jsonl:5: malformed JSON object: /m);
    } finally {
      t.cleanup();
    }
  });

  it('the directory decides when no --stream is given: a project is its JS AuditLog; .loki/logs needs a choice', async () => {
    const js = await runCli(['search', '--dir', PROJECT, '-o', 'jsonl']);
    assert.equal(js.code, 0, js.stderr);
    assert.equal(js.stdout, JS_LINES.map((l) => l + '\n').join(''));
    const who = await runCli([
      'search',
      '--dir',
      join(PROJECT, '.loki/audit'),
      '--event',
      'policy_*',
      '--actor',
      'codex',
    ]);
    assert.equal(who.code, 0, who.stderr);
    assert.match(who.stdout, /^2026-12-01T20:04:32\.585Z INFO {2}policy_violation codex ok \{"provider":"codex"/);
    assert.equal(who.stdout.split('\n').filter(Boolean).length, 1);
    const logs = await runCli(['search', '--dir', join(PROJECT, '.loki/logs')]);
    assert.equal(logs.code, 2, logs.stderr);
    assert.match(
      logs.stderr,
      /^loki-audit: error: .*\/\.loki\/logs holds several audit streams: agent \(agent audit\), session \(session audit\); choose one with --stream$/m,
    );
    const missing = await runCli(['search', '--dir', WRITER, '--stream', 'agent']);
    assert.equal(missing.code, 3, missing.stderr);
    assert.match(missing.stderr, /no agent audit \(\.loki\/logs\/agent-audit\.jsonl\) in /);
  });

  it("without --dir a project's streams are looked for in the current directory", async () => {
    const r = await runCli(['search', '--stream', 'agent', '-o', 'jsonl'], { cwd: PROJECT });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n').filter(Boolean).length, AGENT_LINES.length);
  });

  it('--timezone, else TZ, places times typed without an offset; --utc overrides TZ', async () => {
    const inWindow = (from: string, to: string) =>
      expected((e) => Date.parse(e.timestamp) >= Date.parse(from) && Date.parse(e.timestamp) < Date.parse(to));
    // 2026-02-02 in New York (EST, UTC−5) is 05:00Z on the 2nd to 05:00Z on the 3rd.
    const ny = inWindow('2026-02-02T05:00:00Z', '2026-02-03T05:00:00Z');
    const utc = inWindow('2026-02-02T00:00:00Z', '2026-02-03T00:00:00Z');
    assert.ok(ny.length > 0 && utc.length > 0);
    assert.notDeepEqual(ny, utc);
    const day = ['--since', '2026-02-02', '--until', '2026-02-02'];
    assert.deepEqual(await search(...day, '--timezone', 'America/New_York'), ny);
    const withTz = async (tz: string, ...a: string[]) => {
      const r = await runCli(['search', '--dir', WRITER, '-o', 'jsonl', ...day, ...a], { env: { TZ: tz } });
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.split('\n').filter(Boolean);
    };
    assert.deepEqual(await withTz('America/New_York'), ny);
    assert.deepEqual(await withTz(':America/New_York'), ny);
    assert.deepEqual(await withTz('America/New_York', '--utc'), utc);
    assert.deepEqual(await search(...day), utc);
    // An offset in the input wins over the zone.
    const noon = ['--since', '2026-02-02T03:00:00Z', '--until', '2026-02-02T06:00:00+00:00'];
    assert.deepEqual(
      await search(...noon, '--timezone', 'Asia/Tokyo'),
      inWindow('2026-02-02T03:00:00Z', '2026-02-02T06:00:00Z'),
    );
  });

  it('text output shows times in the zone chosen, with the microseconds the log wrote', async () => {
    const first = async (env: NodeJS.ProcessEnv, ...a: string[]) => {
      const r = await runCli(['search', '--dir', WRITER, '--limit', '1', ...a], { env });
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.split(' ')[0];
    };
    assert.equal(await first({}), '2026-02-01T00:21:36.451467+00:00');
    assert.equal(await first({}, '--timezone', 'Asia/Kolkata'), '2026-02-01T05:51:36.451467+05:30');
    assert.equal(await first({ TZ: 'America/New_York' }), '2026-01-31T19:21:36.451467-05:00');
    assert.equal(await first({ TZ: 'America/New_York' }, '--utc'), '2026-02-01T00:21:36.451467+00:00');
    // A TZ this CLI cannot use (a file, a POSIX rule) is the system's: times stay as written.
    assert.equal(await first({ TZ: ':/etc/localtime' }), '2026-02-01T00:21:36.451467+00:00');
  });

  it('a bad time or zone is one line with examples, exit 2, no stack trace', async () => {
    const soon = assertExit(await runCli(['search', '--dir', WRITER, '--since', 'soon']), 2);
    assert.equal(soon.stdout, '');
    assert.match(
      soon.stderr,
      /^loki-audit: error: cannot read time "soon": use e\.g\. .*"today 09:00".*1h30m.*@1767225600.*this-week.*\n$/,
    );
    assert.equal(soon.stderr.split('\n').length, 2);
    const zone = assertExit(
      await runCli(['search', '--dir', WRITER, '--since', 'today', '--timezone', 'Mars/Olympus']),
      2,
    );
    assert.equal(
      zone.stderr,
      'loki-audit: error: unknown time zone "Mars/Olympus": use an IANA ' +
        'name (Europe/Berlin, America/New_York), UTC, or an offset (+05:30)\n',
    );
    const both = await runCli(['search', '--dir', WRITER, '--utc', '--timezone', 'UTC']);
    assert.equal(both.code, 2, both.stderr);
    assert.match(both.stderr, /^loki-audit: error: --timezone=UTC cannot also be provided when using --utc\n/);
  });

  it('-i/--ignore-case for --grep and the globs; without it case counts', async () => {
    const apiErrors = expected((e) => e.resource_type === 'api' && e.success === false);
    assert.deepEqual(await search('-i', '--event', 'API.*', '--level', 'ERROR'), apiErrors);
    const quota = expected((_e, l) => l.includes('quota exceeded'));
    assert.deepEqual(await search('--grep', 'QUOTA Exceeded', '--ignore-case'), quota);
    const bob = expected((e) => e.user_id === 'bob');
    assert.deepEqual(await search('--user', 'BOB', '-i'), bob);
    assert.deepEqual(await search('--actor', 'Bo?', '-i'), bob);
    const none = await runCli(['search', '--dir', WRITER, '--event', 'API.*']);
    assert.equal(none.code, 1, none.stderr);
  });

  it('a comma list equals the flag repeated (--event a,b = --event a --event b)', async () => {
    const either = expected((e) => ['task.start', 'api.request'].includes(`${e.resource_type}.${e.action}`));
    const tasks = expected((e) => `${e.resource_type}.${e.action}` === 'task.start');
    assert.ok(tasks.length > 0 && either.length > tasks.length);
    assert.deepEqual(await search('--event', 'task.start,api.request'), either);
    assert.deepEqual(await search('--event', 'task.start', '--event', 'api.request'), either);
    assert.deepEqual(
      await search('--event', 'task.start, api.*', '--event', 'nothing.here'),
      expected((e) => `${e.resource_type}.${e.action}` === 'task.start' || e.resource_type === 'api'),
    );
    const users = expected((e) => e.user_id === 'bob' || e.user_id === 'ci-bot');
    assert.deepEqual(await search('--user', 'bob,ci-bot'), users);
    assert.deepEqual(await search('--actor', 'bob,ci-bot'), users);
  });

  it('-c/--count prints the number of matches (0 and exit 1 for none, like grep -c)', async () => {
    const api = expected((e) => e.resource_type === 'api');
    const r = await runCli(['search', '--dir', WRITER, '-c', '--event', 'api.*']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${api.length}\n`);
    const json = assertExit(
      await runCli(['search', '--dir', WRITER, '--count', '--event', 'api.*', '-o', 'json', '--limit', '5']),
      0,
    );
    assert.equal(json.stdout, '5\n');
    const none = assertExit(await runCli(['search', '--dir', WRITER, '-c', '--actor', 'nobody']), 1);
    assert.equal(none.stdout, '0\n');
  });

  it('-q/--quiet prints nothing, not even warnings: the exit code says it', async () => {
    const t = tempDir();
    try {
      cpSync(WRITER, t.dir, { recursive: true });
      writeFileSync(join(t.dir, 'audit-2026-02-04.jsonl'), 'not json\n');
      // Without a filter every line is read (a filter's needle may pass over the bad line unread).
      const loud = assertExit(await runCli(['search', '--dir', t.dir, '-c']), 0);
      assert.match(loud.stderr, /warning: .*audit-2026-02-04\.jsonl:1/);
      for (const [args, code] of [
        [['-q', '--event', 'api.*'], 0],
        [['--quiet', '--actor', 'nobody'], 1],
      ] as const) {
        const r = await runCli(['search', '--dir', t.dir, ...args]);
        assert.deepEqual([r.code, r.stdout, r.stderr], [code, '', ''], args.join(' '));
      }
    } finally {
      t.cleanup();
    }
  });

  it('--field with !=, >, >=, <, <= on numbers and ISO times', async () => {
    const seq = (e: WriterEntry) => e.details.seq as number | undefined;
    const late = expected((e) => (seq(e) ?? -1) >= 100);
    assert.ok(late.length > 0 && late.length < 150);
    assert.deepEqual(await search('--field', 'details.seq>=100'), late);
    assert.deepEqual(await search('--field', 'details.seq>99', '--field', 'details.seq<=1e9'), late);
    assert.deepEqual(
      await search('--field', 'details.seq<100'),
      expected((e) => seq(e) !== undefined && seq(e)! < 100),
    );
    assert.deepEqual(
      await search('--field', 'details.source!=api'),
      expected((e) => e.details.source !== 'api'),
    );
    const t = Date.parse('2026-02-02T05:00:00Z');
    assert.deepEqual(
      await search('--field', 'timestamp>=2026-02-02T05:00:00Z', '--field', 'timestamp<2026-02-02T07:00:00+01:00'),
      expected((e) => Date.parse(e.timestamp) >= t && Date.parse(e.timestamp) < t + 3_600_000),
    );
    const bad = assertExit(await runCli(['search', '--dir', WRITER, '--field', 'details.status>=high']), 2);
    assert.match(bad.stderr, /^loki-audit: error: --field "details.status>=high": >= compares numbers .* or ISO times/);
  });

  it('nothing matched: on a terminal a value that cannot match as written gets a hint; in a pipe, silence', async (t) => {
    const args = ['search', '--dir', WRITER, '-g', '/quota exceeded/i', '--field', 'details.status=>500'];
    const piped = await runCli(args);
    assert.deepEqual([piped.code, piped.stdout, piped.stderr], [1, '', '']);
    if (!HAS_SCRIPT) return t.skip('no util-linux script for a pseudo-terminal');
    const tty = await runCliOnTty(args);
    assert.equal(tty.code, 1, tty.output);
    assert.equal(
      tty.output,
      "loki-audit: hint: --grep takes the expression without slashes and flags: -g 'quota exceeded' -i\n" +
        "loki-audit: hint: did you mean --field 'details.status>=500'?\n",
    );
    // A match, or -q: no hint.
    assert.equal((await runCliOnTty([...args.slice(0, 3), '-q', '-g', '/quota/'])).output, '');
  });
});
