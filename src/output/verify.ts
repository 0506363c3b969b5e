/**
 * Human output of `verify`: one line per file, each problem with its file, line, reason and
 * hashes, notes, and a closing verdict line. `--quiet` prints nothing when all is well.
 */
import type { ChalkInstance } from 'chalk';
import type { Finding, FindingEntry, Note } from '../core/chain/report.js';
import { KEPT_PER_KIND } from '../core/chain/bounded.js';
import type { DirectoryReport } from '../core/chain/directory.js';
import { STRICT_NOTES } from '../core/chain/directory.js';
import type { VerdictClass } from '../core/chain/verdict.js';
import { shortHash } from './text.js';
import { safeText } from '../formats/escape.js';
import { shellQuote } from '../formats/shell.js';
import { join } from 'node:path';

/** One line of explanation per class, for humans. */
export const CLASS_TITLES: Readonly<Record<VerdictClass, string>> = {
  intact: 'intact',
  tampered: 'TAMPERED',
  unreadable: 'unreadable line',
  'anchor-mismatch': 'ANCHOR MISMATCH',
  'io-error': 'unreadable file',
  'mid-chain': 'history starts mid-chain',
  fork: 'writer fork',
  incomplete: 'incomplete last line',
  quirk: 'Loki Mode writer quirk',
  'stale-head': 'STALE chain head',
  'stale-checkpoint': 'STALE checkpoint',
};

/**
 * What happened, in plain words, per class: the first sentence of the 3 a.m. message (what
 * `verify --quiet` prints, and cron mails, when something is wrong).
 */
export const WHAT_HAPPENED: Readonly<Record<Exclude<VerdictClass, 'intact'>, string>> = {
  tampered:
    'the audit log was changed after it was written: an entry ' +
    'was edited, removed, inserted or moved, or its hash removed',
  unreadable:
    'a line of the audit log is not an entry that can be read (damaged or ' +
    'written by something else), so the chain cannot be checked through it',
  'anchor-mismatch':
    'a chain head recorded outside the log (a signed checkpoint, --expect-head, the copy in Loki) ' +
    'is no longer in the chain: entries were removed or the history rewritten after it was recorded',
  'io-error': 'an audit file could not be read (permissions, a disk error, or not a regular file)',
  'mid-chain':
    'the oldest entry present does not start the chain: older files or entries ' +
    "were removed (Loki Mode's retention does this; so does someone deleting them)",
  fork:
    'the writer started a second chain here (a restart, a clock step or a second writer): ' +
    'not an edit, but the entries at the fork prove nothing about what came before',
  incomplete: 'a write was cut off (a crash, a power loss or a full disk while writing): the line is not a whole entry',
  quirk:
    "Loki Mode's writer wrote an entry its own verifier rejects " +
    '(a known writer bug): the hash matches, nothing was changed',
  'stale-head':
    'the newest entry is older than --max-age: the writer went silent (Loki ' +
    'Mode stopped, or writes elsewhere), or the newest entries were removed',
  'stale-checkpoint':
    'the newest signed checkpoint is older than --max-checkpoint-age (or there ' +
    'is none): the checkpoint job stopped running, or the store was emptied',
};

/** Where a reason says more than its class: what happened instead of {@link WHAT_HAPPENED}. */
const REASON_HAPPENED: Readonly<Partial<Record<Finding['reason'], string>>> = {
  'checkpoint-signature':
    'a signed checkpoint does not verify with this key: it was forged or ' +
    'altered, or signed with another key, so the head it names was not checked',
};

/** A stored hash fit to paste into a command: 64 hex digits, else nothing (it is text from the log). */
function pastableHash(h: string | null | undefined): string | null {
  return h && /^[0-9a-f]{64}$/.test(h) ? h : null;
}

/**
 * `--since`/`--until` from the entry before it to the entry after it (the entry's own time where
 * a neighbour is unknown), in whole milliseconds that include both (`--until` is exclusive and
 * entries hold microseconds); null when no time can be read.
 */
function aroundTime(e: FindingEntry): [string, string] | null {
  const times = [e.before, e.timestamp, e.after].map((t) => (t ? Date.parse(t) : NaN)).filter((t) => !Number.isNaN(t));
  if (!times.length) return null;
  return [new Date(Math.min(...times)).toISOString(), new Date(Math.max(...times) + 1).toISOString()];
}

/**
 * The 3 a.m. message for the first problem: the directory, what happened in plain words, the
 * entry at fault (file:line, its time, event and actor, escaped: they come from the log) or
 * what is known of it, and the commands to run next (the entry and its neighbours with
 * `search`, the forwarded copy in Loki by its stored hash, the full report). Every value from
 * the log or the file system goes through safeText; command words through shellQuote too.
 */
export function nextStepLines(r: JudgedReport, bin = 'loki-audit'): string[] {
  const f = r.firstProblem;
  if (!f) return [];
  const dir = shellQuote(r.dir);
  const stdin = r.dir === '<stdin>';
  const at = f.line > 0 ? `${f.file}:${f.line}` : null;
  const anchor = f.class === 'anchor-mismatch';
  const out = [`${CLASS_TITLES[f.class]} in ${r.dir}: ${REASON_HAPPENED[f.reason] ?? WHAT_HAPPENED[f.class]}.`];
  const e = f.entry;
  if (e)
    out.push(
      `  entry ${at}: time ${e.timestamp || '(none)'}, event ${e.event}, ` +
        `actor ${e.actor}${e.hash ? `, hash ${shortHash(e.hash)}` : ''}`,
    );
  else if (f.class === 'io-error') out.push(`  file ${f.file}: cannot be read, so none of its entries were checked`);
  else if (f.reason === 'checkpoint-signature' && at) out.push(`  the checkpoint names ${at} as the head`);
  else if (anchor && at) out.push(`  the head was at ${at} when it was recorded`);
  else if (at) out.push(`  entry ${at}: the line cannot be read as an entry (${f.reason})`);
  const steps: [string, string][] = [];
  const jsAuditLog = r.files.find((x) => x.file === f.file)?.schema === 'js-auditlog';
  const js = jsAuditLog ? ' --stream js' : '';
  const hash = pastableHash(e?.hash);
  if (!stdin && e && hash && e.hashField)
    steps.push([`${bin} search --dir ${dir}${js} --field ${e.hashField}=${hash}`, 'show the entry']);
  const around = e ? aroundTime(e) : null;
  if (!stdin && around)
    steps.push([`${bin} search --dir ${dir}${js} --since ${around[0]} --until ${around[1]}`, 'the entries around it']);
  // The file's path; under --state the report lists only the files it read again.
  const path =
    r.files.find((x) => x.file === f.file)?.path ?? (f.file !== '-' && !stdin ? join(r.dir, f.file) : undefined);
  // A file that cannot be read (a FIFO would block sed): what it is, its owner and mode.
  if (!stdin && f.class === 'io-error' && path) steps.push([`ls -l ${shellQuote(path)}`, 'what the file is']);
  else if (!stdin && !e && !anchor && at && path)
    steps.push([
      (path.endsWith('.gz')
        ? `zcat ${shellQuote(path)} | sed -n ${f.line}p`
        : `sed -n ${f.line}p ${shellQuote(path)}`) + ' | cat -v',
      'the line as it is on disk',
    ]);
  const lokiHash = hash ?? pastableHash(f.reason === 'head-missing' ? f.expected : f.stored);
  // forward sends the dashboard chain only (docs/forward.md): a JS AuditLog entry has no copy there.
  if (lokiHash && !jsAuditLog)
    steps.push([
      `{service_name="loki-audit"} |= "${lokiHash}"`,
      'LogQL: the copy `loki-audit forward` sent to Loki, as it was written',
    ]);
  if (!stdin) steps.push([`${bin} verify --dir ${dir}`, 'the full report']);
  if (steps.length) out.push('  next:');
  for (const [cmd, why] of steps) out.push(`    ${cmd}  # ${why}`);
  return out.map(safeText);
}

/** A report with the exit code the CLI gives it (src/cli/exit-codes.ts). */
export type JudgedReport = DirectoryReport & { exitCode: number };

function findingLines(f: Finding, c: ChalkInstance, indent: string): string[] {
  const color = f.class === 'tampered' || f.class === 'unreadable' || f.class === 'io-error' ? c.red : c.yellow;
  const lines = [
    `${indent}${color(`${safeText(f.file)}:${f.line}`)} ` +
      `${color.bold(CLASS_TITLES[f.class])} (${safeText(f.reason)}): ${safeText(f.message)}`,
  ];
  // A stored hash is whatever the line holds: text from the log like any other.
  if (f.expected || f.stored)
    lines.push(
      `${indent}    expected ${safeText(f.expected ?? '-')}`,
      `${indent}    stored   ${safeText(f.stored ?? '-')}`,
    );
  if (f.chainsFrom)
    lines.push(
      `${indent}    chains from ` +
        `${safeText(f.chainsFrom)}${f.seenAt ? ` (${safeText(f.seenAt.file)}:${f.seenAt.line})` : ' (genesis)'}`,
    );
  return lines;
}

/** What was counted but not shown: per class, after the first {@link KEPT_PER_KIND} of each. */
function omittedLines(r: JudgedReport, c: ChalkInstance): string[] {
  return Object.entries(r.omitted?.findings ?? {}).map(([cls, n]) =>
    c.yellow(
      `… and ${n} more ${CLASS_TITLES[cls as VerdictClass]} finding(s) not shown ` +
        `(the first ${KEPT_PER_KIND} of each class are; --json counts them all)`,
    ),
  );
}

/** The closing line: verdict, counts, first problem, chain head, exit code. */
export function verdictLine(r: JudgedReport, c: ChalkInstance): string {
  const title = CLASS_TITLES[r.verdict];
  const painted =
    r.verdict === 'intact' ? c.green.bold(title) : r.exitCode === 1 ? c.red.bold(title) : c.yellow.bold(title);
  const parts = [`${painted}: ${r.filesChecked} file(s), ${r.entriesVerified} entries verified`];
  if (r.firstProblem)
    parts.push(
      `first problem ${safeText(r.firstProblem.file)}:${r.firstProblem.line} (${safeText(r.firstProblem.reason)})`,
    );
  if (r.problems > 1) parts.push(`${r.problems} problems`);
  if (r.chainHead)
    parts.push(
      `chain head ${safeText(shortHash(r.chainHead.hash))} at ${safeText(r.chainHead.file)}:${r.chainHead.line}`,
    );
  if (r.strict && r.exitCode === 1 && r.verdict !== 'tampered') parts.push('failed by --strict');
  return parts.join('; ') + ` (exit ${r.exitCode})`;
}

/** Full report for a terminal or a pipe. */
export function formatVerifyReport(
  r: JudgedReport,
  c: ChalkInstance,
  { quiet = false }: { quiet?: boolean } = {},
): string {
  if (quiet && r.exitCode === 0) return '';
  const out: string[] = [];
  if (!quiet) {
    out.push(`verify ${safeText(r.dir)}`);
    const width = Math.max(0, ...r.files.map((f) => safeText(f.file).length));
    for (const f of r.files) {
      const mark =
        f.verdict === 'intact'
          ? c.green('ok      ')
          : f.verdict === 'tampered'
            ? c.red('FAIL    ')
            : c.yellow('WARN    ');
      const extra = f.preIntegrityEntries ? `, ${f.preIntegrityEntries} pre-integrity` : '';
      out.push(
        `  ${mark}${safeText(f.file).padEnd(width)}  ${f.entriesVerified} entries verified${extra} (${f.schema})`,
      );
      for (const finding of r.findings.filter((x) => x.file === f.file))
        out.push(...findingLines(finding, c, '          '));
    }
    // Findings about no file of the chain (a stale checkpoint store, an anchor without a place).
    const files = new Set(r.files.map((f) => f.file));
    for (const finding of r.findings.filter((x) => !files.has(x.file))) out.push(...findingLines(finding, c, '  '));
  } else {
    for (const finding of r.findings) out.push(...findingLines(finding, c, ''));
  }
  if (!quiet) {
    // Findings at no file of the report (an entry in Loki whose file is gone here).
    const shown = new Set(r.files.map((f) => f.file));
    const elsewhere = r.findings.filter((x) => !shown.has(x.file));
    if (elsewhere.length) out.push('  elsewhere');
    for (const finding of elsewhere) out.push(...findingLines(finding, c, '          '));
  }
  out.push(...omittedLines(r, c));
  if (r.witness && !quiet) {
    const w = r.witness;
    out.push(
      `loki: ${w.local} local entries compared with ${w.inLoki} in ${safeText(w.url)}: ${w.matched} matched` +
        `, ${w.notInLocal} only in Loki, ${w.differs} differ, ` +
        `${w.notInLoki} missing in Loki, ${w.notForwarded} not forwarded yet` +
        (w.duplicates ? `, ${w.duplicates} duplicate(s) in Loki skipped` : ''),
    );
  }
  if (quiet) out.push(...nextStepLines(r));
  if (r.checkpoints && !quiet)
    out.push(
      `checkpoints: ${r.checkpoints.checked} checked in ${safeText(r.checkpoints.store)}` +
        (r.checkpoints.newest ? `, the newest signed ${safeText(r.checkpoints.newest)}` : ''),
    );
  const notes = quiet ? r.notes.filter((n) => r.strict && STRICT_NOTES.includes(n.kind)) : r.notes;
  for (const n of notes)
    out.push(
      `${c.dim('note:')} ${n.file ? `${safeText(n.file)}${n.line ? ':' + n.line : ''}: ` : ''}${safeText(n.message)}`,
    );
  for (const [kind, n] of Object.entries(r.omitted?.notes ?? {}))
    if (!quiet || (r.strict && STRICT_NOTES.includes(kind as Note['kind'])))
      out.push(c.dim(`note: … and ${n} more ${kind} note(s) not shown`));
  if (r.verdict === 'intact' && !quiet)
    out.push(
      c.dim(
        r.checkpoints?.newest
          ? `note: signed checkpoints vouch for the chain up to ${safeText(r.checkpoints.newest)}; ` +
              `after it, the chain alone cannot see removed newest ` +
              `entries or a rewrite that recomputes every later hash; see docs/verify.md`
          : 'note: a hash chain cannot see removed newest entries or a ' +
              'rewrite that recomputes every later hash; see docs/verify.md',
      ),
    );
  out.push(verdictLine(r, c));
  return out.join('\n') + '\n';
}
