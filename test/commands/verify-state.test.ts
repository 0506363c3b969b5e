/** verify --state: incremental verification for cron. */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { appendEntry } from '../../src/core/write/append.js';
import { LOKI, runCli, tempDir } from '../helpers/cli.js';

describe('verify --state (incremental)', () => {
  let t: { dir: string; cleanup: () => void };
  let audit: string;
  let state: string;
  beforeEach(async () => {
    t = tempDir();
    audit = join(t.dir, 'audit');
    state = join(t.dir, 'verify-state.json');
    cpSync(join(LOKI, 'extended/valid/writer'), audit, { recursive: true });
    const r = await runCli(['verify', '--dir', audit, '--state', state, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).entriesVerified, 150);
  });
  afterEach(() => t.cleanup());
  const run = async () => {
    const r = await runCli(['verify', '--dir', audit, '--state', state, '--json']);
    return { code: r.code, stderr: r.stderr, rep: JSON.parse(r.stdout) };
  };

  it('a second run re-reads nothing; new entries (a new day, appended) are the only work', async () => {
    let { code, stderr, rep } = await run();
    assert.equal(code, 0, stderr);
    assert.equal(rep.entriesVerified, 0);
    assert.equal(rep.incremental.filesSkipped, 3);
    await appendEntry(
      audit,
      { action: 'x', resource_type: 'y', details: {} },
      { now: new Date('2026-02-03T23:00:00Z') },
    );
    await appendEntry(
      audit,
      { action: 'x', resource_type: 'y', details: {} },
      { now: new Date('2026-02-04T01:00:00Z') },
    );
    ({ code, stderr, rep } = await run());
    assert.equal(code, 0, stderr + JSON.stringify(rep.findings));
    assert.equal(rep.entriesVerified, 2);
    ({ code, stderr, rep } = await run());
    assert.equal(code, 0, stderr);
    assert.equal(rep.entriesVerified, 0);
  });

  it('removed newest entries of a verified file: tampered, and the state is not advanced', async () => {
    const f = join(audit, 'audit-2026-02-03.jsonl');
    writeFileSync(f, readFileSync(f, 'utf8').split('\n').slice(0, 47).join('\n') + '\n');
    const before = readFileSync(state, 'utf8');
    const { code, stderr, rep } = await run();
    assert.equal(code, 1, stderr);
    assert.equal(rep.firstProblem.reason, 'chain-break');
    assert.match(
      rep.firstProblem.message,
      /audit-2026-02-03\.jsonl now ends at line 47 .* verified up to line 50 .* every entry left verifies: the verified entries at its end were removed/,
    );
    assert.equal(readFileSync(state, 'utf8'), before);
    const again = await run();
    assert.equal(again.code, 1, `the alarm repeats until it is dealt with: ${again.stderr}`);
  });

  it('a changed last verified entry, and a deleted verified file, are tampering', async () => {
    const f = join(audit, 'audit-2026-02-02.jsonl');
    const lines = readFileSync(f, 'utf8').split('\n');
    lines[49] = lines[49].replace('"success": true', '"success": false').replace(/"seq": \d+/, '"seq": 0');
    writeFileSync(f, lines.join('\n'));
    let { code, stderr, rep } = await run();
    assert.equal(code, 1, stderr);
    // Located: the changed entry at its line, not only "the last entry differs".
    assert.deepEqual(
      [rep.firstProblem.file, rep.firstProblem.line, rep.firstProblem.reason],
      ['audit-2026-02-02.jsonl', 50, 'hash-mismatch'],
    );
    cpSync(join(LOKI, 'extended/valid/writer/audit-2026-02-02.jsonl'), f);
    rmSync(join(audit, 'audit-2026-02-01.jsonl'));
    ({ code, stderr, rep } = await run());
    assert.equal(code, 1, stderr);
    assert.match(rep.firstProblem.message, /audit-2026-02-01\.jsonl, verified up to line 50 .* is gone/);
  });

  it('size rotation renaming a verified file is followed by inode; a new file that does not chain is caught', async () => {
    renameSync(join(audit, 'audit-2026-02-03.jsonl'), join(audit, 'audit-2026-02-03.235959.jsonl'));
    let { code, stderr, rep } = await run();
    assert.equal(code, 0, stderr + JSON.stringify(rep.findings));
    assert.ok(rep.notes.some((n: { message: string }) => /is now audit-2026-02-03\.235959\.jsonl/.test(n.message)));
    // A forged next day that chains from the genesis hash instead of the verified head.
    cpSync(join(LOKI, 'extended/valid/writer/audit-2026-02-01.jsonl'), join(audit, 'audit-2026-02-04.jsonl'));
    ({ code, stderr, rep } = await run());
    assert.equal(code, 5, stderr);
    assert.equal(rep.firstProblem.reason, 'fork-genesis');
    assert.equal(rep.firstProblem.file, 'audit-2026-02-04.jsonl');
    assert.equal(rep.firstProblem.line, 1);
  });

  it('retention is not claimed where no rotation ran: the oldest verified file gone is tampering', async () => {
    rmSync(join(audit, 'audit-2026-02-01.jsonl'));
    const r = await runCli(['verify', '--dir', audit, '--state', state, '--json', '--retention-files', '2']);
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.ok(JSON.parse(r.stdout).findings.some((f: { reason: string }) => f.reason === 'chain-break'));
  });

  it('an edit that shortens the file (sed -i) is an edit at its line, never "entries removed"', async () => {
    const f = join(audit, 'audit-2026-02-02.jsonl');
    const lines = readFileSync(f, 'utf8').split('\n');
    const at = lines.findIndex((l, i) => i > 10 && /"user_id": "[^"]{3,}"/.test(l));
    assert.ok(at > 0, 'an entry with a user to shorten');
    lines[at] = lines[at].replace(/"user_id": "[^"]+"/, '"user_id": "x"');
    // sed -i: a new file (a new inode) under the same name, shorter than the verified one.
    rmSync(f);
    writeFileSync(f, lines.join('\n'));
    const { code, stderr, rep } = await run();
    assert.equal(code, 1, stderr);
    assert.deepEqual(
      [rep.firstProblem.file, rep.firstProblem.line, rep.firstProblem.reason],
      ['audit-2026-02-02.jsonl', at + 1, 'hash-mismatch'],
    );
    for (const x of rep.findings) {
      assert.equal(x.reason, 'hash-mismatch', x.message);
      assert.doesNotMatch(x.message, /verified entries .*removed|shorter/, x.message);
    }
  });

  it('the documented limit: an edit inside the verified part that keeps the last entry; a full verify finds it', async () => {
    const f = join(audit, 'audit-2026-02-01.jsonl');
    const lines = readFileSync(f, 'utf8').split('\n');
    const edited = lines[20].replace(
      /"timestamp": "2026-02-01T(\d)/,
      (_m, d) => `"timestamp": "2026-02-01T${(Number(d) + 1) % 10}`,
    );
    assert.notEqual(edited, lines[20]);
    lines[20] = edited;
    writeFileSync(f, lines.join('\n'));
    const { code, stderr } = await run();
    assert.equal(code, 0, `--state checks the verified tails only (docs/verify.md): ${stderr}`);
    const full = await runCli(['verify', '--dir', audit, '--json']);
    assert.equal(full.code, 1, full.stderr);
    const rep = JSON.parse(full.stdout);
    assert.deepEqual(
      [rep.firstProblem.file, rep.firstProblem.line, rep.firstProblem.reason],
      ['audit-2026-02-01.jsonl', 21, 'hash-mismatch'],
    );
  });

  it('files are told apart by content, not by a remembered inode another file now has', async () => {
    // A forged piece that holds the inode the state remembers for the live day's file (as a
    // freed and reused inode would): the real file is still recognised by its content, and the
    // forged piece is caught as a file inside the verified history.
    const live = join(audit, 'audit-2026-02-03.jsonl');
    const forged = join(audit, 'audit-2026-02-03.000001.jsonl');
    writeFileSync(forged, readFileSync(live, 'utf8').split('\n').slice(0, 10).join('\n') + '\n');
    const s = JSON.parse(readFileSync(state, 'utf8'));
    const { statSync } = await import('node:fs');
    s.files.find((x: { name: string }) => x.name === 'audit-2026-02-03.jsonl').ino = statSync(forged).ino;
    writeFileSync(state, JSON.stringify(s));
    const { code, stderr, rep } = await run();
    assert.equal(code, 1, stderr);
    assert.deepEqual(
      rep.findings.map((x: { file: string; reason: string }) => [x.file, x.reason]),
      [['audit-2026-02-03.000001.jsonl', 'chain-break']],
    );
    assert.match(rep.findings[0].message, /appeared inside the already verified history/);
    assert.ok(!rep.notes.some((n: { message: string }) => /is now/.test(n.message)), JSON.stringify(rep.notes));
  });

  it('a corrupt state file or one of another directory exits 13 with a clear message', async () => {
    writeFileSync(state, '{"version": 1, "di');
    let r = await runCli(['verify', '--dir', audit, '--state', state]);
    assert.equal(r.code, 13, r.stderr);
    assert.match(r.stderr, /not valid JSON/);
    writeFileSync(state, JSON.stringify({ version: 1, dir: '/elsewhere', verifiedAt: 'x', entries: 0, files: [] }));
    r = await runCli(['verify', '--dir', audit, '--state', state]);
    assert.equal(r.code, 13, r.stderr);
    assert.match(r.stderr, /belongs to \/elsewhere/);
  });
});

describe('verify --state and Loki Mode retention (spec §10.25)', () => {
  it("the writer's next rotation deletes the oldest verified file: a retention note, and a full verify agrees", async () => {
    const t = tempDir();
    try {
      const audit = join(t.dir, 'audit');
      const state = join(t.dir, 'state.json');
      cpSync(join(LOKI, 'field/retention-with-days'), audit, { recursive: true });
      const first = await runCli(['verify', '--dir', audit, '--state', state, '--json', '--retention-files', '4']);
      assert.equal(first.code, 0, first.stderr + first.stdout);
      // What Loki Mode does at its next rotation with LOKI_AUDIT_MAX_FILES=4: rename the live file
      // to a piece, delete the oldest file, then write the entry to a fresh live file.
      renameSync(join(audit, 'audit-2026-03-03.jsonl'), join(audit, 'audit-2026-03-03.235959.jsonl'));
      rmSync(join(audit, 'audit-2026-03-01.jsonl'));
      await appendEntry(
        audit,
        { action: 'x', resource_type: 'y', details: {} },
        { now: new Date('2026-03-03T23:59:59Z') },
      );
      let r = await runCli(['verify', '--dir', audit, '--state', state, '--json', '--retention-files', '4']);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const rep = JSON.parse(r.stdout);
      assert.ok(
        rep.notes.some(
          (n: { kind: string; file: string }) => n.kind === 'retention' && n.file === 'audit-2026-03-01.jsonl',
        ),
      );
      r = await runCli(['verify', '--dir', audit, '--json'], { env: { LOKI_AUDIT_MAX_FILES: '4' } });
      assert.equal(r.code, 0, `a full verify agrees: ${r.stderr}${r.stdout}`);
      // One more file gone without a rotation: not retention.
      rmSync(join(audit, 'audit-2026-03-02.114200.jsonl'));
      r = await runCli(['verify', '--dir', audit, '--state', state, '--json', '--retention-files', '4']);
      assert.equal(r.code, 1, r.stderr + r.stdout);
      r = await runCli(['verify', '--dir', audit, '--json'], { env: { LOKI_AUDIT_MAX_FILES: '4' } });
      assert.equal(r.code, 6, r.stderr + r.stdout);
    } finally {
      t.cleanup();
    }
  });
});
