/**
 * Fleet verify: `verify` over several directories (`--dir` repeated, `--dirs-from FILE`, a glob
 * such as `/srv/fleet/*\/audit`). Which directories (expanded here, globs by tinyglobby), which
 * flags cannot apply to several (refused), and the run: every directory verified on a worker
 * thread (core/chain/fleet.ts), one verdict line each as soon as it and those before it are
 * done, a summary line, and the most severe exit code ({@link fleetExitCode}). docs/verify.md
 * "Several directories (a fleet)".
 */
import { existsSync, readFileSync } from 'node:fs';
import { isDynamicPattern, globSync } from 'tinyglobby';
import type { ChalkInstance } from 'chalk';
import { planFleet, verifyFleet, type FleetAnswer, type FleetVerifyOptions } from '../core/chain/fleet.js';
import type { StreamKind } from '../core/read/streams.js';
import {
  fleetDirLines,
  fleetSummary,
  fleetSummaryLine,
  type FleetDirResult,
  type FleetSummary,
} from '../output/fleet.js';
import { fleetVerifyMetrics } from '../output/metrics.js';
import { Exit, fleetExitCode, judgeVerify } from './exit-codes.js';
import type { MetricsRun } from './metrics-flags.js';
import { expandPath } from './paths.js';
import { fail } from './usage-errors.js';

/** What `verify --json` prints for several directories. */
export interface FleetReport {
  directories: FleetDirResult[];
  summary: FleetSummary;
}

/** Where the directories come from: `--dir` (repeated), the DIR argument, `--dirs-from`. */
export interface FleetInput {
  dirs: readonly string[];
  arg?: string;
  dirsFrom?: string;
}

/** A directory to verify, or a pattern that matched none (an error line of its own). */
export type FleetTarget = { dir: string } | { dir: string; unmatched: true };

/**
 * The directories of a fleet run, in the order given (a glob's matches sorted), each once; or
 * null when the input is one plain directory (or none: the default), which `verify` verifies
 * as it always has. A value that names an existing path is that path even when it holds glob
 * characters; otherwise one with `*`, `?`, `[…]` or `{…}` is a glob over directories. A glob that
 * matches nothing is kept as an `unmatched` target (reported, exit 3), not dropped.
 * `--dirs-from FILE` (`-`: standard input): one path or glob per line, surrounding blanks
 * trimmed; blank lines and lines starting with `#` are skipped.
 * @throws CLIError (exit 3) when `--dirs-from` cannot be read; (exit 2) when it lists nothing.
 */
export function fleetTargets(
  input: FleetInput,
  env: NodeJS.ProcessEnv = process.env,
  readStdin: () => string = () => readFileSync(0, 'utf8'),
): FleetTarget[] | null {
  const given = [...input.dirs, ...(input.arg === undefined ? [] : [input.arg])];
  if (input.dirsFrom !== undefined)
    given.push(...dirsFromFile(input.dirsFrom === '-' ? '-' : expandPath(input.dirsFrom, env), readStdin));
  const globbed = given.some((g) => isGlob(expandPath(g, env)));
  if (input.dirsFrom === undefined && given.length <= 1 && !globbed) return null;
  if (given.length === 0) fail(`--dirs-from ${input.dirsFrom}: lists no directory`, Exit.usage);
  const seen = new Set<string>();
  const out: FleetTarget[] = [];
  for (const g of given) {
    const path = expandPath(g, env);
    const matches = isGlob(path) ? globDirectories(path) : [path];
    if (matches.length === 0) out.push({ dir: path, unmatched: true });
    for (const dir of matches) {
      if (seen.has(dir)) continue;
      seen.add(dir);
      out.push({ dir });
    }
  }
  return out;
}

function isGlob(path: string): boolean {
  return isDynamicPattern(path) && !existsSync(path);
}

/** The directories `pattern` matches, absolute, sorted, without a trailing slash. */
function globDirectories(pattern: string): string[] {
  return globSync(pattern, {
    onlyDirectories: true,
    absolute: true,
    expandDirectories: false,
    followSymbolicLinks: true,
  })
    .map((d) => (d.length > 1 ? d.replace(/\/+$/, '') : d))
    .sort();
}

function dirsFromFile(file: string, readStdin: () => string): string[] {
  let text: string;
  try {
    text = file === '-' ? readStdin() : readFileSync(file, 'utf8');
  } catch (err) {
    fail(
      `--dirs-from ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      Exit.io,
    );
  }
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** The verify flags that hold one directory's state or anchors, and why they cannot apply to several. */
const ONE_DIRECTORY_FLAGS: readonly [string, string][] = [
  ['state', "remembers one directory's verified chain"],
  ['checkpoints', "holds one chain's signed heads"],
  ['expect-head', "names one chain's head"],
  ['against-loki', "compares one directory's entries with their copy in Loki"],
  ['stdin', 'reads one chain from standard input'],
];

/**
 * Refuses flags that are one directory's (state, anchors, standard input) in a fleet run.
 * @throws CLIError (usage, exit 2) naming the flag, with the way out.
 */
export function refuseOneDirectoryFlags(flags: Record<string, unknown>, count: number): void {
  for (const [name, why] of ONE_DIRECTORY_FLAGS) {
    const v = flags[name];
    if (v === undefined || v === false || (Array.isArray(v) && v.length === 0)) continue;
    fail(`--${name} ${why}: it cannot be used with several directories (${count} given)`, Exit.usage, [
      `run verify once per directory for --${name}: for d in DIRS; do loki-audit verify --dir "$d" --${name} …; done`,
    ]);
  }
}

/** The exit code of a directory whose verification ended in an error (a worker's answer). */
function errorExit(error: Extract<FleetAnswer, { ok: false }>['error']): number {
  if (error.name === 'NoChainError') return Exit.streamUnsupported;
  if (error.name === 'DiskFullError' || error.code === 'ENOSPC' || error.code === 'EDQUOT') return Exit.diskFull;
  return Exit.io;
}

/** What a fleet run is given besides its directories. */
export interface FleetRunOptions {
  verify: FleetVerifyOptions;
  stream?: StreamKind;
  /** `--jobs`: threads in all (default: the machine's, `os.availableParallelism()`). */
  threads?: number;
  quiet: boolean;
  /** `--json`: print nothing here (the command prints the returned report). */
  json: boolean;
  chalk: ChalkInstance;
  metrics: MetricsRun | null;
  /** Where text goes (stdout). */
  out: (text: string) => void;
}

/**
 * Verifies every target, prints (unless `json`) each directory's lines in order as they are
 * ready and the summary line, writes the metrics file (one series per directory), and returns
 * the whole report; the process's exit code is set to the most severe directory's.
 */
export async function runFleetVerify(targets: readonly FleetTarget[], o: FleetRunOptions): Promise<FleetReport> {
  const results: FleetDirResult[] = new Array(targets.length);
  const toVerify = targets.map((t, i) => ({ t, i })).filter(({ t }) => !('unmatched' in t));
  const plan = planFleet(toVerify.length, o.threads);
  let printed = 0;
  const print = (): void => {
    while (printed < targets.length && results[printed]) {
      if (!o.json) o.out(fleetDirLines(results[printed], o.chalk, { quiet: o.quiet }));
      printed++;
    }
  };
  for (const [i, t] of targets.entries())
    if ('unmatched' in t)
      results[i] = { dir: t.dir, verdict: 'error', exitCode: Exit.io, ok: false, error: 'no directory matches' };
  print();
  await verifyFleet(
    toVerify.map(({ t }) => ({ dir: t.dir, stream: o.stream, options: { ...o.verify, jobs: plan.jobsPerDir } })),
    {
      concurrency: plan.concurrency,
      onResult: (k, answer) => {
        const { t, i } = toVerify[k];
        results[i] = answer.ok
          ? judgeVerify(answer.report)
          : { dir: t.dir, verdict: 'error', exitCode: errorExit(answer.error), ok: false, error: answer.error.message };
        print();
      },
    },
  );
  const exitCode = fleetExitCode(results.map((r) => r.exitCode));
  process.exitCode = exitCode;
  const summary = fleetSummary(results, exitCode);
  o.metrics?.write(
    fleetVerifyMetrics(
      results.map((r) => ({
        report: r.verdict === 'error' ? null : r,
        run: o.metrics!.info(r.exitCode, r.dir),
      })),
    ),
  );
  if (!o.json && (!o.quiet || !summary.ok)) o.out(fleetSummaryLine(summary, o.chalk) + '\n');
  return { directories: results, summary };
}
