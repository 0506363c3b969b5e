/**
 * `verify` over several directories (a fleet): 50 generated directories, some intact, some
 * tampered (an entry edited), some torn (the last line cut), one listed but missing, one empty,
 * verified with one command by `--dir` repeated, `--dirs-from` and a glob; every directory's
 * verdict line, the summary line, the most severe exit code, `--json`, `--quiet`, the metrics
 * file, the refused one-directory flags, and the peak RSS of the run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSample } from '../../scripts/sample.js';
import { spawnSync } from 'node:child_process';
import { assertExit, runCli, runMeasured } from '../helpers/cli.js';
import { NODE_EXPORTER, startNodeExporter } from '../helpers/node-exporter.js';

type Kind = 'intact' | 'tampered' | 'torn' | 'missing' | 'empty';

/** The kind of directory `i` of the 50. */
function kind(i: number): Kind {
  if (i === 7) return 'missing';
  if (i === 13) return 'empty';
  return (['intact', 'tampered', 'torn', 'intact'] as const)[i % 4];
}

/** The verdict line `verify` prints for directory `dir` of kind `k` (up to its counts). */
const LINE: Record<Kind, (dir: string) => RegExp> = {
  intact: (d) => new RegExp(`^intact  ${esc(d)}: 2 file\\(s\\), 40 entries verified \\(exit 0\\)$`),
  tampered: (d) =>
    new RegExp(
      `^TAMPERED  ${esc(d)}: 2 file\\(s\\), \\d+ entries verified; first ` +
        `problem audit-2026-03-01\\.jsonl:5 \\(hash-mismatch\\).* \\(exit 1\\)$`,
    ),
  torn: (d) =>
    new RegExp(
      `^incomplete last line  ${esc(d)}: 2 file\\(s\\), 39 entries verified; ` +
        `first problem audit-2026-03-02\\.jsonl:20 \\(torn-last-line\\) \\(exit 4\\)$`,
    ),
  missing: (d) => new RegExp(`^error  ${esc(d)}: audit directory not found: ${esc(d)} \\(exit 3\\)$`),
  empty: (d) => new RegExp(`^error  ${esc(d)}: no audit files .* \\(exit 3\\)$`),
};
const EXIT: Record<Kind, number> = { intact: 0, tampered: 1, torn: 4, missing: 3, empty: 3 };
const VERDICT: Record<Kind, string> = {
  intact: 'intact',
  tampered: 'tampered',
  torn: 'incomplete',
  missing: 'error',
  empty: 'error',
};

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

describe('verify: several directories (a fleet)', () => {
  let root: string;
  const dirs: string[] = [];
  const kinds: Kind[] = [];

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'loki-audit-fleet-'));
    for (let i = 0; i < 50; i++) {
      const dir = join(root, `host-${String(i).padStart(2, '0')}`, 'audit');
      dirs.push(dir);
      kinds.push(kind(i));
      if (kind(i) === 'missing') continue;
      mkdirSync(dir, { recursive: true });
      if (kind(i) === 'empty') continue;
      generateSample(dir, { seed: 100 + i, startDate: '2026-03-01', perDay: [20, 20] });
      const files = readdirSync(dir).sort();
      assert.deepEqual(files, ['audit-2026-03-01.jsonl', 'audit-2026-03-02.jsonl']);
      if (kind(i) === 'tampered') {
        // An entry's content edited after it was written: line 5 of the first day.
        const path = join(dir, files[0]);
        const lines = readFileSync(path, 'utf8').split('\n');
        const edited = lines[4].replace(/"action": "[a-z_]+"/, '"action": "edited"');
        assert.notEqual(edited, lines[4]);
        lines[4] = edited;
        writeFileSync(path, lines.join('\n'));
      }
      if (kind(i) === 'torn') {
        // A writer that crashed mid-append: the last line cut in half, no newline.
        const path = join(dir, files[1]);
        const text = readFileSync(path, 'utf8').replace(/\n$/, '');
        const last = text.lastIndexOf('\n');
        writeFileSync(path, text.slice(0, last + 1 + Math.floor((text.length - last) / 2)));
      }
    }
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  /** Checks every directory's verdict line, in order, and the summary line. */
  function assertLines(stdout: string, expected: { dir: string; kind: Kind }[]): void {
    const lines = stdout.trimEnd().split('\n');
    assert.equal(lines.length, expected.length + 1, stdout);
    expected.forEach((e, i) => assert.match(lines[i], LINE[e.kind](e.dir), `directory ${i} (${e.kind})`));
    const count = (k: string) => expected.filter((e) => VERDICT[e.kind] === k).length;
    const parts = (
      [
        ['tampered', count('tampered')],
        ['incomplete', count('incomplete')],
        ['intact', count('intact')],
        ['error', count('error')],
      ] as const
    )
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${n} ${k}`);
    assert.equal(lines.at(-1), `${expected.length} directories: ${parts.join(', ')} (exit 1)`);
  }

  it('--dir repeated: one verdict line per directory in the order given, a summary line, exit 1', async () => {
    const r = assertExit(await runCli(['verify', ...dirs.flatMap((d) => ['--dir', d])]), 1);
    assertLines(
      r.stdout,
      dirs.map((dir, i) => ({ dir, kind: kinds[i] })),
    );
    assert.equal(r.stderr, '');
  });

  it('--json: one document, a report per directory and the summary', async () => {
    const r = assertExit(await runCli(['verify', '--json', ...dirs.flatMap((d) => ['--dir', d])]), 1);
    const doc = JSON.parse(r.stdout) as {
      directories: { dir: string; verdict: string; exitCode: number; entriesVerified?: number; error?: string }[];
      summary: { directories: number; classes: Record<string, number>; failing: number; exitCode: number; ok: boolean };
    };
    assert.deepEqual(
      doc.directories.map((d) => [d.dir, d.verdict, d.exitCode]),
      dirs.map((d, i) => [d, VERDICT[kinds[i]], EXIT[kinds[i]]]),
    );
    for (const [i, d] of doc.directories.entries()) {
      if (kinds[i] === 'intact') assert.equal(d.entriesVerified, 40);
      if (kinds[i] === 'missing') assert.match(d.error ?? '', /not found/);
    }
    const n = (k: Kind) => kinds.filter((x) => x === k).length;
    assert.equal(doc.summary.directories, 50);
    assert.equal(doc.summary.classes.intact, n('intact'));
    assert.equal(doc.summary.classes.tampered, n('tampered'));
    assert.equal(doc.summary.classes.incomplete, n('torn'));
    assert.equal(doc.summary.classes.error, 2);
    assert.equal(doc.summary.failing, 50 - n('intact'));
    assert.deepEqual([doc.summary.exitCode, doc.summary.ok], [1, false]);
  });

  it('--dirs-from FILE (comments, blank lines, a glob line) and a glob argument give the same verdicts', async () => {
    const list = join(root, 'fleet.list');
    writeFileSync(list, `# the fleet\n\n${dirs.slice(0, 25).join('\n')}\n  ${join(root, 'host-[234]?', 'audit')}  \n`);
    const fromFile = assertExit(await runCli(['verify', '--dirs-from', list]), 1);
    const expected = dirs.map((dir, i) => ({ dir, kind: kinds[i] }));
    // host-20..host-49 by the glob, the ones already listed (20..24) once, the missing one not matched.
    assertLines(fromFile.stdout, expected);
    const viaStdin = assertExit(await runCli(['verify', '--dirs-from', '-'], { input: readFileSync(list) }), 1);
    assert.equal(viaStdin.stdout, fromFile.stdout);
    const glob = assertExit(await runCli(['verify', join(root, 'host-*', 'audit')]), 1);
    assertLines(
      glob.stdout,
      expected.filter((e) => e.kind !== 'missing'),
    );
  });

  it('a tampered directory is never hidden by an unreadable one, nor a torn one by an intact one', async () => {
    const missing = dirs[kinds.indexOf('missing')];
    const tampered = dirs[kinds.indexOf('tampered')];
    const torn = dirs[kinds.indexOf('torn')];
    const intact = dirs[kinds.indexOf('intact')];
    assertExit(await runCli(['verify', '--dir', missing, '--dir', tampered, '--dir', torn]), 1);
    assertExit(await runCli(['verify', '--dir', torn, '--dir', missing]), 3);
    assertExit(await runCli(['verify', '--dir', intact, '--dir', torn]), 4);
    // --dir takes several values (an unquoted glob the shell expanded).
    assertExit(await runCli(['verify', '--dir', intact, torn]), 4);
    assertExit(await runCli(['verify', '--dir', intact, '--dir', intact.replace('host-00', 'host-03')]), 0);
    const nothing = assertExit(await runCli(['verify', join(root, 'nope-*')]), 3);
    assert.match(
      nothing.stdout,
      /^error {2}.*nope-\*: no directory matches \(exit 3\)\n1 directory: 1 error \(exit 3\)\n$/,
    );
  });

  it('--quiet prints only the failing directories (with their next steps) and the summary; nothing when all pass', async () => {
    const r = assertExit(await runCli(['verify', '-q', ...dirs.slice(0, 8).flatMap((d) => ['--dir', d])]), 1);
    const verdicts = r.stdout.split('\n').filter((l) => /^\S/.test(l));
    const failing = dirs.slice(0, 8).filter((_, i) => kinds[i] !== 'intact');
    assert.deepEqual(
      verdicts.slice(0, -1).map((l) => l.split('  ')[1].replace(/:.*/, '')),
      failing,
    );
    assert.match(r.stdout, /\n {2}next:\n {4}loki-audit search --dir /);
    assert.equal(verdicts.at(-1), '8 directories: 2 tampered, 2 incomplete, 3 intact, 1 error (exit 1)');
    const quiet = assertExit(await runCli(['verify', '-q', '--dir', dirs[0], '--dir', dirs[3]]), 0);
    assert.equal(quiet.stdout, '');
  });

  it(
    '--metrics-file: one series per directory, with its own ' +
      'verdict and exit code; promtool and node_exporter take it',
    async () => {
      const textfiles = join(root, 'textfiles');
      mkdirSync(textfiles, { recursive: true });
      const prom = join(textfiles, 'fleet.prom');
      const eight = dirs.slice(0, 8);
      assertExit(await runCli(['verify', '--metrics-file', prom, ...eight.flatMap((d) => ['--dir', d])]), 1);
      const text = readFileSync(prom, 'utf8');
      for (const [i, d] of eight.entries()) {
        assert.ok(text.includes(`loki_audit_verify_verdict{dir="${d}",class="${VERDICT[kinds[i]]}"} 1\n`), d);
        assert.ok(text.includes(`loki_audit_verify_exit_code{dir="${d}"} ${EXIT[kinds[i]]}\n`), d);
      }
      assert.equal(text.match(/^# TYPE loki_audit_verify_verdict /gm)?.length, 1, 'one family, many series');
      if (spawnSync('promtool', ['--version']).status === 0) {
        const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
        assert.equal(check.status, 0, check.stdout + check.stderr);
      }
      if (!NODE_EXPORTER) return;
      const ne = await startNodeExporter(textfiles);
      try {
        const samples = await ne.scrape();
        assert.ok(
          samples.some((x) => x.name === 'node_textfile_scrape_error' && x.value === 0),
          ne.log(),
        );
        for (const [i, d] of eight.entries()) {
          const verdict = samples.filter((x) => x.name === 'loki_audit_verify_verdict' && x.labels.dir === d);
          assert.deepEqual(
            verdict.filter((x) => x.value === 1).map((x) => x.labels.class),
            [VERDICT[kinds[i]]],
            d,
          );
        }
      } finally {
        await ne.stop();
      }
    },
  );

  it('flags that hold one directory (--state, --checkpoints, --expect-head, --against-loki) are refused, exit 2', async () => {
    const r = assertExit(await runCli(['verify', '--dir', dirs[0], '--dir', dirs[3], '--state', join(root, 's')]), 2);
    assert.equal(
      r.stderr.split('\n')[0],
      "loki-audit: error: --state remembers one directory's verified " +
        'chain: it cannot be used with several directories (2 given)',
    );
    const head = 'a'.repeat(64);
    assertExit(await runCli(['verify', join(root, 'host-0*', 'audit'), '--expect-head', head]), 2);
  });

  it('a directory name with a newline or escape cannot forge a line', async () => {
    const odd = join(root, 'odd\nintact  /forged: 1 file(s)\u001b[2J', 'audit');
    mkdirSync(odd, { recursive: true });
    generateSample(odd, { seed: 3, startDate: '2026-03-01', perDay: [5] });
    const r = assertExit(await runCli(['verify', '--dir', odd, '--dir', dirs[0]]), 0);
    assert.equal(r.stdout.split('\n').length, 4, r.stdout);
    assert.ok(!r.stdout.includes('\u001b'));
  });

  it('memory stays flat: the 50-directory run stays under 200 MB peak RSS', async () => {
    const r = await runMeasured(['verify', ...dirs.flatMap((d) => ['--dir', d])], join(root, 'rss'));
    assertExit(r, 1);
    console.log(`# verify of 50 directories: peak RSS ${r.rssMb.toFixed(0)} MB`);
    assert.ok(r.rssMb < 200, `peak RSS ${r.rssMb} MB`);
  });
});
