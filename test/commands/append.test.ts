/**
 * append: Loki Mode's writer rules, and concurrent writers (two loki-audit processes and a
 * Python writer taking Loki Mode's fcntl.flock, spec §3.3) leaving one chain that verifies.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { verifyDirectory } from '../../src/core/chain/directory.js';
import { GENESIS_HASH } from '../../src/core/chain/rule.js';
import { appendEntry } from '../../src/core/write/append.js';
import { sealEntry } from '../../src/core/write/seal.js';
import { assertExit, BIN, ROOT, runCli, tempDir } from '../helpers/cli.js';
import { hasPython, needsPython } from '../helpers/python.js';

// Loki Mode's log_event locking and tip re-read (dashboard/audit.py, spec §3.3), for the test.
const LOKI_MODE_WRITER = `
import fcntl, hashlib, json, os, sys, datetime, time
d, n, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
tip = "0" * 64
for i in range(n):
    now = datetime.datetime.now(datetime.timezone.utc)
    entry = {"timestamp": now.isoformat(), "action": "write", "resource_type": "py", "resource_id": None,
             "user_id": tag, "token_id": None, "ip_address": None, "user_agent": None, "success": True,
             "error": None, "details": {"i": i}}
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

// One chain, no two entries from the same predecessor, by CPython: every whole entry, and an entry
// appended onto a torn fragment, chains from the entry before it; a fragment line is skipped.
const LINEAR_CHAIN = `
import hashlib, json, sys
sha = lambda s: hashlib.sha256(s.encode()).hexdigest()
prev, before, merged, n, forks = "0" * 64, None, False, 0, 0
for line in open(sys.argv[1], encoding="utf-8").read().splitlines():
    e = None
    for at in [0] + [i for i in range(1, len(line)) if line.startswith('{"', i)][::-1]:
        try:
            e = json.loads(line[at:])
            break
        except ValueError:
            continue
    if not isinstance(e, dict):
        continue
    h = e.pop("_integrity_hash")
    body = json.dumps(e, sort_keys=True)
    # Spec 10.17: the writer cannot parse a merged fragment+entry line, so the entry right after
    # one may chain from the entry before it (two entries share one predecessor), nothing else.
    if sha(prev + body) != h:
        if not (merged and sha(before + body) == h):
            sys.exit("entry %d does not chain from the entry before it" % (n + 1))
        forks += 1
    before, prev, merged, n = prev, h, at > 0, n + 1
print(n, forks)
`;

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
        /^\{"timestamp": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00", "action": "complete", "resource_type": "task", "resource_id": null, "user_id": "cron:backup", "token_id": null, "ip_address": null, "user_agent": null, "success": true, "error": null, "details": \{"job": "nightly", "bytes": 1048576\}, "_integrity_hash": "[0-9a-f]{64}"\}$/,
      );
      assert.match(lines[1], /"success": false, "error": "bad password"/);
      const v = await runCli(['verify', '--dir', t.dir, '-q']);
      assert.equal(v.code, 0, v.stderr + v.stdout);
      if (hasPython) {
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

  it('finds the head in a file with classic-Mac line ends, as universal newlines split it', async () => {
    // A day file whose entries end with a lone CR (spec §7: universal newlines end a line at CR).
    // Read only on LF, its last line would be all the entries in one, not an entry: the head
    // would come from an earlier file (or the genesis) and the appended entry would break the chain.
    const t = tempDir();
    try {
      const a = sealEntry({ timestamp: '2026-03-01T10:00:00+00:00', action: 'a', details: {} }, GENESIS_HASH);
      const b = sealEntry({ timestamp: '2026-03-01T10:00:01+00:00', action: 'b', details: {} }, a.hash);
      const day = join(t.dir, 'audit-2026-03-01.jsonl');
      writeFileSync(day, a.line.replace(/\n$/, '\r') + b.line.replace(/\n$/, '\r'));
      assertExit(await runCli(['verify', '--dir', t.dir, '-q']), 0);
      const next = await appendEntry(
        t.dir,
        { action: 'c', resource_type: 'x', details: {} },
        { now: new Date('2026-03-01T10:00:02Z') },
      );
      assert.equal(next.prev, b.hash, 'chains from the last CR-ended entry');
      assert.notEqual(next.prev, a.hash);
      assertExit(await runCli(['verify', '--dir', t.dir, '-q']), 0);
    } finally {
      t.cleanup();
    }
  });

  it('bad stdin names the line; no --event and a --detail without = are usage errors', async () => {
    const t = tempDir();
    try {
      const r = await runCli(['append', '--dir', t.dir, '--stdin'], { input: '{"event": "a.b"}\nnot json\n' });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /stdin line 2: not valid JSON/);
      const noEvent = assertExit(await runCli(['append', '--dir', t.dir]), 2);
      assert.match(noEvent.stderr, /--event/);
      // A --detail without "=": the same usage error (it was exit 1 with a stack trace).
      const before = readdirSync(t.dir).map((n) => readFileSync(join(t.dir, n), 'utf8'));
      const noEq = assertExit(await runCli(['append', '--dir', t.dir, '--event', 'a.b', '--detail', 'nokv']), 2);
      assert.equal(noEq.stderr.split('\n')[0], 'loki-audit: error: --detail needs KEY=VALUE, got "nokv"');
      assert.doesNotMatch(noEq.stderr, /\n\s+at /);
      assert.deepEqual(
        readdirSync(t.dir).map((n) => readFileSync(join(t.dir, n), 'utf8')),
        before,
        'nothing appended',
      );
    } finally {
      t.cleanup();
    }
  });

  it(
    'two loki-audit writers and a Loki Mode-style Python writer at once leave one chain that verifies',
    { skip: needsPython },
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

  describe('after a crash left a torn last line', () => {
    const DAY = '2026-03-01';
    const FILE = `audit-${DAY}.jsonl`;
    const at = (i: number) => new Date(Date.parse(`${DAY}T10:00:00Z`) + i * 1000);
    /** `n` whole writer lines from genesis and the head after them. */
    const whole = (n: number) => {
      let prev = GENESIS_HASH;
      const lines: string[] = [];
      for (let i = 0; i < n; i++) {
        const s = sealEntry({ timestamp: `${DAY}T09:00:0${i}.000001+00:00`, action: 'seed', details: { i } }, prev);
        lines.push(s.line);
        prev = s.hash;
      }
      return { text: lines.join(''), head: prev };
    };
    const torn = (head: string) =>
      sealEntry({ timestamp: `${DAY}T09:59:59.000001+00:00`, action: 'cut', details: { note: 'x'.repeat(40) } }, head)
        .line;

    /** Today's day file in `dir`: three whole entries and 50 bytes of a fourth (no newline); its path. */
    const tornToday = (dir: string): string => {
      const seed = whole(3);
      const path = join(dir, `audit-${new Date().toISOString().slice(0, 10)}.jsonl`);
      writeFileSync(path, seed.text + torn(seed.head).slice(0, 50));
      return path;
    };

    it('ends the torn line, chains from the last whole entry, and verify stays incomplete', async () => {
      const seed = whole(3);
      for (const tail of [torn(seed.head).slice(0, 1), torn(seed.head).slice(0, 57), '\0'.repeat(90)]) {
        const t = tempDir();
        try {
          writeFileSync(join(t.dir, FILE), seed.text + tail);
          let prev = seed.head;
          for (let i = 1; i <= 4; i++) {
            const r = await appendEntry(t.dir, { action: 'after', resource_type: 'x', details: { i } }, { now: at(i) });
            assert.equal(r.prev, prev, `append ${i} chains on`);
            prev = r.hash;
            const v = await verifyDirectory(t.dir);
            assert.equal(v.verdict, 'incomplete', `after ${i} appends: ${JSON.stringify(v.findings)}`);
            assert.deepEqual(
              v.findings.map((f) => [f.class, f.reason, f.line]),
              [['incomplete', 'torn-write-recovered', 4]],
            );
            assert.equal(v.entriesVerified, 3 + i);
          }
          const lines = readFileSync(join(t.dir, FILE), 'utf8').split('\n');
          assert.equal(lines[3], tail, 'the fragment is a line of its own');
          assert.equal(lines.length, 3 + 1 + 4 + 1);
        } finally {
          t.cleanup();
        }
      }
    });

    it('after Loki Mode appended onto the fragment, chains from that entry (as verify reads it)', async () => {
      const t = tempDir();
      try {
        const seed = whole(3);
        const py = sealEntry({ timestamp: `${DAY}T10:00:00.5+00:00`, action: 'py', details: {} }, seed.head);
        writeFileSync(join(t.dir, FILE), seed.text + torn(seed.head).slice(0, 40) + py.line);
        const r = await appendEntry(t.dir, { action: 'after', resource_type: 'x', details: {} }, { now: at(1) });
        assert.equal(r.prev, py.hash, 'not a second entry from the one before the torn line');
        const v = await verifyDirectory(t.dir);
        assert.equal(v.verdict, 'incomplete', JSON.stringify(v.findings));
        assert.equal(v.entriesVerified, 5);
        // A line ending in an entry that does not chain from the one before it is skipped, as
        // Loki Mode's writer skips it: the head stays the last whole entry.
        const u = tempDir();
        try {
          const stray = sealEntry({ timestamp: `${DAY}T10:00:00.5+00:00`, action: 'py', details: {} }, GENESIS_HASH);
          writeFileSync(join(u.dir, FILE), seed.text + torn(seed.head).slice(0, 40) + stray.line);
          const s = await appendEntry(u.dir, { action: 'after', resource_type: 'x', details: {} }, { now: at(1) });
          assert.equal(s.prev, seed.head);
        } finally {
          u.cleanup();
        }
      } finally {
        t.cleanup();
      }
    });

    it('a whole last entry without its newline is ended and chained from', async () => {
      const t = tempDir();
      try {
        const seed = whole(2);
        writeFileSync(join(t.dir, FILE), seed.text.slice(0, -1));
        const r = await appendEntry(t.dir, { action: 'after', resource_type: 'x', details: {} }, { now: at(1) });
        assert.equal(r.prev, seed.head);
        const v = await verifyDirectory(t.dir);
        assert.equal(v.verdict, 'intact', JSON.stringify(v.findings));
        assert.equal(v.entriesVerified, 3);
      } finally {
        t.cleanup();
      }
    });

    it(
      'Loki Mode twice onto the fragment (spec §10.17): the second chains from the entry before it',
      { skip: needsPython },
      async () => {
        const t = tempDir();
        try {
          const path = tornToday(t.dir);
          const r = await run('python3', ['-c', LOKI_MODE_WRITER, t.dir, '2', 'python']);
          assert.equal(r.code, 0, r.stderr);
          const lines = readFileSync(path, 'utf8').split('\n');
          assert.equal(JSON.parse(lines[4])._integrity_hash.length, 64);
          const v = await runCli(['verify', '--dir', t.dir, '--json']);
          const rep = JSON.parse(v.stdout);
          assert.equal(v.code, 4, v.stderr);
          assert.deepEqual(
            rep.findings.map((f: { class: string; reason: string; line: number }) => [f.class, f.reason, f.line]),
            [['incomplete', 'torn-write-recovered', 4]],
          );
          const linear = spawnSync('python3', ['-c', LINEAR_CHAIN, path], { encoding: 'utf8' });
          assert.equal(linear.status, 0, linear.stderr);
          assert.equal(linear.stdout.trim(), '5 1', 'entries, and forks of spec §10.17');
          // The check excuses that one fork only: a whole line that chains from an older entry fails it.
          writeFileSync(path, [...lines.slice(0, 3), lines[2], ''].join('\n'));
          const fork = spawnSync('python3', ['-c', LINEAR_CHAIN, path], { encoding: 'utf8' });
          assert.match(fork.stderr, /entry 4 does not chain/);
        } finally {
          t.cleanup();
        }
      },
    );

    it(
      'concurrent loki-audit appends and a Loki Mode-style Python writer after it: incomplete, never tampered',
      {
        skip: needsPython,
      },
      async () => {
        const objs = (tag: string, n: number) =>
          Array.from({ length: n }, (_, i) => JSON.stringify({ event: 'task.step', actor: tag, details: { i } })).join(
            '\n',
          ) + '\n';
        // Twice: loki-audit first onto the fragment, or Python (which leaves a merged line), then
        // one loki-audit append, which must chain from Python's entry.
        for (const pythonFirst of [false, true]) {
          const t = tempDir();
          try {
            const path = tornToday(t.dir);
            let extra = 0;
            if (pythonFirst) {
              let r = await run('python3', ['-c', LOKI_MODE_WRITER, t.dir, '1', 'python-first']);
              assert.equal(r.code, 0, r.stderr);
              r = await run(process.execPath, [BIN, 'append', '--dir', t.dir, '--stdin'], objs('node-first', 1));
              assert.equal(r.code, 0, r.stderr);
              extra = 2;
            }
            const runs = await Promise.all([
              run(process.execPath, [BIN, 'append', '--dir', t.dir, '--stdin'], objs('node-a', 25)),
              run(process.execPath, [BIN, 'append', '--dir', t.dir, '--stdin'], objs('node-b', 25)),
              run('python3', ['-c', LOKI_MODE_WRITER, t.dir, '25', 'python']),
            ]);
            assert.deepEqual(
              runs.map((r) => r.code),
              [0, 0, 0],
              runs.map((r) => r.stderr).join('\n'),
            );
            const v = await runCli(['verify', '--dir', t.dir, '--json']);
            const rep = JSON.parse(v.stdout);
            const what = `python first: ${pythonFirst}: ${JSON.stringify(rep.findings)}\nstderr: ${v.stderr}`;
            assert.equal(v.code, 4, what);
            assert.equal(rep.verdict, 'incomplete', what);
            assert.deepEqual(
              rep.findings.map((f: { class: string; reason: string; line: number }) => [f.class, f.reason, f.line]),
              [['incomplete', 'torn-write-recovered', 4]],
              what,
            );
            assert.equal(rep.entriesVerified, 3 + extra + 75, what);
            // Python first: its merged line. Otherwise the three race for the fragment: a loki-audit
            // append ends the line, or Python wins the race and merges its entry onto it (and when
            // Python also writes the next entry, that one chains from the entry before the torn
            // line, spec §10.17: the one fork the linear check below accepts).
            assert.match(
              rep.findings[0].message,
              pythonFirst
                ? /appended on the same line; the chain continues intact$/
                : /the next writer ended its line|appended on the same line; the chain continues intact/,
            );
            const linear = spawnSync('python3', ['-c', LINEAR_CHAIN, path], { encoding: 'utf8' });
            assert.equal(linear.status, 0, linear.stderr);
            assert.match(linear.stdout.trim(), new RegExp(`^${3 + extra + 75} [01]$`));
          } finally {
            t.cleanup();
          }
        }
      },
    );
  });
});
