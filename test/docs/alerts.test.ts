/**
 * The alert rules shipped in docs/alerts/ (and shown in docs/verify.md): valid for Prometheus
 * (`promtool check rules`), each alert proven to fire by `promtool test rules`, written only
 * against metrics loki-audit writes, and the copy in docs/verify.md the same as the file.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { METRIC_NAMES } from '../../src/output/metrics.js';
import { ROOT } from '../helpers/cli.js';

const ALERTS = join(ROOT, 'docs', 'alerts');
const RULES = join(ALERTS, 'loki-audit.rules.yml');
const PROMTOOL = spawnSync('promtool', ['--version']).status === 0;
const skip = PROMTOOL ? false : 'promtool (Debian prometheus) not installed';

function promtool(...args: string[]): { code: number | null; output: string } {
  const r = spawnSync('promtool', args, { cwd: ALERTS, encoding: 'utf8' });
  return { code: r.status, output: r.stdout + r.stderr };
}

describe('alert rules (docs/alerts/loki-audit.rules.yml)', () => {
  it('promtool check rules accepts them', { skip }, () => {
    const r = promtool('check', 'rules', 'loki-audit.rules.yml');
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /SUCCESS: 6 rules found/);
  });

  it('promtool test rules: each alert fires where it should and nowhere else', { skip }, () => {
    const r = promtool('test', 'rules', 'loki-audit.rules.test.yml');
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /SUCCESS/);
    const tested = new Set(
      [...readFileSync(join(ALERTS, 'loki-audit.rules.test.yml'), 'utf8').matchAll(/alertname: (\w+)/g)].map(
        (m) => m[1],
      ),
    );
    const alerts = [...readFileSync(RULES, 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    assert.deepEqual(
      alerts.filter((a) => !tested.has(a)),
      [],
      'alerts without a unit test',
    );
  });

  it('promtool test rules fails when an alert would not fire (the test can fail)', { skip }, () => {
    const broken = readFileSync(join(ALERTS, 'loki-audit.rules.test.yml'), 'utf8').replace(
      'exp_labels: { severity: critical, dir: /srv/b, class: tampered }',
      'exp_labels: { severity: critical, dir: /srv/a, class: tampered }',
    );
    const r = spawnSync('promtool', ['test', 'rules', '/dev/stdin'], { cwd: ALERTS, input: broken, encoding: 'utf8' });
    assert.equal(r.status, 1, r.stdout + r.stderr);
  });

  it('uses only metrics loki-audit writes', () => {
    const used = new Set([...readFileSync(RULES, 'utf8').matchAll(/\bloki_audit_\w+/g)].map((m) => m[0]));
    assert.ok(used.size >= 5);
    assert.deepEqual(
      [...used].filter((m) => !METRIC_NAMES.includes(m)),
      [],
    );
  });

  it('docs/verify.md shows the rules file as it is, and documents every metric', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'verify.md'), 'utf8');
    assert.ok(
      doc.includes('```yaml\n' + readFileSync(RULES, 'utf8') + '```\n'),
      'docs/verify.md: the rules block differs from the file',
    );
    const docs = ['verify.md', 'checkpoint.md', 'forward.md']
      .map((f) => readFileSync(join(ROOT, 'docs', f), 'utf8'))
      .join('\n');
    assert.deepEqual(
      METRIC_NAMES.filter((m) => !docs.includes('`' + m)),
      [],
      'metrics not documented',
    );
  });
});
