/**
 * The lines a target forwards from: every whole line from a saved position on (plain and .gz
 * files, size-rotated pieces), no torn last line, views of one reused read buffer (a detached
 * copy survives the next read), then followed as written until aborted.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { generateSample } from '../../../scripts/sample.js';
import {
  detach,
  inodeOf,
  positionAfter,
  progressIn,
  source,
  type SourceLine,
  type SourceOptions,
} from '../../../src/core/forward/source.js';
import { discoverAuditFiles, type AuditFile } from '../../../src/core/read/files.js';
import { sealEntry } from '../../../src/core/write/seal.js';
import { tempDir } from '../../helpers/cli.js';

/** The lines of `files` as written, in chain order, with their file and line number. */
function linesOf(files: AuditFile[]): Array<[string, number, string]> {
  return files.flatMap((f) => {
    const bytes = readFileSync(f.path);
    const text = (f.gz ? gunzipSync(bytes) : bytes).toString('utf8');
    return text
      .split('\n')
      .slice(0, -1)
      .map((l, i): [string, number, string] => [f.name, i + 1, l]);
  });
}

describe('source', () => {
  let t: { dir: string; cleanup: () => void };
  let audit: string;
  let files: AuditFile[];
  const opts = (o: Partial<SourceOptions> = {}): SourceOptions => ({
    dir: audit,
    files,
    from: { index: 0, position: null },
    follow: false,
    maxLineBytes: 1 << 20,
    ...o,
  });
  /** Every line read, as text taken at once (the bytes are views of a reused buffer). */
  async function read(o: SourceOptions): Promise<Array<[string, number, string]>> {
    const out: Array<[string, number, string]> = [];
    for await (const chunk of source(o)) for (const s of chunk) out.push([s.file, s.raw.line, s.raw.bytes.toString()]);
    return out;
  }
  beforeEach(async () => {
    t = tempDir();
    audit = join(t.dir, 'audit');
    // Day 1 gzipped, day 2 rotated into pieces of 100 KiB (two 64 KiB reads each).
    generateSample(audit, { seed: 11, perDay: [40, 800], maxFileBytes: 100 * 1024, gzipDays: [0] });
    files = (await discoverAuditFiles(audit)).files;
  });
  afterEach(() => t.cleanup());

  it(
    'from the start: every whole line of every file in chain ' + 'order, with its file and inode; not a torn last line',
    async () => {
      assert.ok(files[0].gz && files.length >= 4, files.map((f) => f.name).join(' '));
      const whole = linesOf(files);
      appendFileSync(files.at(-1)!.path, '{"timestamp": "2026-11-17T00:00:00+00:00", "act');
      assert.deepEqual(await read(opts()), whole);
      for await (const chunk of source(opts({ from: { index: 1, position: null } })))
        for (const s of chunk) assert.equal(s.ino, statSync(join(audit, s.file)).ino);
    },
  );

  it('from a saved position: only the lines after it, in a plain piece and in a .gz file', async () => {
    const whole = linesOf(files);
    for (const [index, line] of [
      [0, 17],
      [2, 5],
    ]) {
      let at = null;
      for await (const chunk of source(opts({ from: { index, position: null } }))) {
        const s = chunk.find((x) => x.raw.line === line);
        if (s) {
          at = positionAfter(s);
          break;
        }
      }
      assert.ok(at);
      const after = await read(opts({ from: { index, position: at } }));
      const skip = whole.findIndex(([f, n]) => f === files[index].name && n === line) + 1;
      assert.deepEqual(after, whole.slice(skip), `after ${files[index].name}:${line}`);
    }
  });

  it('lines are views of one reused read buffer; a detached copy keeps its bytes past the next read', async () => {
    const o = opts({ from: { index: 1, position: null } });
    const it = source(o)[Symbol.asyncIterator]();
    const first = (await it.next()).value![0];
    const text = first.raw.bytes.toString();
    const kept = detach(first);
    assert.equal(kept.raw.bytes.toString(), text);
    let reused = false;
    for (let r = await it.next(); !r.done && !reused; r = await it.next()) reused = first.raw.bytes.toString() !== text;
    await it.return(undefined);
    assert.ok(reused, 'a later read overwrote the first line (no copy per line)');
    assert.equal(kept.raw.bytes.toString(), text);
    assert.deepEqual([kept.file, kept.raw.line, kept.raw.offset], [first.file, first.raw.line, first.raw.offset]);
  });

  it('positionAfter: offsets, line, sha256 of the bytes and the chain hash of the entry', async () => {
    const it = source(opts({ from: { index: 1, position: null } }))[Symbol.asyncIterator]();
    const s = (await it.next()).value![1];
    const p = positionAfter(s);
    await it.return(undefined);
    const line = linesOf([files[1]])[1][2];
    assert.deepEqual(
      { ...p, at: 'now' },
      {
        file: files[1].name,
        ino: statSync(files[1].path).ino,
        entryOffset: Buffer.byteLength(linesOf([files[1]])[0][2]) + 1,
        offset: Buffer.byteLength(linesOf([files[1]])[0][2]) + 1 + Buffer.byteLength(line) + 1,
        line: 2,
        lineSha256: createHash('sha256').update(line).digest('hex'),
        chainHash: JSON.parse(line)._integrity_hash,
        at: 'now',
      },
    );
  });

  it('progressIn: sizes of the files before plus the offset in the file, capped at its size', () => {
    const sizes = files.map((f) => statSync(f.path).size);
    const progress = progressIn(files);
    const at = (file: string, offset: number, length: number) =>
      progress({
        file,
        ino: null,
        raw: { bytes: Buffer.alloc(0), line: 1, offset, length, terminated: true, tooLong: false, crlf: false },
      });
    assert.deepEqual(at(files[2].name, 100, 50), {
      filesDone: 2,
      files: files.length,
      bytesDone: sizes[0] + sizes[1] + 150,
      bytesTotal: sizes.reduce((a, b) => a + b, 0),
    });
    // An offset in a .gz file counts decompressed bytes: capped at the file's size on disk.
    assert.equal(at(files[0].name, sizes[0] * 3, 10).bytesDone, sizes[0]);
  });

  it(
    'follow: after the last file, lines come out as they are written, until aborted',
    { timeout: 20_000 },
    async () => {
      const abort = new AbortController();
      const live = files.at(-1)!;
      const o = opts({
        from: { index: files.length - 1, position: null },
        follow: true,
        signal: abort.signal,
        pollMs: 50,
      });
      const it = source(o)[Symbol.asyncIterator]();
      const existing = linesOf([live]);
      for (let n = 0; n < existing.length;) n += (await it.next()).value!.length;
      const head = JSON.parse(existing.at(-1)![2])._integrity_hash as string;
      const s = sealEntry(
        { timestamp: '2026-11-17T23:59:00+00:00', action: 'login', user_id: 'live', details: {} },
        head,
      );
      const next = it.next();
      appendFileSync(live.path, s.line);
      const r = await next;
      assert.equal(r.done, false);
      assert.deepEqual(
        r.value!.map((x) => [x.file, x.raw.line, x.raw.bytes.toString()]),
        [[live.name, existing.length + 1, s.line.trimEnd()]],
      );
      const ended = it.next();
      abort.abort();
      assert.equal((await ended).done, true);
    },
  );

  it(
    'blank lines: not handed out, counted in the line numbers; follow starts after trailing ones',
    { timeout: 20_000 },
    async () => {
      const abort = new AbortController();
      const live = files.at(-1)!;
      const existing = linesOf([live]);
      // 200,000 blank lines after the first entry and 100,000 at the end of the file.
      const text = readFileSync(live.path, 'utf8').split('\n');
      const withBlanks = [
        text[0],
        ...Array<string>(200_000).fill(''),
        ...text.slice(1, -1),
        ...Array<string>(100_000).fill(''),
      ];
      writeFileSync(live.path, withBlanks.join('\n') + '\n');
      const o = opts({
        from: { index: files.length - 1, position: null },
        follow: true,
        signal: abort.signal,
        pollMs: 50,
      });
      const it = source(o)[Symbol.asyncIterator]();
      const got: Array<[number, string]> = [];
      while (got.length < existing.length)
        for (const x of (await it.next()).value!) got.push([x.raw.line, x.raw.bytes.toString()]);
      assert.deepEqual(
        got,
        existing.map(([, n, l]) => [n === 1 ? 1 : n + 200_000, l]),
      );
      const head = JSON.parse(existing.at(-1)![2])._integrity_hash as string;
      const s = sealEntry(
        { timestamp: '2026-11-17T23:59:00+00:00', action: 'login', user_id: 'live', details: {} },
        head,
      );
      const next = it.next();
      appendFileSync(live.path, s.line);
      const r = await next;
      assert.deepEqual(
        r.value!.map((x: SourceLine) => [x.raw.line, x.raw.offset]),
        [[withBlanks.length + 1, statSync(live.path).size - Buffer.byteLength(s.line)]],
      );
      const ended = it.next();
      abort.abort();
      assert.equal((await ended).done, true);
    },
  );
});

describe('inodeOf: a stat error is a gone file only for ENOENT', () => {
  it('is the inode of a file, null once it is gone, and throws any other error', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = join(dir, 'audit-2026-01-01.jsonl');
      writeFileSync(file, '{}\n');
      assert.equal(await inodeOf(file), statSync(file).ino);
      assert.equal(await inodeOf(join(dir, 'gone.jsonl')), null);
      // A path through a regular file: ENOTDIR, not a rotated file; no silent null inode.
      await assert.rejects(inodeOf(join(file, 'x')), { code: 'ENOTDIR' });
    } finally {
      cleanup();
    }
  });
});
