import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { generateSample, makeEntry, prng } from '../../../../scripts/sample.js';
import { ByteCanonicalizer } from '../../../../src/core/pyjson/canonical-bytes.js';
import { GENESIS_HASH } from '../../../../src/core/chain/rule.js';
import { verifyDashboardChain } from '../../../../src/core/chain/verify-chain.js';
import { type ChainReport } from '../../../../src/core/chain/report.js';
import { runChainJob, verifyChainFast } from '../../../../src/core/chain/parallel/fast-path.js';
import { discoverAuditFiles } from '../../../../src/core/read/files.js';
import { canonicalizeEntry } from '../../../../src/core/pyjson/canonical.js';
import { pyDumps } from '../../../../src/core/pyjson/dumps.js';
import { LOKI, ROOT, tempDir } from '../../../helpers/cli.js';
import { randomJsonTexts } from '../../../helpers/random-json.js';
import { startSourceVerifyWorker } from '../../../helpers/workers.js';
import { needsPython } from '../../../helpers/python.js';

const HASH_KEYS = ['_integrity_hash', 'chain_hash'];

/**
 * The fast canonical text of a line, or null when the fast path declines it. The line is
 * canonicalized twice: the second time its key sequence is known (learned the first time, or
 * earlier with a shared canonicalizer `c`), and both must agree.
 */
function fast(line: string, c = new ByteCanonicalizer(16)): string | null {
  const buf = Buffer.from(line + '\n', 'utf8');
  const once = (): string | null => {
    const n = c.entry(buf, 0, buf.length - 1);
    return n < 0 ? null : c.out.toString('latin1', 64, n);
  };
  const first = once();
  assert.equal(once(), first, `the same line again, its key sequence known: ${line}`);
  return first;
}

function plain(r: ChainReport): unknown {
  return { ...r, found: [...r.found.entries()] };
}

/** Every directory under `root` holding audit-*.jsonl files. */
function auditDirs(root: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(root)) {
    const p = join(root, name);
    if (!statSync(p).isDirectory()) continue;
    if (readdirSync(p).some((f) => /^audit-\d{4}-\d{2}-\d{2}(\.\d{6})?\.jsonl(\.gz)?$/.test(f))) out.push(p);
    out.push(...auditDirs(p));
  }
  return out;
}

describe('byte canonicalizer (verify fast path)', () => {
  it('equals the general canonicalizer on every generated entry it accepts, and accepts all writer lines', () => {
    const r = prng(11);
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      const entry = makeEntry(
        r,
        1_760_000_000_000_000n + BigInt(i) * 1000n,
        i,
        1,
        i % 3 === 0 ? 'documented' : 'writer',
      );
      entry[i % 3 === 0 ? 'chain_hash' : '_integrity_hash'] = 'f'.repeat(64);
      const line = pyDumps(entry);
      const want = canonicalizeEntry(line, { hashKeys: HASH_KEYS }).canonical;
      const got = fast(line);
      if (got !== null) {
        assert.equal(got, want, line);
        accepted++;
      }
    }
    assert.equal(accepted, 3000, 'every line as the writer prints it takes the fast path');
  });

  it('accepts canonical edge values byte for byte', () => {
    for (const v of [
      '1.5',
      '0.0001',
      '-0.0',
      '1e-05',
      '1e+16',
      '1.0',
      '100000.0',
      '0.30000000000000004',
      'NaN',
      '-Infinity',
      'Infinity',
      '9007199254740993',
      '-12',
      '"\\u00e9\\ud83d\\ude00\\u007f\\u0000"',
      '"a\\"b\\\\c\\n\\r\\t\\b\\f"',
      '[]',
      '{}',
      '[1, [2, {"z": 1, "a": [{}]}], "x"]',
      '{"b": {"d": 1, "c": 2}, "a": null}',
    ]) {
      const line = `{"z": ${v}, "a": true, "_integrity_hash": "x"}`;
      assert.equal(fast(line), canonicalizeEntry(line, { hashKeys: HASH_KEYS }).canonical, v);
    }
  });

  it('declines every line that is not exactly as Python prints it', () => {
    const bad = [
      '{"a": 1E5, "_integrity_hash": "x"}',
      '{"a": 1e5, "_integrity_hash": "x"}',
      '{"a": 1.50, "_integrity_hash": "x"}',
      '{"a": 0.00001, "_integrity_hash": "x"}',
      '{"a": 12345678901234567.0, "_integrity_hash": "x"}',
      '{"a": 1e400, "_integrity_hash": "x"}',
      '{"a": -0, "_integrity_hash": "x"}',
      '{"a": 01, "_integrity_hash": "x"}',
      '{"a": "\\u0041", "_integrity_hash": "x"}',
      '{"a": "\\/", "_integrity_hash": "x"}',
      '{"a": "\\u00E9", "_integrity_hash": "x"}',
      '{"a": "\\u000a", "_integrity_hash": "x"}',
      '{"a": "tab\there", "_integrity_hash": "x"}',
      '{"a": "caf\u00e9", "_integrity_hash": "x"}',
      '{"a":1, "_integrity_hash": "x"}',
      '{"a" : 1, "_integrity_hash": "x"}',
      '{"a": [1,2], "_integrity_hash": "x"}',
      '{"a": 1,  "_integrity_hash": "x"}',
      '{"a": 1, "a": 2, "_integrity_hash": "x"}',
      '{"a": {"k": 1, "k": 1}, "_integrity_hash": "x"}',
      '{"\\u00e9": 1, "_integrity_hash": "x"}',
      '{"a": 1, "_integrity_hash": "x", "chain_hash": "y"}',
      '{"a": 1, "_integrity_hash": "x", "_integrity_hash": "x"}',
      '{"a": 1, "_integrity_hash": null}',
      '{"a": 1}',
      ' {"a": 1, "_integrity_hash": "x"}',
      '{"a": 1, "_integrity_hash": "x"} ',
      '{"a": tru, "_integrity_hash": "x"}',
      '[1, 2]',
    ];
    for (const line of bad) assert.equal(fast(line), null, line);
  });
});

describe('byte canonicalizer against CPython on random documents', { skip: needsPython }, () => {
  it(
    'accepts every line as json.dumps prints it and gives ' +
      'json.dumps(sort_keys=True); declines or agrees on any other text',
    () => {
      const docs = randomJsonTexts(11, 2000).map((v) => `{"b": ${v}, "a": [${v}], "_integrity_hash": "h"}`);
      // For each text: Python's writer form, the canonical form without the hash member, and
      // whether some key needs an escape (such lines are left to the general path by design).
      const script = [
        'import json,sys',
        'def esc(v):',
        '    if isinstance(v, dict): return any(any(not (0x20 <= ord(c) < ' +
          '0x7f) or c in "\\"\\\\" for c in k) or esc(x) for k, x in v.items())',
        '    if isinstance(v, list): return any(esc(x) for x in v)',
        '    return False',
        'for l in sys.stdin:',
        '    o = json.loads(json.loads(l))',
        '    w = json.dumps(o)',
        '    o.pop("_integrity_hash")',
        '    print(json.dumps([w, json.dumps(o, sort_keys=True, default=str), esc(o)]))',
      ].join('\n');
      const py = spawnSync('python3', ['-c', script], {
        input: docs.map((d) => JSON.stringify(d)).join('\n') + '\n',
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      assert.equal(py.status, 0, py.stderr);
      const rows = py.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as [string, string, boolean]);
      assert.equal(rows.length, docs.length);
      let declined = 0;
      let escapedKeys = 0;
      // One canonicalizer for all: every line has the key sequence of the one before it.
      const shared = new ByteCanonicalizer(16);
      rows.forEach(([writer, canonical, escapedKey], i) => {
        const w = fast(writer, shared);
        if (escapedKey && w === null) escapedKeys++;
        else assert.equal(w, canonical, `writer form of ${docs[i]}`);
        const raw = fast(docs[i], shared);
        if (raw === null) declined++;
        else assert.equal(raw, canonical, `raw text ${docs[i]}`);
      });
      assert.ok(declined > 500, `non-canonical texts are declined (${declined})`);
      assert.ok(
        escapedKeys < rows.length / 2,
        `most writer lines take the fast path (${escapedKeys} left to the general one)`,
      );
    },
  );
});

describe('parallel verification (fast path) against the sequential verifier', () => {
  it('gives the same report on every Loki Mode fixture directory, with and without worker threads', async () => {
    // Loki Mode's fixtures, and the bundled sample (a .jsonl.gz day, size-rotated pieces).
    const dirs = [...auditDirs(LOKI), join(ROOT, 'examples', 'audit')];
    assert.ok(dirs.length >= 26, `${dirs.length} fixture directories`);
    let fastTaken = 0;
    for (const dir of dirs) {
      const { files } = await discoverAuditFiles(dir);
      if (!files.length) continue;
      const seq = await verifyDashboardChain(files, { jobs: 0 });
      const inProcess = await verifyDashboardChain(files, { jobs: 1 });
      const threads = await verifyDashboardChain(files, {
        jobs: 2,
        parallelMinBytes: 0,
        startWorker: startSourceVerifyWorker,
      });
      assert.deepEqual(plain(inProcess), plain(seq), dir);
      assert.deepEqual(plain(threads), plain(seq), dir);
      // Called directly, a failing worker throws instead of falling back to the sequential verifier.
      const direct = await verifyChainFast(files, {
        maxLineBytes: 1 << 20,
        jobs: 2,
        parallelMinBytes: 0,
        startWorker: startSourceVerifyWorker,
      });
      if (direct.ok) fastTaken++;
    }
    assert.ok(fastTaken >= 8, `fast path proved ${fastTaken} intact fixture directories`);
  });

  it('workersOnly: every job goes to the workers, none to this thread, with the same report', async () => {
    const { files } = await discoverAuditFiles(join(LOKI, 'extended/valid/writer'));
    assert.ok(files.length >= 3, `${files.length} files`);
    const run = async (workersOnly: boolean) => {
      let posted = 0;
      const counting = () => {
        const w = startSourceVerifyWorker();
        const post = w.postMessage.bind(w);
        w.postMessage = (job: unknown) => {
          posted++;
          post(job);
        };
        return w;
      };
      const r = await verifyChainFast(files, {
        maxLineBytes: 1 << 20,
        jobs: workersOnly ? 1 : 2,
        workersOnly,
        parallelMinBytes: 0,
        startWorker: counting,
      });
      return { r, posted };
    };
    const only = await run(true);
    assert.ok(only.r.ok, JSON.stringify(only.r));
    assert.equal(only.posted, files.length, 'each file is one job, all of them posted to the worker');
    const shared = await run(false);
    assert.ok(shared.r.ok);
    assert.ok(shared.posted < files.length, `this thread took some (${shared.posted} of ${files.length} posted)`);
    assert.deepEqual(only.r, shared.r);
  });

  it('a worker that cannot start makes the fast path give up with the reason, not silently', async () => {
    const { files } = await discoverAuditFiles(join(LOKI, 'extended/valid/writer'));
    const reasons: string[] = [];
    const broken = () => new Worker('throw new Error("no worker here")', { eval: true });
    const r = await verifyDashboardChain(files, {
      jobs: 2,
      parallelMinBytes: 0,
      startWorker: broken,
      onFastPathGaveUp: (why) => reasons.push(why),
    });
    assert.equal(r.verdict, 'intact', 'the sequential verifier still gives the verdict');
    assert.equal(r.entriesVerified, 150);
    assert.equal(reasons.length, 1);
    assert.match(reasons[0], /no worker here/);
    const ok: string[] = [];
    await verifyDashboardChain(files, {
      jobs: 2,
      parallelMinBytes: 0,
      startWorker: startSourceVerifyWorker,
      onFastPathGaveUp: (why) => ok.push(why),
    });
    assert.deepEqual(ok, [], 'the source worker runs: no give-up');
  });

  it('the built worker (dist/verify-worker.js, what the installed CLI runs) gives the same results as this thread', async () => {
    const { files } = await discoverAuditFiles(join(LOKI, 'extended/valid/writer-rotated'));
    const w = new Worker(pathToFileURL(join(ROOT, 'dist', 'verify-worker.js')));
    try {
      let entries = 0;
      for (const f of files) {
        const job = {
          path: f.path,
          gz: f.gz,
          start: 0,
          end: statSync(f.path).size,
          maxLineBytes: 1 << 20,
          lookFor: [],
        };
        const answer = new Promise((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        });
        w.postMessage(job);
        const built = (await answer) as Awaited<ReturnType<typeof runChainJob>>;
        assert.deepEqual(built, await runChainJob(job), f.name);
        assert.equal(built.ok, true, f.name);
        entries += built.entries;
      }
      assert.equal(entries, 80);
    } finally {
      await w.terminate();
    }
  });

  it('splits big files into byte ranges on line boundaries and stitches them (lines, offsets, anchors)', async () => {
    const t = tempDir();
    try {
      const { head } = generateSample(t.dir, {
        seed: 5,
        startDate: '2026-03-01',
        perDay: [12000, 100],
        trickyShare: 0.3,
        maxFileBytes: 1 << 30,
      });
      const { files } = await discoverAuditFiles(t.dir);
      assert.ok(statSync(files[0].path).size > 4 * 256 * 1024, 'first file is split into several jobs');
      const lines = readFileSync(files[0].path, 'latin1').split('\n');
      const anchor = /"_integrity_hash": "([0-9a-f]{64})"/.exec(lines[9876])![1];
      const lookFor = new Set([anchor, head]);
      const seq = await verifyDashboardChain(files, { jobs: 0, lookFor });
      const par = await verifyDashboardChain(files, {
        jobs: 2,
        parallelMinBytes: 0,
        startWorker: startSourceVerifyWorker,
        jobBytes: 256 * 1024,
        lookFor,
      });
      const one = await verifyDashboardChain(files, { jobs: 1, jobBytes: 100 * 1024, lookFor });
      assert.deepEqual(plain(one), plain(seq));
      assert.deepEqual(plain(par), plain(seq));
      assert.equal(seq.verdict, 'intact');
      assert.deepEqual(seq.found.get(anchor), {
        file: files[0].name,
        line: 9877,
        offset: lines.slice(0, 9876).reduce((n, l) => n + l.length + 1, 0),
      });
      const direct = await verifyChainFast(files, {
        maxLineBytes: 1 << 20,
        jobs: 2,
        parallelMinBytes: 0,
        startWorker: startSourceVerifyWorker,
        jobBytes: 256 * 1024,
      });
      assert.ok(direct.ok, `the fast path proved it (${direct.ok ? '' : direct.reason})`);
    } finally {
      t.cleanup();
    }
  });

  it('a forged non-canonical line (hash over its own bytes) is tampered, as Loki Mode says, not intact', async () => {
    for (const value of ['1E5', '"\\u0041"', '"\\/"', '-0', '1.50', '{"k": 1, "k": 2}']) {
      const t = tempDir();
      try {
        const first = `{"a": 1, "_integrity_hash": "${createHash('sha256')
          .update(GENESIS_HASH + '{"a": 1}')
          .digest('hex')}"}`;
        const prev = /"([0-9a-f]{64})"/.exec(first)![1];
        // The naive reading: keys already sorted, so "canonical" = the line without the hash member.
        const naive = `{"a": ${value}, "b": "x"}`;
        const forged = `{"a": ${value}, "b": "x", "_integrity_hash": "${createHash('sha256')
          .update(prev + naive)
          .digest('hex')}"}`;
        writeFileSync(join(t.dir, 'audit-2026-03-01.jsonl'), `${first}\n${forged}\n`);
        const { files } = await discoverAuditFiles(t.dir);
        const seq = await verifyDashboardChain(files, { jobs: 0 });
        const par = await verifyDashboardChain(files, {
          jobs: 2,
          parallelMinBytes: 0,
          startWorker: startSourceVerifyWorker,
        });
        assert.equal(seq.verdict, 'tampered', value);
        assert.deepEqual(plain(par), plain(seq), value);
        assert.equal((await verifyChainFast(files, { maxLineBytes: 1 << 20 })).ok, false, value);
      } finally {
        t.cleanup();
      }
    }
  });

  it('a job gives up on anything the sequential verifier would report or note', async () => {
    const t = tempDir();
    try {
      const ok = `{"a": 1, "_integrity_hash": "${'a'.repeat(64)}"}`;
      const cases: Record<string, [string, RegExp]> = {
        blank: [`${ok}\n\n`, /blank/],
        crlf: [`${ok}\r\n`, /CR/],
        torn: [ok, /no newline/],
        unhashed: [`${ok}\n{"a": 1}\n`, /hash/],
        rawUtf8: [`${ok}\n{"a": "é", "_integrity_hash": "x"}\n`, /non-ASCII/],
        mismatch: [`${ok}\n${ok}\n`, /mismatch/],
      };
      for (const [name, [text, why]] of Object.entries(cases)) {
        const p = join(t.dir, `${name}.jsonl`);
        writeFileSync(p, text);
        const r = await runChainJob({ path: p, gz: false, start: 0, end: -1, maxLineBytes: 1 << 20, lookFor: [] });
        assert.equal(r.ok, false, name);
        assert.match(r.reason ?? '', why, name);
      }
    } finally {
      t.cleanup();
    }
  });
});
