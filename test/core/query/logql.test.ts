/**
 * filterToLogQL: the query of every filter flag parses as LogQL (the receiver's parser, written
 * to Loki's grammar) and, run on each entry with the labels `forward` gives it (the real push
 * client's streams), never drops an entry the local filter matches (it may keep more: the local
 * filter runs again on what Loki returns); and it does drop entries, or it would save nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { filterSpecFromFlags, type FilterFlagValues } from '../../../src/cli/filter-flags.js';
import { compileFilter, FilterError } from '../../../src/core/query/filters.js';
import { DEFAULT_LOKI_SELECTOR, filterToLogQL, logqlString } from '../../../src/core/query/logql.js';
import type { ReadEntry } from '../../../src/core/read/entries.js';
import { LokiPushClient } from '../../../src/sinks/loki/client.js';
import { sampleEntries } from '../../helpers/entries.js';
import { hostileDay, readEntryOf } from '../../helpers/hostile.js';
import { parseLogQL, runPipeline, selects } from '../../helpers/logql.js';
import { tempDir } from '../../helpers/cli.js';

const NOW = new Date('2026-02-03T00:00:00Z');

/** Flag values, as search parses them, for every filter flag and some combinations. */
const CASES: FilterFlagValues[] = [
  { event: ['auth.login'] },
  { event: ['auth.*', 'token.*'] },
  { event: ['*.delete'] },
  { event: ['zzz_custom.deploy'] },
  { event: ['a.b.c'] },
  { level: 'warning' },
  { level: '=info' },
  { level: 'debug..info' },
  { actor: ['alice'] },
  { actor: ['token:*'] },
  { outcome: 'failure' },
  { outcome: 'success' },
  { action: ['login'] },
  { 'resource-type': ['api'] },
  { user: ['alice'] },
  { user: ['ops@*', 'ci-bot'] },
  { field: ['details.path=/api/v1/projects/*'] },
  { field: ['details.status>=500'] },
  { field: ['details.status<300'] },
  { field: ['details.source!=api'] },
  { field: ['details.tags=*admin*'] },
  { field: ['details.path=null'] },
  { field: ['details.note=a*quota'] },
  { field: ['details.status={"code":500}'] },
  { field: ['details.nested=*[1,2.5*'] },
  { field: ['details.status>=500', 'details.path=/api/*'] },
  { grep: 'quota exceeded' },
  { grep: 'time(out|d) after \\d+s' },
  { grep: '\\\\u001b' },
  { grep: '(?<=: ")alice' },
  { 'ignore-case': true, user: ['ALICE'] },
  { 'ignore-case': true, grep: 'permission denied' },
  { event: ['auth.*'], outcome: 'failure' },
  { level: 'error', field: ['details.status>=500'] },
  { level: '=info', outcome: 'failure' },
];

describe('filterToLogQL', () => {
  let t: { dir: string; cleanup: () => void };
  let entries: Array<{ e: ReadEntry; labels: Record<string, string> }>;

  before(async () => {
    t = tempDir();
    const sample = await sampleEntries(t.dir, {
      seed: 5,
      startDate: '2026-01-30',
      perDay: [120, 120],
      trickyShare: 0.3,
    });
    const hostile = hostileDay('2026-02-01').map((l, i) => readEntryOf(l, 'audit-2026-02-01.jsonl', i + 1));
    const client = new LokiPushClient({ url: 'http://127.0.0.1:9/', auth: { kind: 'none' } });
    entries = [...sample, ...hostile].map((e) => {
      const enc = client.encode(e, e.view.time);
      assert.ok(enc.ok, JSON.stringify(enc));
      return { e, labels: enc.stream.labels };
    });
  });
  after(() => t.cleanup());

  it('never drops an entry the local filter matches, and drops some', () => {
    let dropped = 0;
    for (const flags of CASES) {
      const spec = filterSpecFromFlags(flags, NOW, {});
      const filter = compileFilter(spec);
      const query = filterToLogQL(spec);
      const q = parseLogQL(query);
      let matched = 0;
      for (const { e, labels } of entries) {
        const local = filter.matches(e.view, e.record, e.text);
        const kept = selects(q, labels) && runPipeline(q, labels, e.text) !== null;
        if (local) {
          matched++;
          assert.ok(kept, `${JSON.stringify(flags)}: ${query} drops ${e.file}:${e.line} ${e.text}`);
        } else if (!kept) dropped++;
      }
      assert.ok(
        matched > 0 || (flags.level === '=info' && flags.outcome === 'failure'),
        `${JSON.stringify(flags)} matches nothing: a weak case`,
      );
    }
    assert.ok(dropped > entries.length * 5, `only ${dropped} entries dropped by Loki over all cases`);
  });

  it('the hostile entries that hide from a plain query are kept', () => {
    const keep = (flags: FilterFlagValues, needle: string) => {
      const q = parseLogQL(filterToLogQL(filterSpecFromFlags(flags, NOW, {})));
      const hit = entries.find(({ e }) => e.text.includes(needle))!;
      assert.ok(hit, needle);
      assert.ok(selects(q, hit.labels) && runPipeline(q, hit.labels, hit.e.text), `${needle} dropped`);
    };
    keep({ user: ['alice'] }, '\\u0061lice'); // escaped ASCII
    keep({ field: ['details.status>=500'] }, 'NaN'); // a line Loki's json cannot parse
    keep({ field: ['details.tags=*admin*'] }, '"tags"'); // an array
    keep({ field: ['details.path=null'] }, '"path": null'); // null
    keep({ field: ['details.status={"code":500}'] }, '"code": 500'); // an object, spaced
    keep({ field: ['details.note=a*quota'] }, 'a\\nb quota'); // a newline in the value
    keep({ field: ['details.nested=*[1,2.5*'] }, '[1, 2.5'); // compacted here, spaced in the line
  });

  it('labels: level with outcome, event family with other, host globs, a selector of ones own', () => {
    const q = (flags: FilterFlagValues, o = {}) => filterToLogQL(filterSpecFromFlags(flags, NOW, {}), o);
    assert.equal(q({}), DEFAULT_LOKI_SELECTOR);
    assert.equal(q({ level: 'warning' }), '{service_name="loki-audit", level=~"warning|error"}');
    assert.equal(q({ outcome: 'failure' }), '{service_name="loki-audit", level="error"}');
    assert.equal(q({ outcome: 'success', level: 'info' }), '{service_name="loki-audit", level=~"info|warning"}');
    assert.equal(q({ level: '=info', outcome: 'failure' }), '{service_name="loki-audit", level=""}');
    assert.equal(
      q({ event: ['auth.login', 'token.*'] }),
      '{service_name="loki-audit", event_family=~"auth|token|other"} |~ "login|token|\\\\\\\\u00[2-7][0-9a-fA-F]"',
    );
    // A family that is a glob: no family matcher; with -i neither matcher nor line filter.
    assert.equal(q({ event: ['*.delete'] }), '{service_name="loki-audit"} |~ "delete|\\\\\\\\u00[2-7][0-9a-fA-F]"');
    assert.equal(q({ event: ['auth.login'], 'ignore-case': true }), DEFAULT_LOKI_SELECTOR);
    assert.equal(q({}, { hosts: ['web-1'] }), '{service_name="loki-audit", host="web-1"}');
    assert.equal(q({}, { hosts: ['web-*', 'db.1'] }), '{service_name="loki-audit", host=~"web-.*|db\\\\.1"}');
    assert.equal(
      q({ level: 'error' }, { selector: ' {job="audit", env="prod"} ' }),
      '{job="audit", env="prod", level="error"}',
    );
    assert.equal(q({ level: 'error' }, { selector: '{}' }), '{level="error"}');
    assert.throws(() => q({}, { selector: 'job="audit"' }), FilterError);
    // A --grep outside the syntax both engines share stays local.
    assert.equal(q({ grep: '(?<=a)b' }), DEFAULT_LOKI_SELECTOR);
    assert.equal(q({ grep: 'a\\sb' }), DEFAULT_LOKI_SELECTOR);
    assert.equal(q({ grep: 'ab+c' }), '{service_name="loki-audit"} |~ "ab+c"');
  });

  it('strings: quotes, backslashes and controls escaped as Go reads them', () => {
    assert.equal(logqlString('a"b\\c\nd\te\u0001\u007f'), '"a\\"b\\\\c\\nd\\te\\x01\\x7f"');
    const q = parseLogQL(`{a="x"} |= ${logqlString('a"b\\c\nd\u0001é')}`);
    assert.deepEqual(q.stages[0], { kind: 'line', op: '|=', value: 'a"b\\c\nd\u0001é', re: undefined });
  });
});
