/**
 * checkpoint's two stdout lines (src/output/checkpoint.ts), exactly as the command printed them
 * before they moved out of it: scripts grep them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Checkpoint } from '../../src/core/chain/anchors/checkpoints.js';
import { formatCheckpointStored, formatKeyPairWritten } from '../../src/output/checkpoint.js';

const CHECKPOINT: Checkpoint = {
  statement: {
    format: 'loki-audit-checkpoint/1',
    dir: '/var/lib/loki/audit',
    head: 'bd7ec98b71f417c1dd0b3011cab753365ad55486a6323d1c561b251430dc98af',
    file: 'audit-2026-02-03.jsonl',
    line: 50,
    offset: 12345,
    entries: 150,
    time: '2026-02-03T12:00:00.000Z',
  },
  signature: { alg: 'hmac-sha256', keyId: '0123456789abcdef', value: 'c2ln' },
};

describe('checkpoint output', () => {
  it('the stored checkpoint: where, the head and its place, the entries, the algorithm and key id', () => {
    assert.equal(
      formatCheckpointStored('/srv/checkpoints/2026-02-03T12-00-00Z.json', CHECKPOINT),
      'checkpoint /srv/checkpoints/2026-02-03T12-00-00Z.json: head ' +
        'bd7ec98b71f417c1dd0b3011cab753365ad55486a6323d1c561b251430dc98af at audit-2026-02-03.jsonl:50, ' +
        '150 entries, signed hmac-sha256 key 0123456789abcdef\n',
    );
  });

  it('the key pair: both paths, which one stays secret and which one verify takes', () => {
    assert.equal(
      formatKeyPairWritten({ privateKey: '/etc/loki-audit/cp.key', publicKey: '/etc/loki-audit/cp.key.pub' }),
      'wrote /etc/loki-audit/cp.key (private, keep it secret) ' +
        'and /etc/loki-audit/cp.key.pub (for verify --public-key)\n',
    );
  });

  it('escapes control characters and ANSI escapes in paths and names, and leaves plain text alone', () => {
    const planted = { ...CHECKPOINT, statement: { ...CHECKPOINT.statement, file: 'audit-2026-02-03.jsonl\x1b[2J' } };
    const stored = formatCheckpointStored('/srv/cp\nverify: intact/x.json', planted);
    assert.equal(
      stored,
      'checkpoint /srv/cp\\nverify: intact/x.json: head ' +
        'bd7ec98b71f417c1dd0b3011cab753365ad55486a6323d1c561b251430dc98af at audit-2026-02-03.jsonl\\x1b[2J:50, ' +
        '150 entries, signed hmac-sha256 key 0123456789abcdef\n',
    );
    assert.equal(stored.split('\n').length, 2);
    assert.ok(!stored.includes('\x1b'), 'no raw ESC');
    const pair = formatKeyPairWritten({ privateKey: '/k/\u202ecp.key', publicKey: '/k/cp.key.pub' });
    assert.match(pair, /^wrote \/k\/\\u202ecp\.key \(private/);
  });
});
