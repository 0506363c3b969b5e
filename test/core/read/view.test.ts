import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { timestampMs, toView } from '../../../src/core/read/view.js';
import { LOKI } from '../../helpers/cli.js';

const LOGS = join(LOKI, 'field/project-streams/.loki');

/** event, level, actor, outcome, error of each view. */
const brief = (v: ReturnType<typeof toView>) => [v.event, v.level, v.actor, v.outcome, v.error];

describe("the one view of Loki Mode's streams without a chain (spec §5)", () => {
  it("agent audit: action, pid; a refusal is a failure; stop is Loki Mode's warning action", () => {
    const lines = readFileSync(join(LOGS, 'logs/agent-audit.jsonl'), 'utf8').split('\n').filter(Boolean);
    const views = lines.map((l) => toView(JSON.parse(l), 'agent'));
    assert.deepEqual(views.map(brief), [
      ['cli_invoke', 'info', 'pid:21674', 'success', null],
      ['policy_denied', 'error', 'pid:21674', 'failure', 'Policy denied execution'],
      ['git_commit', 'info', 'pid:21674', 'success', null],
      ['session_stop', 'warning', 'pid:21674', 'success', null],
      ['cli_invoke', 'info', 'pid:21674', 'success', null],
      ['cli_invoke', 'info', 'pid:21674', 'success', null],
    ]);
    assert.deepEqual(
      [views[0].schema, views[0].time, views[0].hash],
      ['agent-audit', Date.parse('2026-12-01T20:04:28Z'), null],
    );
    // The form Loki Mode's docs show: {timestamp, action, agent, details{}}.
    const docs = toView(
      { timestamp: '2026-02-15T14:30:00Z', action: 'git_commit_aborted', agent: 'development' },
      'agent',
    );
    assert.deepEqual(brief(docs), ['git_commit_aborted', 'error', 'agent:development', 'failure', null]);
  });

  it('session audit: event, user; BLOCKED_COMMAND is a failure with its data as the error', () => {
    const v = toView(
      { timestamp: '2026-12-01T20:04:28Z', event: 'BLOCKED_COMMAND', data: 'command=rm -rf /', user: 'root', pid: 1 },
      'session',
    );
    assert.deepEqual(brief(v), ['BLOCKED_COMMAND', 'error', 'root', 'failure', 'command=rm -rf /']);
    assert.deepEqual(brief(toView({ event: 'SESSION_START', data: 'prd=x', user: 'root' }, 'session')), [
      'SESSION_START',
      'info',
      'root',
      'success',
      null,
    ]);
    assert.equal(toView({ event: 'SESSION_START' }, 'session').schema, 'session-audit');
  });

  it('without the stream, the same entries are read by their keys as before (documented schema, writer schema)', () => {
    assert.equal(toView({ event: 'BLOCKED_COMMAND', user: 'root' }).schema, 'documented');
    assert.equal(toView({ action: 'policy_denied', pid: 1 }).actor, 'anonymous');
  });

  it('the JS AuditLog: what is the event, who the actor', () => {
    const line = readFileSync(join(LOGS, 'audit/audit.jsonl'), 'utf8').split('\n')[2];
    const v = toView(JSON.parse(line), 'js-auditlog');
    assert.deepEqual([v.schema, ...brief(v)], ['js-auditlog', 'policy_violation', 'info', 'codex', 'success', null]);
  });
});

describe('timestampMs', () => {
  it('equals Date.parse on the writer form and on every near miss of it', () => {
    const cases = [
      '2026-10-01T00:21:36.451467+00:00',
      '2026-10-01T00:21:36+00:00',
      '2026-10-01T00:21:36Z',
      '2026-10-01T00:21:36.4Z',
      '2026-10-01T00:21:36.45Z',
      '2026-10-01T00:21:36.123456789Z',
      '2026-10-01T00:21:36.1234567891234+00:00',
      '2026-10-01T00:21:36.+00:00',
      '2026-10-01T00:21:36.4x+00:00',
      '2026-02-30T00:00:00Z',
      '2026-02-29T23:59:59.999+00:00',
      '2024-02-29T12:00:00Z',
      '2026-00-01T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-10-32T00:00:00Z',
      '2026-10-01T24:00:00Z',
      '2026-10-01T23:60:00Z',
      '2026-10-01T23:59:60Z',
      '2026-10-01T00:21:36+01:00',
      '2026-10-01T00:21:36-00:00',
      '2026-10-01 00:21:36+00:00',
      '2026-10-01t00:21:36z',
      '+02026-10-01T00:21:36Z',
      '0000-01-01T00:00:00Z',
      '9999-12-31T23:59:59.999Z',
      '2026-1a-01T00:00:00Z',
      '20x6-10-01T00:00:00Z',
      '2026-10-01T0a:21:36Z',
      '2026-10-01T00:21:36.451467+00:00 ',
      'Z',
      '+00:00',
      'not a time',
    ];
    // Random near misses: each character of the writer form replaced by one of a few others.
    const base = '2026-10-01T00:21:36.451467+00:00';
    const swaps = '0919:-T.Z+ a';
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    for (let k = 0; k < 3000; k++) {
      const chars = [...base];
      for (let j = 0; j < 1 + rand(2); j++) chars[rand(chars.length)] = swaps[rand(swaps.length)];
      cases.push(chars.join('').slice(0, base.length - rand(3) * rand(8)));
    }
    // The day cache: the same day again, another day, back.
    cases.push('2026-10-01T01:00:00Z', '2026-10-02T01:00:00Z', '2026-10-01T02:00:00Z');
    let fast = 0;
    for (const t of cases) {
      assert.equal(timestampMs(t), Date.parse(t), t);
      if (!Number.isNaN(Date.parse(t))) fast++;
    }
    assert.ok(fast > 100, `many of the cases are readable times (${fast})`);
  });
});
