/**
 * Human output of fleet verify (several directories): one verdict line per directory, in the
 * order given, and one summary line. `--quiet` prints only the directories that failed, each
 * with the entry at fault and the next steps of the 3 a.m. message (output/verify.ts), and the
 * summary line; nothing when every directory exited 0. Paths and values from the logs go
 * through safeText: a directory name cannot forge a line.
 */
import type { ChalkInstance } from 'chalk';
import { SEVERITY, type VerdictClass } from '../core/chain/verdict.js';
import { safeText } from '../formats/escape.js';
import { CLASS_TITLES, nextStepLines, type JudgedReport } from './verify.js';

/** A directory whose verification ended in an error before a verdict (missing, empty, unreadable). */
export interface FleetDirError {
  dir: string;
  verdict: 'error';
  exitCode: number;
  ok: false;
  /** The one-line message (what a single-directory run prints after `error:`). */
  error: string;
}

/** One directory of a fleet run: its judged report (as `verify --json` prints it), or its error. */
export type FleetDirResult = (JudgedReport & { ok: boolean }) | FleetDirError;

/** The classes a fleet summary counts: verify's, most severe first, then `error`. */
const FLEET_CLASSES: readonly (VerdictClass | 'error')[] = [...SEVERITY, 'error'];

/** The closing numbers of a fleet run (`summary` of `verify --json`). */
export interface FleetSummary {
  directories: number;
  /** Directories per class (every class of {@link FLEET_CLASSES}, 0 included). */
  classes: Record<VerdictClass | 'error', number>;
  /** Directories that did not exit 0. */
  failing: number;
  /** The run's exit code: the most severe of the directories' (src/cli/exit-codes.ts). */
  exitCode: number;
  ok: boolean;
}

/** Counts `results` into a {@link FleetSummary} with the run's `exitCode`. */
export function fleetSummary(results: readonly Pick<FleetDirResult, 'verdict' | 'exitCode'>[], exitCode: number) {
  const classes = Object.fromEntries(FLEET_CLASSES.map((c) => [c, 0])) as FleetSummary['classes'];
  for (const r of results) classes[r.verdict]++;
  const summary: FleetSummary = {
    directories: results.length,
    classes,
    failing: results.filter((r) => r.exitCode !== 0).length,
    exitCode,
    ok: exitCode === 0,
  };
  return summary;
}

/**
 * One directory's line: its class, the directory, files and entries, the first problem, exit code.
 * `intact  /srv/a/audit: 3 file(s), 1200 entries verified (exit 0)`.
 */
function fleetVerdictLine(r: FleetDirResult, c: ChalkInstance): string {
  const dir = safeText(r.dir);
  if (r.verdict === 'error') return `${c.red.bold('error')}  ${dir}: ${safeText(r.error)} (exit ${r.exitCode})`;
  const title = CLASS_TITLES[r.verdict];
  const painted =
    r.verdict === 'intact' ? c.green.bold(title) : r.exitCode === 1 ? c.red.bold(title) : c.yellow.bold(title);
  const parts = [`${painted}  ${dir}: ${r.filesChecked} file(s), ${r.entriesVerified} entries verified`];
  const f = r.firstProblem;
  if (f) parts.push(`first problem ${safeText(f.file)}:${f.line} (${safeText(f.reason)})`);
  if (r.problems > 1) parts.push(`${r.problems} problems`);
  if (r.strict && r.exitCode === 1 && r.verdict !== 'tampered') parts.push('failed by --strict');
  return parts.join('; ') + ` (exit ${r.exitCode})`;
}

/** `50 directories: 41 intact, 3 tampered, 2 incomplete, 4 error (exit 1)`: the non-zero classes, most severe first. */
export function fleetSummaryLine(s: FleetSummary, c: ChalkInstance): string {
  const counts = FLEET_CLASSES.filter((k) => s.classes[k] > 0).map((k) => `${s.classes[k]} ${k}`);
  const text =
    `${s.directories} director${s.directories === 1 ? 'y' : 'ies'}: ` +
    `${counts.join(', ') || 'none'} (exit ${s.exitCode})`;
  return s.ok ? text : c.bold(text);
}

/**
 * The lines one directory adds to the output: its verdict line; with `quiet`, nothing for a
 * directory that exited 0, and after a failing one's line the entry at fault and next steps.
 */
export function fleetDirLines(r: FleetDirResult, c: ChalkInstance, { quiet = false } = {}): string {
  if (quiet && r.exitCode === 0) return '';
  const lines = [fleetVerdictLine(r, c)];
  // nextStepLines' first line says what its class means, in the verdict line's words already.
  if (quiet && r.verdict !== 'error') lines.push(...nextStepLines(r).slice(1));
  return lines.join('\n') + '\n';
}
