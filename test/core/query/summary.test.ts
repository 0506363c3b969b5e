import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { generateSample } from '../../../scripts/sample.js';
import { summarize } from '../../../src/core/query/summary.js';

const all = { since: null, until: null };

describe('summarize', () => {
  const dir = mkdtempSync(join(tmpdir(), 'loki-audit-summary-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('counts verified entries from the chain check run beside the counts, intact or not', async () => {
    const { files } = generateSample(dir, { seed: 5, perDay: [300, 300], startDate: '2026-03-01' });
    const intact = await summarize(dir, { window: all });
    assert.equal(intact.chain?.verdict, 'intact');
    assert.equal(intact.total, 600);
    assert.equal(intact.verified, 600);
    assert.equal(intact.unchecked, 0);
    assert.equal(intact.unverified.total, 0);
    const unchecked = await summarize(dir, { window: all, verifyChain: false });
    assert.equal(unchecked.verified, 0);
    assert.equal(unchecked.unchecked, 600);
    const rest = (s: typeof intact) => ({ ...s, verified: 0, unchecked: 0, chain: null });
    assert.deepEqual(rest(unchecked), rest(intact), 'the same counts otherwise');

    // An edited entry: the check finds the chain broken, and the counts judge each entry.
    const path = join(dir, files[1]);
    const lines = readFileSync(path, 'utf8').split('\n');
    const edit = lines[10].replace('"seq": ', '"seq": 9');
    assert.notEqual(edit, lines[10]);
    lines[10] = edit;
    writeFileSync(path, lines.join('\n'));
    const edited = await summarize(dir, { window: all });
    assert.notEqual(edited.chain?.verdict, 'intact');
    assert.equal(edited.total, 600);
    assert.ok(edited.unverified.doesNotChain >= 1, JSON.stringify(edited.unverified));
    assert.equal(edited.verified + edited.unverified.total, 600);
  });
});
