/**
 * The Prometheus text exposition format (version 0.0.4), as node_exporter's textfile collector
 * and a `/metrics` endpoint serve it: per family a `# HELP` and a `# TYPE` line, then one line per
 * sample, `name{label="value",…} value`. Label values escape `\`, `"` and newline; HELP text
 * escapes `\` and newline (Prometheus "Exposition formats", text format details), so no value
 * from a path or a target name can start a line of its own.
 */

/** A metric type of the text format (only the two loki-audit writes). */
export type MetricType = 'gauge' | 'counter';

/** One sample: its labels (name → value) and its value. */
export interface Sample {
  labels?: Readonly<Record<string, string>>;
  value: number;
}

/** A metric family: name, HELP text, TYPE, and its samples (none: the family is not written). */
export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: readonly Sample[];
}

/** A metric or label name the format does not allow. */
export class MetricNameError extends Error {
  constructor(readonly metricName: string) {
    super(`invalid Prometheus metric or label name: ${JSON.stringify(metricName)}`);
    this.name = 'MetricNameError';
  }
}

// Prometheus data model: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*
// (a leading `__` is reserved).
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A label value as the text format writes it between double quotes: `\` → `\\`, `"` → `\"`, LF → `\n`. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** HELP text: `\` → `\\`, LF → `\n` (quotes stay as they are). */
export function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

/** A sample value: integers as integers, `NaN`, `+Inf`, `-Inf`, else the shortest round-tripping decimal. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/**
 * The text exposition of `families`, in the order given, ending with a newline (the textfile
 * collector needs the last line terminated). Families without samples are left out.
 * @throws MetricNameError for a metric or label name the format does not allow, or a name used twice.
 */
export function formatExposition(families: readonly MetricFamily[]): string {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const f of families) {
    if (!METRIC_NAME.test(f.name) || seen.has(f.name)) throw new MetricNameError(f.name);
    seen.add(f.name);
    if (!f.samples.length) continue;
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels ?? {});
      for (const [k] of labels) if (!LABEL_NAME.test(k) || k.startsWith('__')) throw new MetricNameError(k);
      const set = labels.length ? `{${labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}` : '';
      out.push(`${f.name}${set} ${formatValue(s.value)}`);
    }
  }
  return out.length ? out.join('\n') + '\n' : '';
}
