import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findingList, mergeOmitted, noteList, omittedFindings, omittedOf } from '../../../src/core/chain/bounded.js';
import type { Finding } from '../../../src/core/chain/report.js';

const finding = (cls: Finding['class'], line: number): Finding => ({
  file: 'f',
  line,
  offset: 0,
  class: cls,
  reason: 'hash-mismatch',
  message: 'm',
});

describe('bounded findings and notes', () => {
  it('keeps the first 20 of each class and counts the rest', () => {
    const f = findingList();
    for (let i = 0; i < 50; i++) f.push(finding('tampered', i));
    for (let i = 0; i < 3; i++) f.push(finding('unreadable', i));
    assert.equal(f.items.length, 23);
    assert.deepEqual(
      f.items.filter((x) => x.class === 'tampered').map((x) => x.line),
      Array.from({ length: 20 }, (_, i) => i),
    );
    const o = omittedOf(f, noteList());
    assert.deepEqual(o, { findings: { tampered: 30 }, notes: {} });
    assert.equal(omittedFindings(o), 30);
  });

  it('nothing omitted: undefined; merging sums per class and kind', () => {
    assert.equal(omittedOf(findingList(), noteList()), undefined);
    assert.deepEqual(
      mergeOmitted([
        { findings: { tampered: 2 }, notes: { resync: 1 } },
        undefined,
        { findings: { tampered: 3, fork: 1 }, notes: {} },
      ]),
      { findings: { tampered: 5, fork: 1 }, notes: { resync: 1 } },
    );
    assert.equal(mergeOmitted([undefined]), undefined);
  });
});
