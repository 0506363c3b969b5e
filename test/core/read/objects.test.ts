import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ObjectAssembler, type AssembledItem } from '../../../src/core/read/objects.js';
import { LineSplitter } from '../../../src/core/read/lines.js';
import { LOKI } from '../../helpers/cli.js';

/** Every item of `text` read with a limit of `max` bytes, objects as their text. */
function assemble(text: string | Buffer, max = 1024): Array<string | [number, string, string]> {
  const a = new ObjectAssembler(max);
  const splitter = new LineSplitter({ maxLineBytes: max });
  const items: AssembledItem[] = [];
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text);
  for (const raw of splitter.push(buf)) items.push(...a.push(raw));
  const last = splitter.end();
  if (last) items.push(...a.push(last));
  items.push(...a.end(last !== null && !last.terminated));
  return items.map((i) => (i.kind === 'object' ? i.bytes.toString('utf8') : [i.line, i.code, i.message]));
}

describe('ObjectAssembler (lenient multi-line JSON, the session audit)', () => {
  it("reads the fixture written by Loki Mode's run.sh: pretty objects (jq) and compact lines with raw tabs (echo)", () => {
    const file = readFileSync(join(LOKI, 'field/project-streams/.loki/logs/audit-20261201.jsonl'));
    const out = assemble(file);
    assert.equal(out.length, 6);
    assert.deepEqual(
      out.map((o) => JSON.parse(o as string).event),
      ['SESSION_START', 'BLOCKED_COMMAND', 'PR_CREATED', 'STAGED_AUTONOMY_WAIT', 'BLOCKED_COMMAND', 'SESSION_END'],
    );
    assert.equal(
      out[0],
      '{"timestamp":"2026-12-01T20:04:27Z","event":"SESSION_START",' +
        '"data":"prd=./prd.md,dashboard=true,staged_autonomy=false,parallel=false","user":"root","pid":21674}',
      'minified to one line',
    );
    // The raw tabs of the compact line are escaped; the value is the text with its tabs.
    assert.equal(JSON.parse(out[4] as string).data, 'command=echo a\tb,pattern=tab\there');
    assert.doesNotMatch(out[4] as string, /\t/);
    assert.equal(JSON.parse(out[3] as string).data, 'plan=.loki/plan "v2".md', 'escaped quotes kept');
  });

  it('braces and spaces inside strings are data; a raw newline inside a string is kept, escaped', () => {
    const out = assemble('{"data": "a { b } [ c",\n "x": 1}\n{"data":"line one\nline two","pid":2}\n');
    assert.deepEqual(
      out.map((o) => JSON.parse(o as string)),
      [
        { data: 'a { b } [ c', x: 1 },
        { data: 'line one\nline two', pid: 2 },
      ],
    );
    assert.deepEqual(assemble('{"c": "\u0001\u001f"}\n'), ['{"c":"\\u0001\\u001f"}']);
  });

  it('an object left open is reported at its first line, and the next object at column 0 is read', () => {
    const out = assemble('{\n  "event": "A",\n  "data": "torn\n{"event": "B"}\n\n  \n{\n  "event": "C"\n}\n');
    assert.deepEqual(out, [
      [1, 'malformed-json', 'object starting at line 1 is not closed before line 4 (a torn write?): skipped'],
      '{"event":"B"}',
      '{"event":"C"}',
    ]);
  });

  it('a line outside any object is reported; the end of the file inside an object too', () => {
    assert.deepEqual(assemble('garbage\n{"a": 1}\n{\n  "b": 2\n'), [
      [1, 'malformed-json', 'malformed JSON: the line is neither inside an object nor the start of one'],
      '{"a":1}',
      [3, 'malformed-json', 'object starting at line 3 is not closed at the end of the file: skipped'],
    ]);
    assert.deepEqual(assemble('{"a": 1}\n{"b": '), [
      '{"a":1}',
      [2, 'torn-last-line', 'object starting at line 2 is incomplete (a write in progress or torn): skipped'],
    ]);
  });

  it('a runaway unclosed brace is reported once at the limit and never held past it', () => {
    const max = 4096;
    const a = new ObjectAssembler(max);
    const splitter = new LineSplitter({ maxLineBytes: max });
    const items: AssembledItem[] = [];
    let most = 0;
    let lines = '{\n';
    for (let i = 0; i < 20_000; i++) lines += `  "k${i}": "${'v'.repeat(40)}",\n`;
    lines += '{"after": true}\n';
    for (const raw of splitter.push(Buffer.from(lines))) {
      items.push(...a.push(raw));
      most = Math.max(most, a.held);
    }
    items.push(...a.end(false));
    assert.ok(most <= max, `held at most the limit (${most} bytes)`);
    assert.equal(items.length, 2);
    assert.deepEqual(items[0].kind === 'problem' && [items[0].line, items[0].code, items[0].message], [
      1,
      'too-long',
      'object starting at line 1 is longer than the limit of 4096 bytes (--max-line-bytes) ' +
        'without closing (an unclosed brace?): skipped up to the next line starting with {',
    ]);
    assert.equal(items[1].kind === 'object' && items[1].bytes.toString(), '{"after":true}');
  });

  it('resumeAt is the first line of an object still open, else the line after the last one', () => {
    const a = new ObjectAssembler(1024);
    const splitter = new LineSplitter();
    const raws = splitter.push(Buffer.from('{"a": 1}\n{\n  "b": 2,\n'));
    a.push(raws[0]);
    assert.deepEqual(a.resumeAt, { offset: 9, line: 2 });
    a.push(raws[1]);
    a.push(raws[2]);
    assert.deepEqual([a.pending, a.resumeAt], [true, { offset: 9, line: 2 }]);
  });
});
