/**
 * What a walk has found (walk-log.ts WalkLog): a finding makes its file's verdict whether it is
 * kept or counted, the verdict is the worst of all, and the last line of a file with a finding
 * is remembered.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FileReport, Finding } from '../../../../src/core/chain/report.js';
import { WalkLog } from '../../../../src/core/chain/sequential/walk-log.js';

const report = (file: string): FileReport => ({
  file,
  path: `/x/${file}`,
  schema: 'writer',
  lines: 0,
  entriesVerified: 0,
  preIntegrityEntries: 0,
  verdict: 'intact',
  lastHash: null,
  bytes: 0,
  completeBytes: 0,
  lastEntryOffset: null,
  lastEntrySha256: null,
});
const finding = (file: string, line: number, cls: Finding['class']): Finding => ({
  file,
  line,
  offset: line * 10,
  class: cls,
  reason: cls === 'incomplete' ? 'torn-last-line' : 'malformed-json',
  message: 'x',
});

describe('WalkLog', () => {
  it('intact with no findings; a finding makes its own file and the walk worse, not the other files', () => {
    const log = new WalkLog();
    const a = report('a.jsonl');
    const b = report('b.jsonl');
    log.addFile(a);
    log.addFile(b);
    assert.equal(log.result().verdict, 'intact');
    log.finding(finding('b.jsonl', 3, 'incomplete'));
    assert.deepEqual([a.verdict, b.verdict, log.result().verdict], ['intact', 'incomplete', 'incomplete']);
    log.finding(finding('b.jsonl', 2, 'tampered'));
    assert.deepEqual([b.verdict, log.result().verdict], ['tampered', 'tampered']);
    assert.equal(log.lastFindingLine('b.jsonl'), 3, 'the last line, not the last reported');
    assert.equal(log.lastFindingLine('a.jsonl'), undefined);
    assert.deepEqual(log.reports, [a, b]);
  });

  it('findings beyond the kept ones still make the verdict of their file, and are counted as omitted', () => {
    const log = new WalkLog();
    const a = report('a.jsonl');
    const b = report('b.jsonl');
    log.addFile(a);
    log.addFile(b);
    for (let i = 1; i <= 5000; i++) log.finding(finding('a.jsonl', i, 'incomplete'));
    log.finding(finding('b.jsonl', 1, 'incomplete'));
    const r = log.result();
    assert.ok(r.findings.length < 5001, `kept ${r.findings.length}`);
    assert.ok(r.omitted, 'the rest is counted');
    assert.ok(!r.findings.some((f) => f.file === 'b.jsonl'), "b's finding is one of those not kept");
    assert.equal(b.verdict, 'incomplete', 'a finding not kept still makes its file incomplete');
    assert.equal(r.verdict, 'incomplete');
  });
});
