/**
 * Human output of `verify`: one line per file, each problem with its file, line, reason and
 * hashes, notes, and a closing verdict line. `--quiet` prints nothing when all is well.
 */
import type { ChalkInstance } from 'chalk';
import type { Finding, Note } from '../core/chain/report.js';
import { KEPT_PER_KIND } from '../core/chain/bounded.js';
import type { DirectoryReport } from '../core/chain/directory.js';
import { STRICT_NOTES } from '../core/chain/directory.js';
import type { VerdictClass } from '../core/chain/verdict.js';
import { shortHash } from './text.js';
import { safeText } from '../formats/escape.js';

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
};

/** A report with the exit code the CLI gives it (src/cli/exit-codes.ts). */
export type JudgedReport = DirectoryReport & { exitCode: number };

function findingLines(f: Finding, c: ChalkInstance, indent: string): string[] {
  const color = f.class === 'tampered' || f.class === 'unreadable' || f.class === 'io-error' ? c.red : c.yellow;
  const lines = [
    `${indent}${color(`${safeText(f.file)}:${f.line}`)} ${color.bold(CLASS_TITLES[f.class])} (${safeText(f.reason)}): ${safeText(f.message)}`,
  ];
  // A stored hash is whatever the line holds: text from the log like any other.
  if (f.expected || f.stored)
    lines.push(
      `${indent}    expected ${safeText(f.expected ?? '-')}`,
      `${indent}    stored   ${safeText(f.stored ?? '-')}`,
    );
  if (f.chainsFrom)
    lines.push(
      `${indent}    chains from ${safeText(f.chainsFrom)}${f.seenAt ? ` (${safeText(f.seenAt.file)}:${f.seenAt.line})` : ' (genesis)'}`,
    );
  return lines;
}

/** What was counted but not shown: per class, after the first {@link KEPT_PER_KIND} of each. */
function omittedLines(r: JudgedReport, c: ChalkInstance): string[] {
  return Object.entries(r.omitted?.findings ?? {}).map(([cls, n]) =>
    c.yellow(
      `… and ${n} more ${CLASS_TITLES[cls as VerdictClass]} finding(s) not shown (the first ${KEPT_PER_KIND} of each class are; --json counts them all)`,
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
        `, ${w.notInLocal} only in Loki, ${w.differs} differ, ${w.notInLoki} missing in Loki, ${w.notForwarded} not forwarded yet` +
        (w.duplicates ? `, ${w.duplicates} duplicate(s) in Loki skipped` : ''),
    );
  }
  if (r.checkpoints && !quiet)
    out.push(
      `checkpoints: ${r.checkpoints.checked} checked in ${safeText(r.checkpoints.store)}${r.checkpoints.newest ? `, the newest signed ${safeText(r.checkpoints.newest)}` : ''}`,
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
          ? `note: signed checkpoints vouch for the chain up to ${safeText(r.checkpoints.newest)}; after it, the chain alone cannot see removed newest entries or a rewrite that recomputes every later hash; see docs/verify.md`
          : 'note: a hash chain cannot see removed newest entries or a rewrite that recomputes every later hash; see docs/verify.md',
      ),
    );
  out.push(verdictLine(r, c));
  return out.join('\n') + '\n';
}
