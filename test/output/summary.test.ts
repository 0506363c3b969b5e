/** summary's table (a terminal) prints values from the log escaped, the first and last times included. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Chalk } from 'chalk';
import { summarize } from '../../src/core/query/summary.js';
import { formatSummaryTable } from '../../src/output/summary.js';
import { tempDir } from '../helpers/cli.js';

describe('summary table', () => {
  it('escapes a timestamp that Date.parse still reads (a comment in parentheses)', async () => {
    const t = tempDir();
    try {
      // V8's legacy date parser skips text in parentheses: this time counts as first and last.
      const entry = { timestamp: 'Feb 1 2026 (\u001b[2J\u202e)', action: 'read', resource_type: 'task', success: true };
      writeFileSync(join(t.dir, 'audit-2026-02-01.jsonl'), JSON.stringify(entry) + '\n');
      const s = await summarize(t.dir, { window: { since: null, until: null }, verifyChain: false });
      assert.equal(s.first, entry.timestamp);
      const out = formatSummaryTable(s, new Chalk({ level: 0 }));
      // eslint-disable-next-line no-control-regex
      assert.doesNotMatch(out, /[\u0000-\u0009\u000b-\u001f\u202e]/, out);
      assert.match(out, /first Feb 1 2026 \(\\x1b\[2J\\u202e\) {3}last Feb 1 2026 \(\\x1b\[2J\\u202e\)/);
    } finally {
      t.cleanup();
    }
  });
});
