/** Entries to append from flags, fields or JSON lines: the writer schema in the writer's key order. */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import {
  detailValue,
  entriesFromJsonLines,
  entryFromFlags,
  EntryInputError,
  writerEntry,
} from '../../../src/core/write/entry-fields.js';

const KEYS = [
  'action',
  'resource_type',
  'resource_id',
  'user_id',
  'token_id',
  'ip_address',
  'user_agent',
  'success',
  'error',
  'details',
];

describe('writerEntry', () => {
  it('event splits into resource_type.action, actor is user_id, defaults filled, writer key order', () => {
    const e = writerEntry({ extra: 1, actor: 'bob', event: 'auth.login', timestamp: 't' });
    assert.deepEqual(Object.keys(e), ['timestamp', ...KEYS, 'extra']);
    assert.deepEqual(e, {
      timestamp: 't',
      action: 'login',
      resource_type: 'auth',
      resource_id: null,
      user_id: 'bob',
      token_id: null,
      ip_address: null,
      user_agent: null,
      success: true,
      error: null,
      details: {},
      extra: 1,
    });
    // An event without a dot is resource type "event"; writer fields given win over event/actor.
    assert.deepEqual(
      [writerEntry({ event: 'boot' }).resource_type, writerEntry({ event: 'boot' }).action],
      ['event', 'boot'],
    );
    const given = writerEntry({ event: 'a.b', action: 'kept', actor: 'x', user_id: 'u' });
    assert.deepEqual([given.action, given.user_id, given.event, given.actor], ['kept', 'u', 'a.b', 'x']);
  });

  it('a hash field given is dropped (the chain computes its own); no timestamp stays absent', () => {
    const e = writerEntry({ event: 'a.b', _integrity_hash: 'f'.repeat(64), chain_hash: 'e'.repeat(64) });
    assert.ok(!('_integrity_hash' in e) && !('chain_hash' in e) && !('timestamp' in e), JSON.stringify(e));
    assert.equal(e.action, 'b');
  });
});

describe('entryFromFlags and detailValue', () => {
  it('--detail values: JSON numbers, booleans and null as such, anything else a string', () => {
    for (const [v, want] of [
      ['5', 5],
      ['-1.5e3', -1500],
      ['true', true],
      ['null', null],
      ['05', '05'],
      ['1.', '1.'],
      ['True', 'True'],
      ['a=b', 'a=b'],
      ['', ''],
    ] as const)
      assert.equal(detailValue(v), want, v);
  });

  it('flags become the entry; --error or --failure is success false; a --detail without = is refused', () => {
    const e = entryFromFlags({ event: 'task.start', actor: 'ci', details: ['n=3', 'url=a=b'], resourceId: 'r1' });
    assert.deepEqual(
      [e.resource_type, e.action, e.user_id, e.resource_id, e.success, e.error, e.details],
      ['task', 'start', 'ci', 'r1', true, null, { n: 3, url: 'a=b' }],
    );
    assert.equal(entryFromFlags({ event: 'x.y', error: 'boom' }).success, false);
    assert.equal(entryFromFlags({ event: 'x.y', failure: true }).success, false);
    assert.equal(entryFromFlags({ event: 'x.y' }).user_id, null);
    for (const d of ['novalue', '=v'])
      assert.throws(() => entryFromFlags({ event: 'x.y', details: [d] }), {
        name: 'EntryInputError',
        message: `--detail needs KEY=VALUE, got "${d}"`,
      });
  });
});

describe('entriesFromJsonLines', () => {
  const all = async (text: string) => {
    const out = [];
    for await (const e of entriesFromJsonLines(Readable.from([text]), 'in')) out.push(e);
    return out;
  };

  it('one entry per object line, blank lines skipped', async () => {
    const got = await all('{"event": "a.b"}\n\n  \n{"action": "c", "resource_type": "d"}\n');
    assert.deepEqual(
      got.map((e) => `${e.resource_type}.${e.action}`),
      ['a.b', 'd.c'],
    );
  });

  it('a line that is not JSON, or not an object, is refused by its number', async () => {
    await assert.rejects(all('{"event": "a.b"}\n\nnope\n'), new EntryInputError('in line 3: not valid JSON'));
    for (const bad of ['[1]', '"s"', 'null', '5'])
      await assert.rejects(all(`${bad}\n`), { name: 'EntryInputError', message: 'in line 1: not a JSON object' }, bad);
  });
});
