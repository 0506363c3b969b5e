/**
 * forward --replay-dead-letter against the Loki receiver (test/helpers/loki-receiver.ts): the
 * entries a run dead-lettered (too old; refused by the receiver) are sent again with the command
 * the run printed, each received once with its original file and line; what is refused again,
 * records of targets not configured and lines that are not records stay; the state file is
 * untouched; a replay killed mid-way loses no record.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { generateSample } from '../../scripts/sample.js';
import { assertExit, BIN, ROOT, runCli, tempDir } from '../helpers/cli.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

interface DeadRecord {
  target: string;
  reason: string;
  file: string;
  line: number;
  entry: string;
}

const records = (path: string): DeadRecord[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as DeadRecord);

describe('forward --replay-dead-letter', () => {
  let t: { dir: string; cleanup: () => void };
  let audit: string;
  let state: string;
  let dl: string;
  let rx: LokiReceiver;
  /** The receiver refuses the entries whose line this returns true for, as Loki refuses "too far behind". */
  let refuse: (line: string) => boolean = () => false;
  beforeEach(async () => {
    t = tempDir();
    audit = join(t.dir, 'audit');
    state = join(t.dir, 'state.json');
    dl = join(t.dir, 'dead.jsonl');
    refuse = () => false;
    rx = new LokiReceiver({
      refuseEntry: ({ labels, line }) =>
        refuse(line)
          ? `entry for stream '{job="${labels.job}"}' has timestamp too ` +
            `old: entry too far behind, oldest acceptable timestamp is: …`
          : null,
    });
    await rx.start();
  });
  afterEach(async () => {
    await rx.stop();
    t.cleanup();
  });
  const fwd = (...a: string[]) =>
    runCli([
      'forward',
      '--dir',
      audit,
      '--loki',
      rx.url,
      '--state',
      state,
      '--dead-letter',
      dl,
      '--batch-wait',
      '100',
      ...a,
    ]);

  it(
    'too old: dead-lettered with the replay command, ' + 'which sends each of them once with --timestamp ingest',
    async () => {
      // Day 9 ago: older than Loki takes (30 entries); day 3 ago: fine (30).
      generateSample(audit, { seed: 21, startDate: daysAgo(9), perDay: [30, 0, 0, 0, 0, 0, 30] });
      const first = assertExit(await fwd(), 11);
      assert.equal(rx.stored.length, 30);
      const dead = records(dl);
      assert.equal(dead.length, 30);
      assert.match(first.stderr, /note: 30 refused entries are in \S+dead\.jsonl; the position has moved past them/);
      const hint = /hint: once the cause is fixed, send them again with: (loki-audit forward .*)\n/.exec(first.stderr);
      assert.ok(hint, first.stderr);
      const command = hint[1];
      assert.match(command, /--replay-dead-letter/);
      assert.match(command, / --timestamp ingest/);
      assert.ok(command.includes(` --dead-letter ${dl}`), command);
      const stateBefore = readFileSync(state);

      // The command as printed (its words are plain here: no quoting in the temp paths).
      const words = command.split(' ').slice(1);
      const replay = await runCli(words);
      assert.equal(replay.code, 0, replay.stderr);
      assert.match(replay.stdout, /^loki:http:\/\/127\.0\.0\.1:\d+: 30 replayed, 0 still refused\n/);
      assert.match(replay.stdout, /dead\.jsonl: 30 removed, 0 kept\n/);
      assert.equal(rx.stored.length, 60);
      const replayed = rx.stored.slice(30);
      assert.deepEqual(replayed.map((e) => e.line).sort(), dead.map((d) => d.entry).sort(), 'exactly the refused ones');
      assert.equal(new Set(rx.stored.map((e) => e.line)).size, 60, 'each once');
      for (const d of dead) {
        const e = replayed.find((x) => x.line === d.entry)!;
        assert.equal(e.metadata.file, d.file);
        assert.equal(e.metadata.line, String(d.line));
        assert.equal(e.metadata.chain_hash, JSON.parse(d.entry)._integrity_hash);
      }
      assert.equal(readFileSync(dl, 'utf8'), '', 'the dead-letter file is empty');
      assert.equal(statSync(dl).mode & 0o777, 0o600);
      assert.deepEqual(readFileSync(state), stateBefore, 'the positions are not touched');
      assert.deepEqual(
        readdirSync(t.dir).filter((n) => n.endsWith('.tmp')),
        [],
        'no temporary file left',
      );

      // Nothing left: a second replay sends nothing.
      const pushes = rx.pushes;
      const again = assertExit(await runCli(words), 0);
      assert.match(again.stdout, /: 0 replayed, 0 still refused\n/);
      assert.equal(rx.pushes, pushes);
      // --json: the report.
      const j = JSON.parse(assertExit(await runCli([...words, '--json']), 0).stdout);
      assert.equal(j.replay.replayed, 0);
      assert.deepEqual(j.targets, []);
    },
  );

  it('refused again stays (exit 11), records of other targets and foreign lines stay as they are', async () => {
    generateSample(audit, { seed: 22, startDate: daysAgo(3), perDay: [60, 60] });
    refuse = (line) => /"user_id": "(alice|bob)"/.test(line);
    assertExit(await fwd(), 11);
    const dead = records(dl);
    const bob = dead.filter((d) => /"user_id": "bob"/.test(d.entry));
    assert.ok(dead.length >= 10 && bob.length >= 3, `${dead.length} dead-lettered, ${bob.length} of bob`);
    const foreign = JSON.stringify({ ...dead[0], target: 'loki:http://127.0.0.1:1#other' });
    appendFileSync(dl, foreign + '\n' + 'not a record\n');
    const stored = rx.stored.length;

    // Now only bob's stay refused.
    refuse = (line) => /"user_id": "bob"/.test(line);
    const r = assertExit(await fwd('--replay-dead-letter', '--batch-entries', '4'), 11);
    const taken = dead.length - bob.length;
    assert.match(r.stdout, new RegExp(`: ${taken} replayed, ${bob.length} still refused\\n`));
    assert.match(r.stdout, new RegExp(`dead\\.jsonl: ${taken} removed, ${bob.length + 2} kept\\n`));
    assert.match(r.stdout, /kept: 1 for loki:http:\/\/127\.0\.0\.1:1#other, not a target of this run/);
    assert.match(r.stdout, /kept: 1 line\(s\) that are not dead-letter records/);
    assert.equal(rx.stored.length - stored, taken);
    assert.equal(new Set(rx.stored.map((e) => e.line)).size, rx.stored.length, 'none twice');
    const left = readFileSync(dl, 'utf8').split('\n').filter(Boolean);
    const ours = left.filter((l) => l !== foreign && l !== 'not a record');
    assert.deepEqual(
      ours.sort(),
      dead
        .filter((d) => bob.includes(d))
        .map((d) => JSON.stringify(d))
        .sort(),
      "bob's records, as they were",
    );
    assert.equal(left.length, bob.length + 2, 'the foreign record and line, once each');
    assert.ok(left.includes(foreign) && left.includes('not a record'));
  });

  it('killed (SIGKILL) mid-replay: no record is lost; the next replay sends the rest', async () => {
    generateSample(audit, { seed: 23, startDate: daysAgo(20), perDay: [40] });
    assertExit(await fwd(), 11);
    const before = readFileSync(dl);
    const dead = records(dl);
    assert.equal(dead.length, 40);
    rx.slow(300);
    const child = spawn(
      process.execPath,
      [
        BIN,
        'forward',
        '--dir',
        audit,
        '--loki',
        rx.url,
        '--state',
        state,
        '--dead-letter',
        dl,
        '--replay-dead-letter',
        '--timestamp',
        'ingest',
        '--batch-entries',
        '4',
      ],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (b) => (stderr += b));
    const closed = new Promise<NodeJS.Signals | null>((r) => child.on('close', (_code, signal) => r(signal)));
    await rx.waitFor(() => rx.pushes >= 3, { describe: () => `3 pushes before the kill; stderr: ${stderr}` });
    child.kill('SIGKILL');
    assert.equal(await closed, 'SIGKILL', `killed while running: ${stderr}`);
    await rx.whenIdle();
    rx.slow(0);
    assert.ok(rx.stored.length > 0 && rx.stored.length < 40, `some replayed before the kill (${rx.stored.length})`);
    assert.deepEqual(readFileSync(dl), before, 'the dead-letter file is whole, every record in it');
    const tmp = () => readdirSync(t.dir).filter((n) => n.endsWith('.tmp'));
    assert.equal(tmp().length, 1, "the killed replay's temporary file");
    const r = await fwd('--replay-dead-letter', '--timestamp', 'ingest');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /: 40 replayed, 0 still refused\n/);
    assert.deepEqual(
      [...new Set(rx.stored.map((e) => e.line))].sort(),
      dead.map((d) => d.entry).sort(),
      'every record delivered (those before the kill possibly twice)',
    );
    assert.equal(readFileSync(dl, 'utf8'), '');
    assert.deepEqual(tmp(), [], 'removed by the next replay');
  });

  it('no dead-letter file: nothing to replay (exit 0); --follow and --dry-run do not combine with it', async () => {
    generateSample(audit, { seed: 24, startDate: daysAgo(3), perDay: [5] });
    const r = assertExit(await fwd('--replay-dead-letter'), 0);
    assert.match(r.stdout, /^no dead-letter file at \S+dead\.jsonl: nothing to replay\n$/);
    for (const f of ['--follow', '--dry-run']) {
      const u = assertExit(await fwd('--replay-dead-letter', f), 2);
      assert.match(u.stderr, /cannot also be provided when using|--replay-dead-letter/);
    }
    assert.equal(rx.pushes, 0);
  });
});
