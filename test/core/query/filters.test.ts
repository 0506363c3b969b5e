import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOKI } from '../../helpers/cli.js';
import { toView } from '../../../src/core/read/view.js';
import { DEFAULT_MAX_LINE_BYTES, LineSplitter } from '../../../src/core/read/lines.js';
import { parseLine } from '../../../src/core/read/entries.js';
import {
  compileFilter,
  globToRegExp,
  parseFieldSpec,
  parseLevelSpec,
  type FilterSpec,
} from '../../../src/core/query/filters.js';

const line = (o: Record<string, unknown>) => JSON.stringify(o);
/** What the full test says of a record (its view and JSON text made here). */
const matches = (spec: FilterSpec, rec: Record<string, unknown>) =>
  compileFilter(spec).matches(toView(rec), rec, line(rec));

describe('filters', () => {
  it('globs, levels and ranges', () => {
    assert.ok(globToRegExp('auth.*').test('auth.login'));
    assert.ok(!globToRegExp('auth.*').test('xauth.login'));
    assert.deepEqual(parseLevelSpec('warning'), ['warning', 'error']);
    assert.deepEqual(parseLevelSpec('info..warning'), ['info', 'warning']);
    assert.deepEqual(parseLevelSpec('=debug'), ['debug']);
    assert.throws(() => parseLevelSpec('loud'));
  });

  it('a pattern without * or ? is the whole value, its other characters literal (alone or beside globs)', () => {
    const rec = (user_id: string) => ({ timestamp: '2026-10-01T00:00:00Z', action: 'read', user_id });
    for (const users of [['a.b'], ['a.b', 'zz*'], ['zz*', 'a.b']]) {
      const bytes = new LineSplitter();
      for (const [user, want] of [
        ['a.b', true],
        ['axb', false],
        ['a.bc', false],
        ['xa.b', false],
        ['zzz', users.length === 2],
      ] as const) {
        assert.equal(matches({ users }, rec(user)), want, `${JSON.stringify(users)} ${user}`);
        const [raw] = bytes.push(
          Buffer.from(JSON.stringify(rec(user)).replaceAll('":', '": ').replaceAll(',"', ', "') + '\n'),
        );
        assert.equal(compileFilter({ users }).matchesBytes(raw.bytes), want, `bytes: ${JSON.stringify(users)} ${user}`);
      }
    }
    for (const [p, yes, no] of [
      ['x+y', 'x+y', 'xxy'],
      ['(ab)', '(ab)', 'ab'],
      ['^a$', '^a$', 'a'],
      ['a|b', 'a|b', 'a'],
    ])
      assert.deepEqual([matches({ actors: [p] }, rec(yes)), matches({ actors: [p] }, rec(no))], [true, false], p);
    assert.ok(matches({ users: ['A.B'], ignoreCase: true }, rec('a.b')), '-i still ignores case');
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
    const otherRec = { action: 'logout', resource_type: 'auth' };
    const other = line(otherRec);
    assert.equal(f.prefilterBytes(Buffer.from(other)), false);
    assert.equal(f.prefilter(other), false);
    assert.equal(f.matches(toView(otherRec), otherRec, other), false, 'the full test rejects it too');
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

  it('every flag with a literal has needles that find each matching line, however its JSON writer spelled it', () => {
    // One record, written as CPython's json.dumps (ensure_ascii), as raw UTF-8, with uppercase
    // \\u escapes, with `\\/` (PHP), and with an escaped printable ASCII letter.
    const rec = {
      timestamp: '2026-02-01T10:00:00+00:00',
      action: 'kill',
      resource_type: 'agent',
      user_id: 'j\u00fcrgen',
      token_id: 't0k3n',
      ip_address: '10.1.2.17',
      ip6: 'fe80::1',
      success: false,
      details: { path: '/api/v1/tasks/29', status: 500, tags: ['alpha', 'beta'], note: 'x, y: {z}' },
    };
    const py = (s: string) =>
      s.replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
    const dumped = JSON.stringify(rec).replace(/":/g, '": ').replace(/,"/g, ', "');
    const forms = [
      py(dumped),
      dumped,
      py(dumped).replace(/\\u00fc/g, '\\u00FC'),
      py(dumped).replaceAll('/', '\\/'),
      py(dumped)
        .replace('"kill"', '"\\u006bill"')
        .replace('10.1.2.17', '\\u0031\\u0030.1.2.17')
        .replace('fe80::1', '\\u0066e80\\u003a:1'),
    ];
    const other = JSON.stringify({
      timestamp: '2026-02-01T10:00:01+00:00',
      action: 'stop',
      resource_type: 'task',
      user_id: 'alice',
      token_id: null,
      ip_address: '::1',
      success: true,
      details: { path: '/api/v1/projects/3', status: 200, tags: [] },
    });
    const specs: FilterSpec[] = [
      { users: ['j\u00fcrgen'] },
      { actors: ['j\u00fcr*'] },
      { actions: ['kill'] },
      { fields: [parseFieldSpec('ip_address=10.1.2.17')] },
      { fields: [parseFieldSpec('details.path=/api/v1/tasks/29')] },
      { fields: [parseFieldSpec('details.tags=["alpha","beta"]')] },
      { fields: [parseFieldSpec('details.status=500')] },
      { grep: 'j\u00fcrgen|kill' },
      { grep: 'api/v1/tasks/2' },
      { users: ['j\u00fcrgen'], actions: ['kill'], resourceTypes: ['agent'] },
      // A plain value that only a string can be is one literal, colons, commas and all.
      { fields: [parseFieldSpec('ip6=fe80::1')] },
      { fields: [parseFieldSpec('details.note=x, y: {z}')] },
      { users: ['j\u00fcrgen'], fields: [parseFieldSpec('ip6=fe80::1')] },
    ];
    let rejected = 0;
    for (const spec of specs) {
      const f = compileFilter(spec);
      const label = JSON.stringify(spec);
      if (!spec.grep?.includes('|')) assert.ok(f.needles, `${label} has needles`);
      for (const text of forms) {
        const parsed = JSON.parse(text);
        // The grep expression sees the line as written: only the forms it matches.
        if (!f.matches(toView(parsed), parsed, text)) {
          assert.ok(spec.grep || spec.fields, `${label} matches ${text}`);
          continue;
        }
        assert.ok(f.prefilterBytes(Buffer.from(text)) && f.prefilter(text), `${label}: the prefilters pass ${text}`);
        if (f.needles) {
          const s = new LineSplitter({});
          const out = s.pushSelected(Buffer.from(`${other}\n${text}\n${other}\n`), f.needles);
          assert.deepEqual(
            out.map((l) => l.bytes.toString()),
            [text],
            `${label}: the needle search hands out ${text}`,
          );
        }
      }
      if (!f.prefilterBytes(Buffer.from(other))) rejected++;
    }
    assert.ok(rejected >= 8, `the line that does not match is rejected unparsed (${rejected} of ${specs.length})`);
    // Whole: searched as one needle, and tested beside another flag's before the byte path.
    const needleTexts = (spec: FilterSpec) => compileFilter(spec).needles?.map((n) => n.map((x) => x.bytes.toString()));
    assert.deepEqual(needleTexts({ fields: [parseFieldSpec('ip6=fe80::1')] }), [['fe80::1', '\\u00']]);
    assert.deepEqual(needleTexts({ users: ['x, y: {z}'] }), [['x, y: {z}', '\\u00']]);
    // Patterns a non-string value may match are cut where its compact text differs from the line.
    assert.deepEqual(needleTexts({ fields: [parseFieldSpec('details.n={"abc":1}')] }), [['abc', '\\u00']]);
    assert.equal(needleTexts({ fields: [parseFieldSpec('details.n=12:00*')] }), undefined);
    // Python's NaN is a value too: [NaN,1] is an array's compact text, [NaN, 1] in the line.
    const nan = compileFilter({ fields: [parseFieldSpec('details.vals=[NaN,1]')] });
    const nanLine = '{"timestamp": "2026-02-01T10:00:02+00:00", "details": {"vals": [NaN, 1]}}';
    assert.ok(nan.prefilterBytes(Buffer.from(nanLine)), 'the prefilter passes [NaN, 1]');
    const found = new LineSplitter({}).pushSelected(Buffer.from(`${other}\n${nanLine}\n`), nan.needles!);
    assert.deepEqual(
      found.map((l) => l.line),
      [2],
      'the needle search finds [NaN, 1]',
    );
    assert.equal(compileFilter({ users: ['bob'], fields: [parseFieldSpec('ip_address=::1')] }).prefilterNarrows, true);
    // An AND: the other flag's literal is tested before the byte path reads the line.
    const and = compileFilter({ users: ['bob'], actions: ['kill'] });
    assert.equal(and.prefilterNarrows, true, 'an AND of two literals');
    assert.equal(compileFilter({ users: ['bob'] }).prefilterNarrows, false);
    const bobStops = other.replace('alice', 'bob');
    assert.equal(and.prefilterBytes(Buffer.from(bobStops)), false);
    // kill spelled with an escaped letter, its hex in either case: the text test decides.
    for (const k of ['\\u006bill', '\\u006Bill'])
      assert.equal(and.prefilterBytes(Buffer.from(bobStops.replace('"stop"', `"${k}"`))), true, k);
    assert.equal(and.prefilterBytes(Buffer.from(bobStops.replace('"stop"', '"\\u00fcill"'))), false, 'ü hides no k');
  });

  it('lines other writers spell otherwise are found: partial escapes, non-string events and actors', () => {
    // Each: a line (as some JSON writer wrote it) and a spec it matches on the object path.
    const cases: Array<[string, FilterSpec]> = [
      // Go's json.Marshal escapes U+2028 only; org.json U+2000-U+20FF: ë raw beside an escape.
      ['{"timestamp":"2026-10-01T10:00:01Z","action":"login","user_id":"zoë\\u2028ops"}', { users: ['zoë\u2028ops'] }],
      ['{"timestamp":"2026-10-01T10:00:01Z","action":"login","user_id":"Zoë \\u2013 ops"}', { users: ['Zoë – ops'] }],
      [
        '{"timestamp":"2026-10-01T10:00:01Z","details":{"note":"café\\u2028menu"}}',
        { fields: [parseFieldSpec('details.note=café\u2028menu')] },
      ],
      // Events and actors that are no strings are matched as compact JSON: [1, 2] is [1,2].
      [
        '{"timestamp": "2026-10-01T10:00:01Z", "event": "auth.login", "level": "info", "actor": [1, 2]}',
        { actors: ['[1,2]'], events: ['auth.login'] },
      ],
      [
        '{"timestamp": "2026-10-01T10:00:01Z", "event": [1, 2], "level": "info", "actor": "bob"}',
        { events: ['[1,2]'] },
      ],
      [
        '{"timestamp": "2026-10-01T10:00:01Z", "action": "login", "resource_type": "auth", "token_id": [1, 2]}',
        { actors: ['token:[1,2]'] },
      ],
      // Nested strings in compact JSON are as JSON.stringify writes them (\u001f); a writer's \u001F.
      [
        '{"timestamp": "2026-10-01T10:00:01Z", "details": {"n": {"a": "\\u001Fxyz"}}}',
        { fields: [parseFieldSpec('details.n={"a":"\\u001fxyz"}')] },
      ],
    ];
    const other = '{"timestamp": "2026-10-01T10:00:00Z", "action": "stop", "user_id": "alice", "event": "x.y"}';
    for (const [text, spec] of cases) {
      const label = `${JSON.stringify(spec)} ${text}`;
      const bytes = Buffer.from(text);
      const raw = { bytes, line: 1, offset: 0, length: bytes.length, terminated: true, tooLong: false, crlf: false };
      const item = parseLine(raw, 'x', DEFAULT_MAX_LINE_BYTES, undefined, 'dashboard');
      assert.equal(item?.kind, 'entry', label);
      if (item?.kind !== 'entry') continue;
      const f = compileFilter(spec);
      assert.ok(f.matches(item.view, item.record, item.text), `the object path matches: ${label}`);
      assert.ok(f.prefilterBytes(bytes) && f.prefilter(item.text), `the prefilters pass: ${label}`);
      if (f.needles) {
        const out = new LineSplitter({}).pushSelected(Buffer.from(`${other}\n${text}\n${other}\n`), f.needles);
        assert.deepEqual(
          out.map((l) => l.line),
          [2],
          `the needle search hands it out: ${label}`,
        );
      }
    }
  });

  it('an event without a name is "unknown": no needle of that text, the rest of the pattern kept', () => {
    const noAction = { resource_type: 'auth', user_id: 'bob' };
    const text = JSON.stringify(noAction);
    const any = compileFilter({ events: ['*.unknown'] });
    assert.equal(any.needles, null);
    assert.ok(any.prefilterBytes(Buffer.from(text)));
    assert.ok(any.matches(toView(noAction), noAction, text));
    const auth = compileFilter({ events: ['auth.unknown'] });
    assert.deepEqual(
      auth.needles?.map((set) => set.map((n) => n.bytes.toString())),
      [['auth', '\\u00']],
    );
    assert.ok(auth.prefilterBytes(Buffer.from(text)));
    assert.ok(auth.matches(toView(noAction), noAction, text));
    assert.equal(auth.prefilterBytes(Buffer.from(JSON.stringify({ resource_type: 'api' }))), false);
  });

  it('an actor made from a token has needles for both parts; one that matches "anonymous" has none', () => {
    const tokenRec = { action: 'x', resource_type: 'y', user_id: null, token_id: 't0k3n' };
    const byToken = compileFilter({ actors: ['token:t0k3n'] });
    assert.ok(byToken.needles);
    assert.ok(byToken.matches(toView(tokenRec), tokenRec, JSON.stringify(tokenRec)));
    assert.ok(byToken.prefilterBytes(Buffer.from(JSON.stringify(tokenRec))));
    assert.equal(byToken.prefilterBytes(Buffer.from(JSON.stringify({ ...tokenRec, token_id: 'other' }))), false);
    const f = compileFilter({ actors: ['anon*'] });
    assert.equal(f.needles, null);
    const rec = { action: 'x', resource_type: 'y', user_id: null, token_id: null };
    assert.ok(f.prefilterBytes(Buffer.from(JSON.stringify(rec))));
    assert.ok(f.matches(toView(rec), rec, JSON.stringify(rec)));
  });

  it('-i: globs and --grep ignore case, and no raw prefilter rejects a line that matches', () => {
    const rec = { action: 'Login', resource_type: 'auth', user_id: 'Alice', details: { msg: 'Quota ſtop' } };
    const text = line(rec);
    const spec: FilterSpec = {
      events: ['AUTH.login'],
      users: ['alice'],
      fields: [{ path: ['details', 'msg'], pattern: 'quota*' }],
    };
    assert.ok(!matches(spec, rec), 'case-sensitive without -i');
    const f = compileFilter({ ...spec, grep: 'QUOTA STOP', ignoreCase: true });
    assert.ok(f.matches(toView(rec), rec, text));
    assert.ok(f.prefilter(text) && f.prefilterRest(text) && f.prefilterBytes(Buffer.from(text)));
    // The byte search is case-sensitive: with -i there are no needles at all.
    assert.equal(f.needles, null);
    assert.notEqual(compileFilter(spec).needles, null);
    assert.ok(!compileFilter({ grep: 'quota', ignoreCase: false }).prefilter(text));
    assert.ok(!matches({ events: ['auth.logout'], ignoreCase: true }, rec));
  });

  it('--field compares: != (absent too), > >= < <= on numbers and ISO times; bad values refused', () => {
    const rec = (status: unknown, at?: string) => ({ action: 'x', details: { status, at } });
    const f = (spec: string) => ({ fields: [parseFieldSpec(spec)] });
    assert.ok(matches(f('details.status>=500'), rec(500)));
    assert.ok(matches(f('details.status>=500'), rec(503.5)));
    assert.ok(!matches(f('details.status>=500'), rec(499)));
    assert.ok(matches(f('details.status>499'), rec(500)));
    assert.ok(!matches(f('details.status>500'), rec(500)));
    assert.ok(matches(f('details.status<=500'), rec(500)));
    assert.ok(matches(f('details.status<1e3'), rec('999')), 'a string holding a number');
    assert.ok(!matches(f('details.status<1e3'), rec('n/a')));
    assert.ok(!matches(f('details.status<1e3'), rec(null)));
    assert.ok(!matches(f('details.missing<1'), rec(1)));
    assert.ok(matches(f('details.status!=200'), rec(500)));
    assert.ok(!matches(f('details.status!=200'), rec(200)));
    assert.ok(!matches(f('details.status!=2*'), rec(204)));
    assert.ok(matches(f('details.nothing!=x'), rec(200)), '!= matches an absent field');
    const at = '2026-02-01T12:00:00.123456+00:00';
    assert.ok(matches(f('details.at>=2026-02-01T12:00:00Z'), rec(1, at)));
    assert.ok(matches(f('details.at<2026-02-01T13:00:00+01:00'), rec(1, '2026-02-01T11:59:59Z')));
    assert.ok(!matches(f('details.at<2026-02-01'), rec(1, at)));
    assert.ok(matches(f('details.at>2026-02-01'), rec(1, at)));
    assert.deepEqual(parseFieldSpec('a.b>=5'), { path: ['a', 'b'], pattern: '5', op: '>=', number: 5 });
    for (const bad of ['details.status>=high', 'x<', 'noop', '=5', 'x>2026-02-30x'])
      assert.throws(() => parseFieldSpec(bad), /--field/, bad);
  });

  it('exclude_events removes matches, and only them', () => {
    const f = compileFilter({ excludeEvents: ['api.*'] });
    const rec = { action: 'request', resource_type: 'api' };
    assert.equal(f.matches(toView(rec), rec, line(rec)), false);
    const kept = { action: 'login', resource_type: 'auth' };
    assert.equal(f.matches(toView(kept), kept, line(kept)), true, 'an event not excluded still matches');
    assert.equal(f.active, true);
    // Together with --event: what is excluded goes even when it matches.
    const both = { events: ['*.request', 'auth.*'], excludeEvents: ['api.*'] };
    assert.equal(matches(both, rec), false);
    assert.equal(matches(both, kept), true);
    assert.equal(matches(both, { action: 'request', resource_type: 'task' }), true);
  });

  it('each condition keeps what it names and drops the rest (both sides of every flag)', () => {
    const base = {
      timestamp: '2026-02-01T10:00:00+00:00',
      action: 'login',
      resource_type: 'auth',
      user_id: 'alice',
      success: true,
      details: { path: '/api/v1/x', n: 3 },
    };
    const at = (iso: string) => Date.parse(iso);
    const cases: Array<[string, FilterSpec, Record<string, unknown>, Record<string, unknown>]> = [
      ['events', { events: ['auth.log*'] }, base, { ...base, action: 'read' }],
      ['levels', { levels: ['warning', 'error'] }, base, { ...base, action: 'read' }],
      ['outcome', { outcome: 'failure' }, { ...base, success: false }, base],
      ['actors', { actors: ['al*'] }, base, { ...base, user_id: 'bob' }],
      ['actors (token)', { actors: ['token:t1'] }, { ...base, user_id: null, token_id: 't1' }, base],
      ['actions', { actions: ['log?n'] }, base, { ...base, action: 'logout' }],
      ['resource types', { resourceTypes: ['auth'] }, base, { ...base, resource_type: 'api' }],
      ['users', { users: ['alice'] }, base, { ...base, user_id: 'alice2' }],
      ['fields', { fields: [parseFieldSpec('details.path=/api/*')] }, base, { ...base, details: { path: '/x' } }],
      ['fields (non-string)', { fields: [parseFieldSpec('details.n=3')] }, base, { ...base, details: { n: 4 } }],
      ['fields (missing)', { fields: [parseFieldSpec('details.path=*')] }, base, { ...base, details: {} }],
      ['grep', { grep: 'v1/x' }, base, { ...base, details: { path: '/api/v2/x' } }],
      [
        'window',
        { window: { since: at('2026-02-01T09:00:00Z'), until: at('2026-02-01T11:00:00Z') } },
        base,
        { ...base, timestamp: '2026-02-01T11:00:00+00:00' },
      ],
      [
        'window (no time)',
        { window: { since: at('2026-02-01T09:00:00Z'), until: null } },
        base,
        { ...base, timestamp: 'x' },
      ],
    ];
    for (const [name, spec, yes, no] of cases) {
      assert.equal(matches(spec, yes), true, `${name}: keeps ${line(yes)}`);
      assert.equal(matches(spec, no), false, `${name}: drops ${line(no)}`);
      assert.equal(compileFilter(spec).active, true, `${name}: active`);
    }
    assert.equal(compileFilter({}).active, false);
    assert.equal(matches({}, base), true, 'no condition keeps everything');
  });
});
