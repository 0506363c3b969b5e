/**
 * Filling batches: closed at the target's count, at its bytes, or at the batch wait, with one
 * timer per batch (not per line); lines that match nothing still move the position; refusals
 * kept apart from the journal; the last line's bytes copied before the read buffer is reused.
 * Lines come from real generated audit files, through the real source or a feed that reuses one
 * buffer as the file reader does. The same limits and the timer are then checked end to end:
 * batches of the real Loki target pushed to the loopback Loki receiver, whose pushes are counted.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { generateSample } from '../../../scripts/sample.js';
import { batches, matchingEntry, type BatcherOptions, type ClosedBatch } from '../../../src/core/forward/batcher.js';
import { parseLine } from '../../../src/core/read/entries.js';
import { source, type SourceLine } from '../../../src/core/forward/source.js';
import type { ForwardTarget, TargetBatch } from '../../../src/core/forward/target.js';
import { compileFilter, parseFieldSpec, type FilterSpec } from '../../../src/core/query/filters.js';
import type { ReadEntry } from '../../../src/core/read/entries.js';
import { discoverAuditFiles, type AuditFile } from '../../../src/core/read/files.js';
import { LokiTarget } from '../../../src/sinks/loki/target.js';
import { tempDir } from '../../helpers/cli.js';
import { daysAgo } from '../../helpers/entries.js';
import { LokiReceiver } from '../../helpers/loki-receiver.js';

/** A target that keeps the text of what it takes, refusing what `refuse` says. */
class RecordingTarget implements ForwardTarget {
  readonly id = 'test:recording';
  readonly acknowledges = true;
  constructor(
    readonly maxBatchEntries = 100_000,
    readonly maxBatchBytes = 1 << 30,
    private readonly refuse: (e: ReadEntry) => string | null = () => null,
  ) {}
  batch(): TargetBatch & { texts: string[] } {
    const texts: string[] = [];
    const refuse = this.refuse;
    return {
      texts,
      get size() {
        return texts.length;
      },
      add(e: ReadEntry) {
        const why = refuse(e);
        if (why === null) texts.push(e.text);
        return why;
      },
      seal() {},
    };
  }
  async deliver() {
    return { ok: true as const };
  }
  preview() {
    return true;
  }
  async close() {}
}

/**
 * Lines handed out a chunk at a time when the test pushes them. Like the file reader, asking for
 * the next chunk starts reading into the one buffer the lines handed out before are views of.
 */
class Feed implements AsyncIterator<SourceLine[]> {
  private readonly buffer = Buffer.alloc(1 << 20);
  private used = 0;
  private line = 0;
  private readonly queued: string[][] = [];
  private waiting: ((r: IteratorResult<SourceLine[]>) => void) | null = null;
  private ended = false;
  asked = 0;

  next(): Promise<IteratorResult<SourceLine[]>> {
    this.asked++;
    this.buffer.fill(0x21, 0, this.used);
    this.used = 0;
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.hand();
    });
  }
  push(...chunks: string[][]): void {
    this.queued.push(...chunks);
    this.hand();
  }
  end(): void {
    this.ended = true;
    this.hand();
  }
  private hand(): void {
    const w = this.waiting;
    if (!w || (!this.queued.length && !this.ended)) return;
    this.waiting = null;
    const chunk = this.queued.shift();
    if (!chunk) return w({ done: true, value: undefined });
    w({
      done: false,
      value: chunk.map((text) => {
        const length = this.buffer.write(text, this.used);
        const bytes = this.buffer.subarray(this.used, this.used + length);
        this.used += length;
        const raw = { bytes, line: ++this.line, offset: 0, length, terminated: true, tooLong: false, crlf: false };
        return { raw, file: 'audit-2026-11-20.jsonl', ino: 1 };
      }),
    });
  }
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const sizes = (closed: ClosedBatch[]) =>
  closed.map((c) => (c.batch as unknown as { texts: string[] } | null)?.texts.length ?? 0);

/**
 * The entry counts of the batches a byte limit makes of `lines`: a batch closes as soon as its
 * lines' UTF-8 bytes reach `limit` (the batcher's rule), the rest is the last batch.
 */
function byteBatchSizes(lines: string[], limit: number): number[] {
  const sizes: number[] = [];
  let n = 0;
  let bytes = 0;
  for (const l of lines) {
    n++;
    bytes += Buffer.byteLength(l);
    if (bytes >= limit) {
      sizes.push(n);
      n = bytes = 0;
    }
  }
  if (n) sizes.push(n);
  return sizes;
}

describe('batches', () => {
  let t: { dir: string; cleanup: () => void };
  let files: AuditFile[];
  let lines: string[];
  const all = compileFilter({});
  const opts = (o: Partial<BatcherOptions> = {}): BatcherOptions => ({
    filter: all,
    maxLineBytes: 1 << 20,
    waitMs: 60_000,
    savedLine: () => null,
    ...o,
  });
  const fromFiles = () =>
    source({ dir: t.dir, files, from: { index: 0, position: null }, follow: false, maxLineBytes: 1 << 20 })[
      Symbol.asyncIterator
    ]();
  async function collect(it: AsyncIterable<ClosedBatch>): Promise<ClosedBatch[]> {
    const out: ClosedBatch[] = [];
    for await (const c of it) out.push(c);
    return out;
  }
  before(async () => {
    t = tempDir();
    // One file of 400 entries (~170 KiB: several 64 KiB reads of the one reused buffer).
    generateSample(t.dir, { seed: 21, perDay: [400] });
    files = (await discoverAuditFiles(t.dir)).files;
    lines = readFileSync(join(t.dir, 'audit-2026-11-16.jsonl'), 'utf8').split('\n').slice(0, -1);
  });
  after(() => t.cleanup());

  it(
    'closes at the count: full batches, then the rest ' + 'when the lines end; each position after its last line',
    async () => {
      const closed = await collect(batches(fromFiles(), new RecordingTarget(150), opts()));
      assert.deepEqual(sizes(closed), [150, 150, 100]);
      assert.deepEqual(
        closed.map((c) => [c.end?.raw.line, c.position?.line, c.position?.lineSha256]),
        [150, 300, 400].map((n) => [n, n, sha256(lines[n - 1])]),
      );
      const texts = closed.flatMap((c) => (c.batch as unknown as { texts: string[] }).texts);
      assert.deepEqual(texts, lines);
      assert.deepEqual(
        closed.map((c) => c.journal.entries(1 << 20).map((e) => e.line)),
        [0, 150, 300].map((from) => Array.from({ length: from === 300 ? 100 : 150 }, (_, i) => from + i + 1)),
      );
      for (const c of closed) c.journal.release();
    },
  );

  it('lets the event loop run while it fills a batch from reads that settle at once', async () => {
    // The batch in flight needs the event loop (its gzip, its request, its position save) while
    // the next one is filled from synchronous reads: a turn must come at least every few ms.
    const many = Array.from({ length: 40 }, () => lines);
    const feed = new Feed();
    feed.push(...many);
    feed.end();
    let turns = 0;
    let stop = false;
    const tick = () => {
      if (stop) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    const t0 = performance.now();
    const closed = await collect(batches(feed, new RecordingTarget(), opts()));
    const ms = performance.now() - t0;
    stop = true;
    assert.deepEqual(sizes(closed), [40 * lines.length]);
    assert.ok(ms > 10, `filling took ${ms.toFixed(1)} ms: long enough to need turns`);
    assert.ok(turns >= 2, `${turns} turns of the event loop in ${ms.toFixed(1)} ms`);
  });

  it('matchingEntry: an entry read on its bytes is the parsed one, and the filters say the same', () => {
    const odd = [
      '{"timestamp": "2026-11-20T10:00:00+00:00", "action": "login", "user_id": "j\u00fcrgen", "success": false}',
      '{"timestamp": "2026-11-20T10:00:00+00:00", "action": "login", "user_id": "jürgen", "success": false}',
      '{"timestamp":"2026-11-20T10:00:00Z","action":"login"}',
      '{"timestamp": "2026-11-20T10:00:00+00:00", "event": "auth.login", "level": "error", "actor": "bob"}',
      '{"action": "x", "details": {"n": NaN}}',
      '{"action": "x", "action": "kill", "user_id": null}',
      '[1, 2]',
      '{"action": "x"',
    ];
    const specs: FilterSpec[] = [
      {},
      { actors: ['bob'] },
      { events: ['auth.login'] },
      { users: ['jürgen'] },
      { fields: [parseFieldSpec('action=kill')] },
    ];
    let viaBytes = 0;
    for (const spec of specs) {
      const filter = compileFilter(spec);
      for (const text of [...lines, ...odd]) {
        const bytes = Buffer.from(text);
        const raw = { bytes, line: 7, offset: 0, length: bytes.length, terminated: true, tooLong: false, crlf: false };
        const problems: unknown[] = [];
        const got = matchingEntry({ raw, file: 'audit-2026-11-20.jsonl', ino: 1 }, filter, 1 << 20, (p) =>
          problems.push(p),
        );
        const parsed = parseLine(raw, 'audit-2026-11-20.jsonl', 1 << 20);
        if (parsed?.kind !== 'entry') {
          assert.equal(got, null, text);
          assert.equal(problems.length, parsed ? 1 : 0, text);
          continue;
        }
        const want = filter.matches(parsed.view, parsed.record, parsed.text);
        assert.equal(got !== null, want, `${JSON.stringify(spec)}: ${text}`);
        if (!got) continue;
        if (got.constructor.name !== 'Object') viaBytes++;
        assert.equal(got.text, parsed.text);
        assert.equal(got.strictJson, parsed.strictJson);
        assert.deepEqual(got.record, parsed.record);
        const { rawAction: _a, rawResourceType: _r, ...view } = got.view as typeof got.view & Record<string, unknown>;
        assert.deepEqual(view, parsed.view, text);
        // A copy as the batcher keeps a refused entry has the text and the view.
        const copy = { ...got, record: {} };
        assert.equal(copy.text, parsed.text);
        assert.deepEqual(copy.view, got.view);
      }
    }
    assert.ok(viaBytes > lines.length, `${viaBytes} entries read on their bytes`);
  });

  it('closes at the bytes: as soon as the entries reach the target batch bytes', async () => {
    const limit = 10_000;
    const expected = byteBatchSizes(lines, limit);
    const closed = await collect(batches(fromFiles(), new RecordingTarget(100_000, limit), opts()));
    assert.ok(expected.length > 5, `${expected.length} batches`);
    assert.deepEqual(sizes(closed), expected);
  });

  it('closes at the batch wait, with one timer per batch and not one per line', { timeout: 10_000 }, async (ctx) => {
    const timers = ctx.mock.method(globalThis, 'setTimeout');
    const batchTimers = () => timers.mock.calls.filter((c) => Number(c.arguments[1]) <= 150).length;
    const feed = new Feed();
    const it = batches(feed, new RecordingTarget(), opts({ waitMs: 150 }))[Symbol.asyncIterator]();
    for (const [from, to, nth] of [
      [0, 200, 1],
      [200, 300, 2],
    ]) {
      const t0 = Date.now();
      const due = it.next();
      // One line per chunk, as `--follow` hands them out: every chunk is a wait of its own.
      feed.push(...lines.slice(from, to).map((l) => [l]));
      const r = await due;
      assert.ok(Date.now() - t0 >= 149, `closed after ${Date.now() - t0} ms, before the batch wait`);
      assert.deepEqual(sizes([r.value as ClosedBatch]), [to - from]);
      assert.ok(feed.asked > to, 'every line was its own chunk');
      assert.equal(batchTimers(), nth, `${batchTimers()} timers for ${nth} batch(es) of ${to - from} lines`);
    }
    feed.end();
    const last = await it.next();
    assert.deepEqual([last.value?.batch, last.value?.position], [null, null], 'nothing more: an empty batch');
    assert.equal((await it.next()).done, true);
  });

  it(
    'lines that match nothing still move the position: a batch without entries closes at the wait',
    { timeout: 10_000 },
    async () => {
      const feed = new Feed();
      let saved: SourceLine | null = null;
      const none = compileFilter({ events: ['no.such.event'] });
      const it = batches(feed, new RecordingTarget(), opts({ filter: none, waitMs: 50, savedLine: () => saved }))[
        Symbol.asyncIterator
      ]();
      const due = it.next();
      feed.push(lines.slice(0, 5));
      const c = (await due).value as ClosedBatch;
      assert.equal(c.batch, null);
      assert.deepEqual(c.journal.entries(1 << 20), []);
      assert.deepEqual([c.end?.raw.line, c.position?.line, c.position?.lineSha256], [5, 5, sha256(lines[4])]);
      saved = c.end;
      const next = it.next();
      feed.end();
      const end = (await next).value as ClosedBatch;
      assert.deepEqual([end.batch, end.position], [null, null], 'its line was closed before: no position');
    },
  );

  it('entries the target refuses are kept apart (without their bytes), not in the journal', async () => {
    const target = new RecordingTarget(100_000, 1 << 30, (e) =>
      e.view.event.startsWith('auth.') ? 'no auth here' : null,
    );
    const [c] = await collect(batches(fromFiles(), target, opts()));
    const auth = lines.filter((l) => JSON.parse(l).resource_type === 'auth');
    assert.ok(auth.length > 5);
    assert.deepEqual(
      c.refused.map((r) => [r.entry.text, r.reason, r.entry.bytes.length]),
      auth.map((l) => [l, 'no auth here', 0]),
    );
    const journal = c.journal.entries(1 << 20).map((e) => e.text);
    assert.deepEqual(journal, (c.batch as unknown as { texts: string[] }).texts);
    assert.deepEqual(
      journal,
      lines.filter((l) => !auth.includes(l)),
    );
    c.journal.release();
  });

  it(
    'the last line keeps a copy of its bytes: a batch closed after the read buffer was reused saves the right position',
    { timeout: 10_000 },
    async () => {
      const feed = new Feed();
      const it = batches(feed, new RecordingTarget(), opts({ waitMs: 50 }))[Symbol.asyncIterator]();
      const due = it.next();
      feed.push(lines.slice(0, 3));
      // The batcher asked for the next chunk (the buffer is overwritten at once), then the batch is due.
      const c = (await due).value as ClosedBatch;
      assert.ok(feed.asked >= 2);
      assert.deepEqual(
        [c.position?.line, c.position?.lineSha256, c.position?.chainHash],
        [3, sha256(lines[2]), JSON.parse(lines[2])._integrity_hash],
      );
      await it.return(undefined);
    },
  );
});

describe('batches pushed to Loki', () => {
  let t: { dir: string; cleanup: () => void };
  let files: AuditFile[];
  let lines: string[];
  let rx: LokiReceiver;
  const targets: LokiTarget[] = [];
  const lokiTarget = (batch: { entries?: number; bytes?: number }) => {
    const target = new LokiTarget({ url: rx.url, auth: { kind: 'none' } }, batch);
    targets.push(target);
    return target;
  };
  const opts = (o: Partial<BatcherOptions> = {}): BatcherOptions => ({
    filter: compileFilter({}),
    maxLineBytes: 1 << 20,
    waitMs: 60_000,
    savedLine: () => null,
    ...o,
  });
  const fromFiles = () =>
    source({ dir: t.dir, files, from: { index: 0, position: null }, follow: false, maxLineBytes: 1 << 20 })[
      Symbol.asyncIterator
    ]();
  /** Pushes each closed batch as the pipeline does (sealed, delivered, disposed of), one at a time. */
  async function pushAll(it: AsyncIterable<ClosedBatch>, target: LokiTarget): Promise<void> {
    for await (const c of it) {
      c.journal.release();
      if (!c.batch) continue;
      c.batch.seal();
      assert.deepEqual(await target.deliver(c.batch), { ok: true });
      target.dispose(c.batch);
    }
  }
  const storedLines = () => rx.stored.map((e) => e.line).sort();
  before(async () => {
    t = tempDir();
    // Yesterday's entries: Loki refuses entries older than a week.
    generateSample(t.dir, { seed: 23, startDate: daysAgo(1), perDay: [400] });
    files = (await discoverAuditFiles(t.dir)).files;
    lines = readFileSync(join(t.dir, files[0].name), 'utf8').split('\n').slice(0, -1);
  });
  after(() => t.cleanup());
  beforeEach(async () => {
    rx = new LokiReceiver();
    await rx.start();
  });
  afterEach(async () => {
    for (const target of targets.splice(0)) await target.close();
    await rx.stop();
  });

  it("the receiver gets pushes of the target's entry limit, then the rest, each entry once", async () => {
    await pushAll(batches(fromFiles(), lokiTarget({ entries: 150 }), opts()), targets[0]);
    assert.deepEqual(rx.pushSizes, [150, 150, 100]);
    assert.deepEqual(storedLines(), [...lines].sort());
    assert.equal(rx.duplicatesDropped, 0);
  });

  it("the receiver gets pushes cut at the target's byte limit (the entries' bytes as in their files)", async () => {
    const limit = 10_000;
    const expected = byteBatchSizes(lines, limit);
    assert.ok(expected.length > 5 && new Set(expected).size > 1, `${expected.join(', ')}`);
    await pushAll(batches(fromFiles(), lokiTarget({ bytes: limit }), opts()), targets[0]);
    assert.deepEqual(rx.pushSizes, expected);
    assert.deepEqual(storedLines(), [...lines].sort());
  });

  it(
    'the one timer pushes a partial batch at the batch wait while the lines go on (one timer per batch)',
    { timeout: 20_000 },
    async (ctx) => {
      const waitMs = 200;
      const timers = ctx.mock.method(globalThis, 'setTimeout');
      const batchTimers = () => timers.mock.calls.filter((c) => Number(c.arguments[1]) <= waitMs).length;
      const feed = new Feed();
      const target = lokiTarget({ entries: 10_000 });
      const pushing = pushAll(batches(feed, target, opts({ waitMs })), target);
      let ended = false;
      void pushing.finally(() => (ended = true));
      for (const [from, to, nth] of [
        [0, 30, 1],
        [30, 40, 2],
      ]) {
        const t0 = Date.now();
        // One line per chunk, as `--follow` hands them out: far below the entry and byte limits.
        feed.push(...lines.slice(from, to).map((l) => [l]));
        await rx.waitFor(() => rx.pushSizes.length >= nth, { describe: () => `push ${nth} at the batch wait` });
        const elapsed = Date.now() - t0;
        assert.ok(elapsed >= waitMs - 1, `pushed after ${elapsed} ms, before the ${waitMs} ms batch wait`);
        assert.equal(ended, false, 'the lines have not ended: the timer closed the batch');
        assert.deepEqual(rx.pushSizes, [30, 10].slice(0, nth));
        assert.equal(batchTimers(), nth, `${batchTimers()} timers for ${nth} batch(es)`);
      }
      feed.end();
      await pushing;
      assert.deepEqual(rx.pushSizes, [30, 10], 'the end closes an empty batch: nothing more is pushed');
      assert.deepEqual(storedLines(), lines.slice(0, 40).sort());
    },
  );
});
