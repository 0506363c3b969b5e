/** The audit directory as an argument (`loki-audit verify /path`), and a file given where a directory goes. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertExit, ROOT, runCli, tempDir } from '../helpers/cli.js';

const SAMPLE = join(ROOT, 'examples', 'audit');

describe('a directory argument is --dir', () => {
  for (const args of [
    ['verify'],
    ['summary', '--all'],
    ['search', '--event', 'auth.*', '--limit', '3'],
    ['tail', '-n', '2'],
    ['export', '-o', 'csv', '--limit', '2'],
    ['forward', '--dry-run', '--syslog', 'udp://127.0.0.1:9'],
  ])
    it(`${args[0]} DIR prints what ${args[0]} --dir DIR prints`, async () => {
      const flag = assertExit(await runCli([...args, '--dir', SAMPLE]), 0);
      const positional = assertExit(await runCli([args[0], SAMPLE, ...args.slice(1)]), 0);
      assert.equal(positional.stdout, flag.stdout);
      assert.equal(positional.stderr, flag.stderr);
      assert.notEqual(flag.stdout, '');
    });

  it('append DIR writes into DIR', async () => {
    const t = tempDir();
    try {
      assertExit(await runCli(['append', t.dir, '--event', 'task.start', '--actor', 'cron']), 0);
      assertExit(await runCli(['verify', t.dir, '--quiet']), 0);
      const day = new Date().toISOString().slice(0, 10);
      assert.match(readFileSync(join(t.dir, `audit-${day}.jsonl`), 'utf8'), /"task\.start"|"start"/);
    } finally {
      t.cleanup();
    }
  });

  it('a directory both as --dir and as an argument: a usage error naming both', async () => {
    const r = assertExit(await runCli(['summary', '--all', '--dir', 'examples/audit', 'extra']), 2);
    assert.equal(
      r.stderr,
      'loki-audit: error: Unexpected argument: extra\n' +
        'loki-audit: hint: the audit directory is given once: --dir examples/audit or extra alone\n',
    );
  });

  it('verify --stdin still reads stdin (the argument never takes it)', async () => {
    // The sample's first day starts mid-chain: alone on stdin it is history-mid-chain (exit 6).
    const r = assertExit(
      await runCli(['verify', '--stdin'], { input: readFileSync(join(SAMPLE, 'audit-2026-11-17.jsonl')) }),
      6,
    );
    assert.match(r.stdout, /79 entries verified/);
  });
});

describe('a file given as the directory', () => {
  it('verify --dir FILE: not a directory, verify --stdin < FILE, and the directory holding it', async () => {
    const file = join(SAMPLE, 'audit-2026-11-17.jsonl');
    const r = assertExit(await runCli(['verify', '--dir', file]), 3);
    assert.equal(
      r.stderr,
      `loki-audit: error: not a directory: ${file}\n` +
        `loki-audit: hint: to verify this one file: loki-audit verify --stdin < ${file}\n` +
        `loki-audit: hint: the directory that holds it: loki-audit verify --dir ${SAMPLE}\n`,
    );
    assert.equal(r.stdout, '');
  });

  it('verify FILE.gz: zcat FILE | verify --stdin', async () => {
    const file = join(SAMPLE, 'audit-2026-11-16.jsonl.gz');
    const r = assertExit(await runCli(['verify', file]), 3);
    assert.match(
      r.stderr,
      /^loki-audit: hint: to verify this one file: zcat \S+\.jsonl\.gz \| loki-audit verify --stdin$/m,
    );
  });

  it('other commands: the directory that holds it, quoted for the shell when it needs it', async () => {
    const t = tempDir("it's here ");
    try {
      const file = join(t.dir, 'audit-2026-11-17.jsonl');
      const copy = readFileSync(join(SAMPLE, 'audit-2026-11-17.jsonl'));
      writeFileSync(file, copy);
      const r = assertExit(await runCli(['search', file, '--event', 'x']), 3);
      const quoted = `'${t.dir.replaceAll("'", "'\\''")}'`;
      assert.equal(
        r.stderr,
        `loki-audit: error: not a directory: ${file}\nloki-audit: hint: ` +
          `the directory that holds it: loki-audit search --dir ${quoted}\n`,
      );
    } finally {
      t.cleanup();
    }
  });
});
