import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOKI } from '../../helpers/cli.js';
import { toView } from '../../../src/core/read/view.js';
import { compileFilter, globToRegExp, parseLevelSpec } from '../../../src/core/query/filters.js';

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

  it('prefilterBytes then prefilterRest decide exactly as prefilter (the text test), on real and crafted lines', () => {
    const lines = readFileSync(join(LOKI, 'extended/valid/writer/audit-2026-02-01.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean);
    lines.push(
      '{"action": "\\u006cogin", "resource_type": "auth"}',
      '{"action": "login", "resource_type": "j\u00fcrgen auth"}',
      '{"action": "logout", "x": "quota exceeded"}',
    );
    const specs = [
      { events: ['auth.login'] },
      { events: ['api.*'], grep: 'quota|j.rgen' },
      { grep: 'exceeded' },
      { users: ['bob'], actions: ['st*'] },
      {},
    ];
    let passed = 0;
    for (const spec of specs) {
      const f = compileFilter(spec);
      for (const text of lines) {
        const twoStep = f.prefilterBytes(Buffer.from(text)) && f.prefilterRest(text);
        assert.equal(twoStep, f.prefilter(text), `${JSON.stringify(spec)} on ${text}`);
        if (twoStep) passed++;
      }
    }
    assert.ok(passed > 10 && passed < lines.length * specs.length, 'some lines pass, some do not');
  });

  it('exclude_events removes matches', () => {
    const f = compileFilter({ excludeEvents: ['api.*'] });
    const rec = { action: 'request', resource_type: 'api' };
    assert.equal(f.matches(toView(rec), rec, line(rec)), false);
  });
});
