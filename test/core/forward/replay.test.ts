/**
 * The dead-letter replay on its own, with a recording target: each record's entry goes to the
 * target it names, byte for byte with its file and line; lines a forward run appends while the
 * replay runs are kept; a line too long to be a record is kept as it is; a target that stops
 * keeps the rest of its records.
 */
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DeadLetterFile } from '../../../src/core/forward/dead-letter.js';
import { replayDeadLetters } from '../../../src/core/forward/replay.js';
import type { DeliverResult, ForwardTarget, TargetBatch } from '../../../src/core/forward/target.js';
import type { ReadEntry } from '../../../src/core/read/entries.js';
import { tempDir } from '../../helpers/cli.js';
import { sampleEntries } from '../../helpers/entries.js';

class Batch implements TargetBatch {
  readonly entries: ReadEntry[] = [];
  get size() {
    return this.entries.length;
  }
  add(e: ReadEntry): null {
    this.entries.push(e);
    return null;
  }
  seal(): void {}
}

/** A target that records what it is sent; `answer` decides each delivery. */
class Recorder implements ForwardTarget {
  readonly maxBatchEntries = 5;
  readonly maxBatchBytes = 1 << 20;
  readonly acknowledges = true;
  readonly got: ReadEntry[] = [];
  constructor(
    readonly id: string,
    private readonly answer: (b: Batch) => DeliverResult = () => ({ ok: true }),
  ) {}
  batch(): Batch {
    return new Batch();
  }
  async deliver(batch: TargetBatch): Promise<DeliverResult> {
    const r = this.answer(batch as Batch);
    if (r.ok) this.got.push(...(batch as Batch).entries);
    return r;
  }
  preview(): boolean {
    return true;
  }
  async close(): Promise<void> {}
}

const retry = { backoffMs: { min: 1, max: 2 }, giveUpAfterMs: 0 };

describe('replayDeadLetters', () => {
  let t: { dir: string; cleanup: () => void };
  let entries: ReadEntry[];
  before(async () => {
    t = tempDir();
    entries = await sampleEntries(join(t.dir, 'audit'), { seed: 8, perDay: [24], trickyShare: 0.5 });
  });
  after(() => t.cleanup());

  it("sends each record's exact entry with its file and line, and keeps lines appended meanwhile", async () => {
    const path = join(t.dir, 'a.jsonl');
    const dl = new DeadLetterFile(path);
    dl.write(
      'loki:a',
      entries.map((entry) => ({ entry, reason: 'too old' })),
    );
    // A forward run appending while the replay sends its last batch (the file is read to its end by then).
    let appended = false;
    const target = new Recorder('loki:a', (b) => {
      if (!appended && b.entries.some((e) => e.text === entries.at(-1)!.text)) {
        dl.write('loki:a', [{ entry: entries[0], reason: 'new' }]);
        appended = true;
      }
      return { ok: true };
    });
    const r = await replayDeadLetters([target], { deadLetterPath: path, maxLineBytes: 1 << 20, retry });
    assert.equal(r.replayed, entries.length);
    assert.equal(r.carriedOver, 1);
    assert.deepEqual(
      target.got.map((e) => [e.text, e.file, e.line]),
      entries.map((e) => [e.text, e.file, e.line]),
    );
    const left = readFileSync(path, 'utf8').split('\n').filter(Boolean);
    assert.equal(left.length, 1);
    assert.equal(JSON.parse(left[0]).reason, 'new', 'the line appended during the replay');
  });

  it('a line too long for a record is kept as it is; a stopped target keeps the rest of its records', async () => {
    const path = join(t.dir, 'b.jsonl');
    const dl = new DeadLetterFile(path);
    dl.write(
      'loki:b',
      entries.slice(0, 12).map((entry) => ({ entry, reason: 'too old' })),
    );
    const long = 'x'.repeat(200_000);
    appendFileSync(path, long + '\n');
    let n = 0;
    const target = new Recorder('loki:b', () =>
      ++n === 1 ? { ok: true } : { ok: false, retryable: false, refusal: 'credentials', error: 'HTTP 401' },
    );
    const r = await replayDeadLetters([target], { deadLetterPath: path, maxLineBytes: 10_000, retry });
    assert.equal(r.replayed, 5, 'the first batch');
    assert.equal(r.stillRefused, 7);
    assert.equal(r.invalid, 1);
    assert.equal(r.targets[0].stopped, 'credentials');
    const left = readFileSync(path, 'utf8').split('\n').filter(Boolean);
    assert.equal(left.length, 8);
    assert.ok(left.includes(long), 'the long line, whole');
    assert.deepEqual(
      left.filter((l) => l !== long).map((l) => JSON.parse(l).entry),
      entries.slice(5, 12).map((e) => e.text),
    );
  });

  it('no file: found false, nothing written', async () => {
    const path = join(t.dir, 'none.jsonl');
    const r = await replayDeadLetters([new Recorder('loki:c')], { deadLetterPath: path, maxLineBytes: 1 << 20, retry });
    assert.equal(r.found, false);
    assert.throws(() => readFileSync(path));
  });
});
