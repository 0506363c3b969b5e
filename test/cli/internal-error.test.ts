/**
 * A defect (an error no input should cause) ends with exit 70, one error line and a hint, never
 * exit 1: cron reads 1 as "tampered" (src/cli/exit-codes.ts `internal`).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Errors } from '@oclif/core';
import { LokiCommand } from '../../src/cli/base-command.js';
import { Exit } from '../../src/cli/exit-codes.js';
import { ROOT } from '../helpers/cli.js';

class Defect extends LokiCommand {
  static override id = 'defect';
  async run(): Promise<void> {
    // The kind of error a defect throws: a property of undefined, not an input error.
    const missing = undefined as unknown as { head: string };
    process.stdout.write(missing.head);
  }
}

class Bad extends LokiCommand {
  static override id = 'bad';
  async run(): Promise<void> {
    this.fail('a usage error the command raised itself', Exit.usage);
  }
}

/** Runs `command` in this process; its exit error, stderr and exit code. */
async function runCaught(
  command: typeof Defect | typeof Bad,
): Promise<{ err: unknown; stderr: string; code: number | undefined }> {
  const write = process.stderr.write.bind(process.stderr);
  let stderr = '';
  process.stderr.write = ((chunk: string | Uint8Array) => (
    (stderr += String(chunk)),
    true
  )) as typeof process.stderr.write;
  const before = process.exitCode;
  try {
    await command.run([], ROOT);
    return { err: undefined, stderr, code: Number(process.exitCode) };
  } catch (err) {
    return { err, stderr, code: Number(process.exitCode) };
  } finally {
    process.stderr.write = write;
    process.exitCode = before;
  }
}

describe('a defect is not a verdict', () => {
  it('a TypeError inside a command: exit 70, one error line naming it, a hint to report it', async () => {
    const r = await runCaught(Defect);
    assert.ok(r.err instanceof Errors.ExitError, String(r.err));
    assert.equal(r.err.oclif.exit, 70);
    assert.equal(r.code, 70);
    assert.match(r.stderr, /^loki-audit: error: internal error: TypeError: Cannot read properties of undefined/);
    assert.match(r.stderr, /\nloki-audit: hint: this is a defect in loki-audit: please report it/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack without LOKI_AUDIT_DEBUG=1');
  });

  it('with LOKI_AUDIT_DEBUG=1 the stack comes too', async () => {
    process.env.LOKI_AUDIT_DEBUG = '1';
    try {
      const r = await runCaught(Defect);
      assert.equal(r.code, 70);
      assert.match(r.stderr, /^TypeError: Cannot read[^\n]*\n\s+at Defect\.run/);
    } finally {
      delete process.env.LOKI_AUDIT_DEBUG;
    }
  });

  it("the command's own errors keep their code: usage stays 2", async () => {
    const r = await runCaught(Bad);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.split('\n')[0], 'loki-audit: error: a usage error the command raised itself');
  });
});
