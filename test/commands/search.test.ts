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
        assert.deepEqual(value, JSON.parse(line), o);
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
      assert.equal(
        text.stdout,
        `2026-02-01T00:00:00+00:00 WARN  auth.login alice ok ${details.slice(0, 400)}…(+${details.length - 400})\n` +
          `2026-02-01T00:00:00+00:00 WARN  auth.login ${actor} ok {}\n`,
      );
      const json = assertExit(await runCli(['search', '--dir', t.dir, '-o', 'json']), 0, 'json');
      assert.equal(json.stdout, `[\n${l1},\n${l2}\n]\n`);
      const jsonl = assertExit(await runCli(['search', '--dir', t.dir, '-o', 'jsonl']), 0, 'jsonl');
      assert.equal(jsonl.stdout, `${l1}\n${l2}\n`);
      // The actor is matched too, as its JSON text.
      const byActor = assertExit(await runCli(['search', '--dir', t.dir, '--actor', '{"a":{"a":*', '-o', 'jsonl']), 0);
      assert.equal(byActor.stdout, `${l2}\n`);
      const byField = assertExit(
        await runCli(['search', '--dir', t.dir, '--field', 'details.a=[[[*', '-o', 'jsonl']),
        0,
      );
      assert.equal(byField.stdout, `${l1}\n`);
    } finally {
      t.cleanup();
    }
  });
});
