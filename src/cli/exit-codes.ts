/**
 * Every exit code of every command, in one table. Exit codes are a stable interface: cron jobs,
 * systemd units and alert rules depend on them, so a code never changes meaning once released.
 * docs/exit-codes.md is generated from {@link EXIT_CODE_TABLE} (`npm run docs:exit-codes`), and a
 * test fails when the two differ, so a code cannot be added without its row.
 */
import type { VerdictClass } from '../core/chain/verdict.js';
import type { TargetRefusal } from '../core/forward/target.js';

/** Exit codes by name. Some numbers mean different things to different commands (see the table). */
export const Exit = {
  /** Done: intact, delivered, written; something matched. */
  ok: 0,
  /** `verify`: tampered (or anything not intact with `--strict`). */
  tampered: 1,
  /** `search`: nothing matched (like grep). */
  noMatch: 1,
  /** `tail -f --verify`: a chain break was seen. */
  chainBreak: 1,
  /** `checkpoint`: the chain is not intact, nothing was signed. */
  notIntact: 1,
  /** Bad flag, value, time, level, regex or configuration. */
  usage: 2,
  /** The audit directory is missing, empty or unreadable, or a file in it could not be read. */
  io: 3,
  /** `verify`: the last line is a torn write. */
  incomplete: 4,
  /** `verify`: a writer fork (restart, clock step, two writers). */
  fork: 5,
  /** `verify`: the history starts mid-chain (oldest files removed). */
  midChain: 6,
  /** `verify`: a Loki Mode writer quirk (entry matches the writer's own hash, not its verifier's). */
  quirk: 7,
  /** `verify`: a line that cannot be read as an entry. */
  unreadableLine: 8,
  /** `forward`: a target stayed unreachable; positions saved. */
  targetUnreachable: 9,
  /** `forward`: the state file does not match the directory, or is corrupt. */
  stateMismatch: 10,
  /** `forward`: some entries were refused for good (dead-letter file). */
  deadLettered: 11,
  /** `verify`: an outside anchor (checkpoint, expected head, Loki) is no longer in the chain. */
  anchorMismatch: 12,
  /** `verify --state`: the state file is corrupt or belongs to another directory. */
  verifyState: 13,
  /**
   * The stream cannot do what was asked: verify (or `tail --verify`) of a stream with no hash
   * chain, forward of anything but the dashboard chain.
   */
  streamUnsupported: 14,
  /** `forward`: a target refused the credentials (HTTP 401/403); positions kept. */
  targetCredentials: 15,
  /** `forward`: nothing takes pushes at a target's URL (HTTP 404): its path is wrong; positions kept. */
  targetPath: 16,
  /** `forward`: a target refuses even a push of one entry as too large (HTTP 413); positions kept. */
  targetTooLarge: 17,
  /** `forward`: a target refused every push for another reason than its entries (a RELP `open`); positions kept. */
  targetRefused: 18,
  /** `forward`: a target's TLS certificate does not verify (unknown CA, wrong name); positions kept. */
  targetTlsTrust: 20,
  /** A file could not be written for want of space (ENOSPC) or quota (EDQUOT); nothing half-written. */
  diskFull: 19,
  /** `verify --max-age`: the chain head is older than allowed (the writer went silent, or newest entries removed). */
  staleHead: 21,
  /** `verify --max-checkpoint-age`: the newest signed checkpoint is older than allowed, or there is none. */
  staleCheckpoint: 22,
  /**
   * A defect in loki-audit itself (an error no input should cause), never a verdict: sysexits.h
   * EX_SOFTWARE, so that a crash is not read as exit 1 (tampered, no match).
   */
  internal: 70,
} as const;

export type ExitName = keyof typeof Exit;

/** One row of the table: a code, its name in {@link Exit}, and what it means to which commands. */
export interface ExitCodeRow {
  code: number;
  /** Its name in {@link Exit}. */
  name: ExitName;
  /** The commands that end with it (`all`, or command ids). */
  commands: readonly string[] | 'all';
  meaning: string;
}

/** The documented table, in code order (docs/exit-codes.md). */
export const EXIT_CODE_TABLE: readonly ExitCodeRow[] = [
  { code: 0, name: 'ok', commands: 'all', meaning: 'done: intact, matched, delivered, written' },
  { code: 1, name: 'tampered', commands: ['verify'], meaning: 'tampered; with `--strict`: anything not intact' },
  { code: 1, name: 'noMatch', commands: ['search'], meaning: 'nothing matched (like grep)' },
  { code: 1, name: 'chainBreak', commands: ['tail'], meaning: '`--follow --verify` saw a chain break' },
  { code: 1, name: 'notIntact', commands: ['checkpoint'], meaning: 'the chain is not intact: nothing was signed' },
  {
    code: 2,
    name: 'usage',
    commands: 'all',
    meaning:
      'bad flag, value, time, level, regex or configuration file; `export --output-file FILE` exists without `--force`',
  },
  {
    code: 3,
    name: 'io',
    commands: 'all',
    meaning: 'audit directory missing, empty or unreadable, or a file in it could not be read',
  },
  {
    code: 4,
    name: 'incomplete',
    commands: ['verify'],
    meaning: 'the last line is a torn write (a writer crashed mid-append); the rest verifies',
  },
  {
    code: 5,
    name: 'fork',
    commands: ['verify'],
    meaning: 'a writer fork: a restart lost its tip, a clock step, or two writers',
  },
  {
    code: 6,
    name: 'midChain',
    commands: ['verify'],
    meaning: 'the history starts mid-chain: the oldest files or entries are gone',
  },
  {
    code: 7,
    name: 'quirk',
    commands: ['verify'],
    meaning: "a Loki Mode writer quirk: an entry matches the writer's hash, not its verifier's",
  },
  {
    code: 8,
    name: 'unreadableLine',
    commands: ['verify'],
    meaning:
      'a line that cannot be read as an entry (invalid UTF-8, not a ' +
      'JSON object, too long, too deep), across which the chain continues',
  },
  {
    code: 9,
    name: 'targetUnreachable',
    commands: ['forward', 'search', 'summary'],
    meaning:
      'a target stayed unreachable; positions saved, run again to resume ' +
      '(`--from-loki`: Loki cannot be reached, or answered 429/5xx)',
  },
  {
    code: 10,
    name: 'stateMismatch',
    commands: ['forward'],
    meaning: 'the state file does not match the directory (a forwarded file was rewritten or removed) or is corrupt',
  },
  {
    code: 11,
    name: 'deadLettered',
    commands: ['forward'],
    meaning:
      'some entries were refused for good and written to the ' +
      'dead-letter file (`--replay-dead-letter`: some stay in it)',
  },
  {
    code: 12,
    name: 'anchorMismatch',
    commands: ['verify'],
    meaning:
      'a checkpointed, expected or forwarded head is no longer in the chain, or a checkpoint signature is invalid',
  },
  {
    code: 13,
    name: 'verifyState',
    commands: ['verify'],
    meaning: 'the `--state` file is corrupt or belongs to another directory',
  },
  {
    code: 14,
    name: 'streamUnsupported',
    commands: ['verify', 'tail', 'forward'],
    meaning:
      'the stream cannot do this: `verify` or `tail --verify` of a stream ' +
      'without a hash chain (the agent or session audit; `tail --verify`: anything ' +
      'but the dashboard chain); `forward` of anything but the dashboard chain',
  },
  {
    code: 15,
    name: 'targetCredentials',
    commands: ['forward', 'search', 'summary'],
    meaning:
      'a target (`--from-loki`: Loki) refused the credentials ' +
      '(HTTP 401/403); forward: no entry set aside, positions kept',
  },
  {
    code: 16,
    name: 'targetPath',
    commands: ['forward', 'search', 'summary'],
    meaning:
      "nothing takes pushes (`--from-loki`: queries) at a target's URL (HTTP 404, " +
      "e.g. a proxy's prefix missing); forward: no entry set aside, positions kept",
  },
  {
    code: 17,
    name: 'targetTooLarge',
    commands: ['forward'],
    meaning:
      'a target refuses even a push of a single entry as too large (HTTP 413) and took no smaller one; positions kept',
  },
  {
    code: 18,
    name: 'targetRefused',
    commands: ['forward', 'search', 'summary'],
    meaning:
      'a target refused the pushes themselves, not an entry in them (another 4xx; a RELP ' +
      'server refusing the session; `--from-loki`: Loki refused the query); positions kept',
  },
  {
    code: 19,
    name: 'diskFull',
    commands: ['append', 'forward', 'verify', 'checkpoint', 'export'],
    meaning:
      'disk full (ENOSPC) or quota exceeded (EDQUOT) while ' +
      'writing the file the message names: nothing was half-written',
  },
  {
    code: 20,
    name: 'targetTlsTrust',
    commands: ['forward', 'search', 'summary'],
    meaning:
      "a target's TLS certificate does not verify (unknown CA, self-signed, another host " +
      'name, expired): a configuration error, not retried, also with `--follow`; positions kept',
  },
  {
    code: 21,
    name: 'staleHead',
    commands: ['verify'],
    meaning:
      '`--max-age`: the chain head is older than allowed, or has no time: the ' +
      'writer went silent, or the newest entries were removed; tampering, anchor ' +
      'mismatch, unreadable lines and files win over it (exit 1, 12, 8, 3)',
  },
  {
    code: 22,
    name: 'staleCheckpoint',
    commands: ['verify'],
    meaning:
      '`--max-checkpoint-age`: the newest validly signed checkpoint is older ' +
      'than allowed, or the store holds none; a stale head (21) wins over it',
  },
  {
    code: 70,
    name: 'internal',
    commands: 'all',
    meaning:
      'a defect in loki-audit, not a verdict on the log (sysexits EX_SOFTWARE): the message ' +
      'names the error, `LOKI_AUDIT_DEBUG=1` adds its stack; please report it',
  },
];

/** The exit code of each verify verdict class. */
export const VERDICT_EXIT: Readonly<Record<VerdictClass, number>> = {
  intact: Exit.ok,
  tampered: Exit.tampered,
  'io-error': Exit.io,
  incomplete: Exit.incomplete,
  fork: Exit.fork,
  'mid-chain': Exit.midChain,
  quirk: Exit.quirk,
  unreadable: Exit.unreadableLine,
  'anchor-mismatch': Exit.anchorMismatch,
  'stale-head': Exit.staleHead,
  'stale-checkpoint': Exit.staleCheckpoint,
};

/** The table as docs/exit-codes.md holds it (between its generated-table markers). */
export function exitCodesMarkdown(): string {
  const rows = EXIT_CODE_TABLE.map(
    (r) => `| ${r.code} | ${r.name} | ${r.commands === 'all' ? 'all' : r.commands.join(', ')} | ${r.meaning} |`,
  );
  return ['| code | name | commands | meaning |', '|---:|---|---|---|', ...rows].join('\n') + '\n';
}

/** The codes one command ends with, for its `--help`: `Exit codes: 0 done …; see docs/exit-codes.md.` */
export function exitCodesHelp(command: string): string {
  const rows = EXIT_CODE_TABLE.filter((r) => r.commands === 'all' || r.commands.includes(command));
  return `Exit codes: ${rows.map((r) => `${r.code} ${r.meaning}`).join('; ')}. See docs/exit-codes.md.`;
}

/** What decides verify's exit code: the verdict, and whether `--strict` was asked for and fails. */
export interface VerifyOutcome {
  verdict: VerdictClass;
  strict: boolean;
  failsStrict: boolean;
}

/** A report with its exit code and `ok` (exit 0), as `verify --json` prints it. */
export type Judged<T extends VerifyOutcome> = T & { exitCode: number; ok: boolean };

/** Verify's exit code: the verdict's, or 1 under `--strict` when anything is not intact or noted. */
export function judgeVerify<T extends VerifyOutcome>(report: T): Judged<T> {
  const exitCode = report.strict && report.failsStrict ? Exit.tampered : VERDICT_EXIT[report.verdict];
  return { ...report, exitCode, ok: exitCode === Exit.ok };
}

/** The exit code of each refusal that stops a target's run. */
const STOPPED_EXIT: Readonly<Record<TargetRefusal, number>> = {
  credentials: Exit.targetCredentials,
  path: Exit.targetPath,
  'too-large': Exit.targetTooLarge,
  target: Exit.targetRefused,
  'tls-trust': Exit.targetTlsTrust,
};

/**
 * Forward's exit code: a target that refused the pushes (someone must fix it: the first such
 * target's), else a target given up on (run again later), else a file that could not be read,
 * else entries refused, else 0.
 */
export function forwardExitCode(
  reports: ReadonlyArray<{
    error: string | null;
    stopped?: TargetRefusal | null;
    deadLettered: number;
    unreadable?: readonly string[];
  }>,
): number {
  const stopped = reports.find((r) => r.stopped)?.stopped;
  if (stopped) return STOPPED_EXIT[stopped];
  if (reports.some((r) => r.error)) return Exit.targetUnreachable;
  if (reports.some((r) => (r.unreadable?.length ?? 0) > 0)) return Exit.io;
  if (reports.some((r) => r.deadLettered > 0)) return Exit.deadLettered;
  return Exit.ok;
}

/**
 * Fleet verify (several directories): the exit codes of its directories, most severe first;
 * the run exits with the first of them any directory ended with (docs/verify.md, docs/exit-codes.md).
 * What proves a chain altered comes first, so that in cron a tampered directory is never hidden
 * behind another directory's error: tampered (or failed by `--strict`), anchor mismatch,
 * unreadable line; then a directory that could not be verified at all (missing, empty or
 * unreadable: io; disk full; a stream without a chain); then freshness; then the writer's own
 * accidents (mid-chain, fork, torn last line, quirk); 0 last.
 */
export const FLEET_EXIT_SEVERITY: readonly number[] = [
  Exit.tampered,
  Exit.anchorMismatch,
  Exit.unreadableLine,
  Exit.io,
  Exit.diskFull,
  Exit.streamUnsupported,
  Exit.staleHead,
  Exit.staleCheckpoint,
  Exit.midChain,
  Exit.fork,
  Exit.incomplete,
  Exit.quirk,
  Exit.ok,
];

/**
 * The exit code of a fleet run: the most severe of its directories' codes by
 * {@link FLEET_EXIT_SEVERITY}; a code not in that list (none is expected) ranks just below
 * tampered. 0 for no directory.
 */
export function fleetExitCode(codes: Iterable<number>): number {
  const rank = (c: number): number => (FLEET_EXIT_SEVERITY.includes(c) ? FLEET_EXIT_SEVERITY.indexOf(c) : 0.5);
  let worst: number = Exit.ok;
  for (const c of codes) if (rank(c) < rank(worst)) worst = c;
  return worst;
}
