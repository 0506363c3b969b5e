import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertExit, LOKI, runCli } from '../helpers/cli.js';

// The parallel fast path only proves a chain intact: on a changed entry it gives up, saying why,
// and the sequential verifier diagnoses the break. LOKI_AUDIT_DEBUG=1 shows that reason.
const tampered = join(LOKI, 'writer', 'tampered-field');
const valid = join(LOKI, 'writer', 'valid');
const GAVE_UP = /^loki-audit: debug: verify fast path gave up: (.+)$/m;

describe('LOKI_AUDIT_DEBUG=1 (cli/debug.ts)', () => {
  it('shows why the verify fast path gave up on a changed entry', async () => {
    const r = assertExit(await runCli(['verify', '--dir', tampered], { env: { LOKI_AUDIT_DEBUG: '1' } }), 1);
    const reason = GAVE_UP.exec(r.stderr)?.[1];
    assert.ok(reason, `no debug line on stderr:\n${r.stderr}`);
    assert.match(reason, /\.jsonl/, `the reason names the file: ${reason}`);
    assert.match(r.stdout, /tampered|TAMPERED/i);
  });

  it('says nothing without it, nor when the fast path proves the chain intact', async () => {
    const off = assertExit(await runCli(['verify', '--dir', tampered]), 1);
    assert.doesNotMatch(off.stderr, /debug/, off.stderr);
    const intact = assertExit(await runCli(['verify', '--dir', valid], { env: { LOKI_AUDIT_DEBUG: '1' } }), 0);
    assert.doesNotMatch(intact.stderr, GAVE_UP, intact.stderr);
  });
});
