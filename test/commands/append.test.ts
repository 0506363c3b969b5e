/**
 * append: Loki Mode's writer rules, and concurrent writers (two loki-audit processes and a
 * Python writer taking Loki Mode's fcntl.flock, spec §3.3) leaving one chain that verifies.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { appendEntry } from '../../src/core/write/append.js';
import { assertExit, BIN, ROOT, runCli, tempDir } from '../helpers/cli.js';

const python = spawnSync('python3', ['--version']).status === 0;

// Loki Mode's log_event locking and tip re-read (dashboard/audit.py, spec §3.3), for the test.
const LOKI_MODE_WRITER = `
import fcntl, hashlib, json, os, sys, datetime, time
d, n, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
tip = "0" * 64
for i in range(n):
    now = datetime.datetime.now(datetime.timezone.utc)
    entry = {"timestamp": now.isoformat(), "action": "write", "resource_type": "py", "resource_id": None, "user_id": tag,
             "token_id": None, "ip_address": None, "user_agent": None, "success": True, "error": None, "details": {"i": i}}
    path = os.path.join(d, "audit-%s.jsonl" % now.strftime("%Y-%m-%d"))
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        for line in reversed(f.read().splitlines()):
            try:
                o = json.loads(line)
            except Exception:
                continue
            if isinstance(o, dict) and isinstance(o.get("_integrity_hash"), str) and o["_integrity_hash"]:
                tip = o["_integrity_hash"]
                break
        h = hashlib.sha256((tip + json.dumps(entry, sort_keys=True, default=str)).encode()).hexdigest()
        entry["_integrity_hash"] = h
        f.write(json.dumps(entry) + "\\n")
        f.flush()
        tip = h
        fcntl.flock(f, fcntl.LOCK_UN)
    time.sleep(0.03)
`;

/** Runs a writer; its exit code and stderr. */
function run(cmd: string, args: string[], input?: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { cwd: ROOT, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    c.stderr.on('data', (b) => (stderr += b));
    c.on('error', reject);
    c.on('close', (code) => resolve({ code, stderr }));
    c.stdin.end(input ?? '');
  });
}

describe('append', () => {
  it('writes what Loki Mode writes: the UTC day file, writer key order, a chain that verifies', async () => {
    const t = tempDir();
    try {
      let r = await runCli([
        'append',
        '--dir',
        t.dir,
        '--event',
        'task.complete',
        '--actor',
        'cron:backup',
        '--detail',
        'job=nightly',
        '--detail',
        'bytes=1048576',
        '--json',
      ]);
      assert.equal(r.code, 0, r.stderr);
      r = await runCli([
        'append',
        '--dir',
        t.dir,
        '--event',
        'auth.login',
        '--actor',
        'alice',
        '--error',
        'bad password',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const day = new Date().toISOString().slice(0, 10);
      const lines = readFileSync(join(t.dir, `audit-${day}.jsonl`), 'utf8')
        .trim()
        .split('\n');
      assert.equal(lines.length, 2);
      assert.match(
        lines[0],
        /^\{"timestamp": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", "action": "complete", "resource_type": "task", "resource_id": null, "user_id": "cron:backup", "token_id": null, "ip_address": null, "user_agent": null, "success": true, "error": null, "details": \{"job": "nightly", "bytes": 1048576\}, "_integrity_hash": "[0-9a-f]{64}"\}$/,
      );
      assert.match(lines[1], /"success": false, "error": "bad password"/);
      const v = await runCli(['verify', '--dir', t.dir, '-q']);
      assert.equal(v.code, 0, v.stderr + v.stdout);
      if (python) {
        const py = spawnSync('python3', [join(ROOT, 'bench', 'chain.py'), t.dir], { encoding: 'utf8' });
        assert.equal(py.status, 0, py.stderr);
        assert.equal(py.stdout.trim(), '2');
      }
    } finally {
      t.cleanup();
    }
  });

  it('continues the chain from the newest earlier file, and rotates a full file to .HHMMSS', async () => {
    const t = tempDir();
    try {
      const first = await appendEntry(
        t.dir,
        { action: 'a', resource_type: 'x', details: {} },
        { now: new Date('2026-03-01T10:00:00Z') },
      );
      const next = await appendEntry(
        t.dir,
        { action: 'b', resource_type: 'x', details: {} },
        { now: new Date('2026-03-02T10:00:00Z') },
      );
      assert.equal(next.prev, first.hash, 'a new day chains from the previous day');
      const rot = await appendEntry(
        t.dir,
        { action: 'c', resource_type: 'x', details: {} },
        { now: new Date('2026-03-02T11:22:33Z'), maxSizeBytes: 10 },
      );
      assert.equal(rot.rotatedTo, 'audit-2026-03-02.112233.jsonl');
      assert.equal(rot.prev, next.hash, 'the fresh live file chains from the rotated piece');
      assert.deepEqual(readdirSync(t.dir).sort(), [
        'audit-2026-03-01.jsonl',
        'audit-2026-03-02.112233.jsonl',
        'audit-2026-03-02.jsonl',
      ]);
      assertExit(await runCli(['verify', '--dir', t.dir, '-q']), 0);
    } finally {
      t.cleanup();
    }
  });

  it('bad stdin names the line; no --event is a usage error', async () => {
    const t = tempDir();
    try {
      const r = await runCli(['append', '--dir', t.dir, '--stdin'], { input: '{"event": "a.b"}\nnot json\n' });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /stdin line 2: not valid JSON/);
      const noEvent = assertExit(await runCli(['append', '--dir', t.dir]), 2);
      assert.match(noEvent.stderr, /--event/);
    } finally {
      t.cleanup();
    }
  });

  it(
    'two loki-audit writers and a Loki Mode-style Python writer at once leave one chain that verifies',
    { skip: python ? false : 'python3 not installed' },
    async () => {
      const t = tempDir();
      try {
        const objs = (tag: string) =>
          Array.from({ length: 40 }, (_, i) => JSON.stringify({ event: 'task.step', actor: tag, details: { i } })).join(
            '\n',
          ) + '\n';
        const runs = await Promise.all([
          run(process.execPath, [BIN, 'append', '--dir', t.dir, '--stdin'], objs('node-a')),
          run(process.execPath, [BIN, 'append', '--dir', t.dir, '--stdin'], objs('node-b')),
          run('python3', ['-c', LOKI_MODE_WRITER, t.dir, '40', 'python']),
        ]);
        assert.deepEqual(
          runs.map((r) => r.code),
          [0, 0, 0],
          runs.map((r) => r.stderr).join('\n'),
        );
        const v = await runCli(['verify', '--dir', t.dir, '--json']);
        const rep = JSON.parse(v.stdout);
        assert.equal(v.code, 0, v.stderr + JSON.stringify(rep.findings));
        assert.equal(rep.entriesVerified, 120);
        const lines = readdirSync(t.dir).flatMap((n) => readFileSync(join(t.dir, n), 'utf8').trim().split('\n'));
        const tags = lines.map((l) => JSON.parse(l).user_id as string);
        for (const tag of ['node-a', 'node-b', 'python']) assert.equal(tags.filter((x) => x === tag).length, 40);
        // The writers really interleaved: node entries between the first and the last Python one.
        const firstPy = tags.indexOf('python');
        const lastPy = tags.lastIndexOf('python');
        assert.ok(
          tags.slice(firstPy, lastPy).some((x) => x !== 'python'),
          'writers overlapped',
        );
      } finally {
        t.cleanup();
      }
    },
  );
});
