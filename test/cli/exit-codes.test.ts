import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  Exit,
  EXIT_CODE_TABLE,
  exitCodesHelp,
  exitCodesMarkdown,
  FLEET_EXIT_SEVERITY,
  fleetExitCode,
  judgeVerify,
  VERDICT_EXIT,
} from '../../src/cli/exit-codes.js';
import { ROOT } from '../helpers/cli.js';

describe('exit codes: one table', () => {
  it('docs/exit-codes.md holds exactly the generated table (npm run docs:exit-codes)', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'exit-codes.md'), 'utf8');
    const a = doc.indexOf('-->', doc.indexOf('<!-- exit-codes:begin')) + 3;
    const b = doc.indexOf('<!-- exit-codes:end -->');
    assert.ok(a > 3 && b > a, 'markers present');
    assert.equal(doc.slice(a, b).trim(), exitCodesMarkdown().trim());
  });

  it('every name of Exit has its row with the same code, and the rows are in code order', () => {
    for (const [name, code] of Object.entries(Exit)) {
      const row = EXIT_CODE_TABLE.find((r) => r.name === name);
      assert.ok(row, `Exit.${name} has a row`);
      assert.equal(row.code, code, `Exit.${name}`);
    }
    assert.equal(EXIT_CODE_TABLE.length, Object.keys(Exit).length, 'no row without a name');
    const codes = EXIT_CODE_TABLE.map((r) => r.code);
    assert.deepEqual(
      codes,
      [...codes].sort((x, y) => x - y),
    );
    for (const code of Object.values(VERDICT_EXIT)) assert.ok(codes.includes(code), `verdict code ${code} documented`);
  });

  it("a command's --help lists its codes and only its codes", () => {
    const search = exitCodesHelp('search');
    assert.match(search, /1 nothing matched/);
    assert.doesNotMatch(search, /tampered|dead-letter/);
    assert.match(exitCodesHelp('forward'), /9 a target stayed unreachable/);
  });

  it('--strict turns anything not intact (or a strict note) into 1, and nothing else', () => {
    assert.equal(judgeVerify({ verdict: 'fork', strict: false, failsStrict: true }).exitCode, 5);
    assert.equal(judgeVerify({ verdict: 'fork', strict: true, failsStrict: true }).exitCode, 1);
    assert.equal(judgeVerify({ verdict: 'intact', strict: true, failsStrict: true }).exitCode, 1);
    const ok = judgeVerify({ verdict: 'intact', strict: true, failsStrict: false });
    assert.equal(ok.exitCode, 0);
    assert.equal(ok.ok, true);
  });

  it(
    'fleet verify exits with the most severe directory: ' +
      'tampered over everything, io over freshness and torn lines',
    () => {
      assert.equal(fleetExitCode([]), Exit.ok);
      assert.equal(fleetExitCode([Exit.ok, Exit.ok]), Exit.ok);
      assert.equal(fleetExitCode([Exit.io, Exit.incomplete, Exit.tampered, Exit.io]), Exit.tampered);
      assert.equal(fleetExitCode([Exit.incomplete, Exit.io]), Exit.io);
      assert.equal(fleetExitCode([Exit.fork, Exit.midChain, Exit.ok]), Exit.midChain);
      assert.equal(fleetExitCode([Exit.staleHead, Exit.anchorMismatch]), Exit.anchorMismatch);
      // Every verdict's code is ranked, each once.
      for (const code of Object.values(VERDICT_EXIT)) assert.ok(FLEET_EXIT_SEVERITY.includes(code), String(code));
      assert.equal(new Set(FLEET_EXIT_SEVERITY).size, FLEET_EXIT_SEVERITY.length);
    },
  );
});
