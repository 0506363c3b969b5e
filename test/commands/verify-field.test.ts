/**
 * verify on Loki Mode's field set (test/fixtures/loki-mode/field/, MANIFEST.md there): untouched
 * writer output after crashes, clock steps, odd keys, operators' gzip, retention. Each row is
 * what the manifest says loki-audit must answer; none of these is an attack.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LOKI, runCli } from '../helpers/cli.js';

interface Expect {
  class: string;
  exit: number;
  /** First finding: reason, file, line (null when intact). */
  first: [string, string, number] | null;
  entries?: number;
  notes?: string[];
  env?: Record<string, string>;
}

const FIELD: Record<string, Expect> = {
  'torn-then-two-appends': {
    class: 'incomplete',
    exit: 4,
    first: ['torn-write-recovered', 'audit-2026-03-01.jsonl', 21],
    entries: 25,
  },
  'torn-then-new-day': {
    class: 'incomplete',
    exit: 4,
    first: ['torn-write-recovered', 'audit-2026-03-01.jsonl', 11],
    entries: 23,
  },
  'power-loss-nul-tail': {
    class: 'incomplete',
    exit: 4,
    first: ['torn-write-recovered', 'audit-2026-03-01.jsonl', 11],
    entries: 14,
  },
  'clock-ahead-then-corrected': {
    class: 'fork',
    exit: 5,
    first: ['fork-clock-step', 'audit-2026-03-02.jsonl', 1],
    entries: 29,
  },
  'js-two-writers': { class: 'fork', exit: 5, first: ['fork-js-writers', 'audit.jsonl', 9], entries: 10 },
  'no-integrity-toggled': {
    class: 'tampered',
    exit: 1,
    first: ['unhashed-entries', 'audit-2026-03-01.jsonl', 9],
    entries: 17,
  },
  'retention-with-days#LOKI_AUDIT_MAX_FILES=4': {
    class: 'intact',
    exit: 0,
    first: null,
    entries: 62,
    notes: ['retention'],
    env: { LOKI_AUDIT_MAX_FILES: '4' },
  },
  'retention-with-days': {
    class: 'mid-chain',
    exit: 6,
    first: ['history-mid-chain', 'audit-2026-03-01.jsonl', 1],
    entries: 62,
  },
  'huge-entry': { class: 'intact', exit: 0, first: null, entries: 6 },
  'gz-of-live-day': { class: 'intact', exit: 0, first: null, entries: 30 },
  'cr-only-line-endings': { class: 'intact', exit: 0, first: null, entries: 90, notes: ['rewritten'] },
  'bom-at-file-start': { class: 'intact', exit: 0, first: null, entries: 90, notes: ['rewritten'] },
  'number-keys-float': { class: 'quirk', exit: 7, first: ['number-keys', 'audit-2026-03-01.jsonl', 4], entries: 10 },
  'number-keys-mixed': { class: 'quirk', exit: 7, first: ['number-keys', 'audit-2026-03-01.jsonl', 3], entries: 8 },
  // A user's `cat audit-*.jsonl > audit.jsonl` (spec §10.22): not a JS AuditLog, listed as foreign.
  'docs-audit-jsonl': { class: 'intact', exit: 0, first: null, entries: 90, notes: ['foreign'] },
};

describe('verify on Loki Mode field directories (field/MANIFEST.md)', () => {
  for (const [rel, want] of Object.entries(FIELD)) {
    it(
      `${rel}: ${want.class}${want.first ? ` (${want.first[0]} at ${want.first[1]}:${want.first[2]})` : ''}, ` +
        `exit ${want.exit}`,
      async () => {
        const r = await runCli(['verify', '--dir', join(LOKI, 'field', rel.split('#')[0]), '--json'], {
          env: want.env,
        });
        assert.equal(r.code, want.exit, r.stdout + r.stderr);
        const report = JSON.parse(r.stdout);
        assert.equal(report.verdict, want.class);
        if (want.first === null) assert.equal(report.firstProblem, null, JSON.stringify(report.firstProblem));
        else {
          const f = report.firstProblem;
          assert.deepEqual([f.reason, f.file, f.line], want.first, JSON.stringify(f));
          assert.ok(f.message.length > 20);
        }
        if (want.entries !== undefined) assert.equal(report.entriesVerified, want.entries);
        if (rel === 'docs-audit-jsonl') {
          assert.deepEqual(report.ignored, ['audit.jsonl']);
          assert.deepEqual(
            report.files.map((f: { file: string }) => f.file),
            ['audit-2026-03-01.jsonl', 'audit-2026-03-02.jsonl', 'audit-2026-03-03.jsonl'],
          );
        }
        for (const n of want.notes ?? [])
          assert.ok(
            report.notes.some((x: { kind: string }) => x.kind === n),
            `note ${n} in ${JSON.stringify(report.notes)}`,
          );
      },
    );
  }
});
