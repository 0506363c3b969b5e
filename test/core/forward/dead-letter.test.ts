/**
 * The dead-letter file (one JSON line per refused entry, the entry's text exactly as in its file)
 * and the batch journal (the original bytes of a batch's entries, read again when the whole
 * batch is refused), on entries of a generated directory with tricky values; and an entry the
 * loopback Loki receiver refuses with a 400, dead-lettered from its batch's journal.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BatchJournal, DeadLetterFile } from '../../../src/core/forward/dead-letter.js';
import { deliverWithRetry } from '../../../src/core/forward/delivery.js';
import type { ReadEntry } from '../../../src/core/read/entries.js';
import { LokiTarget } from '../../../src/sinks/loki/target.js';
import { tempDir } from '../../helpers/cli.js';
import { daysAgo, lineOf, sampleEntries } from '../../helpers/entries.js';
import { LokiReceiver } from '../../helpers/loki-receiver.js';

describe('dead-letter file and batch journal', () => {
  let t: { dir: string; cleanup: () => void };
  let audit: string;
  let entries: ReadEntry[];
  before(async () => {
    t = tempDir();
    audit = join(t.dir, 'audit');
    // Two days, the second rotated into pieces: entries from several files; a share with tricky values.
    entries = await sampleEntries(audit, { seed: 5, perDay: [40, 80], maxFileBytes: 16 * 1024, trickyShare: 0.5 });
  });
  after(() => t.cleanup());

  it(
    'writes one valid JSON line per refused entry: time, ' + 'target, reason, file, line, chain hash, the exact entry',
    () => {
      const path = join(t.dir, 'nested', 'dir', 'dead.jsonl');
      const dl = new DeadLetterFile(path);
      const t0 = Date.now();
      dl.write('loki:http://x', [
        ...entries.slice(0, -1).map((entry) => ({ entry, reason: 'HTTP 400: bad' })),
        // A refusal before sending keeps neither the parsed record nor the bytes (the pipeline drops them).
        { entry: { ...entries.at(-1)!, record: {}, bytes: Buffer.alloc(0) }, reason: 'too old' },
      ]);
      const lines = readFileSync(path, 'utf8').split('\n');
      assert.equal(lines.pop(), '', 'every line ends with a newline');
      assert.equal(lines.length, entries.length);
      for (const [i, l] of lines.entries()) {
        const d = JSON.parse(l);
        assert.deepEqual(Object.keys(d), ['time', 'target', 'reason', 'file', 'line', 'chain_hash', 'entry']);
        const e = entries[i];
        const original = lineOf(audit, e.file, e.line);
        assert.equal(d.entry, original, `${e.file}:${e.line}`);
        assert.equal(d.chain_hash, JSON.parse(original)._integrity_hash);
        assert.deepEqual(
          [d.target, d.reason, d.file, d.line],
          ['loki:http://x', i < entries.length - 1 ? 'HTTP 400: bad' : 'too old', e.file, e.line],
        );
        const ms = Date.parse(d.time);
        assert.ok(ms >= t0 - 1 && ms <= Date.now() + 1, d.time);
      }
      // Re-serializing would change these: escapes (ensure_ascii) and integers beyond 2^53.
      assert.ok(entries.some((e) => e.text.includes('\\u')));
      assert.ok(entries.some((e) => e.text.includes('9007199254740993')));
    },
  );

  it('appends (a second write keeps the first); nothing to write creates no file', () => {
    const path = join(t.dir, 'append.jsonl');
    const dl = new DeadLetterFile(path);
    dl.write('a', []);
    assert.equal(existsSync(path), false);
    dl.write('a', [{ entry: entries[0], reason: 'r1' }]);
    dl.write('b', [{ entry: entries[1], reason: 'r2' }]);
    const got = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      got.map((d) => [d.target, d.reason, d.line]),
      [
        ['a', 'r1', entries[0].line],
        ['b', 'r2', entries[1].line],
      ],
    );
  });

  it('the journal gives back each entry recorded, byte for byte, with its file, line and offset', () => {
    const j = new BatchJournal();
    for (const e of entries) j.add(e);
    assert.ok(new Set(entries.map((e) => e.file)).size >= 3, 'entries from several files');
    const back = j.entries(1 << 20);
    const shape = (e: ReadEntry) => [e.file, e.line, e.offset, e.bytes.toString('latin1'), e.text, e.view.hash];
    assert.deepEqual(back.map(shape), entries.map(shape));
    assert.ok(entries.reduce((n, e) => n + e.bytes.length, 0) > 16 * 1024 * 3, 'spans several blocks');
    j.release();
    assert.deepEqual(j.entries(1 << 20), [], 'released: empty');
  });

  it('the journal keeps an entry longer than a block whole', () => {
    const long = entries.find((e) => e.bytes.length > 0)!;
    const padded = `{"pad": "${'é'.repeat(12_000)}", ${long.text.slice(1)}`;
    const bytes = Buffer.from(padded);
    assert.ok(bytes.length > 16 * 1024);
    const j = new BatchJournal();
    j.add(entries[0]);
    j.add({ ...long, bytes, text: padded });
    j.add(entries[1]);
    const back = j.entries(1 << 20);
    assert.deepEqual(
      back.map((e) => e.text),
      [entries[0].text, padded, entries[1].text],
    );
    assert.equal(back[1].view.hash, long.view.hash);
    j.release();
  });
});

describe('dead letters of entries Loki refuses', () => {
  let t: { dir: string; cleanup: () => void };
  let audit: string;
  let entries: ReadEntry[];
  let rx: LokiReceiver;
  let target: LokiTarget;
  let refused: string;
  before(async () => {
    t = tempDir();
    audit = join(t.dir, 'audit');
    entries = await sampleEntries(audit, { seed: 6, startDate: daysAgo(1), perDay: [12] });
    refused = entries[4].view.hash!;
    rx = new LokiReceiver({
      refuseEntry: (e) =>
        e.metadata.chain_hash === refused
          ? `entry for stream '{job="loki-audit"}' has timestamp too new: ${e.metadata.chain_hash}`
          : null,
    });
    await rx.start();
    target = new LokiTarget({ url: rx.url, auth: { kind: 'none' } });
  });
  after(async () => {
    await target.close();
    await rx.stop();
    t.cleanup();
  });

  it(
    "the entry lands in the file with Loki's reason and " + 'its chain hash, the file mode 600 in a 700 directory',
    async () => {
      // The lone entry's batch, as the pipeline ends up with once it has split a refused batch.
      const batch = target.batch();
      const journal = new BatchJournal();
      assert.equal(batch.add(entries[4]), null);
      journal.add(entries[4]);
      const out = await deliverWithRetry(target, batch, { backoffMs: { min: 20, max: 40 }, giveUpAfterMs: 1000 });
      assert.equal(out.kind, 'refused');
      const reason = (out as { error: string }).error;
      assert.equal(reason, `HTTP 400: entry for stream '{job="loki-audit"}' has timestamp too new: ${refused}`);
      const path = join(t.dir, 'state', 'dead-letter.jsonl');
      new DeadLetterFile(path).write(
        target.id,
        journal.entries(1 << 20).map((entry) => ({ entry, reason })),
      );
      journal.release();
      const lines = readFileSync(path, 'utf8').split('\n');
      assert.equal(lines.pop(), '');
      assert.equal(lines.length, 1);
      const d = JSON.parse(lines[0]);
      const original = lineOf(audit, entries[4].file, entries[4].line);
      assert.deepEqual(
        [d.target, d.reason, d.chain_hash, d.file, d.line, d.entry],
        [target.id, reason, JSON.parse(original)._integrity_hash, entries[4].file, entries[4].line, original],
      );
      assert.equal(rx.stored.length, 0, 'Loki kept nothing of it');
      assert.equal(statSync(path).mode & 0o777, 0o600, 'not readable by group or others');
      assert.equal(statSync(join(t.dir, 'state')).mode & 0o777, 0o700);
    },
  );
});
