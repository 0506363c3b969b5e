/** filterHints: a value that cannot match as written gets one line saying what to type instead. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { filterHints } from '../../src/cli/filter-flags.js';

describe('filterHints', () => {
  it('a JavaScript regex literal in --grep', () => {
    assert.deepEqual(filterHints({ grep: '/quota exceeded/i' }), [
      "--grep takes the expression without slashes and flags: -g 'quota exceeded' -i",
    ]);
    assert.deepEqual(filterHints({ grep: '/x/' }), ["--grep takes the expression without slashes and flags: -g 'x'"]);
  });
  it('regular-expression syntax in a glob flag', () => {
    assert.deepEqual(filterHints({ event: ['auth.(login|logout)'] }), [
      '--event takes globs (* and ?), not regular expressions: ' +
        '"auth.(login|logout)"; list alternatives with commas (a,b)',
    ]);
    assert.deepEqual(filterHints({ actor: ['token:.+'] }).length, 1);
  });
  it('doubled, swapped and LogQL operators in --field', () => {
    assert.deepEqual(filterHints({ field: ['details.status==500'] }), [
      "did you mean --field 'details.status=500'? (one =)",
    ]);
    assert.deepEqual(filterHints({ field: ['details.status=>500'] }), ["did you mean --field 'details.status>=500'?"]);
    assert.deepEqual(filterHints({ field: ['details.status=<500'] }), ["did you mean --field 'details.status<=500'?"]);
    assert.deepEqual(filterHints({ field: ['details.path=~/api/.*'] }), [
      "--field takes a glob, not a regular expression (LogQL =~): use --field 'details.path=GLOB' or --grep",
    ]);
  });
  it('capitals without -i; nothing for values that are fine as written', () => {
    assert.deepEqual(filterHints({ event: ['Auth.login'] }), ['case counts: add -i (--ignore-case) to ignore it']);
    assert.deepEqual(filterHints({ event: ['Auth.login'], 'ignore-case': true }), []);
    assert.deepEqual(
      filterHints({
        event: ['auth.*', 'api.request'],
        actor: ['token:*'],
        grep: 'quota',
        field: ['details.status>=500'],
      }),
      [],
    );
  });
});
