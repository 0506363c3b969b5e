import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineWarnings } from '../../src/output/warnings.js';

describe('LineWarnings', () => {
  it('shows the first 20, a running count at powers of ten, the total at the end', () => {
    const out: string[] = [];
    const w = new LineWarnings((l) => out.push(l));
    for (let i = 1; i <= 1234; i++) w.add({ file: 'audit-2026-01-01.jsonl', line: i, message: `bad ${i}` });
    w.finish();
    assert.equal(out.length, 20 + 2 + 1);
    assert.equal(out[0], 'warning: audit-2026-01-01.jsonl:1: bad 1');
    assert.equal(out[19], 'warning: audit-2026-01-01.jsonl:20: bad 20');
    assert.match(out[20], /^warning: 100 lines that are not entries so far \(latest audit-2026-01-01\.jsonl:100\)/);
    assert.match(out[21], /^warning: 1000 lines /);
    assert.equal(
      out[22],
      'warning: 1214 more line(s) that are not entries not shown ' +
        '(the first 20 were; the last at audit-2026-01-01.jsonl:1234)',
    );
    assert.equal(w.total, 1234);
  });

  it('says nothing more when all were shown; escapes what the log controls', () => {
    const out: string[] = [];
    const w = new LineWarnings((l) => out.push(l));
    w.add({ file: 'a\x1b]52;c;x\x07.jsonl', line: 1, message: 'bad \x1b[2J' });
    w.finish();
    assert.equal(out.length, 1);
    assert.ok(!out[0].includes('\x1b'), out[0]);
  });

  it('counts what was left out upstream', () => {
    const out: string[] = [];
    const w = new LineWarnings((l) => out.push(l));
    for (let i = 1; i <= 20; i++) w.add({ file: 'f', line: i, message: 'm' });
    w.countMore(80);
    w.finish();
    assert.equal(out[20], 'warning: 80 more line(s) that are not entries not shown (the first 20 were)');
  });
});
