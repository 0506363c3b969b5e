/** followDirectory on a real directory: waiting, switching, truncation and torn lines, by event. */
import assert from 'node:assert/strict';
import { appendFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { currentEnd, followDirectory, type FollowEvent, type FollowStart } from '../../../src/core/follow/directory.js';
import { tempDir } from '../../helpers/cli.js';
import { waitFor } from '../../helpers/wait.js';

/** Follows in the background, collecting events as short strings, until `stop()`. */
function follow(dir: string, start?: FollowStart): { seen: string[]; stop: () => Promise<void> } {
  const ac = new AbortController();
  const seen: string[] = [];
  const show = (e: FollowEvent) =>
    e.type === 'line'
      ? `line ${e.line.file}:${e.line.line} ${e.line.bytes.toString('utf8')}`
      : `${e.notice.kind} ${e.notice.file}`;
  const done = (async () => {
    for await (const e of followDirectory({ dir, start, pollMs: 20, signal: ac.signal })) seen.push(show(e));
  })();
  return {
    seen,
    stop: async () => {
      ac.abort();
      await done;
    },
  };
}

async function until(f: { seen: string[] }, want: string[]): Promise<void> {
  await waitFor(() => f.seen.length >= want.length, {
    timeoutMs: 30_000,
    describe: () => `waiting for ${JSON.stringify(want)}, got ${JSON.stringify(f.seen)}`,
  });
  assert.deepEqual(f.seen, want);
}

describe('followDirectory', () => {
  it('an empty directory is waited for; the first file is read from its start', async () => {
    const t = tempDir();
    const f = follow(t.dir);
    try {
      await until(f, [`waiting `]);
      writeFileSync(join(t.dir, 'audit-2026-02-01.jsonl'), '{"a": 1}\n{"a": 2}\n');
      await until(f, [
        'waiting ',
        'switch audit-2026-02-01.jsonl',
        'line audit-2026-02-01.jsonl:1 {"a": 1}',
        'line audit-2026-02-01.jsonl:2 {"a": 2}',
      ]);
    } finally {
      await f.stop();
      t.cleanup();
    }
  });

  it('from currentEnd: only new whole lines; a torn line is told at the switch to the next day', async () => {
    const t = tempDir();
    const day1 = join(t.dir, 'audit-2026-02-01.jsonl');
    writeFileSync(day1, '{"old": 1}\n');
    const start = await currentEnd(t.dir);
    assert.deepEqual(start, { file: 'audit-2026-02-01.jsonl', offset: 11, line: -1 });
    const f = follow(t.dir, start ?? undefined);
    try {
      appendFileSync(day1, '{"new": 2}\n{"torn": ');
      await until(f, ['line audit-2026-02-01.jsonl:2 {"new": 2}']);
      writeFileSync(join(t.dir, 'audit-2026-02-02.jsonl'), '{"next": 1}\n');
      await until(f, [
        'line audit-2026-02-01.jsonl:2 {"new": 2}',
        'torn audit-2026-02-01.jsonl',
        'switch audit-2026-02-02.jsonl',
        'line audit-2026-02-02.jsonl:1 {"next": 1}',
      ]);
    } finally {
      await f.stop();
      t.cleanup();
    }
  });

  it('a file truncated under the follower is told and read again from its start', async () => {
    const t = tempDir();
    const day = join(t.dir, 'audit-2026-02-01.jsonl');
    writeFileSync(day, '{"old": 1}\n{"old": 2}\n');
    const f = follow(t.dir, (await currentEnd(t.dir)) ?? undefined);
    try {
      writeFileSync(day, '{"b": 1}\n');
      await until(f, ['truncated audit-2026-02-01.jsonl', 'line audit-2026-02-01.jsonl:1 {"b": 1}']);
    } finally {
      await f.stop();
      t.cleanup();
    }
  });

  it('a next file that cannot be opened yet is retried; no later file is followed before it', async () => {
    // A dangling link inside the directory stands for any transient open error (ENOENT between
    // listing and open, EACCES, EMFILE): it must neither stall the follower nor be skipped.
    const t = tempDir();
    const day1 = join(t.dir, 'audit-2026-02-01.jsonl');
    writeFileSync(day1, '{"a": 1}\n');
    const f = follow(t.dir, (await currentEnd(t.dir)) ?? undefined);
    try {
      symlinkSync('day2.pending', join(t.dir, 'audit-2026-02-02.jsonl'));
      await until(f, ['unreadable audit-2026-02-02.jsonl']);
      writeFileSync(join(t.dir, 'audit-2026-02-03.jsonl'), '{"day": 3}\n');
      // Polls pass with day 3 there and day 2 still unreadable: day 3 must wait.
      const seenAt = f.seen.length;
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(f.seen.length, seenAt, JSON.stringify(f.seen));
      writeFileSync(join(t.dir, 'day2.pending'), '{"day": 2}\n');
      await until(f, [
        'unreadable audit-2026-02-02.jsonl',
        'switch audit-2026-02-02.jsonl',
        'line audit-2026-02-02.jsonl:1 {"day": 2}',
        'switch audit-2026-02-03.jsonl',
        'line audit-2026-02-03.jsonl:1 {"day": 3}',
      ]);
    } finally {
      await f.stop();
      t.cleanup();
    }
  });

  it('a start place in a file that cannot be opened yet is kept: nothing read twice', async () => {
    const t = tempDir();
    writeFileSync(join(t.dir, 'old.jsonl'), '{"a": 1}\n{"a": 2}\n');
    symlinkSync('old.jsonl', join(t.dir, 'audit-2026-02-01.jsonl'));
    symlinkSync('day.pending', join(t.dir, 'audit-2026-02-02.jsonl'));
    const f = follow(t.dir, { file: 'audit-2026-02-02.jsonl', offset: 9, line: 2 });
    try {
      await until(f, ['unreadable audit-2026-02-02.jsonl']);
      writeFileSync(join(t.dir, 'day.pending'), '{"b": 1}\n{"b": 2}\n');
      await until(f, [
        'unreadable audit-2026-02-02.jsonl',
        'switch audit-2026-02-02.jsonl',
        'line audit-2026-02-02.jsonl:2 {"b": 2}',
      ]);
    } finally {
      await f.stop();
      t.cleanup();
    }
  });
});
