import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertExit, BIN, copyFixture, HAS_SCRIPT, LOKI, runCli, runCliOnTty, tempDir } from '../helpers/cli.js';
import { RAW_HOSTILE, UNSAFE_ON_TTY, writeDay, writerEntry } from '../helpers/hostile.js';

interface Expect {
  class: string;
  exit: number;
  /** First finding: reason, file, line (null when intact). */
  first: [string, string, number] | null;
  entries: number;
  notes?: string[];
}

// What loki-audit says for every directory Loki Mode's own code wrote (spec §8.3, fixtures'
// MANIFEST). Where the class is "tampered", file and line equal Loki Mode's verifier's
// first_tampered_file / first_tampered_line; elsewhere docs/verify.md explains the difference.
const CASES: Record<string, Expect> = {
  'writer/valid': { class: 'intact', exit: 0, first: null, entries: 120 },
  'writer/tampered-field': {
    class: 'tampered',
    exit: 1,
    first: ['hash-mismatch', 'audit-2026-11-02.100348.jsonl', 5],
    entries: 119,
  },
  'writer/deleted-line': {
    class: 'tampered',
    exit: 1,
    first: ['hash-mismatch', 'audit-2026-11-01.053035.jsonl', 10],
    entries: 118,
  },
  'writer/swapped-lines': {
    class: 'tampered',
    exit: 1,
    first: ['reordered', 'audit-2026-11-03.jsonl', 3],
    entries: 119,
  },
  'writer/deleted-file': {
    class: 'tampered',
    exit: 1,
    first: ['chain-break', 'audit-2026-11-02.jsonl', 1],
    entries: 104,
  },
  'writer/torn-last-line': {
    class: 'incomplete',
    exit: 4,
    first: ['torn-last-line', 'audit-2026-11-03.jsonl', 10],
    entries: 119,
  },
  'writer/missing-hash': {
    class: 'tampered',
    exit: 1,
    first: ['missing-hash', 'audit-2026-11-01.jsonl', 7],
    entries: 118,
  },
  'writer/malformed-json': {
    class: 'tampered',
    exit: 1,
    first: ['malformed-json', 'audit-2026-11-02.052015.jsonl', 2],
    entries: 118,
  },
  'writer/truncated-tail': { class: 'intact', exit: 0, first: null, entries: 115 },
  'writer/blank-lines-crlf': { class: 'intact', exit: 0, first: null, entries: 120, notes: ['rewritten'] },
  'documented/valid': { class: 'intact', exit: 0, first: null, entries: 180 },
  'js-auditlog/valid': { class: 'intact', exit: 0, first: null, entries: 80 },
  'extended/valid/writer': { class: 'intact', exit: 0, first: null, entries: 150 },
  'extended/valid/writer-rotated': { class: 'intact', exit: 0, first: null, entries: 80 },
  'extended/valid/documented': { class: 'intact', exit: 0, first: null, entries: 150 },
  'extended/tampered/edited-field': {
    class: 'tampered',
    exit: 1,
    first: ['hash-mismatch', 'audit-2026-02-02.jsonl', 17],
    entries: 149,
  },
  'extended/tampered/edited-bytes-only': {
    class: 'tampered',
    exit: 1,
    first: ['hash-mismatch', 'audit-2026-02-02.jsonl', 23],
    entries: 149,
  },
  'extended/tampered/deleted-line': {
    class: 'tampered',
    exit: 1,
    first: ['hash-mismatch', 'audit-2026-02-02.jsonl', 30],
    entries: 148,
  },
  'extended/tampered/truncated-last-line': {
    class: 'incomplete',
    exit: 4,
    first: ['torn-last-line', 'audit-2026-02-03.jsonl', 50],
    entries: 149,
  },
  'extended/tampered/removed-last-lines': { class: 'intact', exit: 0, first: null, entries: 147 },
  'extended/tampered/deleted-middle-file': {
    class: 'tampered',
    exit: 1,
    first: ['chain-break', 'audit-2026-02-03.jsonl', 1],
    entries: 99,
    notes: ['gap'],
  },
  'extended/tampered/stripped-first-hash': {
    class: 'tampered',
    exit: 1,
    first: ['hash-stripped', 'audit-2026-02-01.jsonl', 1],
    entries: 147,
  },
  'extended/tampered/stripped-first-hash-single-file': {
    class: 'tampered',
    exit: 1,
    first: ['hash-stripped', 'audit-2026-02-01.jsonl', 1],
    entries: 47,
  },
  'extended/tampered/edited-and-rechained': { class: 'intact', exit: 0, first: null, entries: 150 },
  'extended/tampered/reformatted': { class: 'intact', exit: 0, first: null, entries: 150, notes: ['rewritten'] },
  'extended/tampered/crlf-and-blank-lines': {
    class: 'intact',
    exit: 0,
    first: null,
    entries: 150,
    notes: ['rewritten'],
  },
  'extended/tampered/lone-cr': { class: 'intact', exit: 0, first: null, entries: 150, notes: ['rewritten'] },
  // A line verify cannot read, and the chain does not continue across it (the line's content
  // changed or replaced an entry): tampered, the unreadable line named first (issue #15).
  'extended/tampered/invalid-utf8': {
    class: 'tampered',
    exit: 1,
    first: ['invalid-utf8', 'audit-2026-02-02.jsonl', 12],
    entries: 148,
  },
  'extended/tampered/non-object-line': {
    class: 'tampered',
    exit: 1,
    first: ['not-an-object', 'audit-2026-02-02.jsonl', 12],
    entries: 148,
  },
  'extended/tampered/foreign-file': { class: 'intact', exit: 0, first: null, entries: 150, notes: ['foreign'] },
  'extended/tampered/mtime-reversed': { class: 'intact', exit: 0, first: null, entries: 150 },
  'extended/quirks/int-keys': {
    class: 'quirk',
    exit: 7,
    first: ['int-keys', 'audit-2026-02-21.jsonl', 7],
    entries: 12,
  },
  'extended/quirks/restart-after-long-line': {
    class: 'fork',
    exit: 5,
    first: ['fork-genesis', 'audit-2026-02-24.jsonl', 1],
    entries: 20,
  },
  'extended/quirks/retention-deleted-oldest': {
    class: 'mid-chain',
    exit: 6,
    first: ['history-mid-chain', 'audit-2026-02-26.084859.jsonl', 1],
    entries: 29,
  },
};

describe('verify --json on every Loki Mode fixture', () => {
  for (const [rel, want] of Object.entries(CASES)) {
    it(`${rel}: ${want.class}${want.first ? ` at ${want.first[1]}:${want.first[2]}` : ''}, exit ${want.exit}`, async () => {
      const r = await runCli(['verify', '--dir', join(LOKI, rel), '--json']);
      assert.equal(r.code, want.exit, r.stderr);
      const report = JSON.parse(r.stdout);
      assert.equal(report.verdict, want.class);
      assert.equal(report.exitCode, want.exit);
      assert.equal(report.entriesVerified, want.entries);
      if (want.first === null) assert.equal(report.firstProblem, null);
      else {
        assert.deepEqual([report.firstProblem.reason, report.firstProblem.file, report.firstProblem.line], want.first);
        assert.ok(report.firstProblem.message.length > 10);
      }
      for (const n of want.notes ?? [])
        assert.ok(
          report.notes.some((x: { kind: string }) => x.kind === n),
          `note ${n} in ${JSON.stringify(report.notes)}`,
        );
    });
  }
});

describe('verify details', () => {
  it('a hash mismatch reports expected and stored hashes', async () => {
    const r = await runCli(['verify', '--dir', join(LOKI, 'extended/tampered/edited-field'), '--json']);
    assert.equal(r.code, 1, r.stderr);
    const f = JSON.parse(r.stdout).firstProblem;
    assert.match(f.expected, /^[0-9a-f]{64}$/);
    const line17 = readFileSync(join(LOKI, 'extended/tampered/edited-field/audit-2026-02-02.jsonl'), 'utf8').split(
      '\n',
    )[16];
    assert.equal(f.stored, JSON.parse(line17)._integrity_hash);
    assert.notEqual(f.expected, f.stored);
  });

  it('--json escapes a hostile stored hash on a terminal and in a pipe, with the same value', async () => {
    const t = tempDir();
    try {
      writeDay(t.dir, [JSON.stringify(writerEntry({ _integrity_hash: RAW_HOSTILE }))]);
      const args = ['verify', '--dir', t.dir, '--json'];
      const piped = assertExit(await runCli(args), 6);
      assert.doesNotMatch(piped.stdout, UNSAFE_ON_TTY);
      assert.equal(JSON.parse(piped.stdout).firstProblem.stored, RAW_HOSTILE);
      if (!HAS_SCRIPT) return;
      const tty = await runCliOnTty(args);
      assert.equal(tty.code, 6, tty.output);
      assert.doesNotMatch(tty.output, UNSAFE_ON_TTY);
      assert.equal(JSON.parse(tty.output).firstProblem.stored, RAW_HOSTILE);
    } finally {
      t.cleanup();
    }
  });

  it('a fork names the hash it chains from (genesis)', async () => {
    const r = await runCli(['verify', '--dir', join(LOKI, 'extended/quirks/restart-after-long-line'), '--json']);
    assert.equal(r.code, 5, r.stderr);
    const f = JSON.parse(r.stdout).firstProblem;
    assert.equal(f.chainsFrom, '0'.repeat(64));
    assert.equal(f.seenAt, null);
  });

  it('stripped-first-hash also finds the forged line 10 after the stripped line 1', async () => {
    const r = await runCli(['verify', '--dir', join(LOKI, 'extended/tampered/stripped-first-hash'), '--json']);
    assert.equal(r.code, 1, r.stderr);
    const findings = JSON.parse(r.stdout).findings.map(
      (f: { reason: string; line: number }) => `${f.reason}:${f.line}`,
    );
    assert.deepEqual(findings, ['hash-stripped:1', 'hash-mismatch:10']);
  });

  it('human output names file, line, class and hashes', async () => {
    const r = await runCli(['verify', '--dir', join(LOKI, 'extended/tampered/edited-field')]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /audit-2026-02-02\.jsonl:17 TAMPERED \(hash-mismatch\)/);
    assert.match(r.stdout, /expected [0-9a-f]{64}/);
    assert.match(
      r.stdout,
      /^TAMPERED: 3 file\(s\), 149 entries verified; first problem audit-2026-02-02\.jsonl:17 \(hash-mismatch\).*\(exit 1\)$/m,
    );
  });

  it('--quiet prints nothing and exits 0 when intact', async () => {
    const r = await runCli(['verify', '--dir', join(LOKI, 'extended/valid/writer'), '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, '');
  });

  it('--quiet prints the problem and the verdict when not intact', async () => {
    const r = await runCli(['verify', '--dir', join(LOKI, 'extended/quirks/int-keys'), '-q']);
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stdout, /^audit-2026-02-21\.jsonl:7 Loki Mode writer quirk \(int-keys\)/);
  });

  it('--strict fails warnings and notes with exit 1', async () => {
    for (const rel of [
      'extended/quirks/restart-after-long-line',
      'extended/tampered/foreign-file',
      'writer/blank-lines-crlf',
    ]) {
      const r = await runCli(['verify', '--dir', join(LOKI, rel), '--strict', '--json']);
      assert.equal(r.code, 1, `${rel}: ${r.stderr}`);
      assert.equal(JSON.parse(r.stdout).ok, false);
    }
    const ok = await runCli(['verify', '--dir', join(LOKI, 'extended/valid/writer'), '--strict']);
    assert.equal(ok.code, 0, ok.stderr);
  });

  it("retention-deleted-oldest is retention, not mid-chain, when it matches Loki Mode's LOKI_AUDIT_MAX_FILES", async () => {
    const r = await runCli(['verify', '--dir', join(LOKI, 'extended/quirks/retention-deleted-oldest'), '--json'], {
      env: { LOKI_AUDIT_MAX_FILES: '3' },
    });
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.verdict, 'intact');
    assert.ok(
      rep.notes.some(
        (n: { kind: string; file: string }) => n.kind === 'retention' && n.file === 'audit-2026-02-26.084859.jsonl',
      ),
    );
  });

  it('LOKI_AUDIT_DIR is used when --dir is absent', async () => {
    const r = await runCli(['verify', '-q'], { env: { LOKI_AUDIT_DIR: join(LOKI, 'extended/valid/writer') } });
    assert.equal(r.code, 0, r.stderr);
    // The verdict is that directory's: a tampered one pointed to is reported as such.
    const bad = await runCli(['verify', '-q'], {
      env: { LOKI_AUDIT_DIR: join(LOKI, 'extended/tampered/edited-field') },
    });
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stdout, /^audit-2026-02-02\.jsonl:17 /m);
  });
});

describe('verify on bad input: clear message, documented exit code, no stack trace', () => {
  let t: { dir: string; cleanup: () => void };
  before(() => {
    t = tempDir();
  });
  after(() => t.cleanup());

  const noStack = (s: string) => assert.doesNotMatch(s, /\n\s+at .*\(.*:\d+:\d+\)/);

  it('missing directory: exit 3', async () => {
    const r = await runCli(['verify', '--dir', join(t.dir, 'nope')]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /audit directory not found: .*nope/);
    noStack(r.stderr);
  });

  it('empty directory and a directory of non-audit files: exit 3', async () => {
    const empty = join(t.dir, 'empty');
    mkdirSync(empty);
    let r = await runCli(['verify', '--dir', empty]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /no audit files/);
    const other = join(t.dir, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'hello\n');
    writeFileSync(join(other, 'audit-export.jsonl'), '{}\n');
    r = await runCli(['verify', '--dir', other]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /no audit files .* such as audit-export\.jsonl/);
    noStack(r.stderr);
  });

  it('a file path instead of a directory: exit 3', async () => {
    const f = join(t.dir, 'file.txt');
    writeFileSync(f, 'x');
    const r = await runCli(['verify', '--dir', f]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /not a directory/);
  });

  it('an unreadable file (a directory with an audit name) is an io-error at that file, exit 3', async () => {
    const c = copyFixture('extended/valid/writer');
    try {
      mkdirSync(join(c.dir, 'audit-2026-02-04.jsonl'));
      const r = await runCli(['verify', '--dir', c.dir, '--json']);
      assert.equal(r.code, 3, r.stderr);
      const rep = JSON.parse(r.stdout);
      assert.equal(rep.firstProblem.class, 'io-error');
      assert.equal(rep.firstProblem.file, 'audit-2026-02-04.jsonl');
      assert.equal(rep.entriesVerified, 150);
    } finally {
      c.cleanup();
    }
  });

  it('a corrupt .gz file is an io-error naming the file', async () => {
    const c = copyFixture('extended/valid/writer');
    try {
      writeFileSync(join(c.dir, 'audit-2026-01-31.jsonl.gz'), Buffer.from('not gzip at all'));
      const r = await runCli(['verify', '--dir', c.dir, '--json']);
      assert.equal(r.code, 3, r.stderr);
      assert.equal(JSON.parse(r.stdout).firstProblem.file, 'audit-2026-01-31.jsonl.gz');
    } finally {
      c.cleanup();
    }
  });

  it('a 10 MB line is read (streamed, memory bounded), not skipped: an unhashed one inserted is named', async () => {
    const c = copyFixture('extended/valid/writer');
    try {
      const f = join(c.dir, 'audit-2026-02-02.jsonl');
      const lines = readFileSync(f, 'utf8').split('\n');
      lines.splice(20, 0, '{"timestamp": "x", "details": "' + 'A'.repeat(10 * 1024 * 1024) + '"}');
      writeFileSync(f, lines.join('\n'));
      const r = await runCli(['verify', '--dir', c.dir, '--json']);
      assert.equal(r.code, 1, r.stderr);
      const rep = JSON.parse(r.stdout);
      assert.deepEqual(
        [rep.firstProblem.reason, rep.firstProblem.file, rep.firstProblem.line],
        ['unhashed-entries', 'audit-2026-02-02.jsonl', 21],
      );
      // The inserted line did not break the chain: the entry after it chains from the one before.
      assert.equal(rep.findings.length, 1);
      assert.equal(rep.entriesVerified, 150);
    } finally {
      c.cleanup();
    }
  });

  it('bad flags exit 2', async () => {
    const r = await runCli(['verify', '--bogus']);
    assert.equal(r.code, 2, r.stderr);
    noStack(r.stderr);
  });

  it('--against-loki with credentials in the URL (any form the URL parser reads) exits 2, the secret unprinted', async () => {
    for (const url of ['http://u:hunter2@127.0.0.1:1', 'http:/u:hunter2@127.0.0.1:1']) {
      const r = assertExit(
        await runCli(['verify', '--dir', join(LOKI, 'extended/valid/writer'), '--against-loki', url]),
        2,
        url,
      );
      assert.match(r.stderr, /--against-loki: credentials in a URL/);
      assert.doesNotMatch(r.stdout + r.stderr, /hunter2/);
    }
  });

  it('an entry appended while a write is in progress (no newline yet, complete JSON) is verified with a note', async () => {
    const c = copyFixture('extended/valid/writer');
    try {
      const f = join(c.dir, 'audit-2026-02-03.jsonl');
      const text = readFileSync(f, 'utf8');
      writeFileSync(f, text.slice(0, -1)); // drop the final newline only
      const r = await runCli(['verify', '--dir', c.dir, '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(JSON.parse(r.stdout).notes.some((n: { kind: string }) => n.kind === 'no-final-newline'));
      appendFileSync(f, '\n');
    } finally {
      c.cleanup();
    }
  });
});

describe('verify the JS AuditLog chain (Loki Mode src/audit/log.js)', () => {
  const edit = async (change: (lines: string[]) => string[] | string) => {
    const c = copyFixture('js-auditlog/valid');
    const f = join(c.dir, 'audit.jsonl');
    const lines = readFileSync(f, 'utf8').split('\n').filter(Boolean);
    const out = change(lines);
    writeFileSync(f, typeof out === 'string' ? out : out.join('\n') + '\n');
    try {
      const r = await runCli(['verify', '--dir', c.dir, '--json']);
      return { code: r.code, stderr: r.stderr, report: JSON.parse(r.stdout) };
    } finally {
      c.cleanup();
    }
  };

  it('the untouched copy is intact (so each edit below is what is reported)', async () => {
    const { code, stderr, report } = await edit((l) => l);
    assert.equal(code, 0, stderr);
    assert.equal(report.verdict, 'intact');
    assert.equal(report.entriesVerified, 80);
  });

  it('an edited field is a hash mismatch at its line', async () => {
    const { code, stderr, report } = await edit((l) => {
      const e = JSON.parse(l[9]);
      e.who = 'mallory';
      l[9] = JSON.stringify(e);
      return l;
    });
    assert.equal(code, 1, stderr);
    assert.deepEqual(
      [report.firstProblem.reason, report.firstProblem.file, report.firstProblem.line],
      ['hash-mismatch', 'audit.jsonl', 10],
    );
  });

  it('a removed entry is a chain break at the next line', async () => {
    const { code, stderr, report } = await edit((l) => l.filter((_, i) => i !== 20));
    assert.equal(code, 1, stderr);
    assert.deepEqual([report.firstProblem.reason, report.firstProblem.line], ['chain-break', 21]);
  });

  it('a torn final line is incomplete (exit 4)', async () => {
    const { code, stderr, report } = await edit((l) => l.join('\n') + '\n' + l[5].slice(0, 40));
    assert.equal(code, 4, stderr);
    assert.deepEqual([report.firstProblem.reason, report.firstProblem.line], ['torn-last-line', 81]);
  });
});

describe('verify progress', () => {
  it(
    'shows files, MB/s and ETA on a terminal only; never when piped, --quiet or --json',
    { skip: spawnSync('script', ['--version']).status === 0 ? false : 'util-linux script not installed' },
    async () => {
      const dir = join(LOKI, 'extended/valid/writer');
      const tty = spawnSync('script', ['-qec', `node ${BIN} verify --dir ${dir}`, '/dev/null'], {
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      });
      assert.equal(tty.status, 0, tty.stdout);
      assert.match(tty.stdout, /verifying: 3\/3 files, \d+\/\d+ MB, \d+ MB\/s, ETA \d+s/);
      const quiet = spawnSync('script', ['-qec', `node ${BIN} verify --dir ${dir} --quiet`, '/dev/null'], {
        encoding: 'utf8',
      });
      assert.equal(quiet.status, 0, quiet.stdout);
      assert.doesNotMatch(quiet.stdout, /verifying:/);
      const piped = await runCli(['verify', '--dir', dir]);
      assert.equal(piped.code, 0, piped.stderr);
      assert.doesNotMatch(piped.stderr + piped.stdout, /verifying:/);
      assert.match(piped.stdout, /^intact: 3 file\(s\), 150 entries verified/m, 'the run did verify');
      const json = spawnSync('script', ['-qec', `node ${BIN} verify --dir ${dir} --json`, '/dev/null'], {
        encoding: 'utf8',
      });
      assert.equal(json.status, 0, json.stdout);
      assert.doesNotMatch(json.stdout, /verifying:/);
      assert.match(json.stdout, /"entriesVerified": ?150/);
    },
  );
});

describe('verify --jobs', () => {
  it('gives the same report with one thread and with worker threads, and rejects a bad value', async () => {
    const one = await runCli(['verify', '--dir', join(LOKI, 'extended/valid/writer-rotated'), '--json', '--jobs', '1']);
    const four = await runCli([
      'verify',
      '--dir',
      join(LOKI, 'extended/valid/writer-rotated'),
      '--json',
      '--jobs',
      '4',
    ]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(four.code, 0, four.stderr);
    assert.deepEqual(JSON.parse(four.stdout), JSON.parse(one.stdout));
    // And when there is something to find: the same findings either way.
    const tampered = join(LOKI, 'writer/tampered-field');
    const t1 = await runCli(['verify', '--dir', tampered, '--json', '--jobs', '1']);
    const t4 = await runCli(['verify', '--dir', tampered, '--json', '--jobs', '4']);
    assert.equal(t1.code, 1, t1.stderr);
    assert.equal(t4.code, 1, t4.stderr);
    assert.deepEqual(JSON.parse(t4.stdout), JSON.parse(t1.stdout));
    assert.equal(JSON.parse(t4.stdout).firstProblem.line, 5);
    const bad = await runCli(['verify', '--dir', join(LOKI, 'writer/valid'), '--jobs', '0']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.doesNotMatch(bad.stderr, /\n\s+at /);
  });
});

describe("verify and Loki Mode's streams (spec §5)", () => {
  const PROJECT = join(LOKI, 'field/project-streams');

  it('the agent and session audits carry no chain: said plainly, exit 14 (streamUnsupported), --strict or not', async () => {
    const cases: Array<[string[], RegExp]> = [
      [
        ['--dir', join(PROJECT, '.loki/logs')],
        /: the agent audit \(\.loki\/logs\/agent-audit\.jsonl\) and the session audit \(\.loki\/logs\/audit-YYYYMMDD\.jsonl\) carry no hash chain: there is nothing to verify$/m,
      ],
      [
        ['--dir', PROJECT, '--stream', 'agent'],
        /: the agent audit \(\.loki\/logs\/agent-audit\.jsonl\) carries no hash chain: there is nothing to verify$/m,
      ],
      [['--dir', PROJECT, '--stream', 'session', '--strict'], /: the session audit \(.*\) carries no hash chain/m],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['verify', ...args]);
      assert.equal(r.code, 14, `verify ${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^loki-audit: error: /);
      assert.match(r.stderr, message);
      assert.match(
        r.stderr,
        /^loki-audit: hint: search, summary, tail and export read it: loki-audit summary --stream /m,
      );
      assert.equal(r.stdout, '');
    }
  });

  it("a project directory is verified through its JS AuditLog's chain", async () => {
    const r = await runCli(['verify', '--dir', PROJECT, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepEqual(
      [report.verdict, report.entriesVerified, report.files.map((f: { file: string }) => f.file), report.dir],
      ['intact', 6, ['audit.jsonl'], join(PROJECT, '.loki/audit')],
    );
  });

  it('--stream picks one of the two chains of a directory that holds both', async () => {
    const t = tempDir();
    try {
      cpSync(join(LOKI, 'js-auditlog/valid'), t.dir, { recursive: true });
      cpSync(join(LOKI, 'extended/valid/writer/audit-2026-02-01.jsonl'), join(t.dir, 'audit-2026-02-01.jsonl'));
      const files = async (...args: string[]) => {
        const r = await runCli(['verify', '--dir', t.dir, '--json', ...args]);
        assert.equal(r.code, 0, r.stderr);
        return JSON.parse(r.stdout).files.map((f: { file: string }) => f.file);
      };
      assert.deepEqual(await files(), ['audit-2026-02-01.jsonl', 'audit.jsonl']);
      assert.deepEqual(await files('--stream', 'js'), ['audit.jsonl']);
      assert.deepEqual(await files('--stream', 'dashboard'), ['audit-2026-02-01.jsonl']);
    } finally {
      t.cleanup();
    }
  });
});
