/** followEntries on a real directory written by core append: new entries, rotation, a chain break. */
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { GENESIS_HASH } from '../../../src/core/chain/rule.js';
import { currentEnd } from '../../../src/core/follow/directory.js';
import { followEntries, type LiveTailEvent, type LiveTailOptions } from '../../../src/core/follow/live-tail.js';
import { appendEntry } from '../../../src/core/write/append.js';
import { sealEntry } from '../../../src/core/write/seal.js';
import { tempDir } from '../../helpers/cli.js';
import { waitFor } from '../../helpers/wait.js';

const DAY1 = new Date('2026-02-01T10:00:00Z');
const DAY2 = new Date('2026-02-02T10:00:00Z');
const entry = (event: string) => ({ timestamp: '2026-02-01T10:00:00+00:00', event, actor: 'test' });

/**
 * Follows in the background from the end of the newest file (as `tail -f` does: currentEnd),
 * collecting events, until `stop()`.
 */
async function follow(
  options: Omit<LiveTailOptions, 'signal'>,
): Promise<{ events: LiveTailEvent[]; stop: () => Promise<void> }> {
  const ac = new AbortController();
  const events: LiveTailEvent[] = [];
  const start = (await currentEnd(options.dir)) ?? undefined;
  const done = (async () => {
    for await (const e of followEntries({ pollMs: 20, start, ...options, signal: ac.signal })) events.push(e);
  })();
  return {
    events,
    stop: async () => {
      ac.abort();
      await done;
    },
  };
}

/** A short form of each event, for comparing and for failure messages. */
const shown = (events: LiveTailEvent[]): string[] =>
  events.map((e) =>
    e.kind === 'entry'
      ? `entry ${e.entry.file}:${e.entry.line} ${(e.entry.record as { event: string }).event}`
      : e.kind === 'chain-break'
        ? `break ${e.file}:${e.line} ${e.check.reason}`
        : e.kind === 'notice'
          ? `notice ${e.notice.kind} ${e.notice.file}`
          : `problem ${e.problem.file}:${e.problem.line}`,
  );

/** Waits until the events shown are `want` (in order, nothing else). */
async function until(f: { events: LiveTailEvent[] }, want: string[]): Promise<void> {
  await waitFor(() => shown(f.events).length >= want.length, {
    timeoutMs: 30_000,
    describe: () => `waiting for ${JSON.stringify(want)}, got ${JSON.stringify(shown(f.events))}`,
  });
  assert.deepEqual(shown(f.events), want);
}

describe('followEntries', () => {
  it('yields entries written after the start, checks each against the head, and switches at rotation', async () => {
    const t = tempDir();
    const first = await appendEntry(t.dir, entry('before'), { now: DAY1 });
    const f = await follow({ dir: t.dir, spec: {}, verify: { chainHead: first.hash } });
    try {
      await appendEntry(t.dir, entry('a'), { now: DAY1 });
      await appendEntry(t.dir, entry('b'), { now: DAY1 });
      await until(f, ['entry audit-2026-02-01.jsonl:2 a', 'entry audit-2026-02-01.jsonl:3 b']);
      // Size rotation: the day file becomes a piece, the next entry starts a new day file.
      const r = await appendEntry(t.dir, entry('c'), { now: DAY1, maxSizeBytes: 10 });
      assert.equal(r.rotatedTo, 'audit-2026-02-01.100000.jsonl');
      await appendEntry(t.dir, entry('d'), { now: DAY2 });
      await until(f, [
        'entry audit-2026-02-01.jsonl:2 a',
        'entry audit-2026-02-01.jsonl:3 b',
        'notice switch audit-2026-02-01.jsonl',
        'entry audit-2026-02-01.jsonl:1 c',
        'notice switch audit-2026-02-02.jsonl',
        'entry audit-2026-02-02.jsonl:1 d',
      ]);
    } finally {
      await f.stop();
      t.cleanup();
    }
  });

  it('a break is reported once, at the entry that breaks, even when the filter drops it', async () => {
    const t = tempDir();
    const first = await appendEntry(t.dir, entry('before'), { now: DAY1 });
    const f = await follow({ dir: t.dir, spec: { excludeEvents: ['hidden'] }, verify: { chainHead: first.hash } });
    const path = join(t.dir, 'audit-2026-02-01.jsonl');
    try {
      // Chained from genesis instead of the head: a fork; then one chained from the forged entry.
      const forged = sealEntry(entry('hidden'), GENESIS_HASH);
      appendFileSync(path, forged.line);
      appendFileSync(path, sealEntry(entry('after'), forged.hash).line);
      await until(f, ['break audit-2026-02-01.jsonl:2 fork-genesis', 'entry audit-2026-02-01.jsonl:3 after']);
      // A changed entry (its stored hash no longer the hash of what it says).
      const next = sealEntry(entry('changed'), forged.hash);
      appendFileSync(path, next.line.replace('"changed"', '"edited"'));
      await until(f, [
        'break audit-2026-02-01.jsonl:2 fork-genesis',
        'entry audit-2026-02-01.jsonl:3 after',
        'break audit-2026-02-01.jsonl:4 hash-mismatch',
        'entry audit-2026-02-01.jsonl:4 edited',
      ]);
    } finally {
      await f.stop();
      t.cleanup();
    }
  });

  it('without verify nothing is checked; a line that is not an entry is a problem', async () => {
    const t = tempDir();
    writeFileSync(join(t.dir, 'audit-2026-02-01.jsonl'), sealEntry(entry('before'), GENESIS_HASH).line);
    const f = await follow({ dir: t.dir, spec: {} });
    try {
      appendFileSync(join(t.dir, 'audit-2026-02-01.jsonl'), sealEntry(entry('x'), GENESIS_HASH).line + 'not json\n');
      await until(f, ['entry audit-2026-02-01.jsonl:2 x', 'problem audit-2026-02-01.jsonl:3']);
    } finally {
      await f.stop();
      t.cleanup();
    }
  });
});
