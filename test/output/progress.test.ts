import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatProgress, ProgressLine } from '../../src/output/progress.js';
import { BIN, LOKI, runCli, tempDir } from '../helpers/cli.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';

const DIR = join(LOKI, 'extended/valid/writer');
const hasScript = spawnSync('script', ['--version']).status === 0;
/**
 * Runs a shell command on a pseudo-terminal (util-linux script, whose -e passes on the command's
 * exit code); asserts it exited 0; what the terminal got (stdout and stderr both).
 */
const onTty = (cmd: string): string => {
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], {
    encoding: 'utf8',
    // No pager (search and export page on a terminal): the terminal itself is what is read.
    env: { ...process.env, NO_COLOR: '1', PAGER: 'cat' },
  });
  assert.equal(r.status, 0, `${cmd}: ${r.stdout}${r.stderr}`);
  return r.stdout;
};

/** The same without blocking this process (a receiver in it must answer); rejects on a non-zero exit. */
function onTtyAsync(cmd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn('script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, NO_COLOR: '1', PAGER: 'cat' } });
    let out = '';
    c.stdout.on('data', (b: Buffer) => (out += b.toString()));
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd}: exit ${code}: ${out}`))));
  });
}

describe('progress line', () => {
  it('formats files, MB, MB/s and ETA; throttles redraws; erases itself', () => {
    assert.equal(
      formatProgress('reading', { filesDone: 1, files: 4, bytesDone: 100 * 1048576, bytesTotal: 400 * 1048576 }, 2),
      'reading: 1/4 files, 100/400 MB, 50 MB/s, ETA 6s',
    );
    const written: string[] = [];
    const p = new ProgressLine(
      'x',
      { write: (s: string) => written.push(s) } as unknown as NodeJS.WritableStream,
      10_000,
    );
    const at = { filesDone: 0, files: 1, bytesDone: 0, bytesTotal: 1 };
    p.update(at);
    p.update(at);
    p.update({ ...at, filesDone: 1 }, true);
    p.clear();
    p.clear();
    assert.equal(written.length, 3, 'first draw, forced draw, one erase');
    assert.ok(
      written.every((w) => w.startsWith('\r') && !w.includes('\x1b')),
      'carriage return only, no ANSI',
    );
    assert.equal(written[2], `\r${' '.repeat(written[1].length - 1)}\r`, 'the erase covers what was drawn');
  });
});

describe(
  'progress on a terminal, never over results or into a pipe',
  { skip: hasScript ? false : 'util-linux script not installed' },
  () => {
    it(
      'summary: while checking the chain (reading alongside), ' + 'or reading alone; not with --json, not piped',
      async () => {
        // The chain check and the count run side by side: one progress line, the check's.
        const both = onTty(`node ${BIN} summary --all --dir ${DIR}`);
        assert.match(both, /checking chain: 3\/3 files, \d+\/\d+ MB, \d+ MB\/s, ETA \d+s/);
        assert.doesNotMatch(both, /reading:/);
        assert.match(
          onTty(`node ${BIN} summary --all --dir ${DIR} --no-chain`),
          /reading: 3\/3 files, \d+\/\d+ MB, \d+ MB\/s, ETA \d+s/,
        );
        assert.doesNotMatch(onTty(`node ${BIN} summary --all --dir ${DIR} --json`), /reading:|checking chain:/);
        const piped = await runCli(['summary', '--all', '--dir', DIR]);
        assert.equal(piped.code, 0, piped.stderr);
        assert.doesNotMatch(piped.stderr + piped.stdout, /reading:/);
        assert.match(piped.stdout, /^total\t150$/m, 'the summary itself is there');
      },
    );

    it('search and export: only when results go to a file', () => {
      const t = tempDir();
      try {
        const out = join(t.dir, 'out.jsonl');
        assert.match(onTty(`node ${BIN} search --dir ${DIR} -o raw > ${out}`), /searching: \d+\/3 files/);
        assert.equal(readFileSync(out, 'utf8').split('\n').length - 1, 150, 'the file holds the results only');
        assert.doesNotMatch(
          onTty(`node ${BIN} search --dir ${DIR} -o raw`),
          /searching:/,
          'not over results on the terminal',
        );
        assert.doesNotMatch(onTty(`node ${BIN} search --dir ${DIR} -o raw | cat`), /searching:/, 'not into a pipe');
        assert.match(
          onTty(`node ${BIN} export --dir ${DIR} -o csv --output-file ${join(t.dir, 'x.csv')}`),
          /exporting: \d+\/3 files/,
        );
        assert.doesNotMatch(onTty(`node ${BIN} export --dir ${DIR} -o syslog | cat`), /exporting:/);
      } finally {
        t.cleanup();
      }
    });

    it('forward: a bounded run shows how far it has read; --json shows none', async () => {
      const t = tempDir();
      const rx = new LokiReceiver();
      await rx.start();
      try {
        const out = await onTtyAsync(
          `node ${BIN} forward --dir ${DIR} --loki ${rx.url} --timestamp ` +
            `ingest --batch-entries 20 --state ${join(t.dir, 's.json')}`,
        );
        assert.match(out, /forwarding: \d+\/3 files, \d+\/\d+ MB/);
        assert.match(out, /150 delivered/);
        const json = await onTtyAsync(
          `node ${BIN} forward --dir ${DIR} --loki ${rx.url} --timestamp ` +
            `ingest --json --reset-state --state ${join(t.dir, 's.json')}`,
        );
        assert.doesNotMatch(json, /forwarding:/);
        assert.match(json, /"delivered": ?150/, 'the run did forward');
      } finally {
        await rx.stop();
        t.cleanup();
      }
    });
  },
);
