import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LOKI, runCli, tempDir } from '../helpers/cli.js';

const WRITER = join(LOKI, 'extended/valid/writer');

describe('search', () => {
  it('filters combine; exit 1 when nothing matched (like grep)', async () => {
    const r = await runCli(['search', '--dir', WRITER, '--event', 'api.*', '--level', 'error', '-o', 'jsonl']);
    assert.equal(r.code, 0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(rows.length > 0);
    assert.ok(rows.every((e) => e.resource_type === 'api' && e.success === false));
    const none = await runCli(['search', '--dir', WRITER, '--actor', 'nobody']);
    assert.equal(none.code, 1);
    assert.equal(none.stdout, '');
  });

  it('--level is that level and above; ranges; =level exactly', async () => {
    const count = async (...a: string[]) =>
      (await runCli(['search', '--dir', WRITER, '-o', 'jsonl', ...a])).stdout.split('\n').filter(Boolean).length;
    assert.equal(await count('--level', 'warning'), 63);
    assert.equal(await count('--level', 'error'), 38);
    assert.equal(await count('--level', 'info..warning'), 112);
    assert.equal(await count('--level', '=warning'), 25);
  });

  it('--field on a dotted path, --grep over the raw line, --user, --resource-type, --action', async () => {
    const f = await runCli(['search', '--dir', WRITER, '--field', 'details.agent=qa', '-o', 'jsonl']);
    assert.ok(
      f.stdout
        .trim()
        .split('\n')
        .every((l) => JSON.parse(l).details.agent === 'qa'),
    );
    const g = await runCli(['search', '--dir', WRITER, '--grep', 'quota exceeded', '-o', 'jsonl']);
    assert.ok(
      g.stdout
        .trim()
        .split('\n')
        .every((l) => l.includes('quota exceeded')),
    );
    const u = await runCli([
      'search',
      '--dir',
      WRITER,
      '--user',
      'bob',
      '--resource-type',
      'task',
      '--action',
      'st*',
      '-o',
      'jsonl',
    ]);
    for (const l of u.stdout.trim().split('\n')) {
      const e = JSON.parse(l);
      assert.equal(e.user_id, 'bob');
      assert.equal(e.resource_type, 'task');
      assert.match(e.action, /^st/);
    }
  });

  it('--limit, --offset and --reverse (newest first)', async () => {
    const all = (await runCli(['search', '--dir', WRITER, '-o', 'jsonl'])).stdout.trim().split('\n');
    const page = (await runCli(['search', '--dir', WRITER, '-o', 'jsonl', '--offset', '10', '--limit', '5'])).stdout
      .trim()
      .split('\n');
    assert.deepEqual(page, all.slice(10, 15));
    const rev = (await runCli(['search', '--dir', WRITER, '-o', 'jsonl', '--reverse', '--limit', '3'])).stdout
      .trim()
      .split('\n');
    assert.deepEqual(rev, all.slice(-3).reverse());
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
      assert.equal(r.stderr, '');
      const ts = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).timestamp as string);
      assert.ok(ts.length > 0 && ts.every((x) => x >= '2026-02-02T00:00:00' && x < '2026-02-02T06:00:00'));
    } finally {
      t.cleanup();
    }
  });

  it('text output escapes ANSI and control characters from the log; raw is byte-exact', async () => {
    const r = await runCli(['search', '--dir', WRITER, '--grep', 'ctl', '--color', 'always']);
    // eslint-disable-next-line no-control-regex
    const withoutOurColours = r.stdout.replace(/\u001b\[\d+m/g, '');
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(withoutOurColours, /[\u0000-\u0009\u000b-\u001f\u007f]/);
    const raw = await runCli(['search', '--dir', WRITER, '--grep', 'ctl', '-o', 'raw']);
    const lines = ['01', '02', '03']
      .flatMap((d) => readFileSync(join(WRITER, `audit-2026-02-${d}.jsonl`), 'utf8').split('\n'))
      .filter((l) => /ctl/.test(l));
    assert.equal(raw.stdout, lines.map((l) => l + '\n').join(''));
  });
});
