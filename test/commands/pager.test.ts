/**
 * A pager on a terminal for search, tail (without -f) and export to stdout, as journalctl:
 * $LOKI_AUDIT_PAGER, $PAGER, else less -FRX; never into a pipe, with -f, --no-pager or a
 * pager that is not there. Run on a pseudo-terminal (util-linux `script`), with pagers that
 * are small shell scripts recording what they got.
 */
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { assertExit, HAS_SCRIPT, ROOT, runCli, runCliOnTty, tempDir } from '../helpers/cli.js';

const SAMPLE = join(ROOT, 'examples', 'audit');
const t = tempDir();
after(() => t.cleanup());

const GOT = join(t.dir, 'got');
const ARGS = join(t.dir, 'args');
/** A file that exists when the pager's stdout was a terminal. */
const ON_TTY = join(t.dir, 'pager-stdout-is-a-tty');

/** An executable shell script in the temp directory. */
function script(name: string, body: string): string {
  const path = join(t.dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** Records its arguments, whether its stdout is the terminal, and every byte it was given. */
const RECORD = script('record-pager', `printf '%s\\n' "$*" > '${ARGS}'\n[ -t 1 ] && : > '${ON_TTY}'\ncat > '${GOT}'`);
/** Reads 10 bytes and quits, as a user pressing q on the first screen. */
const QUITS = script('quitting-pager', `head -c 10 > /dev/null\nexit 0`);

function reset(): void {
  for (const f of [GOT, ARGS, ON_TTY]) rmSync(f, { force: true });
}

describe('pager', { skip: !HAS_SCRIPT && 'util-linux script is not installed' }, () => {
  for (const args of [
    ['search', '--dir', SAMPLE],
    ['search', '--dir', SAMPLE, '-o', 'jsonl', '--event', 'auth.*'],
    ['tail', '--dir', SAMPLE, '-n', '50'],
    ['export', '--dir', SAMPLE, '-o', 'csv'],
  ]) {
    it(`${args.join(' ')}: on a terminal, the whole output goes to $PAGER and none to the terminal`, async () => {
      reset();
      const piped = assertExit(await runCli(args), 0).stdout;
      const r = await runCliOnTty([...args], { env: { PAGER: `${RECORD} --from-pager-var` } });
      assert.equal(r.code, 0, r.output);
      assert.equal(readFileSync(GOT, 'utf8'), piped);
      assert.equal(readFileSync(ARGS, 'utf8'), '--from-pager-var\n');
      assert.ok(existsSync(ON_TTY), "the pager's stdout is the terminal");
      assert.equal(r.output, '');
    });
  }

  it('without $PAGER: less -FRX (a less first on PATH records how it was called); LOKI_AUDIT_PAGER wins', async () => {
    reset();
    const bin = join(t.dir, 'bin');
    rmSync(bin, { recursive: true, force: true });
    mkdirSync(bin);
    copyFileSync(RECORD, join(bin, 'less'));
    chmodSync(join(bin, 'less'), 0o755);
    const env = { PATH: `${bin}:${process.env.PATH}`, PAGER: undefined };
    const r = await runCliOnTty(['search', '--dir', SAMPLE, '-n', '2'], { env });
    assert.equal(r.code, 0, r.output);
    assert.equal(readFileSync(ARGS, 'utf8'), '-FRX\n');
    assert.equal(readFileSync(GOT, 'utf8').split('\n').length, 3);
    reset();
    const own = await runCliOnTty(['search', '--dir', SAMPLE, '-n', '2'], {
      env: { ...env, PAGER: 'more', LOKI_AUDIT_PAGER: `${RECORD} own` },
    });
    assert.equal(own.code, 0, own.output);
    assert.equal(readFileSync(ARGS, 'utf8'), 'own\n');
  });

  it('into a pipe never: search, tail and export write to stdout with $PAGER set', async () => {
    for (const args of [
      ['search', '--dir', SAMPLE, '-n', '3'],
      ['tail', '--dir', SAMPLE, '-n', '3'],
      ['export', '--dir', SAMPLE, '-n', '3'],
      ['search', '--dir', SAMPLE, '-n', '3', '--pager'],
    ]) {
      reset();
      const r = assertExit(await runCli(args, { env: { PAGER: RECORD, LOKI_AUDIT_PAGER: RECORD } }), 0);
      assert.equal(r.stdout.split('\n').filter(Boolean).length, 3, args.join(' '));
      assert.ok(!existsSync(GOT), `${args.join(' ')}: no pager`);
    }
  });

  it('on a terminal not with --no-pager, PAGER= or cat, TERM=dumb, tail -f, or export --output-file', async () => {
    const line = assertExit(await runCli(['search', '--dir', SAMPLE, '-n', '1']), 0).stdout;
    for (const [args, env] of [
      [['search', '--dir', SAMPLE, '-n', '1', '--no-pager'], { PAGER: RECORD }],
      [['search', '--dir', SAMPLE, '-n', '1'], { PAGER: '' }],
      [['search', '--dir', SAMPLE, '-n', '1'], { PAGER: 'cat' }],
      [['search', '--dir', SAMPLE, '-n', '1'], { PAGER: RECORD, LOKI_AUDIT_PAGER: '' }],
      [['search', '--dir', SAMPLE, '-n', '1'], { PAGER: RECORD, TERM: 'dumb' }],
    ] as Array<[string[], NodeJS.ProcessEnv]>) {
      reset();
      const r = await runCliOnTty(args, { env });
      assert.equal(r.code, 0, r.output);
      assert.equal(r.output, line, JSON.stringify(env));
      assert.ok(!existsSync(GOT), JSON.stringify(env));
    }
    reset();
    // Ended (Ctrl-C) once its two lines are on the terminal; 60 s only bounds a failure.
    const lines = (s: string) => s.split('\n').filter(Boolean);
    const follow = await runCliOnTty(['tail', '--dir', SAMPLE, '-n', '2', '-f'], {
      env: { PAGER: RECORD },
      timeoutSeconds: 60,
      until: (o) => lines(o).length >= 2,
    });
    assert.ok(follow.sawEvent, `tail -f: its two lines never came\n${follow.output}`);
    assert.equal(follow.code, 0, `tail -f: Ctrl-C is a clean end\n${follow.output}`);
    assert.equal(lines(follow.output).length, 2, follow.output);
    assert.ok(!existsSync(GOT), 'tail -f: no pager');
    const out = join(t.dir, 'out.csv');
    const file = await runCliOnTty(['export', '--dir', SAMPLE, '--output-file', out], { env: { PAGER: RECORD } });
    assert.equal(file.code, 0, file.output);
    // (After the progress line, drawn and erased with carriage returns.)
    assert.ok(file.output.endsWith(`\rexported 700 entries to ${out}\n`), file.output);
    assert.ok(!existsSync(GOT), 'export --output-file: no pager');
  });

  it('quitting the pager early is no error: exit 0, no EPIPE, nothing more printed', async () => {
    for (const args of [
      ['search', '--dir', SAMPLE, '-o', 'jsonl'],
      ['tail', '--dir', SAMPLE, '-n', '700', '-o', 'jsonl'],
      ['export', '--dir', SAMPLE, '-o', 'json'],
    ]) {
      const r = await runCliOnTty(args, { env: { PAGER: QUITS } });
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.output}`);
      assert.equal(r.output, '', args.join(' '));
    }
  });

  it('a pager that is not there: the output on the terminal, after one note', async () => {
    const line = assertExit(await runCli(['search', '--dir', SAMPLE, '-n', '1']), 0).stdout;
    const missing = join(t.dir, 'no-such-pager');
    const r = await runCliOnTty(['search', '--dir', SAMPLE, '-n', '1'], { env: { PAGER: `${missing} -R` } });
    assert.equal(r.code, 0, r.output);
    assert.equal(r.output, `loki-audit: note: pager "${missing} -R" could not be started: not paging\n${line}`);
  });
});
