/**
 * verify's human report prints values that come from the log (a stored hash, the name of a
 * file in the directory) escaped, like every other log value.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Chalk } from 'chalk';
import { judgeVerify } from '../../src/cli/exit-codes.js';
import { verifyDirectory } from '../../src/core/chain/directory.js';
import { formatVerifyReport } from '../../src/output/verify.js';
import { tempDir } from '../helpers/cli.js';

/** A hash field holding a screen clear, a window-title escape and a bidi override. */
const HOSTILE_HASH = '\u001b[2J\u001b]0;pwned\u0007\u202eabc';

/** A directory with one entry whose stored hash is {@link HOSTILE_HASH}, and a file named with an escape. */
function hostileDir(dir: string): void {
  const entry = {
    timestamp: '2026-02-01T00:00:00+00:00',
    action: 'login',
    resource_type: 'auth',
    user_id: 'u',
    success: true,
    details: {},
    _integrity_hash: HOSTILE_HASH,
  };
  writeFileSync(join(dir, 'audit-2026-02-01.jsonl'), JSON.stringify(entry) + '\n');
  writeFileSync(join(dir, 'audit-\u001b[31mred\u202e.jsonl'), '');
}

describe('verify report', () => {
  it('escapes a stored hash, the chain head and a foreign file name from the directory', async () => {
    const t = tempDir();
    try {
      hostileDir(t.dir);
      const report = judgeVerify(await verifyDirectory(t.dir, {}));
      for (const quiet of [false, true]) {
        const out = formatVerifyReport(report, new Chalk({ level: 0 }), { quiet });
        // eslint-disable-next-line no-control-regex
        assert.doesNotMatch(out, /[\u0000-\u0009\u000b-\u001f\u007f\u2028\u202e]/, out);
        assert.match(out, /stored {3}\\x1b\[2J\\x1b\]0;pwned\\x07\\u202eabc\n/);
        if (!quiet) {
          assert.match(out, /note: .*audit-\\x1b\[31mred\\u202e\.jsonl/);
          assert.match(out, /chain head \\x1b\[2J\\x1b\]0;pwne… at audit-2026-02-01\.jsonl:1/);
        }
      }
    } finally {
      t.cleanup();
    }
  });
});
