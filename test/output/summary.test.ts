/** summary's table and piped lines: the chains' status, the splits, values from the log escaped. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Chalk } from 'chalk';
import { summarize, type Summary } from '../../src/core/query/summary.js';
import { formatSummaryPlain, formatSummaryTable } from '../../src/output/summary.js';
import { tempDir } from '../helpers/cli.js';

const plainChalk = new Chalk({ level: 0 });

/** A summary of two entries with both chains intact. */
const summary = (over: Partial<Summary> = {}): Summary => ({
  dir: '/x',
  streams: ['dashboard', 'js'],
  since: null,
  until: null,
  files: ['audit-2026-03-01.jsonl', 'audit.jsonl'],
  total: 2,
  success: 2,
  failure: 0,
  byLevel: { debug: 0, info: 2, warning: 0, error: 0 },
  byEvent: [{ key: 'task.create', count: 2 }],
  byActor: [{ key: 'alice', count: 2 }],
  byAction: [{ key: 'create', count: 2 }],
  byResourceType: [{ key: 'task', count: 2 }],
  distinctEvents: 1,
  distinctActors: 1,
  distinctActions: 1,
  distinctResourceTypes: 1,
  unreadableFiles: 0,
  verified: 2,
  unverified: { total: 0, noHash: 0, afterUnreadable: 0, doesNotChain: 0 },
  unchecked: 0,
  first: '2026-03-01T00:00:00+00:00',
  last: '2026-03-01T00:00:01+00:00',
  recentFailures: [],
  problemCount: 0,
  problems: [],
  chain: { verdict: 'intact', entriesVerified: 1, firstProblem: null, findings: 0 },
  jsChain: { verdict: 'intact', entriesVerified: 1, firstProblem: null, findings: 0 },
  ...over,
});

describe('summary output', () => {
  it("the table shows the JS AuditLog's chain after the dashboard chain's, and only when there is one", () => {
    const both = formatSummaryTable(summary(), plainChalk);
    assert.match(
      both,
      /^Chain: intact \(1 entries verified in the files covered\)\nJS AuditLog chain: intact \(1 entries verified in the whole file, which has no dates\)\n$/m,
    );
    const tampered = formatSummaryTable(
      summary({
        jsChain: {
          verdict: 'tampered',
          entriesVerified: 0,
          findings: 1,
          firstProblem: {
            file: 'audit.jsonl',
            line: 3,
            offset: -1,
            class: 'tampered',
            reason: 'hash-mismatch',
            message: 'x',
          },
        },
      }),
      plainChalk,
    );
    assert.match(tampered, /^JS AuditLog chain: TAMPERED at audit\.jsonl:3 \(hash-mismatch\); 1 problem\(s\)/m);
    assert.doesNotMatch(formatSummaryTable(summary({ jsChain: null }), plainChalk), /JS AuditLog/);
  });

  it('the agent and session audits have no chain: said, not "not checked"', () => {
    const agent = summary({ streams: ['agent'], chain: null, jsChain: null });
    assert.match(formatSummaryTable(agent, plainChalk), /^Chain: none: the agent audit carries no hash chain$/m);
    assert.match(formatSummaryPlain(agent), /\nchain\tnone\t-\t-\n$/);
    assert.match(formatSummaryPlain(summary({ chain: null, jsChain: null })), /\nchain\tnot-checked\t-\t-\n$/);
  });

  it("the table and the piped lines show Loki Mode's action and resource-type split, when there is one", () => {
    const table = formatSummaryTable(summary(), plainChalk);
    assert.match(table, /│ action +│ count │ +% │\n(?:.*\n)?│ create +│ +2 │ 100\.0 │/);
    assert.match(table, /│ resource type +│ count │ +% │\n(?:.*\n)?│ task +│ +2 │ 100\.0 │/);
    assert.match(formatSummaryPlain(summary()), /\nactor\talice\t2\naction\tcreate\t2\nresource-type\ttask\t2\n/);
    const none = summary({ byAction: [], byResourceType: [], distinctActions: 0, distinctResourceTypes: 0 });
    assert.doesNotMatch(formatSummaryTable(none, plainChalk), /action|resource type/);
    assert.doesNotMatch(formatSummaryPlain(none), /^(action|resource-type)\t/m);
  });

  it('piped: js-chain before chain, which stays the last line', () => {
    assert.match(formatSummaryPlain(summary()), /\njs-chain\tintact\t1\t-\nchain\tintact\t1\t-\n$/);
    assert.match(formatSummaryPlain(summary({ jsChain: null })), /\nfailure\t0\n(?:.*\n)*chain\tintact\t1\t-\n$/);
    assert.doesNotMatch(formatSummaryPlain(summary({ jsChain: null })), /js-chain/);
  });

  it('the table escapes a timestamp that Date.parse still reads (a comment in parentheses)', async () => {
    const t = tempDir();
    try {
      // V8's legacy date parser skips text in parentheses: this time counts as first and last.
      const entry = { timestamp: 'Feb 1 2026 (\u001b[2J\u202e)', action: 'read', resource_type: 'task', success: true };
      writeFileSync(join(t.dir, 'audit-2026-02-01.jsonl'), JSON.stringify(entry) + '\n');
      const s = await summarize(t.dir, { window: { since: null, until: null }, verifyChain: false });
      assert.equal(s.first, entry.timestamp);
      const out = formatSummaryTable(s, plainChalk);
      // eslint-disable-next-line no-control-regex
      assert.doesNotMatch(out, /[\u0000-\u0009\u000b-\u001f\u202e]/, out);
      assert.match(out, /first Feb 1 2026 \(\\x1b\[2J\\u202e\) {3}last Feb 1 2026 \(\\x1b\[2J\\u202e\)/);
    } finally {
      t.cleanup();
    }
  });
});
