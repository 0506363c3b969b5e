import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, cpSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { GENESIS_HASH } from '../../src/core/chain/rule.js';
import { sealEntry } from '../../src/core/write/seal.js';
import { assertExit, BIN, HAS_SCRIPT, LOKI, ROOT, runCli, runCliOnTty, tempDir } from '../helpers/cli.js';
import { deepArray, deepLines, RAW_HOSTILE, UNSAFE_ON_TTY, writeDay, writerEntry } from '../helpers/hostile.js';
import { waitFor } from '../helpers/wait.js';

/** A writer with Loki Mode's chain rule, appending to a directory. */
class Writer {
  prev = GENESIS_HASH;
  seq = 0;
  lines: string[] = [];
  constructor(readonly dir: string) {}
  line(day: string, extra: Record<string, string> = {}): string {
    this.seq++;
    const e = {
      timestamp: `${day}T12:00:${String(this.seq % 60).padStart(2, '0')}.${String(this.seq).padStart(6, '0')}+00:00`,
      action: 'update',
      resource_type: 'task',
      resource_id: null,
      user_id: 'alice',
      token_id: null,
      ip_address: null,
      user_agent: null,
      success: true,
      error: null,
      details: { seq: this.seq, ...extra },
    };
    const s = sealEntry(e, this.prev);
    this.prev = s.hash;
    this.lines.push(s.line.slice(0, -1));
    return s.line;
  }
  append(day: string, n = 1): void {
    for (let i = 0; i < n; i++) appendFileSync(join(this.dir, `audit-${day}.jsonl`), this.line(day));
  }
}

/** Followers still running: a test that failed before stopping its own leaves one (see afterEach). */
const running = new Set<ChildProcess>();
// Without this a failed wait left a follower polling and the test file never ended (CI waits).
afterEach(() => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts `tail -f`, collects its stdout lines and stderr, lets the test wait on them: each wait
 * checks again on the child's output and fails at its deadline (or at once if the child exits)
 * with what the child printed.
 */
function follow(dir: string, args: string[]) {
  const child = spawn(process.execPath, [BIN, 'tail', '--dir', dir, '-f', '--poll-ms', '50', ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
  });
  running.add(child);
  child.on('close', () => running.delete(child));
  let out = '';
  let err = '';
  let exited: number | null | undefined;
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (err += b));
  const closed = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      exited = code;
      resolve(code);
    }),
  );
  const lines = () => out.split('\n').filter(Boolean);
  const until = <T>(what: string, condition: () => T | false | null | undefined, ms: number) =>
    waitFor(
      () => {
        const v = condition();
        if (!v && exited !== undefined) throw new Error(`tail -f exited (${exited}) before ${what}; stderr: ${err}`);
        return v;
      },
      {
        timeoutMs: ms,
        pollMs: 0,
        wakeOn: [
          [child.stdout, 'data'],
          [child.stderr, 'data'],
          [child, 'close'],
        ],
        describe: () => `${what}; ${lines().length} lines so far; stderr: ${err}`,
      },
    );
  return {
    lines,
    stderr: () => err,
    /** Waits until at least `n` lines were printed; returns them. */
    async waitFor(n: number, ms = 5000) {
      await until(`${n} lines`, () => lines().length >= n, ms);
      return lines();
    },
    /** Waits until stderr matches `re` (a notice, a chain break). */
    async waitForStderr(re: RegExp, ms = 5000) {
      await until(`stderr to match ${re}`, () => re.test(err), ms);
      return err;
    },
    async stop() {
      child.kill('SIGINT');
      return closed;
    },
  };
}

const fixtureLines = () =>
  ['01', '02', '03'].flatMap((d) =>
    readFileSync(join(LOKI, 'extended/valid/writer', `audit-2026-02-${d}.jsonl`), 'utf8')
      .split('\n')
      .filter(Boolean),
  );

describe('tail', () => {
  it('prints the last N entries across files, oldest first', async () => {
    const r = await runCli(['tail', '--dir', join(LOKI, 'extended/valid/writer'), '-n', '3', '-o', 'jsonl']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), fixtureLines().slice(-3));
  });

  it('takes entries from older files when the newest has too few matches', async () => {
    const r = await runCli(['tail', '--dir', join(LOKI, 'extended/valid/writer'), '-n', '60', '-o', 'jsonl']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), fixtureLines().slice(-60));
  });

  it('filters like search: the last N matching entries, not the last N entries filtered', async () => {
    const r = await runCli([
      'tail',
      '--dir',
      join(LOKI, 'extended/valid/writer'),
      '-n',
      '2',
      '--outcome',
      'failure',
      '-o',
      'jsonl',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const failures = fixtureLines().filter((l) => JSON.parse(l).success === false);
    assert.ok(failures.length > 2);
    assert.deepEqual(r.stdout.trim().split('\n'), failures.slice(-2));
    assert.ok(
      fixtureLines()
        .slice(-2)
        .some((l) => JSON.parse(l).success !== false),
      'the last two are not both failures',
    );
  });

  it('on a terminal -o jsonl and raw are escaped (same values); into a pipe the original bytes', async () => {
    const t = tempDir();
    try {
      const line = JSON.stringify(writerEntry({ user_id: RAW_HOSTILE }));
      writeDay(t.dir, [line]);
      assert.equal(assertExit(await runCli(['tail', '--dir', t.dir, '-o', 'raw']), 0).stdout, line + '\n');
      if (!HAS_SCRIPT) return;
      for (const o of ['jsonl', 'raw']) {
        const r = await runCliOnTty(['tail', '--dir', t.dir, '-o', o]);
        assert.equal(r.code, 0, r.output);
        assert.doesNotMatch(r.output, UNSAFE_ON_TTY, o);
        // No hash: jsonl wraps it as unverified (docs/search.md#unverified-entries); raw is the line.
        const value = JSON.parse(r.output);
        assert.deepEqual(o === 'raw' ? value : value.entry, JSON.parse(line), o);
      }
    } finally {
      t.cleanup();
    }
  });

  it('a line nested 10,000 deep is shown (text and jsonl), not a RangeError', async () => {
    const t = tempDir();
    try {
      const depth = 10_000;
      const [l1, l2] = deepLines(depth);
      writeDay(t.dir, [l1, l2]);
      const details = `{"a":${deepArray(depth)}}`;
      const actor = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
      // Lines without a hash are marked unverified (docs/search.md#unverified-entries).
      const tag = '[unverified: no-hash] ';
      assert.equal(
        assertExit(await runCli(['tail', '--dir', t.dir]), 0).stdout,
        `${tag}2026-02-01T00:00:00+00:00 WARN  auth.login alice ` +
          `ok ${details.slice(0, 400)}…(+${details.length - 400})\n` +
          `${tag}2026-02-01T00:00:00+00:00 WARN  auth.login ${actor} ok {}\n`,
      );
      assert.equal(assertExit(await runCli(['tail', '--dir', t.dir, '-o', 'raw']), 0).stdout, `${l1}\n${l2}\n`);
    } finally {
      t.cleanup();
    }
  });

  it('--follow -o json is refused (an array cannot be followed)', async () => {
    const r = await runCli(['tail', '--dir', join(LOKI, 'extended/valid/writer'), '-f', '-o', 'json']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /-o json is one array and cannot be followed/);
    assert.equal(r.stdout, '');
  });
});

describe('tail --follow', () => {
  it(
    'prints every appended entry exactly once, whole, across ' +
      'rotation, midnight and re-creation, and verifies the chain',
    async () => {
      const t = tempDir();
      const w = new Writer(t.dir);
      try {
        w.append('2026-03-01', 5);
        const f = follow(t.dir, ['-n', '2', '-o', 'jsonl', '--verify']);
        assert.equal((await f.waitFor(2)).length, 2);
        // A write in two halves: printed once, whole (the final comparison would show a split line).
        const half = w.line('2026-03-01');
        appendFileSync(join(t.dir, 'audit-2026-03-01.jsonl'), half.slice(0, 50));
        appendFileSync(join(t.dir, 'audit-2026-03-01.jsonl'), half.slice(50));
        await f.waitFor(3);
        // Size rotation: the live file renamed, one more line written to it just before, a fresh live file.
        w.append('2026-03-01', 2);
        renameSync(join(t.dir, 'audit-2026-03-01.jsonl'), join(t.dir, 'audit-2026-03-01.120000.jsonl'));
        w.append('2026-03-01', 3);
        await f.waitFor(8);
        // A write that never got its newline (the writer crashed), then midnight: the half line is
        // reported when the follower moves on, and never printed.
        const torn = '{"timestamp": "2026-03-01T23:59:59.000000+00:00", "action": "upd';
        appendFileSync(join(t.dir, 'audit-2026-03-01.jsonl'), torn);
        w.append('2026-03-02', 4);
        await f.waitForStderr(
          new RegExp(
            `audit-2026-03-01\\.jsonl ends with an incomplete line ` +
              `\\(${Buffer.byteLength(torn)} bytes without newline\\): not shown`,
          ),
        );
        const lines = await f.waitFor(12);
        const code = await f.stop();
        assert.equal(code, 0, f.stderr());
        assert.deepEqual(lines, w.lines.slice(3), 'every entry once, whole, in order; no half line');
        assert.doesNotMatch(f.stderr(), /CHAIN BREAK/);
      } finally {
        t.cleanup();
      }
    },
  );

  it('marks each followed entry its chain does not cover, as the history shown (docs/tail.md)', async () => {
    const t = tempDir();
    const w = new Writer(t.dir);
    try {
      w.append('2026-03-01', 3);
      const f = follow(t.dir, ['-n', '1']);
      await f.waitFor(1);
      w.append('2026-03-01', 1);
      const forged = w.line('2026-03-01').replace('"alice"', '"mallory"'); // edited: does not chain
      appendFileSync(join(t.dir, 'audit-2026-03-01.jsonl'), forged);
      w.append('2026-03-01', 1); // chains from the forged entry's stored hash
      appendFileSync(
        join(t.dir, 'audit-2026-03-01.jsonl'),
        '{"timestamp": "2026-03-01T23:00:00+00:00", "action": "login", "resource_type": "auth", "user_id": "eve"}\n',
      );
      const lines = await f.waitFor(5);
      await f.stop();
      assert.deepEqual(
        lines.map((l) => /^\[unverified: [a-z-]+\]/.exec(l)?.[0] ?? 'verified'),
        ['verified', 'verified', '[unverified: does-not-chain]', 'verified', '[unverified: no-hash]'],
      );
      assert.match(lines[2], / mallory /);
      assert.match(lines[4], / eve /);
    } finally {
      t.cleanup();
    }
  });

  it('--verify reports a chain break at once, naming file and line', async () => {
    const t = tempDir();
    const w = new Writer(t.dir);
    try {
      w.append('2026-03-01', 3);
      const f = follow(t.dir, ['-n', '1', '-o', 'jsonl', '--verify']);
      await f.waitFor(1); // following from here on
      w.append('2026-03-01', 1);
      // A forged entry: right shape, hash not chained.
      const forged = w.line('2026-03-01').replace('"alice"', '"mallory"');
      appendFileSync(join(t.dir, 'audit-2026-03-01.jsonl'), forged);
      await f.waitFor(3);
      await f.waitForStderr(/CHAIN BREAK/);
      // The check goes on from the forged entry's stored hash: the next entry is not a break.
      w.append('2026-03-01', 1);
      await f.waitFor(4);
      const code = await f.stop();
      assert.equal(code, 1, f.stderr());
      assert.match(
        f.stderr(),
        /CHAIN BREAK at audit-2026-03-01\.jsonl:5: hash-mismatch \(expected [0-9a-f]{64}, stored [0-9a-f]{64}\)/,
      );
      assert.equal(f.stderr().match(/CHAIN BREAK/g)?.length, 1, 'reported once, at the entry that breaks');
      // The forged entry is also marked unverified: wrapped in jsonl (docs/tail.md).
      const wrapped = `{"verified":false,"unverified":"does-not-chain","entry":${forged.trimEnd()}}`;
      assert.deepEqual(f.lines(), [...w.lines.slice(2, 4), wrapped, w.lines[5]]);
    } finally {
      t.cleanup();
    }
  });

  it('follows truncation and deletion/re-creation of the live file', async () => {
    const t = tempDir();
    const w = new Writer(t.dir);
    try {
      w.append('2026-03-01', 3);
      const f = follow(t.dir, ['-n', '1', '-o', 'jsonl']);
      await f.waitFor(1);
      truncateSync(join(t.dir, 'audit-2026-03-01.jsonl'), 0);
      await f.waitForStderr(/audit-2026-03-01\.jsonl was truncated/);
      w.append('2026-03-01', 2);
      await f.waitFor(3);
      // Deleted while the follower holds it open, so the new file cannot reuse its inode: the
      // follower sees another file under the name, whenever it looks. (Once, in a loaded
      // clean-clone CI run, the two lines had not come after 5 s: waited on for longer.)
      rmSync(join(t.dir, 'audit-2026-03-01.jsonl'));
      w.append('2026-03-01', 2);
      const lines = await f.waitFor(5, 20_000);
      const code = await f.stop();
      assert.equal(code, 0, f.stderr());
      assert.deepEqual(lines, w.lines.slice(2));
    } finally {
      t.cleanup();
    }
  });

  it('starts in an empty directory and picks up the first file', async () => {
    const t = tempDir();
    const w = new Writer(t.dir);
    try {
      writeFileSync(join(t.dir, 'README'), 'x');
      const f = follow(t.dir, ['-n', '0', '-o', 'jsonl']);
      await f.waitForStderr(/waiting for audit files in /);
      w.append('2026-03-01', 2);
      const lines = await f.waitFor(2);
      const code = await f.stop();
      assert.equal(code, 0, f.stderr());
      assert.deepEqual(lines, w.lines);
    } finally {
      t.cleanup();
    }
  });
});

describe("tail of Loki Mode's other streams (spec §5)", () => {
  const PROJECT = join(LOKI, 'field/project-streams');
  /** A copy of the project directory, to write into. */
  const project = () => {
    const t = tempDir();
    cpSync(PROJECT, t.dir, { recursive: true });
    return t;
  };
  const agentLine = (n: number, action = 'cli_invoke') =>
    JSON.stringify({
      timestamp: `2026-12-01T21:00:0${n}Z`,
      action,
      description: `Starting iteration ${n}`,
      details: 'provider=claude',
      iteration: n,
      pid: 4242,
    })
      .replace(/,"/g, ', "')
      .replace(/":/g, '": ');

  it(
    'the last N of the agent audit (file order, as ' + 'written) and of the session audit (objects, minified)',
    async () => {
      const agent = await runCli(['tail', '--dir', PROJECT, '--stream', 'agent', '-n', '2', '-o', 'jsonl']);
      assert.equal(agent.code, 0, agent.stderr);
      const lines = readFileSync(join(PROJECT, '.loki/logs/agent-audit.jsonl'), 'utf8').split('\n').filter(Boolean);
      assert.equal(agent.stdout, lines.slice(-2).join('\n') + '\n');
      const session = await runCli(['tail', '--dir', PROJECT, '--stream', 'session', '-n', '2', '-o', 'jsonl']);
      assert.equal(session.code, 0, session.stderr);
      assert.equal(
        session.stdout,
        '{"timestamp":"2026-12-01T20:04:28Z","event":"BLOCKED_COMMAND","data":"command=echo ' +
          'a\\tb,pattern=tab\\there","user":"root","pid":21674}\n' +
          '{"timestamp":"2026-12-01T20:04:28Z","event":"SESSION_END",' +
          '"data":"result=0,prd=./prd.md","user":"root","pid":21674}\n',
      );
      const js = await runCli(['tail', '--dir', PROJECT, '-n', '1']);
      assert.equal(js.code, 0, js.stderr);
      assert.match(
        js.stdout,
        /^2026-12-01T20:04:33\.477Z INFO {2}audit_crosslink audit-crosslink ok \{"dashboardChainId"/,
      );
    },
  );

  it(
    '--verify is refused on a stream the live checker ' + 'cannot check (exit 14), before anything is printed',
    async () => {
      const agent = await runCli(['tail', '--dir', PROJECT, '--stream', 'agent', '-f', '--verify']);
      assert.equal(agent.code, 14, agent.stderr);
      assert.match(
        agent.stderr,
        /^loki-audit: error: --verify checks the dashboard chain as it is written; the agent audit \(\.loki\/logs\/agent-audit\.jsonl\) carries no hash chain$/m,
      );
      const js = await runCli(['tail', '--dir', PROJECT, '-f', '--verify']);
      assert.equal(js.code, 14, js.stderr);
      assert.match(
        js.stderr,
        /the JS AuditLog \(\.loki\/audit\/audit\.jsonl\) is checked by `loki-audit verify --stream js`$/m,
      );
      assert.equal(agent.stdout + js.stdout, '');
    },
  );

  it('-f follows the agent audit: each appended line once, whole', async () => {
    const t = project();
    const f = follow(t.dir, ['--stream', 'agent', '-n', '1', '-o', 'jsonl']);
    try {
      const file = join(t.dir, '.loki/logs/agent-audit.jsonl');
      await f.waitFor(1);
      const half = agentLine(1) + '\n';
      appendFileSync(file, half.slice(0, 40));
      appendFileSync(file, half.slice(40));
      appendFileSync(file, agentLine(2, 'policy_denied') + '\n');
      const lines = await f.waitFor(3);
      assert.equal(await f.stop(), 0, f.stderr());
      assert.deepEqual(lines.slice(1), [agentLine(1), agentLine(2, 'policy_denied')]);
    } finally {
      await f.stop();
      t.cleanup();
    }
  });

  it(
    '-f follows the session audit: an object written ' + 'in two parts, raw tabs, and the next local day file',
    async () => {
      const t = project();
      const logs = join(t.dir, '.loki/logs');
      const f = follow(logs, ['--stream', 'session', '-n', '1', '-o', 'jsonl']);
      try {
        await f.waitFor(1);
        const day1 = join(logs, 'audit-20261201.jsonl');
        appendFileSync(day1, '{\n  "timestamp": "2026-12-01T22:00:00Z",\n  "event": "PR_EXISTS",\n');
        appendFileSync(day1, '  "data": "branch=x",\n  "user": "root",\n  "pid": 9\n}\n');
        appendFileSync(
          day1,
          '{"timestamp":"2026-12-01T22:00:01Z","event":"BLOCKED_COMMAND","data":"a\tb","user":"root","pid":9}\n',
        );
        await f.waitFor(3);
        writeFileSync(
          join(logs, 'audit-20261202.jsonl'),
          '{\n  "timestamp": "2026-12-01T23:30:00Z",\n  "event": ' +
            '"SESSION_END",\n  "data": "",\n  "user": "root",\n  "pid": 9\n}\n',
        );
        const lines = await f.waitFor(4);
        assert.equal(await f.stop(), 0, f.stderr());
        assert.deepEqual(lines.slice(1), [
          '{"timestamp":"2026-12-01T22:00:00Z","event":"PR_EXISTS","data":"branch=x","user":"root","pid":9}',
          '{"timestamp":"2026-12-01T22:00:01Z","event":"BLOCKED_COMMAND","data":"a\\tb","user":"root","pid":9}',
          '{"timestamp":"2026-12-01T23:30:00Z","event":"SESSION_END","data":"","user":"root","pid":9}',
        ]);
        assert.doesNotMatch(f.stderr(), /warning/);
      } finally {
        await f.stop();
        t.cleanup();
      }
    },
  );

  it('-f follows the JS AuditLog of a project', async () => {
    const t = project();
    const f = follow(t.dir, ['-n', '1', '-o', 'jsonl']);
    try {
      const file = join(t.dir, '.loki/audit/audit.jsonl');
      const line = (n: number) =>
        JSON.stringify({
          seq: 5 + n,
          timestamp: '2026-12-01T20:05:00.000Z',
          who: 'claude',
          what: `step_${n}`,
          where: 'x',
          why: 'y',
          metadata: {},
          previousHash: 'p',
          hash: 'h',
        });
      await f.waitFor(1);
      appendFileSync(file, line(1) + '\n');
      appendFileSync(file, line(2) + '\n');
      const lines = await f.waitFor(3);
      assert.equal(await f.stop(), 0, f.stderr());
      assert.deepEqual(lines.slice(1), [line(1), line(2)]);
    } finally {
      await f.stop();
      t.cleanup();
    }
  });
});
