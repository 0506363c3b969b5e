/**
 * forward() wiring one pipeline per target, against the loopback Loki receiver through the real
 * LokiTarget: pipelined (the next batch is read and sealed while the one before is with Loki,
 * never two in flight, delivered in order), the position saved after the last batch; a batch
 * Loki refuses an entry of split until it is alone; --dry-run sends and saves nothing.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { forward, type ForwardOptions } from '../../../src/core/forward/pipeline.js';
import type { StateFile } from '../../../src/core/forward/positions.js';
import type { DeliverResult, ForwardTarget, TargetBatch, TargetPreview } from '../../../src/core/forward/target.js';
import { compileFilter } from '../../../src/core/query/filters.js';
import type { ReadEntry } from '../../../src/core/read/entries.js';
import { LokiTarget } from '../../../src/sinks/loki/target.js';
import { tempDir } from '../../helpers/cli.js';
import { daysAgo, sampleEntries } from '../../helpers/entries.js';
import { LokiReceiver } from '../../helpers/loki-receiver.js';

/** A target that passes everything to `inner` and logs when batches are sealed and delivered. */
class Observed implements ForwardTarget {
  readonly log: string[] = [];
  private made = 0;
  private inFlight = 0;
  mostInFlight = 0;
  constructor(private readonly inner: ForwardTarget) {}
  get id() {
    return this.inner.id;
  }
  get maxBatchEntries() {
    return this.inner.maxBatchEntries;
  }
  get acknowledges() {
    return this.inner.acknowledges;
  }
  get maxBatchBytes() {
    return this.inner.maxBatchBytes;
  }
  batch(): TargetBatch {
    const b = this.inner.batch();
    const n = ++this.made;
    const seal = b.seal.bind(b);
    b.seal = () => {
      this.log.push(`seal ${n}`);
      seal();
    };
    (b as { n?: number }).n = n;
    return b;
  }
  async deliver(batch: TargetBatch): Promise<DeliverResult> {
    const n = (batch as { n?: number }).n;
    this.mostInFlight = Math.max(this.mostInFlight, ++this.inFlight);
    this.log.push(`send ${n}`);
    const r = await this.inner.deliver(batch);
    this.log.push(`sent ${n}`);
    this.inFlight--;
    return r;
  }
  slice(batch: TargetBatch, from: number, to: number): TargetBatch {
    return this.inner.slice!(batch, from, to);
  }
  dispose(batch: TargetBatch): void {
    this.inner.dispose?.(batch);
  }
  preview(e: ReadEntry, into: TargetPreview): boolean {
    return this.inner.preview(e, into);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

describe('forward()', () => {
  let t: { dir: string; cleanup: () => void };
  let audit: string;
  let entries: ReadEntry[];
  let rx: LokiReceiver;
  let options: ForwardOptions;
  beforeEach(async () => {
    t = tempDir();
    audit = join(t.dir, 'audit');
    entries = await sampleEntries(audit, {
      seed: 8,
      startDate: daysAgo(2),
      perDay: [120, 120],
      maxFileBytes: 32 * 1024,
    });
    rx = new LokiReceiver();
    await rx.start();
    const state: StateFile = { version: 1, dir: audit, targets: {} };
    options = {
      dir: audit,
      filter: compileFilter({}),
      state,
      statePath: join(t.dir, 'state.json'),
      deadLetterPath: join(t.dir, 'dead.jsonl'),
      batchWaitMs: 5000,
    };
  });
  afterEach(async () => {
    await rx.stop();
    t.cleanup();
  });

  it('pipelined: the next batch is sealed while the one before is with Loki; one in flight, in order', async () => {
    rx.slow(100);
    const target = new Observed(new LokiTarget({ url: rx.url, auth: { kind: 'none' } }, { entries: 40 }));
    const [report] = await forward([target], options);
    assert.deepEqual([report.delivered, report.deadLettered, report.error], [240, 0, null]);
    assert.equal(rx.stored.length, 240);
    assert.equal(target.mostInFlight, 1, 'never two batches in flight');
    const sends = target.log.filter((l) => l.startsWith('send'));
    assert.deepEqual(sends, ['send 1', 'send 2', 'send 3', 'send 4', 'send 5', 'send 6']);
    for (let n = 1; n < 6; n++)
      assert.ok(
        target.log.indexOf(`seal ${n + 1}`) < target.log.indexOf(`sent ${n}`),
        `batch ${n + 1} read and sealed while batch ${n} was with Loki: ${target.log.join(', ')}`,
      );
    const last = entries.at(-1)!;
    const saved = JSON.parse(readFileSync(options.statePath, 'utf8')) as StateFile;
    assert.deepEqual([saved.targets[target.id].file, saved.targets[target.id].line], [last.file, last.line]);
    assert.deepEqual(report.position, saved.targets[target.id]);
  });

  it(
    'one entry refused: the batch is split with the values it ' +
      'was sent with (ingest times too), until the entry is alone',
    async () => {
      const bad = entries[100];
      await rx.stop();
      rx = new LokiReceiver({
        refuseEntry: (e) =>
          e.metadata.chain_hash === bad.view.hash ? `entry for stream '{}' has timestamp too new` : null,
      });
      await rx.start();
      const target = new Observed(new LokiTarget({ url: rx.url, auth: { kind: 'none' }, timestampMode: 'ingest' }));
      const events: string[] = [];
      const [report] = await forward([target], {
        ...options,
        onEvent: (e) => void (e.kind === 'delivered' || e.kind === 'dead-letter' ? events.push(e.kind) : undefined),
      });
      assert.deepEqual([report.delivered, report.deadLettered, report.error], [239, 1, null]);
      // Loki stored the 239 others of the first push; every re-send had the same timestamps and
      // was dropped as a duplicate.
      assert.equal(rx.stored.length, 239);
      assert.ok(rx.duplicatesDropped >= 239, `${rx.duplicatesDropped} duplicates dropped`);
      assert.deepEqual(
        rx.stored.map((e) => e.line).sort(),
        entries
          .filter((e) => e !== bad)
          .map((e) => e.text)
          .sort(),
      );
      const dead = readFileSync(options.deadLetterPath, 'utf8').trim().split('\n');
      assert.deepEqual(
        dead.map((l) => [JSON.parse(l).entry, JSON.parse(l).reason]),
        [[bad.text, "HTTP 400: entry for stream '{}' has timestamp too new"]],
      );
      assert.deepEqual(events, ['delivered', 'dead-letter'], 'one report for the batch');
      // 240 entries: 120, 60, 30, 15, 8, 4, 2, 1: two pushes per level after the first.
      assert.equal(rx.pushes, 17);
    },
  );

  it('--dry-run: previews every entry, sends and saves nothing', async () => {
    const previews: TargetPreview[] = [];
    const target = new LokiTarget({ url: rx.url, auth: { kind: 'none' } });
    const [report] = await forward([target], { ...options, dryRun: true, previews });
    assert.equal(previews.length, 1);
    assert.equal(previews[0].entries, 240);
    assert.equal(
      Object.values(previews[0].streams).reduce((a, b) => a + b, 0),
      240,
    );
    assert.deepEqual([report.delivered, report.position], [0, null]);
    assert.equal(rx.pushes, 0);
    assert.equal(existsSync(options.statePath), false);
  });
});
