/**
 * The filters' byte path (src/core/query/byte-facts.ts) against the object path: on every line
 * of generated directories (both schemas, tricky values) and of hand-made hostile lines, for
 * every filter flag of the bench's shapes and tricky cases, the byte path either declines or
 * says exactly what the parse-and-view path says; and a search returns the same entries with
 * the entries read on their bytes as with every line parsed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSample, prng } from '../../../scripts/sample.js';
import { pyDumps, type PyValue } from '../../../src/core/pyjson/dumps.js';
import { compileFilter, parseFieldSpec, parseLevelSpec, type FilterSpec } from '../../../src/core/query/filters.js';
import { searchEntries } from '../../../src/core/query/search.js';
import { parseLine, type ReadEntry } from '../../../src/core/read/entries.js';
import { DEFAULT_MAX_LINE_BYTES } from '../../../src/core/read/lines.js';
import { compactJson, memberText } from '../../../src/core/read/json-text.js';

const W = (o: Record<string, PyValue>) => pyDumps(o);
const base = {
  timestamp: '2026-10-01T10:00:00.000001+00:00',
  action: 'login',
  resource_type: 'auth',
  resource_id: null,
  user_id: 'bob',
  token_id: null,
  ip_address: '::1',
  user_agent: 'curl/8',
  success: true,
  error: null,
} satisfies Record<string, PyValue>;
const H = { _integrity_hash: 'ab'.repeat(32) };

/** Lines a byte reader must not be fooled by, and lines it must leave to the parse. */
const HOSTILE: string[] = [
  // A nested key and a key inside a string: only the top-level member counts.
  W({ ...base, details: { user_id: 'jürgen', path: '/api/v1/tasks/29' }, ...H }),
  W({ ...base, error: '"user_id": "j\\u00fcrgen", "action": "kill"', ...H }),
  W({ ...base, user_id: 'jürgen', details: { task_id: 'task-417' }, ...H }),
  // Duplicate keys: JSON.parse keeps the last.
  W(base).slice(0, -1) + ', "user_id": "j\\u00fcrgen", "action": "kill"}',
  // Values that are no strings, and the view's defaults.
  W({ ...base, user_id: null, token_id: 'ci-bot', action: 'kill', success: false, error: 'denied' }),
  W({ ...base, user_id: '', token_id: null, resource_type: null }),
  W({ ...base, user_id: 5, action: 17, resource_type: true, success: false }),
  W({ ...base, user_id: { name: 'bob' }, details: { path: ['/api/v1/tasks/29'], items: [{ name: 'x' }, 'y'] } }),
  W({ timestamp: 'yesterday', resource_type: 'auth', details: { status: 503, ip_address: '::1' } }),
  W({
    timestamp: 12,
    action: 'login',
    resource_type: 'auth.x',
    details: { status: '500', at: '2026-10-01T12:00:00Z' },
  }),
  W({ ...base, details: { __proto__: 'p', constructor: 'c', 'a.b': 'dot' } }),
  // Plain values compared as CPython's bytes (ValueTest.quoted): escapes, astral, look-alikes.
  W({ ...base, user_id: 'a"b\\c\nd\u007f\u00e9', ip_address: '😀::1', details: { path: 'x"y' }, ...H }),
  W({ ...base, user_id: 'bobx', ip_address: '::10', details: { path: '/api/v1/tasks/290' }, ...H }),
  W({ ...base, user_id: 'bOb', ip_address: ':::1', details: { path: 1 }, ...H }),
  // The documented schema and the JS AuditLog's keys.
  W({ timestamp: base.timestamp, event: 'auth.login', level: 'WARN', actor: 'user:bob', details: { error: 'x' } }),
  W({ timestamp: base.timestamp, event: 'agent.kill', level: 'fatal', actor: 'ci-bot', details: [1], chain_hash: 'c' }),
  W({ timestamp: base.timestamp, level: 7, actor: null, details: { error: { code: 1 } } }),
  W({ timestamp: base.timestamp, what: 'deploy', who: 'jürgen', previousHash: 'GENESIS', hash: 'h' }),
  W({ ...base, level: 'error', action: 'kill' }),
  // Declined: not the writer's exact form (the parse decides).
  '{"timestamp": "2026-10-01T10:00:00Z", "user_id": "j\\u00FCrgen", "action": "kill"}',
  '{"timestamp": "2026-10-01T10:00:00Z", "user_id": "jürgen", "action": "kill"}',
  '{"timestamp":"2026-10-01T10:00:00Z","user_id":"bob","action":"kill"}',
  '{"timestamp": "2026-10-01T10:00:00Z", "user_id": "\\u0062ob", "action": "kill"}',
  '{"timestamp": "2026-10-01T10:00:00Z", "user_id": "bob", "details": {"x": NaN}, "action": "kill"}',
  '\ufeff{"timestamp": "2026-10-01T10:00:00Z", "user_id": "bob", "action": "kill"}',
  '{"timestamp": "2026-10-01T10:00:00Z", "user_id": "bob", "action": "kill"',
  '{"timestamp": "2026-10-01T10:00:00Z", "user_id": "bob", "action": "kill"} ',
  '["user_id", "bob"]',
  '{"user_id": "bob", "n": 1.50, "action": "kill"}',
];

const fields = (...specs: string[]) => specs.map((s) => parseFieldSpec(s));
/** Every filter flag of the bench's shapes (bench/run.ts), and the tricky ones. */
const SPECS: Array<[string, FilterSpec]> = [
  ['--event auth.login', { events: ['auth.login'] }],
  ['--event *.kill, auth.x.login', { events: ['*.kill', 'auth.x.login'] }],
  ['--event api.unknown (a default)', { events: ['*.unknown', 'unknown'] }],
  ['--action kill', { actions: ['kill'] }],
  ['--action 17', { actions: ['17'] }],
  ['--resource-type api_key', { resourceTypes: ['api_key'] }],
  ['--resource-type true', { resourceTypes: ['true', 'null'] }],
  ['--user jürgen', { users: ['jürgen'] }],
  ['--user bob', { users: ['bob'] }],
  ['--user null, 5, {"name":"bob"}', { users: ['null', '5', '{"name":"bob"}'] }],
  ['--user j*', { users: ['j*'] }],
  ['--user with escapes', { users: ['a"b\\c\nd\u007f\u00e9', 'bo', 'bobx'] }],
  ['--field with escapes', { fields: fields('ip_address=😀::1', 'details.path=x"y') }],
  ['--field details.path=1', { fields: fields('details.path=1') }],
  ['--actor a"b..., bOb', { actors: ['a"b\\c\nd\u007f\u00e9', 'bOb'] }],
  ['--actor ci-bot', { actors: ['ci-bot'] }],
  ['--actor token:*', { actors: ['token:*'] }],
  ['--actor anonymous', { actors: ['anonymous'] }],
  ['--actor user:bob, jürgen, 5', { actors: ['user:bob', 'jürgen', '5'] }],
  ['--field details.path=/api/v1/tasks/29', { fields: fields('details.path=/api/v1/tasks/29') }],
  ['--field details.task_id=task-417', { fields: fields('details.task_id=task-417') }],
  ['--field details.user_id=jürgen', { fields: fields('details.user_id=jürgen') }],
  ['--field details.items.0.name=x', { fields: fields('details.items.0.name=x', 'details.items.1=y') }],
  ['--field details.path=["/api/v1/tasks/29"]', { fields: fields('details.path=["/api/v1/tasks/29"]') }],
  ['--field details.status>=500', { fields: fields('details.status>=500') }],
  ['--field details.at<2026-10-02', { fields: fields('details.at<2026-10-02T00:00:00Z') }],
  ['--field details.__proto__=p', { fields: fields('details.__proto__=p', 'details.constructor=c') }],
  ['--field details.constructor!=x', { fields: fields('details.constructor!=x', 'user_id.length!=3') }],
  ['--field ip_address=::1', { fields: fields('ip_address=::1') }],
  ['--field _integrity_hash=ab*', { fields: fields('_integrity_hash=ab*') }],
  ['--grep /api/v1/sessions/42', { grep: '/api/v1/sessions/42' }],
  ['--grep regex', { grep: 'sessions/4[0-9]"|user_id": "j' }],
  ['--grep -i', { grep: 'JÜRGEN|Kill', ignoreCase: true }],
  ['--user bob --action kill', { users: ['bob'], actions: ['kill'] }],
  ['--actor alice --field details.path', { actors: ['alice'], fields: fields('details.path=/api/v1/tasks/29') }],
  ['3 flags', { users: ['ops@example.com'], actions: ['login'], resourceTypes: ['auth'] }],
  ['--user bob --field ip_address=::1', { users: ['bob'], fields: fields('ip_address=::1') }],
  ['--level =error', { levels: parseLevelSpec('=error') }],
  ['--level warning', { levels: parseLevelSpec('warning') }],
  ['--outcome failure', { outcome: 'failure' }],
  ['--outcome success', { outcome: 'success' }],
  ['-i --user JÜRGEN --event AUTH.*', { users: ['JÜRGEN'], events: ['AUTH.*'], ignoreCase: true }],
  ['--exclude-event', { excludeEvents: ['auth.*', 'api.request'] }],
  [
    'a time window',
    { window: { since: Date.parse('2026-10-01T09:00:00Z'), until: Date.parse('2026-10-02T12:00:00Z') } },
  ],
  ['no filter', {}],
];

let dir: string;
let lines: string[];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'la-byte-facts-'));
  const writer = join(dir, 'writer');
  const documented = join(dir, 'documented');
  generateSample(writer, { seed: 5, perDay: [300, 300], trickyShare: 0.3 });
  generateSample(documented, { seed: 6, perDay: [200], trickyShare: 0.3, schema: 'documented' });
  lines = [...HOSTILE];
  for (const d of [writer, documented])
    for (const f of readdirSync(d).filter((n) => n.endsWith('.jsonl')))
      lines.push(...readFileSync(join(d, f), 'utf8').split('\n').filter(Boolean));
  // A directory of the hostile lines, for the search (no chain to keep: marks are not compared).
  const hostile = join(dir, 'hostile');
  generateSample(hostile, { seed: 9, perDay: [50], trickyShare: 0.5 });
  const live = readdirSync(hostile).find((n) => n.endsWith('.jsonl'))!;
  writeFileSync(join(hostile, live), readFileSync(join(hostile, live), 'utf8') + HOSTILE.join('\n') + '\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The object path's verdict on a line: null when it is no entry. */
function objectVerdict(spec: FilterSpec, text: string): boolean | null {
  const bytes = Buffer.from(text);
  const raw = { bytes, line: 1, offset: 0, length: bytes.length, terminated: true, tooLong: false, crlf: false };
  const item = parseLine(raw, 'x', DEFAULT_MAX_LINE_BYTES, undefined, 'dashboard');
  if (item?.kind !== 'entry') return null;
  return compileFilter(spec).matches(item.view, item.record, item.text);
}

describe('the byte path of the filters', () => {
  it('says what the object path says of every line it reads, for every flag', () => {
    let decided = 0;
    let declined = 0;
    let matched = 0;
    for (const [name, spec] of SPECS) {
      const f = compileFilter(spec);
      for (const text of lines) {
        const verdict = f.matchesBytes(Buffer.from(text), 'dashboard');
        if (verdict === null) {
          declined++;
          continue;
        }
        decided++;
        if (verdict) matched++;
        assert.equal(verdict, objectVerdict(spec, text), `${name}: ${text}`);
      }
    }
    // Both paths are exercised: most lines are read on their bytes, the odd ones are not.
    assert.ok(decided > 0.8 * SPECS.length * lines.length, `decided ${decided}`);
    assert.ok(declined >= 10 * SPECS.length, `declined ${declined}`);
    assert.ok(matched > 0.05 * decided, `matched ${matched}`);
  });

  it('says what the object path says with lines of different key sequences interleaved', () => {
    // The byte path keeps what it learned of a key sequence (ByteCanonicalizer shapes, the
    // slots of ByteFacts) across lines: in file order the sequences come in runs, here mixed.
    const r = prng(8);
    const mixed = lines
      .map((l) => [r(), l] as const)
      .sort((a, b) => a[0] - b[0])
      .map(([, l]) => l);
    for (const [name, spec] of SPECS) {
      const f = compileFilter(spec);
      for (const text of mixed) {
        const verdict = f.matchesBytes(Buffer.from(text), 'dashboard');
        if (verdict !== null) assert.equal(verdict, objectVerdict(spec, text), `${name}: ${text}`);
      }
    }
  });

  it('makes the view the parse makes, and the raw action and resource type summary counts', () => {
    const f = compileFilter({});
    let read = 0;
    for (const text of lines) {
      if (f.matchesBytes(Buffer.from(text), 'dashboard') === null) continue;
      read++;
      const bytes = Buffer.from(text);
      const raw = { bytes, line: 1, offset: 0, length: bytes.length, terminated: true, tooLong: false, crlf: false };
      const item = parseLine(raw, 'x', DEFAULT_MAX_LINE_BYTES, undefined, 'dashboard');
      assert.equal(item?.kind, 'entry');
      const { rawAction, rawResourceType, ...view } = f.bytesView();
      assert.deepEqual(view, (item as ReadEntry).view, text);
      if (view.schema !== 'writer') continue;
      // summary.ts rawKey: a string as it is, missing or null `unknown`, anything else compacted.
      const rawKey = (key: string) => {
        const t = memberText(text, key);
        return t === undefined || t === 'null' ? 'unknown' : t.startsWith('"') ? JSON.parse(t) : compactJson(t);
      };
      assert.deepEqual([rawAction, rawResourceType], [rawKey('action'), rawKey('resource_type')], text);
    }
    assert.ok(read > 0.8 * lines.length, `read ${read}`);
  });

  it('a nested or quoted look-alike of a top-level member never matches', () => {
    const user = compileFilter({ users: ['jürgen'] });
    const actor = compileFilter({ actors: ['jürgen'] });
    for (const text of HOSTILE.slice(0, 2)) {
      assert.equal(user.matchesBytes(Buffer.from(text), 'dashboard'), false, text);
      assert.equal(actor.matchesBytes(Buffer.from(text), 'dashboard'), false, text);
    }
    assert.equal(user.matchesBytes(Buffer.from(HOSTILE[2]), 'dashboard'), true);
    // The last of duplicate keys, as JSON.parse.
    assert.equal(user.matchesBytes(Buffer.from(HOSTILE[3]), 'dashboard'), true);
    assert.equal(compileFilter({ users: ['bob'] }).matchesBytes(Buffer.from(HOSTILE[3]), 'dashboard'), false);
  });

  it('leaves what is not the writer exact form, and the agent and session streams, to the parse', () => {
    const f = compileFilter({ users: ['bob'], actions: ['kill'] });
    for (const text of HOSTILE.slice(HOSTILE.indexOf(HOSTILE.find((t) => t.includes('FCrgen'))!)))
      assert.equal(f.matchesBytes(Buffer.from(text), 'dashboard'), null, text);
    const plain = Buffer.from(W({ ...base, action: 'kill' }));
    assert.equal(f.matchesBytes(plain, 'dashboard'), true);
    assert.equal(f.matchesBytes(plain, 'js-auditlog'), true);
    assert.equal(f.matchesBytes(plain, 'agent'), null);
    assert.equal(f.matchesBytes(plain, 'session'), null);
  });
});

describe('search with entries read on their bytes', () => {
  const key = (e: ReadEntry) => `${e.file}:${e.line}:${e.bytes.toString('latin1')}`;
  it('finds the same entries as a search that parses every line', async () => {
    const hostile = join(dir, 'hostile');
    let total = 0;
    for (const [name, spec] of SPECS) {
      const read = async (fast: boolean) => {
        const out: string[] = [];
        // With predecessors every line is parsed (no needle search, no byte path).
        for await (const item of searchEntries(hostile, {
          filter: spec,
          ...(fast ? { bytesOnly: true, chainMarks: false } : { predecessors: true }),
        }))
          if (item.kind === 'entry') out.push(key(item));
        return out;
      };
      const [fast, slow] = [await read(true), await read(false)];
      assert.deepEqual(fast, slow, name);
      total += fast.length;
    }
    assert.ok(total > 100, `results ${total}`);
  });

  it('an entry read on its bytes makes its text, record and view as the parse does', async () => {
    const hostile = join(dir, 'hostile');
    const spec = { users: ['bob', 'jürgen'] };
    const parsed: ReadEntry[] = [];
    for await (const item of searchEntries(hostile, { filter: spec, predecessors: true }))
      if (item.kind === 'entry') parsed.push(item);
    const lazy: ReadEntry[] = [];
    for await (const item of searchEntries(hostile, { filter: spec, chainMarks: false, bytesOnly: true }))
      if (item.kind === 'entry') lazy.push(item);
    assert.ok(lazy.length > 10);
    assert.equal(lazy.length, parsed.length);
    for (let i = 0; i < lazy.length; i++) {
      const [a, b] = [lazy[i], parsed[i]];
      assert.deepEqual(
        { text: a.text, strict: a.strictJson, record: a.record, view: a.view },
        { text: b.text, strict: b.strictJson, record: b.record, view: b.view },
      );
    }
  });
});
