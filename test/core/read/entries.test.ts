import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { discoverAuditFiles } from '../../../src/core/read/files.js';
import { parseJsonLine, readEntries } from '../../../src/core/read/entries.js';
import { PyJsonError } from '../../../src/core/pyjson/canonical.js';
import { tempDir } from '../../helpers/cli.js';

const entry = (n: number) => JSON.stringify({ timestamp: `2026-05-01T00:00:0${n}Z`, action: 'read', n });

describe('readEntries over blank lines', () => {
  it('blank lines are skipped without losing line numbers, offsets or the resume point', async () => {
    const t = tempDir();
    try {
      const blanks = '\n'.repeat(100_000);
      const text = `${entry(1)}\n${blanks}${entry(2)}\n{"torn": \n${blanks}\r\n${entry(3)}\n${blanks}`;
      writeFileSync(join(t.dir, 'audit-2026-05-01.jsonl'), text);
      const { files } = await discoverAuditFiles(t.dir);
      const ends: { completeOffset: number; nextLine: number }[] = [];
      const items = [];
      for await (const item of readEntries(files, { onFileEnd: (e) => ends.push(e) })) items.push(item);
      assert.deepEqual(
        items.map((i) => [i.kind, i.line, i.offset]),
        [
          ['entry', 1, 0],
          ['entry', 100_002, entry(1).length + 1 + 100_000],
          ['problem', 100_003, entry(1).length + 1 + 100_000 + entry(2).length + 1],
          ['entry', 200_005, text.indexOf(entry(3))],
        ],
      );
      assert.match((items[2] as { message: string }).message, /^malformed JSON: /);
      // Trailing blank lines are whole lines: a follower resumes after them, not before.
      assert.deepEqual(ends, [
        { file: 'audit-2026-05-01.jsonl', completeOffset: Buffer.byteLength(text), nextLine: 300_006 },
      ]);
    } finally {
      t.cleanup();
    }
  });

  it('the resume point stays before a torn last line when only whole lines are wanted', async () => {
    const t = tempDir();
    try {
      const head = `${entry(1)}\n\n\n`;
      writeFileSync(join(t.dir, 'audit-2026-05-01.jsonl'), `${head}{"timestamp": "2026`);
      const { files } = await discoverAuditFiles(t.dir);
      const ends: { completeOffset: number; nextLine: number }[] = [];
      const items = [];
      for await (const item of readEntries(files, { completeLinesOnly: true, onFileEnd: (e) => ends.push(e) }))
        items.push(item);
      assert.deepEqual(
        items.map((i) => i.kind),
        ['entry'],
      );
      assert.equal(ends[0].nextLine <= 4, true, JSON.stringify(ends));
      assert.equal(ends[0].completeOffset <= head.length, true, JSON.stringify(ends));
      assert.equal(ends[0].completeOffset >= entry(1).length + 1, true, JSON.stringify(ends));
    } finally {
      t.cleanup();
    }
  });
});

describe('parseJsonLine', () => {
  it('reads objects with JSON.parse and Python extras with the canonicalizer', () => {
    assert.deepEqual(parseJsonLine('{"a": 1}'), { value: { a: 1 }, strict: true });
    assert.deepEqual(parseJsonLine(' {"a": 1}'), { value: { a: 1 }, strict: true });
    assert.deepEqual(parseJsonLine('{"a": NaN}'), { value: { a: null }, strict: false });
    assert.deepEqual(parseJsonLine('[1]'), { value: [1], strict: false });
  });

  it("garbage gets Python's message, with or without the JSON.parse attempt", () => {
    for (const [line, message] of [
      ['QUJDRA==', 'Expecting value at column 1'],
      ['12ab', 'Extra data at column 3'],
      ['{"a": 1', "Expecting ',' delimiter at column 8"],
    ] as const) {
      assert.throws(
        () => parseJsonLine(line),
        (e: unknown) => e instanceof PyJsonError && e.message === message,
        line,
      );
    }
  });
});
