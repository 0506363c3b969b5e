import assert from 'node:assert/strict';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AuditDirError } from '../../../src/core/read/files.js';
import { resolveAuditSource, StreamChoiceError } from '../../../src/core/read/streams.js';
import { LOKI, tempDir } from '../../helpers/cli.js';

const PROJECT = join(LOKI, 'field/project-streams');

/** What a source reads, in a few words: streams, home relative to `base`, file names. */
async function what(dir: string, base: string, options: Parameters<typeof resolveAuditSource>[1] = {}) {
  const s = await resolveAuditSource(dir, options);
  return {
    streams: s.streams,
    home: s.home.slice(base.length) || '.',
    files: s.files.map((f) => `${f.chain}:${f.name}${f.date ? '@' + f.date : ''}`),
  };
}

describe("resolveAuditSource: which of Loki Mode's streams a directory holds (spec §5)", () => {
  it('a project directory: its chain (the JS AuditLog) by default, the others with a stream', async () => {
    assert.deepEqual(await what(PROJECT, PROJECT), {
      streams: ['js'],
      home: '/.loki/audit',
      files: ['js-auditlog:audit.jsonl'],
    });
    assert.deepEqual(await what(PROJECT, PROJECT, { stream: 'agent' }), {
      streams: ['agent'],
      home: '/.loki/logs',
      files: ['agent:agent-audit.jsonl'],
    });
    // Named by the host's local date.
    assert.deepEqual(await what(PROJECT, PROJECT, { stream: 'session' }), {
      streams: ['session'],
      home: '/.loki/logs',
      files: ['session:audit-20261201.jsonl@2026-12-01'],
    });
  });

  it('.loki/audit is the JS AuditLog (witness.jsonl is not read); .loki/logs needs a choice', async () => {
    const audit = join(PROJECT, '.loki/audit');
    assert.deepEqual(await what(audit, audit), { streams: ['js'], home: '.', files: ['js-auditlog:audit.jsonl'] });
    const logs = join(PROJECT, '.loki/logs');
    await assert.rejects(
      resolveAuditSource(logs),
      (e: unknown) =>
        e instanceof StreamChoiceError &&
        e.available.join() === 'agent,session' &&
        /holds several audit streams: agent \(agent audit\), session \(session audit\); choose one with --stream/.test(
          e.message,
        ),
    );
    assert.deepEqual((await what(logs, logs, { stream: 'session' })).files, [
      'session:audit-20261201.jsonl@2026-12-01',
    ]);
  });

  it('a logs directory with one of the two is that one', async () => {
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, 'agent-audit.jsonl'), '');
      assert.deepEqual(await what(t.dir, t.dir), { streams: ['agent'], home: '.', files: ['agent:agent-audit.jsonl'] });
    } finally {
      t.cleanup();
    }
  });

  it('the dashboard directory: its chain; a stray audit-YYYYMMDD.jsonl in it stays foreign unless asked for', async () => {
    const t = tempDir();
    try {
      cpSync(join(LOKI, 'extended/valid/writer'), t.dir, { recursive: true });
      writeFileSync(join(t.dir, 'audit-20260201.jsonl'), '{"event": "x"}\n');
      const s = await resolveAuditSource(t.dir);
      assert.deepEqual(s.streams, ['dashboard']);
      assert.deepEqual(
        s.files.map((f) => f.name),
        ['audit-2026-02-01.jsonl', 'audit-2026-02-02.jsonl', 'audit-2026-02-03.jsonl'],
      );
      assert.deepEqual(s.foreign, ['audit-20260201.jsonl']);
      assert.deepEqual((await what(t.dir, t.dir, { stream: 'session' })).streams, ['session']);
    } finally {
      t.cleanup();
    }
  });

  it('a directory holding both chains reads both, dashboard first (as verify checks them); a stream picks one', async () => {
    const t = tempDir();
    try {
      cpSync(join(LOKI, 'js-auditlog/valid'), t.dir, { recursive: true });
      cpSync(join(LOKI, 'extended/valid/writer/audit-2026-02-01.jsonl'), join(t.dir, 'audit-2026-02-01.jsonl'));
      assert.deepEqual((await what(t.dir, t.dir)).files, [
        'dashboard:audit-2026-02-01.jsonl@2026-02-01',
        'js-auditlog:audit.jsonl',
      ]);
      assert.deepEqual((await what(t.dir, t.dir, { stream: 'js' })).files, ['js-auditlog:audit.jsonl']);
      assert.deepEqual((await what(t.dir, t.dir, { stream: 'dashboard' })).streams, ['dashboard']);
    } finally {
      t.cleanup();
    }
  });

  it('a stream that is not there is an AuditDirError naming it; following waits for it', async () => {
    const t = tempDir();
    try {
      mkdirSync(join(t.dir, '.loki'));
      await assert.rejects(
        resolveAuditSource(t.dir, { stream: 'agent' }),
        (e: unknown) =>
          e instanceof AuditDirError &&
          e.code === 'no-audit-files' &&
          e.message === `no agent audit (.loki/logs/agent-audit.jsonl) in ${t.dir}`,
      );
      await assert.rejects(
        resolveAuditSource(t.dir),
        (e: unknown) =>
          e instanceof AuditDirError && /^no JS AuditLog \(\.loki\/audit\/audit\.jsonl\), agent audit/.test(e.message),
      );
      const waiting = await what(t.dir, t.dir, { stream: 'agent', requireFiles: false });
      assert.deepEqual(waiting, { streams: ['agent'], home: '/.loki/logs', files: [] });
    } finally {
      t.cleanup();
    }
    await assert.rejects(
      resolveAuditSource('/nonexistent-x'),
      (e: unknown) => e instanceof AuditDirError && e.code === 'not-found',
    );
  });
});
