import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertExit, LOKI, runCli, tempDir } from '../helpers/cli.js';
import {
  deepArray,
  deepLines,
  EXACT_DETAILS,
  EXACT_DETAILS_COMPACT,
  EXACT_NUMBERS,
  writeDay,
  writerLine,
} from '../helpers/hostile.js';
import { needsPython } from '../helpers/python.js';

const WRITER = join(LOKI, 'extended/valid/writer');
/** The fixture's entries, in chain order. */
const fixtureEntries = (): Array<{ resource_type: string; action: string }> =>
  ['01', '02', '03'].flatMap((d) =>
    readFileSync(join(WRITER, `audit-2026-02-${d}.jsonl`), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l)),
  );

describe('export', () => {
  it('jsonl keeps the original bytes: an unfiltered export verifies as the same chain', async () => {
    const t = tempDir();
    try {
      const out = join(t.dir, 'audit-2026-02-01.jsonl');
      const r = await runCli(['export', '--dir', WRITER, '-o', 'jsonl', '--output-file', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /exported 150 entries/);
      const original = ['01', '02', '03']
        .map((d) => readFileSync(join(WRITER, `audit-2026-02-${d}.jsonl`), 'utf8'))
        .join('');
      assert.equal(readFileSync(out, 'utf8'), original);
      const v = await runCli(['verify', '--dir', t.dir, '--json']);
      assert.equal(v.code, 0, v.stderr + v.stdout);
      assert.equal(JSON.parse(v.stdout).entriesVerified, 150);
    } finally {
      t.cleanup();
    }
  });

  it('json is one valid array, streamed; empty result is []', async () => {
    const r = await runCli(['export', '--dir', WRITER, '-o', 'json', '--event', 'auth.*']);
    assert.equal(r.code, 0, r.stderr);
    const arr = JSON.parse(r.stdout);
    assert.ok(Array.isArray(arr));
    // Exactly the fixture's auth.* entries, in order (a part of it, not all of it).
    const want = fixtureEntries().filter((e) => e.resource_type === 'auth');
    assert.ok(want.length > 0 && want.length < 150);
    assert.deepEqual(arr, want);
    const none = await runCli(['export', '--dir', WRITER, '-o', 'json', '--actor', 'nobody']);
    assert.equal(none.stdout, '[]\n');
    assert.equal(none.code, 0, none.stderr);
  });

  it('csv parses (Python csv module) to one row per entry, formulas neutralised', { skip: needsPython }, async () => {
    const r = await runCli(['export', '--dir', WRITER, '-o', 'csv']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n').length - 1, 151, 'one line per row');
    const py = spawnSync(
      'python3',
      ['-c', 'import csv,sys,json\nrows=list(csv.reader(sys.stdin))\nprint(json.dumps(rows))'],
      { input: r.stdout, encoding: 'utf8' },
    );
    assert.equal(py.status, 0, py.stderr);
    const rows = JSON.parse(py.stdout) as string[][];
    assert.equal(rows.length, 151);
    assert.equal(rows[0][0], 'timestamp');
    assert.ok(rows.every((row) => row.length === rows[0].length));
    for (const row of rows.slice(1)) for (const cell of row) assert.doesNotMatch(cell, /^[=+\-@]/, cell);
    // details stay valid JSON
    for (const row of rows.slice(1)) JSON.parse(row[rows[0].indexOf('details')]);
  });

  it('--output-file expands ~ and $HOME as every path flag does (a systemd unit passes them literally)', async () => {
    const t = tempDir();
    try {
      for (const given of ['~/a.jsonl', '$HOME/b.jsonl']) {
        const r = await runCli(['export', '--dir', WRITER, '-o', 'jsonl', '--output-file', given], {
          env: { HOME: t.dir },
          cwd: t.dir,
        });
        assert.equal(r.code, 0, r.stderr);
      }
      assert.deepEqual(readdirSync(t.dir).sort(), ['a.jsonl', 'b.jsonl'], 'no directory named ~ or $HOME');
      assert.equal(readFileSync(join(t.dir, 'a.jsonl'), 'utf8'), readFileSync(join(t.dir, 'b.jsonl'), 'utf8'));
      assert.ok(readFileSync(join(t.dir, 'a.jsonl'), 'utf8').length > 0);
    } finally {
      t.cleanup();
    }
  });

  it('--output-file refuses to overwrite without --force and never leaves a half file', async () => {
    const t = tempDir();
    try {
      const out = join(t.dir, 'x.csv');
      writeFileSync(out, 'keep me');
      const r = await runCli(['export', '--dir', WRITER, '-o', 'csv', '--output-file', out]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /exists: use --force/);
      assert.equal(readFileSync(out, 'utf8'), 'keep me');
      const f = await runCli(['export', '--dir', WRITER, '-o', 'csv', '--output-file', out, '--force']);
      assert.equal(f.code, 0, f.stderr);
      assert.match(readFileSync(out, 'utf8'), /^timestamp,event/);
      // A failing export (unreadable input directory) leaves neither the target nor a temp file.
      const bad = join(t.dir, 'y.csv');
      const e = await runCli(['export', '--dir', join(t.dir, 'missing'), '--output-file', bad]);
      assert.equal(e.code, 3, e.stderr);
      assert.ok(!existsSync(bad));
      assert.deepEqual(
        readdirSync(t.dir).filter((n) => n.endsWith('.tmp')),
        [],
      );
    } finally {
      t.cleanup();
    }
  });

  it(
    '-o is the format; --output FILE (before 0.1.0) is ' + 'refused with the --output-file hint, no file written',
    async () => {
      const t = tempDir();
      try {
        const r = await runCli(['export', '--dir', WRITER, '--output', 'audit.csv'], { cwd: t.dir });
        assert.equal(r.code, 2, r.stderr);
        assert.equal(
          r.stderr,
          'loki-audit: error: Expected --output=audit.csv to be one of: ' +
            'json, jsonl, csv, syslog, rfc5424, rfc3164, cef, leef, ecs, hec\n' +
            'loki-audit: hint: --output is the format; to write a file: --output-file audit.csv\n' +
            'loki-audit: hint: see: loki-audit export --help\n',
        );
        assert.deepEqual(readdirSync(t.dir), []);
        const csv = assertExit(await runCli(['export', '--dir', WRITER, '-o', 'csv']), 0);
        assert.equal(csv.stderr, '');
        assert.equal(assertExit(await runCli(['export', '--dir', WRITER, '--output=csv']), 0).stdout, csv.stdout);
      } finally {
        t.cleanup();
      }
    },
  );

  it('-F/--format still choose the format, with a deprecation warning on stderr', async () => {
    const csv = assertExit(await runCli(['export', '--dir', WRITER, '-o', 'csv']), 0).stdout;
    for (const old of ['-F', '--format']) {
      const r = assertExit(await runCli(['export', '--dir', WRITER, old, 'csv']), 0, old);
      assert.equal(r.stdout, csv, old);
      assert.equal(
        r.stderr,
        `loki-audit: warning: The "${old}" flag has been deprecated. Use "--output | -o" instead.\n`,
      );
    }
  });

  it('--output-file json writes a file named json, with a hint that the format is -o json', async () => {
    const t = tempDir();
    try {
      const r = assertExit(await runCli(['export', '--dir', WRITER, '--output-file', 'json'], { cwd: t.dir }), 0);
      const n = fixtureEntries().length;
      assert.equal(
        r.stderr,
        `exported ${n} entries to json\nloki-audit: hint: wrote a file named json; for the format json, use -o json\n`,
      );
      assert.equal(readFileSync(join(t.dir, 'json'), 'utf8').split('\n').filter(Boolean).length, n);
      const named = assertExit(
        await runCli(['export', '--dir', WRITER, '--output-file', 'json.jsonl'], { cwd: t.dir }),
        0,
      );
      assert.equal(named.stderr, `exported ${n} entries to json.jsonl\n`);
    } finally {
      t.cleanup();
    }
  });

  it('syslog lines: one per entry, PRI from the level, never longer than the limit', async () => {
    const r = await runCli(['export', '--dir', WRITER, '-o', 'syslog']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, 150);
    const pris = lines.map((l) => Number(/^<(\d+)>/.exec(l)?.[1]));
    assert.equal(pris.filter((p) => p === 132).length, 63); // 38 failures + 25 security actions
    assert.equal(pris.filter((p) => p === 134).length, 87);
    for (const l of lines) assert.ok(Buffer.byteLength(l.replace(/^<\d+>/, '')) <= 1024);
  });

  it('an unfiltered export of a copied directory with a bad line warns with file:line and goes on', async () => {
    const t = tempDir();
    try {
      cpSync(join(LOKI, 'extended/tampered/non-object-line'), t.dir, { recursive: true });
      const r = await runCli(['export', '--dir', t.dir, '-o', 'jsonl']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /^warning: audit-2026-02-02\.jsonl:12: line is valid JSON but not an object$/m);
      assert.equal(r.stdout.split('\n').filter(Boolean).length, 149);
    } finally {
      t.cleanup();
    }
  });
  it('csv and json keep numbers as written: 2^64+1, 1.0, -0.0, 1E5; NaN as written in csv, null in json', async () => {
    const t = tempDir();
    try {
      const line = writerLine({ user_id: EXACT_NUMBERS.big, details: EXACT_DETAILS });
      writeDay(t.dir, [line]);
      const csv = assertExit(await runCli(['export', '--dir', t.dir, '-o', 'csv']), 0).stdout.split('\n')[1];
      assert.equal(
        csv,
        '2026-02-01T00:00:00+00:00,auth.login,warning,18446744073709551617,' +
          'success,login,auth,,18446744073709551617,,,,true,,' +
          `"${EXACT_DETAILS_COMPACT.replace(/"/g, '""')}",,,audit-2026-02-01.jsonl,1,false,no-hash`,
      );
      // No hash: wrapped as unverified (docs/export.md#unverified-entries), the entry inside as written.
      const json = assertExit(await runCli(['export', '--dir', t.dir, '-o', 'json']), 0).stdout;
      assert.equal(
        json,
        `[\n{"verified":false,"unverified":"no-hash","entry":${line.replace(/: (NaN|-?Infinity)\b/g, ': null')}}\n]\n`,
      );
    } finally {
      t.cleanup();
    }
  });

  it('a line nested 10,000 deep exports in every format (no RangeError), JSON exactly as written', async () => {
    const t = tempDir();
    try {
      const depth = 10_000;
      const [l1, l2] = deepLines(depth);
      writeDay(t.dir, [l1, l2]);
      const run = async (format: string) =>
        assertExit(await runCli(['export', '--dir', t.dir, '-o', format]), 0, format).stdout;
      const quoted = (s: string) => `"${s.replace(/"/g, '""')}"`;
      const details = `{"a":${deepArray(depth)}}`;
      const actor = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
      const csv = (await run('csv')).split('\n');
      assert.deepEqual(csv.slice(1), [
        `2026-02-01T00:00:00+00:00,auth.login,warning,alice,success,login,auth,,` +
          `alice,,,,true,,${quoted(details)},,,audit-2026-02-01.jsonl,1,false,no-hash`,
        `2026-02-01T00:00:00+00:00,auth.login,warning,${quoted(actor)},success,login,` +
          `auth,,${quoted(actor)},,,,true,,{},,,audit-2026-02-01.jsonl,2,false,no-hash`,
        '',
      ]);
      // Lines without a hash: wrapped as unverified (docs/export.md#unverified-entries).
      const wrap = (l: string) => `{"verified":false,"unverified":"no-hash","entry":${l}}`;
      assert.equal(await run('json'), `[\n${wrap(l1)},\n${wrap(l2)}\n]\n`);
      assert.equal(await run('jsonl'), `${wrap(l1)}\n${wrap(l2)}\n`);
      for (const format of ['syslog', 'rfc5424', 'rfc3164']) {
        const lines = (await run(format)).split('\n').filter(Boolean);
        assert.equal(lines.length, 2, format);
        for (const [i, l] of lines.entries()) {
          assert.ok(Buffer.byteLength(l) - '<132>'.length <= (format === 'syslog' ? 1024 : 2048), format);
          assert.match(l, /…\[truncated \d+ bytes\]$/, format);
          assert.match(
            l,
            format === 'rfc5424'
              ? new RegExp(`file="audit-2026-02-01\\.jsonl" line="${i + 1}" verified="false" unverified="no-hash"`)
              : new RegExp(`file=audit-2026-02-01\\.jsonl line=${i + 1} verified=false unverified=no-hash entry=\\{`),
            format,
          );
        }
        assert.match(
          lines[1],
          format === 'rfc5424'
            ? /actor="\{\\"a\\":\{\\"a\\":.*…\[truncated \d+ bytes\\\]"/
            : /actor="\{\\"a\\":\{\\"a\\":.*…\[truncated \d+ bytes\]" outcome=success/,
          format,
        );
      }
    } finally {
      t.cleanup();
    }
  });
});

describe("export of Loki Mode's other streams (spec §5)", () => {
  const PROJECT = join(LOKI, 'field/project-streams');
  const lines = (rel: string) => readFileSync(join(PROJECT, rel), 'utf8').split('\n').filter(Boolean);

  it('agent audit: json is the array of its entries; jsonl its lines as written', async () => {
    const json = await runCli(['export', '--dir', PROJECT, '--stream', 'agent', '-o', 'json']);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(
      JSON.parse(json.stdout),
      lines('.loki/logs/agent-audit.jsonl').map((l) => JSON.parse(l)),
    );
    const jsonl = assertExit(await runCli(['export', '--dir', PROJECT, '--stream', 'agent']), 0);
    assert.equal(jsonl.stdout, lines('.loki/logs/agent-audit.jsonl').join('\n') + '\n');
  });

  it('session audit: one CSV row per object (its first line), jsonl one strict JSON line per object', async () => {
    const csv = await runCli(['export', '--dir', PROJECT, '--stream', 'session', '-o', 'csv']);
    assert.equal(csv.code, 0, csv.stderr);
    const rows = csv.stdout.trimEnd().split('\n');
    assert.equal(rows.length, 7);
    assert.deepEqual(
      // The last columns: line, then verified and unverified, empty (the session audit has no chain).
      rows.slice(1).map((r) => r.split(',').slice(0, 5).concat(r.split(',').slice(-3, -2))),
      [
        ['2026-12-01T20:04:27Z', 'SESSION_START', 'info', 'root', 'success', '1'],
        ['2026-12-01T20:04:28Z', 'BLOCKED_COMMAND', 'error', 'root', 'failure', '8'],
        ['2026-12-01T20:04:28Z', 'PR_CREATED', 'info', 'root', 'success', '15'],
        ['2026-12-01T20:04:28Z', 'STAGED_AUTONOMY_WAIT', 'info', 'root', 'success', '22'],
        ['2026-12-01T20:04:28Z', 'BLOCKED_COMMAND', 'error', 'root', 'failure', '23'],
        ['2026-12-01T20:04:28Z', 'SESSION_END', 'info', 'root', 'success', '24'],
      ],
    );
    const jsonl = await runCli(['export', '--dir', join(PROJECT, '.loki/logs'), '--stream', 'session']);
    assert.equal(jsonl.code, 0, jsonl.stderr);
    const out = jsonl.stdout.trimEnd().split('\n');
    assert.equal(out.length, 6);
    assert.deepEqual(JSON.parse(out[4]), {
      timestamp: '2026-12-01T20:04:28Z',
      event: 'BLOCKED_COMMAND',
      data: 'command=echo a\tb,pattern=tab\there',
      user: 'root',
      pid: 21674,
    });
  });

  it('the JS AuditLog (a project directory): its lines as written, its who/what in the syslog fields', async () => {
    const jsonl = await runCli(['export', '--dir', PROJECT]);
    assert.equal(jsonl.code, 0, jsonl.stderr);
    assert.equal(jsonl.stdout, lines('.loki/audit/audit.jsonl').join('\n') + '\n');
    const syslog = await runCli(['export', '--dir', PROJECT, '--stream', 'js', '-o', 'syslog', '--event', 'policy_*']);
    assert.equal(syslog.code, 0, syslog.stderr);
    assert.match(
      syslog.stdout,
      /^<134>time=2026-12-01T20:04:32\.585Z event=policy_violation level=info actor=codex outcome=success chain_hash=6bc4b950[0-9a-f]{56} file=audit\.jsonl line=3 entry=\{"seq":2,/,
    );
  });
});

describe('pipes', () => {
  it(
    'search -o raw | verify --stdin: the output of an unfiltered ' +
      'search verifies; a window verifies from --start-hash',
    async () => {
      const raw = await runCli(['search', '--dir', WRITER, '-o', 'raw']);
      assert.equal(raw.code, 0, raw.stderr);
      const v = await runCli(['verify', '--stdin', '--json'], { input: raw.stdout });
      assert.equal(v.code, 0, v.stderr + v.stdout);
      assert.equal(JSON.parse(v.stdout).entriesVerified, 150);
      const day1 = readFileSync(join(WRITER, 'audit-2026-02-01.jsonl'), 'utf8').trim().split('\n');
      const head = JSON.parse(day1[day1.length - 1])._integrity_hash as string;
      const rest = await runCli(['search', '--dir', WRITER, '-o', 'raw', '--since', '2026-02-02']);
      assert.equal(rest.code, 0, rest.stderr);
      assert.equal(rest.stdout.split('\n').filter(Boolean).length, 100);
      const ok = await runCli(['verify', '--stdin', '--start-hash', head, '-q'], { input: rest.stdout });
      assert.equal(ok.code, 0, ok.stderr);
      const mid = await runCli(['verify', '--stdin', '-q'], { input: rest.stdout });
      assert.equal(mid.code, 6, `without the start hash the window starts mid-chain: ${mid.stderr}`);
      const bad = await runCli(['verify', '--stdin', '--start-hash', 'xyz'], { input: '' });
      assert.equal(bad.code, 2, bad.stderr);
    },
  );

  it('search | head -1 ends quietly', async () => {
    const r = spawnSync('bash', ['-o', 'pipefail', '-c', `node bin/run.js search --dir '${WRITER}' -o raw | head -1`], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout.split('\n').length, 2);
  });
});
