/**
 * Positions are saved in the order their batches were closed, each only after every batch before
 * it is acknowledged, one save at a time; the state file on disk never shows a position ahead of
 * an unacknowledged batch, also when the loopback Loki receiver holds one answer back while it
 * answers a later push.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { PositionSaver, StateWriter } from '../../../src/core/forward/position-saver.js';
import { StateError, type Position, type StateFile } from '../../../src/core/forward/positions.js';
import type { ReadEntry } from '../../../src/core/read/entries.js';
import { LokiTarget } from '../../../src/sinks/loki/target.js';
import { tempDir } from '../../helpers/cli.js';
import { daysAgo, lineOf, sampleEntries } from '../../helpers/entries.js';
import { LokiReceiver } from '../../helpers/loki-receiver.js';

const position = (line: number): Position => ({
  file: 'audit-2026-11-20.jsonl',
  ino: 7,
  entryOffset: (line - 1) * 100,
  offset: line * 100,
  line,
  lineSha256: String(line).padStart(64, '0'),
  chainHash: null,
  at: '',
});

/** Lets every pending promise reaction run (used where only promise reactions are pending, no file write). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('PositionSaver', () => {
  let t: { dir: string; cleanup: () => void };
  let statePath: string;
  let state: StateFile;
  let onDisk: number[];
  let writer: StateWriter;
  const lineOnDisk = () => (JSON.parse(readFileSync(statePath, 'utf8')) as StateFile).targets.t.line;
  const saverOf = () =>
    new PositionSaver(async (p) => {
      await writer.save('t', p);
      onDisk.push(lineOnDisk());
    });
  beforeEach(() => {
    t = tempDir();
    statePath = join(t.dir, 'state', 'forward.json');
    state = { version: 1, dir: '/audit', targets: {} };
    writer = new StateWriter(statePath, state);
    onDisk = [];
  });
  afterEach(() => t.cleanup());

  it('acknowledged out of order: nothing is saved before its predecessors, then all in order', async () => {
    const s = saverOf();
    const slots = [s.reserve(), s.reserve(), s.reserve(), s.reserve()];
    const settled: number[] = [];
    const third = s.acknowledge(slots[2], position(30)).then((p) => settled.push(p!.line));
    const second = s.acknowledge(slots[1], position(20)).then((p) => settled.push(p!.line));
    await settle();
    assert.deepEqual(onDisk, []);
    assert.equal(existsSync(statePath), false, 'no position saved while the first batch is unacknowledged');
    assert.equal(settled.length, 0, 'no acknowledgement resolved');
    const first = s.acknowledge(slots[0], position(10)).then((p) => settled.push(p!.line));
    await Promise.all([first, second, third]);
    assert.deepEqual(onDisk, [10, 20, 30], 'each save in batch order, each on disk before the next');
    assert.deepEqual(settled, [10, 20, 30]);
    // The fourth slot is still open: nothing of it was saved.
    assert.equal(lineOnDisk(), 30);
    assert.equal((await s.acknowledge(slots[3], position(40)))!.line, 40);
    assert.deepEqual(onDisk, [10, 20, 30, 40]);
  });

  it('a batch with nothing new to save (null) keeps its place in the order', async () => {
    const s = saverOf();
    const [a, b, c] = [s.reserve(), s.reserve(), s.reserve()];
    const later = s.acknowledge(c, position(3));
    const nothing = s.acknowledge(b, null);
    await settle();
    assert.deepEqual(onDisk, [], 'slot a still holds back b and c');
    assert.equal((await s.acknowledge(a, position(1)))!.line, 1);
    assert.equal(await nothing, null);
    assert.equal((await later)!.line, 3);
    assert.deepEqual(onDisk, [1, 3]);
  });

  it('one save in flight: the next write starts only when the one before has finished', async () => {
    let inFlight = 0;
    let most = 0;
    const releases: Array<() => void> = [];
    const written: number[] = [];
    const s = new PositionSaver(async (p) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise<void>((resolve) => releases.push(resolve));
      written.push(p.line);
      inFlight--;
    });
    const slots = [s.reserve(), s.reserve(), s.reserve()];
    const all = Promise.all(slots.map((slot, i) => s.acknowledge(slot, position(i + 1))));
    for (let i = 0; i < 3; i++) {
      await settle();
      assert.equal(releases.length, i + 1, `write ${i + 1} started, and no other`);
      releases[i]();
    }
    await all;
    assert.equal(most, 1);
    assert.deepEqual(written, [1, 2, 3]);
  });

  it('the saved position carries the time it was acknowledged; the state file keeps other targets', async () => {
    const other = new PositionSaver((p) => writer.save('other', p));
    await other.acknowledge(other.reserve(), position(5));
    const s = saverOf();
    const t0 = Date.now();
    const saved = await s.acknowledge(s.reserve(), position(8));
    assert.ok(Date.parse(saved!.at) >= t0 - 1 && Date.parse(saved!.at) <= Date.now() + 1, saved!.at);
    const file = JSON.parse(readFileSync(statePath, 'utf8')) as StateFile;
    assert.deepEqual(
      Object.entries(file.targets).map(([id, p]) => [id, p.line]),
      [
        ['other', 5],
        ['t', 8],
      ],
    );
    assert.deepEqual(file.targets.t, saved);
    await writer.settled();
  });

  it('StateWriter: saves asked for before a write starts share it; it writes the newest state', async () => {
    const first = writer.save('t', position(1));
    const second = writer.save('u', position(2));
    assert.equal(second, first, 'one write for both');
    await first;
    const file = JSON.parse(readFileSync(statePath, 'utf8')) as StateFile;
    assert.deepEqual([file.targets.t?.line, file.targets.u?.line], [1, 2]);
    const third = writer.save('t', position(3));
    assert.notEqual(third, first, 'a save after the write is a write of its own');
    await third;
    assert.equal(lineOnDisk(), 3);
    assert.equal(statSync(statePath).mode & 0o777, 0o600);
  });

  it('a failed write fails that save and every later one, which write nothing', async () => {
    writeFileSync(join(t.dir, 'not-a-dir'), '');
    const broken = new StateWriter(join(t.dir, 'not-a-dir', 'forward.json'), state);
    let calls = 0;
    const s = new PositionSaver((p) => {
      calls++;
      return broken.save('t', p);
    });
    const [a, b] = [s.reserve(), s.reserve()];
    const second = s.acknowledge(b, position(2));
    await assert.rejects(s.acknowledge(a, position(1)), (err) => err instanceof StateError && err.code === 'io');
    await assert.rejects(second, StateError);
    assert.equal(calls, 1, 'the save after a failed one is not attempted');
    await assert.rejects(broken.settled(), StateError);
  });

  it('refuses a slot it did not hand out, or one acknowledged twice', async () => {
    const s = saverOf();
    assert.throws(() => s.acknowledge(0, position(1)), /not reserved/);
    const a = s.reserve();
    await s.acknowledge(a, position(1));
    assert.throws(() => s.acknowledge(a, position(1)), /already acknowledged/);
  });
});

describe('PositionSaver with Loki acknowledging', () => {
  let t: { dir: string; cleanup: () => void };
  let audit: string;
  let entries: ReadEntry[];
  let rx: LokiReceiver;
  const targets: LokiTarget[] = [];
  before(async () => {
    t = tempDir();
    audit = join(t.dir, 'audit');
    entries = await sampleEntries(audit, { seed: 8, startDate: daysAgo(1), perDay: [30] });
    rx = new LokiReceiver();
    await rx.start();
  });
  after(async () => {
    for (const target of targets) await target.close();
    await rx.stop();
    t.cleanup();
  });

  /** The position after entry `e`, as the source makes it. */
  const positionAfter = (e: ReadEntry): Position => {
    const text = lineOf(audit, e.file, e.line);
    return {
      file: e.file,
      ino: statSync(join(audit, e.file)).ino,
      entryOffset: e.offset,
      offset: e.offset + Buffer.byteLength(text) + 1,
      line: e.line,
      lineSha256: createHash('sha256').update(text).digest('hex'),
      chainHash: e.view.hash,
      at: '',
    };
  };

  it("a held 204 holds back the positions after it: the third batch's acknowledgement saves nothing", async () => {
    const statePath = join(t.dir, 'state', 'forward.json');
    const writer = new StateWriter(statePath, { version: 1, dir: audit, targets: {} });
    const onDisk: number[] = [];
    const lineOnDisk = () => (JSON.parse(readFileSync(statePath, 'utf8')) as StateFile).targets.t.line;
    const saver = new PositionSaver(async (p) => {
      await writer.save('t', p);
      onDisk.push(lineOnDisk());
    });
    const parts = [entries.slice(0, 10), entries.slice(10, 20), entries.slice(20)];
    // Second batch's answer held back by the receiver (after it stored the entries).
    const held = rx.hold((lines) => lines.includes(parts[1][0].text));
    let saves: Array<Promise<Position | null>> = [];
    try {
      const acknowledged: number[] = [];
      // One target (one connection) per batch: the third 204 can arrive while the second is held.
      saves = parts.map((part, i) => {
        const target = new LokiTarget({ url: rx.url, auth: { kind: 'none' } });
        targets.push(target);
        const slot = saver.reserve();
        const batch = target.batch();
        for (const e of part) assert.equal(batch.add(e), null);
        return target.deliver(batch).then((r) => {
          assert.deepEqual(r, { ok: true });
          acknowledged.push(i + 1);
          return saver.acknowledge(slot, positionAfter(part.at(-1)!));
        });
      });
      await held.arrived;
      const first = await saves[0];
      await rx.waitFor(() => acknowledged.includes(3), { describe: () => `the third push's 204 (${acknowledged})` });
      // The saves chain on promises only (the state file is written synchronously): a turn lets them run.
      await new Promise<void>((resolve) => setImmediate(resolve));
      assert.deepEqual(acknowledged.sort(), [1, 3]);
      assert.equal(rx.stored.length, 30, 'Loki has every entry, the second batch not acknowledged yet');
      assert.equal(first!.line, parts[0].at(-1)!.line);
      assert.deepEqual(onDisk, [parts[0].at(-1)!.line], 'only the first position saved');
      assert.equal(lineOnDisk(), 10, 'the state file does not pass the held batch');
    } finally {
      // Answered also when an assertion failed, so that nothing is left waiting after the test.
      held.release();
      await Promise.allSettled(saves);
    }
    const saved = await Promise.all(saves);
    assert.deepEqual(
      saved.map((p) => p!.line),
      [10, 20, 30],
    );
    assert.deepEqual(onDisk, [10, 20, 30], 'then the second and the third, in order');
    assert.deepEqual(
      { ...(JSON.parse(readFileSync(statePath, 'utf8')) as StateFile).targets.t, at: '' },
      positionAfter(entries[29]),
    );
  });
});
