/** tail's diagnostics on stderr: a chain break's stored hash comes from the log and is escaped. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { writeLiveTailEvent } from '../../src/output/tail.js';
import { LineWarnings } from '../../src/output/warnings.js';

/** What `fn` writes to process.stderr. */
function stderrOf(fn: () => void): string {
  const chunks: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((c: string | Uint8Array) => {
    chunks.push(String(c));
    return true;
  }) as typeof process.stderr.write;
  try {
    fn();
  } finally {
    process.stderr.write = write;
  }
  return chunks.join('');
}

describe('tail diagnostics', () => {
  it('a CHAIN BREAK line shows a hostile stored hash as escapes', () => {
    const out = stderrOf(() =>
      writeLiveTailEvent(
        {
          kind: 'chain-break',
          file: 'audit-2026-02-01.jsonl',
          line: 5,
          check: { ok: false, reason: 'hash-mismatch', expected: 'a'.repeat(64), stored: '\u001b[2J\u202e\u{e0041}' },
        },
        new LineWarnings(),
      ),
    );
    assert.equal(
      out,
      `loki-audit: CHAIN BREAK at audit-2026-02-01.jsonl:5: hash-mismatch ` +
        `(expected ${'a'.repeat(64)}, stored \\x1b[2J\\u202e\\u{e0041})\n`,
    );
  });

  it('a warning escapes the file name and the message', () => {
    const lines: string[] = [];
    const problem = {
      kind: 'problem' as const,
      file: 'audit-\u001b[31m.jsonl',
      line: 2,
      offset: 0,
      code: 'malformed-json' as const,
      message: 'bad\nline',
    };
    const out = stderrOf(() =>
      writeLiveTailEvent({ kind: 'problem', problem }, new LineWarnings((l) => lines.push(l))),
    );
    assert.equal(out, '');
    assert.deepEqual(lines, ['warning: audit-\\x1b[31m.jsonl:2: bad\\nline']);
  });
});
