/**
 * The text exposition format: exact lines, escaping that keeps a hostile label value on its own
 * line, and Prometheus's own linter (`promtool check metrics`) agreeing with what we write.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import {
  escapeHelp,
  escapeLabelValue,
  formatExposition,
  formatValue,
  MetricNameError,
} from '../../src/formats/prometheus.js';

const PROMTOOL = spawnSync('promtool', ['--version']).status === 0;

/** `promtool check metrics` on `text` (stdin): its exit code and everything it printed. */
function promtool(text: string): { code: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { code: r.status, output: r.stdout + r.stderr };
}

describe('Prometheus text exposition', () => {
  it('writes HELP, TYPE and one line per sample, labels in the order given, a final newline', () => {
    const text = formatExposition([
      {
        name: 'loki_audit_forward_delivered_total',
        help: 'Entries taken.',
        type: 'counter',
        samples: [
          { labels: { dir: '/a', target: 'loki' }, value: 12 },
          { labels: { dir: '/a', target: 'syslog' }, value: 0 },
        ],
      },
      { name: 'loki_audit_run_duration_seconds', help: 'Run time.', type: 'gauge', samples: [{ value: 0.25 }] },
      { name: 'loki_audit_unused', help: 'No samples: left out.', type: 'gauge', samples: [] },
    ]);
    assert.equal(
      text,
      [
        '# HELP loki_audit_forward_delivered_total Entries taken.',
        '# TYPE loki_audit_forward_delivered_total counter',
        'loki_audit_forward_delivered_total{dir="/a",target="loki"} 12',
        'loki_audit_forward_delivered_total{dir="/a",target="syslog"} 0',
        '# HELP loki_audit_run_duration_seconds Run time.',
        '# TYPE loki_audit_run_duration_seconds gauge',
        'loki_audit_run_duration_seconds 0.25',
        '',
      ].join('\n'),
    );
  });

  it('escapes backslash, double quote and newline in label values, backslash and newline in HELP', () => {
    assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
    assert.equal(escapeLabelValue('plain /srv/audit é'), 'plain /srv/audit é');
    assert.equal(escapeHelp('x\\y\n"z"'), 'x\\\\y\\n"z"');
  });

  it('a label value with a newline cannot forge a sample line', () => {
    const text = formatExposition([
      {
        name: 'loki_audit_verify_exit_code',
        help: 'Exit code.',
        type: 'gauge',
        samples: [{ labels: { dir: '/x"} 0\nloki_audit_verify_exit_code{dir="/forged' }, value: 1 }],
      },
    ]);
    const samples = text.split('\n').filter((l) => l && !l.startsWith('#'));
    assert.equal(samples.length, 1, text);
    assert.equal(
      samples[0],
      'loki_audit_verify_exit_code{dir="/x\\"} 0\\nloki_audit_verify_exit_code{dir=\\"/forged"} 1',
    );
  });

  it('writes special values as the format spells them', () => {
    assert.deepEqual([NaN, Infinity, -Infinity, 3, 1.5, 1796178933.122].map(formatValue), [
      'NaN',
      '+Inf',
      '-Inf',
      '3',
      '1.5',
      '1796178933.122',
    ]);
  });

  it('refuses invalid metric and label names, reserved labels and a family written twice', () => {
    const f = (name: string, labels?: Record<string, string>) => ({
      name,
      help: 'h',
      type: 'gauge' as const,
      samples: [{ labels, value: 1 }],
    });
    assert.throws(() => formatExposition([f('loki-audit')]), MetricNameError);
    assert.throws(() => formatExposition([f('1x')]), MetricNameError);
    assert.throws(() => formatExposition([f('x', { 'a-b': 'v' })]), MetricNameError);
    assert.throws(() => formatExposition([f('x', { __name__: 'v' })]), MetricNameError);
    assert.throws(() => formatExposition([f('x'), f('x')]), MetricNameError);
    assert.doesNotThrow(() => formatExposition([f('ns:x_total', { _a1: 'v' })]));
  });

  it(
    'promtool check metrics accepts what we write, hostile label values included',
    { skip: PROMTOOL ? false : 'promtool (Debian prometheus) not installed' },
    () => {
      const text = formatExposition([
        {
          name: 'loki_audit_forward_delivered_total',
          help: 'Entries taken\nby "the" target \\ total.',
          type: 'counter',
          samples: [{ labels: { dir: '/srv/a"b\\c\nd', target: 'loki' }, value: 7 }],
        },
        {
          name: 'loki_audit_chain_head_timestamp_seconds',
          help: 'Head time.',
          type: 'gauge',
          samples: [{ labels: { dir: '/srv/a' }, value: 1770119839.5 }],
        },
      ]);
      const r = promtool(text);
      assert.equal(r.code, 0, r.output);
      assert.equal(r.output, '');
      // And the linter is not blind: a counter without _total and an unescaped quote are reported.
      const bad = promtool('# HELP x_seconds h\n# TYPE x_seconds counter\nx_seconds 1\n');
      assert.notEqual(bad.output, '', 'promtool found nothing wrong with a counter named without _total');
      assert.notEqual(promtool('# HELP x h\n# TYPE x gauge\nx{a="b"c"} 1\n').code, 0);
    },
  );
});
