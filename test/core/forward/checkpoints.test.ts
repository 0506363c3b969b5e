/**
 * forward's checkpoints, in the core: the chain check fed by the real batcher over real
 * generated files, the count of acknowledged entries (dead-lettered ones left out), the head of
 * the Nth entry signed and verified with the public key, no checkpoint past an edited entry, and
 * a checkpoint a dead run left pending pushed again as it was, not signed again.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { generateSample } from '../../../scripts/sample.js';
import {
  checkpointAnchors,
  ed25519SigningKey,
  ed25519VerifyingKey,
  generateKeyPair,
  type Checkpoint,
} from '../../../src/core/chain/anchors/checkpoints.js';
import { batches } from '../../../src/core/forward/batcher.js';
import {
  ForwardCheckpoints,
  type CheckpointEvent,
  type CheckpointStore,
} from '../../../src/core/forward/checkpoints.js';
import { StateWriter } from '../../../src/core/forward/position-saver.js';
import type { StateFile } from '../../../src/core/forward/positions.js';
import { source } from '../../../src/core/forward/source.js';
import type { ForwardTarget, TargetBatch } from '../../../src/core/forward/target.js';
import { compileFilter } from '../../../src/core/query/filters.js';
import { discoverAuditFiles } from '../../../src/core/read/files.js';
import { tempDir } from '../../helpers/cli.js';
import { daysAgo } from '../../helpers/entries.js';

/** A target that takes every entry, 7 to a batch. */
const target: ForwardTarget = {
  id: 'test:acks',
  acknowledges: true,
  maxBatchEntries: 7,
  maxBatchBytes: 1 << 30,
  batch(): TargetBatch {
    let size = 0;
    return {
      get size() {
        return size;
      },
      add() {
        size++;
        return null;
      },
      seal() {},
    };
  },
  async deliver() {
    return { ok: true };
  },
  preview: () => true,
  async close() {},
};

const pair = generateKeyPair();
const key = ed25519SigningKey(Buffer.from(pair.privatePem));

/** A store that keeps what it is given. */
function memoryStore(): CheckpointStore & { pushed: Checkpoint[] } {
  const pushed: Checkpoint[] = [];
  return { name: 'memory', pushed, push: async (c) => (pushed.push(c), { ok: true }) };
}

describe('ForwardCheckpoints', () => {
  let t: { dir: string; cleanup: () => void };
  let dir: string;
  let lines: string[];
  beforeEach(() => {
    t = tempDir();
    dir = join(t.dir, 'audit');
    generateSample(dir, { seed: 11, startDate: daysAgo(1), perDay: [40], maxFileBytes: 1 << 20 });
    lines = readFileSync(join(dir, `audit-${daysAgo(1)}.jsonl`), 'utf8')
      .trimEnd()
      .split('\n');
  });
  afterEach(() => t.cleanup());
  const hashOf = (i: number) => JSON.parse(lines[i])._integrity_hash as string;

  /**
   * One run from the start: the batches, acknowledged in order, with the batch indexes in
   * `refused[batch]` dead-lettered; returns the checkpoints, what they reported and the events.
   */
  async function run(state: StateFile, refused: Record<number, number[]> = {}) {
    const store = memoryStore();
    const events: CheckpointEvent[] = [];
    const cp = new ForwardCheckpoints({ every: 10, key, store, target: target.id, dir }, state);
    cp.start({
      retry: { backoffMs: { min: 1, max: 2 }, giveUpAfterMs: 0 },
      stateFile: new StateWriter(join(t.dir, 'state.json'), state),
      onEvent: (e) => events.push(e),
    });
    const files = (await discoverAuditFiles(dir)).files;
    const from = { index: 0, position: null };
    const chain = await cp.chainFor(files, from, { dir, maxLineBytes: 1 << 20 });
    const lines = source({ dir, files, from, follow: false, maxLineBytes: 1 << 20 })[Symbol.asyncIterator]();
    let n = 0;
    for await (const closed of batches(lines, target, {
      filter: compileFilter({}),
      chain,
      maxLineBytes: 1 << 20,
      waitMs: 60_000,
      savedLine: () => null,
    })) {
      cp.acknowledged(closed.marks!, closed.journal, refused[n++] ?? [], closed.position, 1 << 20);
      // Each push (and its state-file write) is done before the next batch: none is superseded.
      await cp.drained();
    }
    return { store, report: await cp.settle(), events };
  }
  const fresh = (): StateFile => ({ version: 1, dir, targets: {} });

  it(
    'signs the head of every 10th acknowledged entry, ' + 'dead-lettered ones not counted; the signature verifies',
    async () => {
      // The third entry of the first batch (entry 3) is dead-lettered: the 10th acknowledged is
      // entry 11, and of the 40 entries 39 are acknowledged.
      const { store, report } = await run(fresh(), { 0: [2] });
      assert.deepEqual(
        store.pushed.map((c) => [c.statement.head, c.statement.line, c.statement.entries]),
        [
          [hashOf(10), 11, 11],
          [hashOf(20), 21, 21],
          [hashOf(30), 31, 31],
        ],
      );
      assert.deepEqual([report.signed, report.pushed, report.pending, report.brokenAt], [3, 3, false, null]);
      const file = readFileSync(join(dir, store.pushed[0].statement.file), 'utf8');
      assert.equal(store.pushed[0].statement.offset, file.split('\n').slice(0, 11).join('\n').length + 1);
      const judged = checkpointAnchors(
        store.pushed.map((c, i) => ({ path: `#${i}`, checkpoint: c })),
        ed25519VerifyingKey(Buffer.from(pair.publicPem)),
      );
      assert.equal(judged.findings.length, 0);
      assert.equal(judged.anchors.length, 3);
    },
  );

  it('an entry edited with its hash kept: the checkpoints before it, none after, the break told once', async () => {
    const path = join(dir, `audit-${daysAgo(1)}.jsonl`);
    const edited = lines[14].includes('"success": true')
      ? lines[14].replace('"success": true', '"success": false')
      : lines[14].replace('"success": false', '"success": true');
    assert.notEqual(edited, lines[14]);
    writeFileSync(path, [...lines.slice(0, 14), edited, ...lines.slice(15)].join('\n') + '\n');
    const { store, report, events } = await run(fresh());
    assert.deepEqual(
      store.pushed.map((c) => c.statement.head),
      [hashOf(9)],
    );
    const at = { file: `audit-${daysAgo(1)}.jsonl`, line: 15, reason: 'does-not-chain' };
    assert.deepEqual(report.brokenAt, at);
    assert.deepEqual(
      events.filter((e) => e.kind === 'chain-break'),
      [{ kind: 'chain-break', target: target.id, at, resumed: false }],
    );
  });

  it('a checkpoint a dead run left pending is pushed again as it was; its head is not signed again', async () => {
    const first = await run(fresh());
    const dead = first.store.pushed[1]; // the 20th entry's, as if its push had not been recorded
    // The run died before the position after the 20th entry was saved: the next starts over.
    const state: StateFile = { ...fresh(), pendingCheckpoint: dead };
    const again = await run(state);
    assert.equal(again.store.pushed[0], dead, 'the pending one first, byte for byte');
    assert.deepEqual(
      again.store.pushed.map((c) => c.statement.head),
      [hashOf(19), hashOf(9), hashOf(29), hashOf(39)],
    );
    assert.equal(again.report.signed, 3, 'the 10th, 30th and 40th: the 20th was signed by the dead run');
    assert.equal(state.pendingCheckpoint, null);
  });
});
