import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { generateSample } from '../../scripts/sample.js';
import { ROOT, runCli, tempDir } from '../helpers/cli.js';
import { needsPython } from '../helpers/python.js';

describe('sample generator', () => {
  it('regenerates examples/audit byte for byte (deterministic)', () => {
    const t = tempDir();
    try {
      generateSample(t.dir, {
        seed: 20261116,
        startDate: '2026-11-16',
        perDay: [60, 80, 400, 90, 70],
        maxFileBytes: 48 * 1024,
        gzipDays: [0],
      });
      const ours = join(ROOT, 'examples', 'audit');
      assert.deepEqual(readdirSync(t.dir).sort(), readdirSync(ours).sort());
      for (const n of readdirSync(ours)) assert.ok(readFileSync(join(t.dir, n)).equals(readFileSync(join(ours, n))), n);
    } finally {
      t.cleanup();
    }
  });

  it('examples/audit verifies intact, with a .gz day and rotated pieces', async () => {
    const r = await runCli(['verify', '--dir', 'examples/audit', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.entriesVerified, 700);
    assert.ok(rep.files.some((f: { file: string }) => f.file.endsWith('.gz')));
    assert.ok(rep.files.some((f: { file: string }) => /\.\d{6}\.jsonl$/.test(f.file)));
  });

  it('long details: a share of entries carries a body of about the size asked for, and verifies intact', async () => {
    const t = tempDir();
    try {
      generateSample(t.dir, { seed: 3, perDay: [400], longDetails: { share: 0.25, bytes: 2000 } });
      const entries = readdirSync(t.dir)
        .flatMap((n) => readFileSync(join(t.dir, n), 'utf8').split('\n'))
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      const long = entries.filter((e) => typeof e.details.body === 'string');
      assert.ok(long.length > 60 && long.length < 140, `${long.length} of 400`);
      for (const e of long) assert.ok(e.details.body.length >= 2000 && e.details.body.length < 2100);
      const r = await runCli(['verify', '--dir', t.dir, '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).entriesVerified, 400);
    } finally {
      t.cleanup();
    }
  });

  it('writes what CPython json.dumps writes and hashes as Loki Mode does', { skip: needsPython }, () => {
    const check = `
import json, hashlib, sys, gzip, os
d = sys.argv[1]; prev = "0"*64; n = 0
for f in sorted(os.listdir(d)):
    op = gzip.open if f.endswith('.gz') else open
    with op(os.path.join(d, f), 'rt', encoding='utf-8') as fh:
        for line in fh:
            raw = line.rstrip('\\n'); e = json.loads(raw)
            assert json.dumps(e) == raw, (f, raw)
            h = e.pop('_integrity_hash')
            assert hashlib.sha256((prev + json.dumps(e, sort_keys=True, default=str)).encode()).hexdigest() == h, f
            prev = h; n += 1
print(n)`;
    const r = spawnSync('python3', ['-c', check, join(ROOT, 'examples', 'audit')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '700');
  });
});
