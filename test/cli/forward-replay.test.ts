/**
 * The replay command a run with refused entries prints: its target flags repeated, the file,
 * `--timestamp ingest` when asked for, each word quoted for a POSIX shell when it must be.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { replayCommand, shellWord } from '../../src/cli/forward-replay.js';

describe('replayCommand', () => {
  it('repeats the target flags, replaces --timestamp with ingest, quotes what a shell would split', () => {
    assert.equal(
      replayCommand(
        {
          loki: ['http://a:3100', 'http://b:3100'],
          tenant: 'acme',
          label: ['env=prod'],
          timestamp: 'entry',
          timeout: 500,
        },
        '/var/audit',
        '/s/dead letters.jsonl',
        true,
      ),
      "loki-audit forward --replay-dead-letter --dir /var/audit --dead-letter '/s/dead letters.jsonl' " +
        '--loki http://a:3100 --loki http://b:3100 --tenant acme --label env=prod --timestamp ingest --timeout 500',
    );
    assert.equal(
      replayCommand({ config: '/etc/c.yaml', timestamp: 'entry' }, '/d', '/f', false),
      'loki-audit forward --replay-dead-letter --dir /d --dead-letter /f --config /etc/c.yaml --timestamp entry',
    );
  });

  it('a quoted word reads back as itself in sh', () => {
    for (const w of ["it's", 'a b', '$HOME', '`x`', 'tab\there', 'plain/path.jsonl', '']) {
      const r = spawnSync('sh', ['-c', `printf %s ${shellWord(w)}`], { encoding: 'utf8' });
      assert.equal(r.stdout, w, JSON.stringify(w));
    }
  });
});
