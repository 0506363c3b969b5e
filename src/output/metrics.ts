/**
 * The Prometheus metrics of `verify`, `checkpoint` and `forward` (`--metrics-file`, for
 * node_exporter's textfile collector; `forward --follow --metrics-listen`). Every family is
 * defined once here, so the HELP and TYPE of a family two commands share (`loki_audit_last_run_
 * timestamp_seconds` …) are the same in every file: the textfile collector refuses files that
 * disagree. Names follow Prometheus conventions: base units (seconds), `_total` for counters,
 * a `command` label where commands share a family, `dir` (the audit directory, absolute) on all.
 * docs/verify.md, docs/checkpoint.md and docs/forward.md list them.
 */
import { lstatSync, readFileSync } from 'node:fs';
import type { DirectoryReport } from '../core/chain/directory.js';
import { SEVERITY } from '../core/chain/verdict.js';
import { writeFileAtomic } from '../core/runtime/atomic.js';
import { formatExposition, type MetricFamily, type MetricType, type Sample } from '../formats/prometheus.js';

/** The commands that write metrics. */
export type MetricsCommand = 'verify' | 'checkpoint' | 'forward';

/** The verdict classes of `loki_audit_verify_verdict`: verify's, plus `error` for a run that ended in an error. */
const VERDICT_METRIC_CLASSES: readonly string[] = [...SEVERITY, 'error'];

const DEFS = {
  loki_audit_verify_verdict: [
    'gauge',
    'Verdict of the last verify run: 1 for its class (intact, tampered, …, error), 0 for the others.',
  ],
  loki_audit_verify_exit_code: ['gauge', 'Exit code of the last verify run (docs/exit-codes.md).'],
  loki_audit_entries_verified: ['gauge', 'Entries whose chain hash the last verify run recomputed and matched.'],
  loki_audit_files_checked: ['gauge', 'Audit files the last verify run checked.'],
  loki_audit_chain_head_timestamp_seconds: [
    'gauge',
    'Time written in the chain head entry (its timestamp field), seconds since the epoch.',
  ],
  loki_audit_checkpoints_checked: ['gauge', 'Checkpoints the last verify run read from its --checkpoints store.'],
  loki_audit_checkpoint_newest_timestamp_seconds: [
    'gauge',
    'Time of the newest validly signed checkpoint verify found in its --checkpoints store, seconds since the epoch.',
  ],
  loki_audit_checkpoint_exit_code: ['gauge', 'Exit code of the last checkpoint run (docs/exit-codes.md).'],
  loki_audit_checkpoint_signed_timestamp_seconds: [
    'gauge',
    'Time of the checkpoint the last successful checkpoint run signed, seconds since the epoch.',
  ],
  loki_audit_checkpoint_signed_entries: ['gauge', 'Entries of the chain the last signed checkpoint vouches for.'],
  loki_audit_forward_exit_code: ['gauge', 'Exit code of the last forward run (docs/exit-codes.md).'],
  loki_audit_forward_lag_entries: ['gauge', 'Entries in the audit files after the last one the target took.'],
  loki_audit_forward_delivered_total: [
    'counter',
    'Entries the target took (acknowledged, or written to a target without acknowledgement), summed over runs.',
  ],
  loki_audit_dead_letter_entries: ['gauge', 'Entries in the dead-letter file refused for good by the target.'],
  loki_audit_forward_checkpoint_pending: [
    'gauge',
    '1 while a checkpoint forward signed is not in its store (kept in the state file for the next run), else 0.',
  ],
  loki_audit_forward_checkpoint_chain_broken: [
    'gauge',
    '1 when forward signs no more checkpoints because the chain it forwards breaks, else 0.',
  ],
  loki_audit_forward_checkpoint_signed_entries: [
    'gauge',
    'Entries of the chain the newest checkpoint forward pushed in this run vouches for.',
  ],
  loki_audit_last_run_timestamp_seconds: ['gauge', 'When the last run of the command ended, seconds since the epoch.'],
  loki_audit_last_success_timestamp_seconds: [
    'gauge',
    'When the last run of the command that exited 0 ended, seconds since the epoch.',
  ],
  loki_audit_run_duration_seconds: ['gauge', 'How long the last run of the command took, in seconds.'],
} as const satisfies Record<string, readonly [MetricType, string]>;

type MetricName = keyof typeof DEFS;

function family(name: MetricName, samples: Sample[]): MetricFamily {
  const [type, help] = DEFS[name];
  return { name, type, help, samples };
}

const seconds = (ms: number): number => ms / 1000;

/** Seconds since the epoch of an ISO 8601 time, or null. */
function epochSeconds(iso: string | null | undefined): number | null {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(t) ? null : t / 1000;
}

/** One run of a command: where, when (ms since the epoch), how it ended. */
export interface RunInfo {
  command: MetricsCommand;
  /** The audit directory, absolute. */
  dir: string;
  startedAt: number;
  endedAt: number;
  exitCode: number;
  /** When the last run before this one that exited 0 ended (from the previous file), seconds; null: none known. */
  lastSuccess: number | null;
}

/** The families every command writes: last run, last success, duration. */
function runFamilies(run: RunInfo): MetricFamily[] {
  const labels = { command: run.command, dir: run.dir };
  const success = run.exitCode === 0 ? seconds(run.endedAt) : run.lastSuccess;
  return [
    family('loki_audit_last_run_timestamp_seconds', [{ labels, value: seconds(run.endedAt) }]),
    family('loki_audit_last_success_timestamp_seconds', success === null ? [] : [{ labels, value: success }]),
    family('loki_audit_run_duration_seconds', [{ labels, value: seconds(run.endedAt - run.startedAt) }]),
  ];
}

/**
 * `verify`'s metrics. `report` is null when the run ended in an error before a verdict (class
 * `error`): then only the verdict, the exit code and the run's families are written, so a failed
 * run never leaves an older file claiming intact.
 */
export function verifyMetrics(report: DirectoryReport | null, run: RunInfo): MetricFamily[] {
  const dir = { dir: run.dir };
  const current = report?.verdict ?? 'error';
  const head = epochSeconds(report?.chainHead?.time);
  const cp = report?.checkpoints;
  const newest = epochSeconds(cp?.newest);
  return [
    family(
      'loki_audit_verify_verdict',
      VERDICT_METRIC_CLASSES.map((c) => ({ labels: { ...dir, class: c }, value: c === current ? 1 : 0 })),
    ),
    family('loki_audit_verify_exit_code', [{ labels: dir, value: run.exitCode }]),
    family('loki_audit_entries_verified', report ? [{ labels: dir, value: report.entriesVerified }] : []),
    family('loki_audit_files_checked', report ? [{ labels: dir, value: report.filesChecked }] : []),
    family('loki_audit_chain_head_timestamp_seconds', head === null ? [] : [{ labels: dir, value: head }]),
    family('loki_audit_checkpoints_checked', cp ? [{ labels: dir, value: cp.checked }] : []),
    family('loki_audit_checkpoint_newest_timestamp_seconds', newest === null ? [] : [{ labels: dir, value: newest }]),
    ...runFamilies(run),
  ];
}

/**
 * Fleet verify's metrics: {@link verifyMetrics} of each directory (a `null` report: that
 * directory ended in an error), in one file with one sample per directory in each family
 * (every series carries its `dir` label).
 */
export function fleetVerifyMetrics(dirs: readonly { report: DirectoryReport | null; run: RunInfo }[]): MetricFamily[] {
  const merged = new Map<string, { family: MetricFamily; samples: Sample[] }>();
  for (const { report, run } of dirs)
    for (const f of verifyMetrics(report, run)) {
      const into = merged.get(f.name);
      if (into) into.samples.push(...f.samples);
      else merged.set(f.name, { family: f, samples: [...f.samples] });
    }
  return [...merged.values()].map(({ family, samples }) => ({ ...family, samples }));
}

/** `checkpoint`'s metrics; `signed` is null when nothing was signed (an error, a chain not intact). */
export function checkpointMetrics(
  signed: { store: string; time: string; entries: number } | null,
  run: RunInfo,
): MetricFamily[] {
  const labels = signed ? { dir: run.dir, store: signed.store } : null;
  const at = epochSeconds(signed?.time);
  return [
    family('loki_audit_checkpoint_exit_code', [{ labels: { dir: run.dir }, value: run.exitCode }]),
    family('loki_audit_checkpoint_signed_timestamp_seconds', labels && at !== null ? [{ labels, value: at }] : []),
    family('loki_audit_checkpoint_signed_entries', labels && signed ? [{ labels, value: signed.entries }] : []),
    ...runFamilies(run),
  ];
}

/** One forward target's numbers: lag and dead letters now, entries taken in total (see {@link forwardMetrics}). */
export interface ForwardTargetMetrics {
  /** The audit directory, absolute (default: the run's). */
  dir?: string;
  target: string;
  /** Entries after the target's position; null when unknown. */
  lag: number | null;
  deliveredTotal: number;
  deadLetters: number;
}

/** `forward --checkpoint-every`'s numbers (see {@link forwardMetrics}). */
export interface ForwardCheckpointMetrics {
  dir: string;
  store: string;
  /** A signed checkpoint is not in the store yet. */
  pending: boolean;
  /** The chain broke: no checkpoint is signed past it. */
  broken: boolean;
  /** Entries of the newest checkpoint pushed in this run; null: none yet. */
  entries: number | null;
}

/**
 * `forward`'s metrics, one sample per target, and with `checkpoints` those of
 * `--checkpoint-every`. `run` is null while a `--follow` run goes on (no exit code yet, no run
 * families: the last run is still the previous one).
 */
export function forwardMetrics(
  targets: readonly ForwardTargetMetrics[],
  run: RunInfo | null,
  checkpoints: ForwardCheckpointMetrics | null = null,
): MetricFamily[] {
  const dir = run?.dir ?? '';
  const per = (t: ForwardTargetMetrics) => ({ dir: t.dir ?? dir, target: t.target });
  const cp = checkpoints && { dir: checkpoints.dir, store: checkpoints.store };
  const checkpointFamilies = checkpoints
    ? [
        family('loki_audit_forward_checkpoint_pending', [{ labels: cp!, value: checkpoints.pending ? 1 : 0 }]),
        family('loki_audit_forward_checkpoint_chain_broken', [
          { labels: { dir: checkpoints.dir }, value: checkpoints.broken ? 1 : 0 },
        ]),
        family(
          'loki_audit_forward_checkpoint_signed_entries',
          checkpoints.entries === null ? [] : [{ labels: cp!, value: checkpoints.entries }],
        ),
      ]
    : [];
  return [
    family('loki_audit_forward_exit_code', run ? [{ labels: { dir: run.dir }, value: run.exitCode }] : []),
    family(
      'loki_audit_forward_lag_entries',
      targets.filter((t) => t.lag !== null).map((t) => ({ labels: per(t), value: t.lag as number })),
    ),
    family(
      'loki_audit_forward_delivered_total',
      targets.map((t) => ({ labels: per(t), value: t.deliveredTotal })),
    ),
    family(
      'loki_audit_dead_letter_entries',
      targets.map((t) => ({ labels: per(t), value: t.deadLetters })),
    ),
    ...checkpointFamilies,
    ...(run ? runFamilies(run) : []),
  ];
}

/**
 * Values a previous run left in the metrics file at `path`, for what carries over from run to
 * run (the last success, counters summed over runs): the value of each sample line whose name
 * and label set are exactly `series` (as {@link seriesKey} writes them). Only a regular file of
 * at most 1 MiB is read; anything else (none, a link, unreadable) gives an empty map.
 */
export function previousValues(path: string): Map<string, number> {
  const out = new Map<string, number>();
  try {
    const st = lstatSync(path);
    if (!st.isFile() || st.size > 1024 * 1024) return out;
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (line.startsWith('#')) continue;
      const sp = line.lastIndexOf(' ');
      const v = Number(line.slice(sp + 1));
      if (sp > 0 && Number.isFinite(v)) out.set(line.slice(0, sp), v);
    }
  } catch {
    // No previous file (or an unreadable one): nothing carries over.
  }
  return out;
}

/** A sample's name and labels as the text format writes them (the key of {@link previousValues}). */
function seriesKey(name: MetricName, labels: Record<string, string>): string {
  const line = formatExposition([{ ...family(name, [{ labels, value: 0 }]) }]).split('\n')[2];
  return line.slice(0, line.lastIndexOf(' '));
}

/** When the last successful run of `command` on `dir` ended, from the previous file, seconds; or null. */
export function previousSuccess(previous: Map<string, number>, command: MetricsCommand, dir: string): number | null {
  return previous.get(seriesKey('loki_audit_last_success_timestamp_seconds', { command, dir })) ?? null;
}

/** A forward target's delivered total from the previous file (0 when none). */
export function previousDelivered(previous: Map<string, number>, dir: string, target: string): number {
  return previous.get(seriesKey('loki_audit_forward_delivered_total', { dir, target })) ?? 0;
}

/**
 * Writes `families` to `path` atomically (a temporary file in the same directory, renamed over
 * it: node_exporter never reads half a file), mode 644 (metrics are not secret; node_exporter
 * runs as another user).
 * @throws UnsafeFileError when `path` is a link or not a regular file; DiskFullError;
 *   NodeJS.ErrnoException on other I/O errors (ENOENT for a missing directory).
 */
export function writeMetricsFile(path: string, families: readonly MetricFamily[]): void {
  writeFileAtomic(path, formatExposition(families), 0o644);
}

/** Every metric name loki-audit writes (docs and alert rules are checked against it). */
export const METRIC_NAMES: readonly string[] = Object.keys(DEFS);
