import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { GENESIS_HASH } from '../../src/core/chain/rule.js';
import { sealEntry } from '../../src/core/write/seal.js';
import { BIN, LOKI, ROOT, runCli, tempDir } from '../helpers/cli.js';

/** A writer with Loki Mode's chain rule, appending to a directory. */
class Writer {
  prev = GENESIS_HASH;
  seq = 0;
  lines: string[] = [];
  constructor(readonly dir: string) {}
  line(day: string, extra: Record<string, string> = {}): string {
    this.seq++;
    const e = {
      timestamp: `${day}T12:00:${String(this.seq % 60).padStart(2, '0')}.${String(this.seq).padStart(6, '0')}+00:00`,
      action: 'update',
      resource_type: 'task',
      resource_id: null,
      user_id: 'alice',
      token_id: null,
      ip_address: null,
      user_agent: null,
      success: true,
      error: null,
      details: { seq: this.seq, ...extra },
    };
    const s = sealEntry(e, this.prev);
    this.prev = s.hash;
    this.lines.push(s.line.slice(0, -1));
    return s.line;
  }
  append(day: string, n = 1): void {
    for (let i = 0; i < n; i++) appendFileSync(join(this.dir, `audit-${day}.jsonl`), this.line(day));
  }
}

/** Starts `tail -f`, collects stdout lines, lets the test wait for a count. */
function follow(dir: string, args: string[]) {
  const child = spawn(process.execPath, [BIN, 'tail', '--dir', dir, '-f', '--poll-ms', '50', ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (err += b));
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    lines: () => out.split('\n').filter(Boolean),
    stderr: () => err,
    async waitFor(n: number, ms = 5000) {
      const end = Date.now() + ms;
      while (this.lines().length < n && Date.now() < end) await sleep(20);
      return this.lines();
    },
    async stop() {
      child.kill('SIGINT');
      return closed;
    },
  };
}

const fixtureLines = () =>
  ['01', '02', '03'].flatMap((d) =>
    readFileSync(join(LOKI, 'extended/valid/writer', `audit-2026-02-${d}.jsonl`), 'utf8')
      .split('\n')
      .filter(Boolean),
  );

describe('tail', () => {
  it('prints the last N entries across files, oldest first', async () => {
    const r = await runCli(['tail', '--dir', join(LOKI, 'extended/valid/writer'), '-n', '3', '-o', 'jsonl']);
    assert.equal(r.code, 0);
    assert.deepEqual(r.stdout.trim().split('\n'), fixtureLines().slice(-3));
  });

  it('takes entries from older files when the newest has too few matches', async () => {
    const r = await runCli(['tail', '--dir', join(LOKI, 'extended/valid/writer'), '-n', '60', '-o', 'jsonl']);
    assert.deepEqual(r.stdout.trim().split('\n'), fixtureLines().slice(-60));
  });

  it('filters like search', async () => {
    const r = await runCli([
      'tail',
      '--dir',
      join(LOKI, 'extended/valid/writer'),
      '-n',
      '2',
      '--outcome',
      'failure',
      '-o',
      'jsonl',
    ]);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 2);
    assert.ok(lines.every((e) => e.success === false));
  });

  it('--follow -o json is refused (an array cannot be followed)', async () => {
    const r = await runCli(['tail', '--dir', join(LOKI, 'extended/valid/writer'), '-f', '-o', 'json']);
    assert.equal(r.code, 2);
  });
});

describe('tail --follow', () => {
  it('prints every appended entry exactly once, whole, across rotation, midnight and re-creation, and verifies the chain', async () => {
    const t = tempDir();
    const w = new Writer(t.dir);
    try {
      w.append('2026-03-01', 5);
      const f = follow(t.dir, ['-n', '2', '-o', 'jsonl', '--verify']);
      assert.equal((await f.waitFor(2)).length, 2);
      // A write in two halves: nothing until the newline is there.
      const half = w.line('2026-03-01');
      appendFileSync(join(t.dir, 'audit-2026-03-01.jsonl'), half.slice(0, 50));
      await sleep(300);
      assert.equal(f.lines().length, 2, 'half a line is never printed');
      appendFileSync(join(t.dir, 'audit-2026-03-01.jsonl'), half.slice(50));
      await f.waitFor(3);
      // Size rotation: the live file renamed, one more line written to it just before, a fresh live file.
      w.append('2026-03-01', 2);
      renameSync(join(t.dir, 'audit-2026-03-01.jsonl'), join(t.dir, 'audit-2026-03-01.120000.jsonl'));
      w.append('2026-03-01', 3);
      await f.waitFor(8);
      // Midnight.
      w.append('2026-03-02', 4);
      await f.waitFor(12);
      const lines = await f.waitFor(12);
      const code = await f.stop();
      assert.equal(code, 0, f.stderr());
      assert.deepEqual(lines, w.lines.slice(3));
      assert.doesNotMatch(f.stderr(), /CHAIN BREAK/);
    } finally {
      t.cleanup();
    }
  });

  it('--verify reports a chain break at once, naming file and line', async () => {
    const t = tempDir();
    const w = new Writer(t.dir);
    try {
      w.append('2026-03-01', 3);
      const f = follow(t.dir, ['-n', '1', '-o', 'jsonl', '--verify']);
      await f.waitFor(1); // following from here on
      w.append('2026-03-01', 1);
      // A forged entry: right shape, hash not chained.
      const forged = w.line('2026-03-01').replace('"alice"', '"mallory"');
      appendFileSync(join(t.dir, 'audit-2026-03-01.jsonl'), forged);
      await f.waitFor(3);
      const end = Date.now() + 3000;
      while (!/CHAIN BREAK/.test(f.stderr()) && Date.now() < end) await sleep(20);
      const code = await f.stop();
      assert.equal(code, 1);
      assert.match(
        f.stderr(),
        /CHAIN BREAK at audit-2026-03-01\.jsonl:5: hash-mismatch \(expected [0-9a-f]{64}, stored [0-9a-f]{64}\)/,
      );
    } finally {
      t.cleanup();
    }
  });

  it('follows truncation and deletion/re-creation of the live file', async () => {
    const t = tempDir();
    const w = new Writer(t.dir);
    try {
      w.append('2026-03-01', 3);
      const f = follow(t.dir, ['-n', '1', '-o', 'jsonl']);
      await f.waitFor(1);
      truncateSync(join(t.dir, 'audit-2026-03-01.jsonl'), 0);
      await sleep(200);
      w.append('2026-03-01', 2);
      await f.waitFor(3);
      rmSync(join(t.dir, 'audit-2026-03-01.jsonl'));
      await sleep(200);
      w.append('2026-03-01', 2);
      const lines = await f.waitFor(5);
      await f.stop();
      assert.deepEqual(lines, w.lines.slice(2));
      assert.match(f.stderr(), /was truncated/);
    } finally {
      t.cleanup();
    }
  });

  it('starts in an empty directory and picks up the first file', async () => {
    const t = tempDir();
    const w = new Writer(t.dir);
    try {
      writeFileSync(join(t.dir, 'README'), 'x');
      const f = follow(t.dir, ['-n', '0', '-o', 'jsonl']);
      const end = Date.now() + 5000;
      while (!/waiting for audit files/.test(f.stderr()) && Date.now() < end) await sleep(20);
      w.append('2026-03-01', 2);
      const lines = await f.waitFor(2);
      await f.stop();
      assert.deepEqual(lines, w.lines);
    } finally {
      t.cleanup();
    }
  });
});
