import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toView } from '../../src/core/entry.js';
import { compileFilter, globToRegExp, parseLevelSpec } from '../../src/core/filters.js';

const line = (o: Record<string, unknown>) => JSON.stringify(o);

describe('filters', () => {
  it('globs, levels and ranges', () => {
    assert.ok(globToRegExp('auth.*').test('auth.login'));
    assert.ok(!globToRegExp('auth.*').test('xauth.login'));
    assert.deepEqual(parseLevelSpec('warning'), ['warning', 'error']);
    assert.deepEqual(parseLevelSpec('info..warning'), ['info', 'warning']);
    assert.deepEqual(parseLevelSpec('=debug'), ['debug']);
    assert.throws(() => parseLevelSpec('loud'));
  });

  it('the raw prefilters never reject a line that matches, even with escaped ASCII', () => {
    const f = compileFilter({ events: ['auth.login'] });
    const plain = '{"action": "login", "resource_type": "auth"}';
    const escaped = '{"action": "\\u006cogin", "resource_type": "auth"}';
    for (const text of [plain, escaped]) {
      const rec = JSON.parse(text);
      assert.ok(f.matches(toView(rec), rec, text), text);
      assert.ok(f.prefilter(text), text);
      assert.ok(f.prefilterBytes(Buffer.from(text)), text);
    }
    const other = line({ action: 'logout', resource_type: 'auth' });
    assert.equal(f.prefilterBytes(Buffer.from(other)), false);
    assert.equal(f.prefilter(other), false);
  });

  it('exclude_events removes matches', () => {
    const f = compileFilter({ excludeEvents: ['api.*'] });
    const rec = { action: 'request', resource_type: 'api' };
    assert.equal(f.matches(toView(rec), rec, line(rec)), false);
  });
});
