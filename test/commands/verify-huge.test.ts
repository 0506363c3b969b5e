/**
 * verify on entries of any size the writer writes (spec §10.21): a 50 MB entry, in a plain day and
 * in a gzipped one, verifies with flat memory (the line is streamed, never held).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { runMeasured, tempDir } from '../helpers/cli.js';
import { writeBigLineFile } from '../helpers/bigline.js';

describe('verify: an entry of 50 MB', { timeout: 180_000 }, () => {
  let t: { dir: string; cleanup: () => void };
  let plain: string;
  let gz: string;
  before(() => {
    t = tempDir();
    plain = join(t.dir, 'plain');
    gz = join(t.dir, 'gz');
    for (const d of [plain, gz]) mkdirSync(d, { recursive: true });
    writeBigLineFile(join(plain, 'audit-2026-03-01.jsonl'), 50 * 1024 * 1024);
    writeFileSync(
      join(gz, 'audit-2026-03-01.jsonl.gz'),
      gzipSync(readFileSync(join(plain, 'audit-2026-03-01.jsonl')), { level: 1 }),
    );
  });
  after(() => t.cleanup());

  for (const which of ['plain', 'gzipped'] as const) {
    it(`${which}: intact, every entry verified, peak RSS far below the entry's size`, async () => {
      const r = await runMeasured(
        ['verify', '--dir', which === 'plain' ? plain : gz, '--json'],
        join(t.dir, `rss-${which}`),
      );
      assert.equal(r.code, 0, r.stderr + r.stdout.slice(0, 2000));
      const rep = JSON.parse(r.stdout);
      assert.equal(rep.verdict, 'intact');
      assert.equal(rep.entriesVerified, 6);
      assert.ok(r.rssMb < 130, `peak RSS ${r.rssMb.toFixed(0)} MB for a 50 MB entry`);
    });
  }

  it('the same entry changed by one byte inside its 50 MB: tampered at its line', async () => {
    const bad = join(t.dir, 'bad');
    mkdirSync(bad, { recursive: true });
    const text = readFileSync(join(plain, 'audit-2026-03-01.jsonl'));
    const lines = text.toString('latin1').split('\n');
    const i = lines[3].indexOf('lorem', 30 * 1024 * 1024);
    lines[3] = lines[3].slice(0, i) + 'L' + lines[3].slice(i + 1);
    writeFileSync(join(bad, 'audit-2026-03-01.jsonl'), lines.join('\n'), 'latin1');
    const r = await runMeasured(['verify', '--dir', bad, '--json'], join(t.dir, 'rss-bad'));
    assert.equal(r.code, 1, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.deepEqual([rep.firstProblem.reason, rep.firstProblem.line], ['hash-mismatch', 4]);
  });
});
