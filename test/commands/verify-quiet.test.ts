/**
 * The 3 a.m. message (issue 17, point 9): what `verify --quiet` prints, and cron mails, when the
 * chain is not intact. Each case is built from a copy of the intact sample (examples/audit):
 * the message must name the directory, say what happened in plain words, name the entry at
 * fault (file:line, time, event, actor, escaped) or what is known of it, and give commands that
 * really show it — each suggested command is run here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { assertExit, LOKI, ROOT, runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { WHAT_HAPPENED } from '../../src/output/verify.js';

const SAMPLE = join(ROOT, 'examples', 'audit');

/** A copy of the intact sample, changed by `change`, removed by the returned cleanup. */
function brokenSample(change: (dir: string) => void): { dir: string; cleanup: () => void } {
  const t = tempDir('loki-audit-quiet-');
  cpSync(SAMPLE, t.dir, { recursive: true });
  change(t.dir);
  return t;
}

/** Rewrites line `n` (1-based) of a plain file. */
function editLine(path: string, n: number, edit: (line: string) => string): void {
  const lines = readFileSync(path, 'utf8').split('\n');
  lines[n - 1] = edit(lines[n - 1]);
  writeFileSync(path, lines.join('\n'));
}

/** Line `n` of a file as an object (a .gz one decompressed). */
function entryAt(path: string, n: number): Record<string, unknown> {
  const text = path.endsWith('.gz') ? gunzipSync(readFileSync(path)).toString('utf8') : readFileSync(path, 'utf8');
  return JSON.parse(text.split('\n')[n - 1]) as Record<string, unknown>;
}

/** The `next:` commands of a quiet message: [command, why]. */
function nextSteps(out: string): [string, string][] {
  const lines = out.split('\n');
  const at = lines.indexOf('  next:');
  assert.ok(at > 0, `no "next:" in\n${out}`);
  const steps: [string, string][] = [];
  for (const l of lines.slice(at + 1)) {
    if (!l.startsWith('    ')) break;
    const cut = l.lastIndexOf('  # ');
    steps.push([l.slice(4, cut), l.slice(cut + 4)]);
  }
  return steps;
}

/** Runs a suggested `loki-audit …` command line (plain words, as the temp paths are) with the built CLI. */
function runSuggested(cmd: string): Promise<CliResult> {
  const words = cmd.split(' ');
  assert.equal(words[0], 'loki-audit', cmd);
  return runCli(words.slice(1));
}

/** Asserts nothing raw that acts on a terminal: C0/C1 controls (but \n), DEL, bidi overrides. */
function assertNoControls(out: string): void {
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(out, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/, out);
}

/**
 * Asserts the message's elements for an entry that can be read, then runs the two `search`
 * commands: the first must print exactly that entry, the second it and its neighbours.
 */
async function assertReadableEntry(
  r: CliResult,
  dir: string,
  cls: keyof typeof WHAT_HAPPENED,
  at: string,
  e: Record<string, unknown>,
  shown: { actor: string },
): Promise<void> {
  const out = r.stdout;
  assertNoControls(out);
  assert.ok(out.includes(`in ${dir}: ${WHAT_HAPPENED[cls]}.`), out);
  const event = `${String(e.resource_type)}.${String(e.action)}`;
  assert.ok(
    out.includes(`  entry ${at}: time ${String(e.timestamp)}, event ${event}, actor ${shown.actor}, hash `),
    out,
  );
  const hash = String(e._integrity_hash);
  const steps = nextSteps(out);
  assert.deepEqual(
    steps.map(([, why]) => why),
    [
      'show the entry',
      'the entries around it',
      'LogQL: the copy `loki-audit forward` sent to Loki, as it was written',
      'the full report',
    ],
    out,
  );
  assert.equal(steps[0][0], `loki-audit search --dir ${dir} --field _integrity_hash=${hash}`);
  assert.match(steps[1][0], new RegExp(`^loki-audit search --dir ${dir} --since \\S+Z --until \\S+Z$`));
  assert.equal(steps[2][0], `{service_name="loki-audit"} |= "${hash}"`);
  assert.equal(steps[3][0], `loki-audit verify --dir ${dir}`);
  // Run them: the entry, then it among its neighbours, then the full report.
  const one = assertExit(await runSuggested(steps[0][0]), 0, steps[0][0])
    .stdout.trimEnd()
    .split('\n');
  assert.equal(one.length, 1, one.join('\n'));
  // The entry at fault is shown marked when its chain does not cover it (search.md, unverified).
  const line = one[0].replace(/^\[unverified: [a-z-]+\] /, '');
  assert.ok(line.startsWith(`${String(e.timestamp)} `) && line.includes(` ${event} ${shown.actor} `), one[0]);
  const around = assertExit(await runSuggested(steps[1][0]), 0, steps[1][0])
    .stdout.trimEnd()
    .split('\n');
  assert.ok(around.includes(one[0]), `${one[0]} not in\n${around.join('\n')}`);
  assert.ok(around.length > 1, `no neighbours: ${around.join('\n')}`);
  const full = assertExit(await runSuggested(steps[3][0]), r.code as number, steps[3][0]);
  assert.ok(full.stdout.startsWith(`verify ${dir}\n`), full.stdout);
}

describe('verify --quiet: the 3 a.m. message', () => {
  it('an edited entry: the directory, what happened, the entry (escaped actor) and commands that show it', async () => {
    const t = brokenSample((dir) =>
      editLine(join(dir, 'audit-2026-11-17.jsonl'), 3, (l) =>
        l.replace('"user_id": "ci-bot"', '"user_id": "\\u001b[31mmallory"'),
      ),
    );
    try {
      const r = assertExit(await runCli(['verify', '--quiet', t.dir]), 1);
      const e = entryAt(join(t.dir, 'audit-2026-11-17.jsonl'), 3);
      assert.equal(e.user_id, '\u001b[31mmallory');
      assert.match(r.stdout, /^audit-2026-11-17\.jsonl:3 TAMPERED \(hash-mismatch\)/);
      await assertReadableEntry(r, t.dir, 'tampered', 'audit-2026-11-17.jsonl:3', e, { actor: '\\x1b[31mmallory' });
      assert.match(r.stdout.trimEnd().split('\n').at(-1) as string, /^TAMPERED: .*\(exit 1\)$/);
    } finally {
      t.cleanup();
    }
  });

  it('an edit inside a .gz file: the entry is read from the compressed file', async () => {
    const t = brokenSample((dir) => {
      const p = join(dir, 'audit-2026-11-16.jsonl.gz');
      const lines = gunzipSync(readFileSync(p)).toString('utf8').split('\n');
      lines[4] = lines[4].replace('"success": true', '"success": false');
      writeFileSync(p, gzipSync(lines.join('\n')));
    });
    try {
      const r = assertExit(await runCli(['verify', '-q', t.dir]), 1);
      const e = entryAt(join(t.dir, 'audit-2026-11-16.jsonl.gz'), 5);
      await assertReadableEntry(r, t.dir, 'tampered', 'audit-2026-11-16.jsonl.gz:5', e, { actor: String(e.user_id) });
    } finally {
      t.cleanup();
    }
  });

  it('with --state: the entry is read back although the report lists only the files read again', async () => {
    const t = brokenSample(() => {});
    try {
      const state = join(t.dir, '..', `${t.dir.split('/').at(-1)}.state.json`);
      assertExit(await runCli(['verify', '-q', '--state', state, t.dir]), 0);
      editLine(join(t.dir, 'audit-2026-11-20.jsonl'), 70, (l) => l.replace(/"user_id": "[^"]*"/, '"user_id": "eve"'));
      const r = assertExit(await runCli(['verify', '-q', '--state', state, t.dir]), 1);
      rmSync(state, { force: true });
      const e = entryAt(join(t.dir, 'audit-2026-11-20.jsonl'), 70);
      await assertReadableEntry(r, t.dir, 'tampered', 'audit-2026-11-20.jsonl:70', e, { actor: 'eve' });
    } finally {
      t.cleanup();
    }
  });

  it('a deleted middle file: the entry after the gap', async () => {
    const t = brokenSample((dir) => rmSync(join(dir, 'audit-2026-11-19.jsonl')));
    try {
      const r = assertExit(await runCli(['verify', '--quiet', '--dir', t.dir]), 1);
      assert.match(r.stdout, /^audit-2026-11-20\.jsonl:1 TAMPERED \(chain-break\)/);
      const e = entryAt(join(t.dir, 'audit-2026-11-20.jsonl'), 1);
      await assertReadableEntry(r, t.dir, 'tampered', 'audit-2026-11-20.jsonl:1', e, { actor: String(e.user_id) });
    } finally {
      t.cleanup();
    }
  });

  it('the oldest file removed: history starts mid-chain, at the oldest entry left', async () => {
    const t = brokenSample((dir) => rmSync(join(dir, 'audit-2026-11-16.jsonl.gz')));
    try {
      const r = assertExit(await runCli(['verify', '--quiet', t.dir]), 6);
      const e = entryAt(join(t.dir, 'audit-2026-11-17.jsonl'), 1);
      await assertReadableEntry(r, t.dir, 'mid-chain', 'audit-2026-11-17.jsonl:1', e, { actor: String(e.user_id) });
    } finally {
      t.cleanup();
    }
  });

  it('a writer fork (Loki Mode restarted from genesis): plain words say it is not an edit', async () => {
    const dir = join(LOKI, 'extended/quirks/restart-after-long-line');
    const r = assertExit(await runCli(['verify', '--quiet', dir]), 5);
    const e = entryAt(join(dir, 'audit-2026-02-24.jsonl'), 1);
    assert.equal(e.user_id ?? e.token_id ?? null, null); // the view's actor: anonymous
    await assertReadableEntry(r, dir, 'fork', 'audit-2026-02-24.jsonl:1', e, { actor: 'anonymous' });
    assert.match(WHAT_HAPPENED.fork, /not an edit/);
  });

  for (const [name, cls, reason, exit, change] of [
    [
      'a torn last line',
      'incomplete',
      'torn-last-line',
      4,
      (dir: string) => {
        const p = join(dir, 'audit-2026-11-20.jsonl');
        const b = readFileSync(p);
        writeFileSync(p, b.subarray(0, b.length - 80));
      },
    ],
    [
      'a line that is not UTF-8',
      'unreadable',
      'invalid-utf8',
      1,
      (dir: string) => {
        const p = join(dir, 'audit-2026-11-17.jsonl');
        const b = readFileSync(p);
        b[b.indexOf('"ci-bot"') + 1] = 0xff;
        writeFileSync(p, b);
      },
    ],
  ] as const) {
    it(`${name}: says the line cannot be read and how to look at it on disk`, async () => {
      const t = brokenSample(change);
      try {
        const r = assertExit(await runCli(['verify', '--quiet', t.dir]), exit);
        const out = r.stdout;
        assertNoControls(out);
        const first = /^(audit-[\d-]+\.jsonl):(\d+) /.exec(out);
        assert.ok(first, out);
        const [file, line] = [first[1], Number(first[2])];
        assert.ok(out.includes(`in ${t.dir}: ${WHAT_HAPPENED[cls]}.`), out);
        assert.ok(out.includes(`  entry ${file}:${line}: the line cannot be read as an entry (${reason})\n`), out);
        const steps = nextSteps(out);
        const sed = `sed -n ${line}p ${join(t.dir, file)} | cat -v`;
        assert.deepEqual(steps[0], [sed, 'the line as it is on disk'], out);
        assert.deepEqual(steps.at(-1), [`loki-audit verify --dir ${t.dir}`, 'the full report'], out);
        const onDisk = readFileSync(join(t.dir, file), 'latin1').split('\n')[line - 1];
        const shown = spawnSync('sh', ['-c', sed], { encoding: 'latin1' });
        assert.equal(shown.status, 0, shown.stderr);
        assert.equal(shown.stdout.length > 0, true);
        // cat -v makes the damaged bytes visible; the readable part of the line is as on disk.
        assert.ok(shown.stdout.includes(onDisk.slice(0, 40)), shown.stdout);
      } finally {
        t.cleanup();
      }
    });
  }

  it('a checkpointed head gone (anchor mismatch): where it was and the LogQL for its forwarded copy', async () => {
    const t = brokenSample(() => {});
    try {
      const p = join(t.dir, 'audit-2026-11-20.jsonl');
      const lines = readFileSync(p, 'utf8').trimEnd().split('\n');
      const head = String((JSON.parse(lines.at(-1) as string) as Record<string, unknown>)._integrity_hash);
      writeFileSync(p, lines.slice(0, -1).join('\n') + '\n');
      const r = assertExit(await runCli(['verify', '--quiet', t.dir, '--expect-head', head]), 12);
      assertNoControls(r.stdout);
      assert.ok(r.stdout.includes(`in ${t.dir}: ${WHAT_HAPPENED['anchor-mismatch']}.`), r.stdout);
      assert.deepEqual(nextSteps(r.stdout), [
        [
          `{service_name="loki-audit"} |= "${head}"`,
          'LogQL: the copy `loki-audit forward` sent to Loki, as it was written',
        ],
        [`loki-audit verify --dir ${t.dir}`, 'the full report'],
      ]);
    } finally {
      t.cleanup();
    }
  });

  it('a file that cannot be read (a FIFO): names the file and suggests ls -l, never a read that blocks', async () => {
    const t = brokenSample((dir) => {
      rmSync(join(dir, 'audit-2026-11-19.jsonl'));
      assert.equal(spawnSync('mkfifo', [join(dir, 'audit-2026-11-19.jsonl')]).status, 0);
    });
    try {
      const r = assertExit(await runCli(['verify', '--quiet', t.dir]), 3);
      assertNoControls(r.stdout);
      assert.ok(r.stdout.includes(`in ${t.dir}: ${WHAT_HAPPENED['io-error']}.`), r.stdout);
      assert.ok(
        r.stdout.includes('  file audit-2026-11-19.jsonl: cannot be read, so none of its entries were checked\n'),
      );
      const path = join(t.dir, 'audit-2026-11-19.jsonl');
      assert.deepEqual(nextSteps(r.stdout), [
        [`ls -l ${path}`, 'what the file is'],
        [`loki-audit verify --dir ${t.dir}`, 'the full report'],
      ]);
      const ls = spawnSync('sh', ['-c', `ls -l ${path}`], { encoding: 'utf8' });
      assert.match(ls.stdout, /^p/); // a FIFO
    } finally {
      t.cleanup();
    }
  });

  it('a checkpoint signed with another key: says the checkpoint does not verify, not that the head is gone', async () => {
    const t = brokenSample(() => {});
    const k = tempDir('loki-audit-quiet-keys-');
    try {
      const [key, other, store] = [join(k.dir, 'a.key'), join(k.dir, 'b.key'), join(k.dir, 'store')];
      for (const p of [key, other]) assertExit(await runCli(['checkpoint', '--new-key', p]), 0);
      assertExit(await runCli(['checkpoint', '--dir', t.dir, '--key', key, '--store', store]), 0);
      const r = assertExit(
        await runCli(['verify', '-q', t.dir, '--checkpoints', store, '--public-key', `${other}.pub`]),
        12,
      );
      assert.match(r.stdout, /\(checkpoint-signature\)/);
      assert.ok(
        r.stdout.includes(`in ${t.dir}: a signed checkpoint does not verify with this key: it was forged`),
        r.stdout,
      );
      assert.doesNotMatch(r.stdout, /is no longer in the chain/);
      assert.ok(r.stdout.includes('  the checkpoint names audit-2026-11-20.jsonl:70 as the head\n'), r.stdout);
      assert.deepEqual(nextSteps(r.stdout), [[`loki-audit verify --dir ${t.dir}`, 'the full report']]);
    } finally {
      t.cleanup();
      k.cleanup();
    }
  });

  it('--json keeps its shape and adds each finding its entry', async () => {
    const t = brokenSample((dir) => rmSync(join(dir, 'audit-2026-11-19.jsonl')));
    try {
      const rep = JSON.parse(assertExit(await runCli(['verify', '--json', t.dir]), 1).stdout);
      const e = entryAt(join(t.dir, 'audit-2026-11-20.jsonl'), 1);
      const entry = {
        timestamp: e.timestamp,
        event: `${String(e.resource_type)}.${String(e.action)}`,
        actor: e.user_id,
        hash: e._integrity_hash,
        hashField: '_integrity_hash',
        // the neighbours in chain order: the last entry before the removed day, the next one after
        before: entryAt(join(t.dir, 'audit-2026-11-18.jsonl'), 53).timestamp,
        after: entryAt(join(t.dir, 'audit-2026-11-20.jsonl'), 2).timestamp,
      };
      assert.deepEqual(rep.firstProblem.entry, entry);
      assert.deepEqual(rep.findings[0].entry, entry);
      assert.equal(rep.firstProblem.reason, 'chain-break');
    } finally {
      t.cleanup();
    }
  });
});
