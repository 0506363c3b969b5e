/**
 * `summary` output: tables (cli-table3) and colour on a terminal; stable tab-separated
 * `section<TAB>key<TAB>value` lines when piped, for grep, awk and cut.
 */
import type { ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import type { ChainStatus, Summary } from '../core/query/summary.js';
import { CHAIN_STREAMS, STREAM_NAMES } from '../core/read/streams.js';
import { CLASS_TITLES } from './verify.js';
import { tsv } from './text.js';
import { safeText } from '../formats/escape.js';
import { LineWarnings } from './warnings.js';
import { formatInZone } from '../core/query/time.js';
import { shownTime } from './entries.js';

function chainText(c: ChainStatus | null, scope: string): string {
  if (!c) return 'not checked';
  if (c.verdict === 'intact') return `intact (${c.entriesVerified} entries verified ${scope})`;
  const p = c.firstProblem;
  return (
    `${CLASS_TITLES[c.verdict]}${p ? ` at ${safeText(p.file)}:${p.line} (${safeText(p.reason)})` : ''}; ` +
    `${c.findings} problem(s); run \`loki-audit verify\` for details`
  );
}

/**
 * `Verified N of M entries` and, apart, the entries the chain does not cover with their reasons:
 * never mixed into the verified count.
 */
function coverageText(s: Summary, c: ChalkInstance): string {
  const u = s.unverified;
  const head = s.unchecked
    ? `Verified: ${c.dim(`not checked (--no-chain): ${s.unchecked} entries with a hash`)}`
    : `Verified ${c.green(String(s.verified))} of ${s.total} entries`;
  if (u.total === 0) return head;
  const parts = [
    u.noHash ? `${u.noHash} without a hash (pre-integrity, or not written by Loki Mode)` : '',
    u.afterUnreadable ? `${u.afterUnreadable} after an unreadable line` : '',
    u.doesNotChain ? `${u.doesNotChain} not chaining from the entry before` : '',
  ].filter(Boolean);
  return `${head}   ${c.red(`UNVERIFIED ${u.total}`)}: ${parts.join(', ')}`;
}

/** The streams summarized carry no chain at all (the agent or the session audit). */
const chainless = (s: Summary) => !s.streams.some((x) => CHAIN_STREAMS.has(x));

/** `PREFIX<TAB>VERDICT<TAB>ENTRIES<TAB>FIRST-PROBLEM`. */
function chainTsv(prefix: string, c: ChainStatus | null): string {
  return tsv([
    prefix,
    c ? c.verdict : 'not-checked',
    c ? c.entriesVerified : '-',
    c?.firstProblem ? `${c.firstProblem.file}:${c.firstProblem.line}` : '-',
  ]);
}

function windowText(s: Summary, zone?: string): string {
  const shown = (t: string) => (zone === undefined ? t : formatInZone(Date.parse(t), zone));
  return `${s.since === null ? 'beginning' : shown(s.since)} .. ${s.until === null ? 'now' : shown(s.until)}`;
}

/** Tab-separated lines; one fact per line, stable across versions. */
export function formatSummaryPlain(s: Summary): string {
  const lines: string[] = [];
  lines.push(tsv(['since', s.since ?? '-']), tsv(['until', s.until ?? '-']), tsv(['files', s.files.length]));
  lines.push(tsv(['total', s.total]), tsv(['success', s.success]), tsv(['failure', s.failure]));
  lines.push(tsv(['first', s.first]), tsv(['last', s.last]));
  for (const [level, n] of Object.entries(s.byLevel)) lines.push(tsv(['level', level, n]));
  for (const c of s.byEvent) lines.push(tsv(['event', c.key, c.count]));
  for (const c of s.byActor) lines.push(tsv(['actor', c.key, c.count]));
  for (const c of s.byAction) lines.push(tsv(['action', c.key, c.count]));
  for (const c of s.byResourceType) lines.push(tsv(['resource-type', c.key, c.count]));
  for (const f of s.recentFailures) lines.push(tsv(['failure-entry', f.timestamp, f.event, f.actor, f.error ?? '-']));
  if (s.problemCount) lines.push(tsv(['bad-lines', s.problemCount]));
  if (!chainless(s)) {
    const u = s.unverified;
    lines.push(tsv(['verified', s.unchecked ? '-' : s.verified]), tsv(['unverified', u.total]));
    lines.push(tsv(['unverified', 'no-hash', u.noHash]), tsv(['unverified', 'after-unreadable', u.afterUnreadable]));
    lines.push(tsv(['unverified', 'does-not-chain', u.doesNotChain]));
    if (s.unchecked) lines.push(tsv(['unchecked', s.unchecked]));
  }
  if (s.jsChain) lines.push(chainTsv('js-chain', s.jsChain));
  lines.push(chainless(s) ? tsv(['chain', 'none', '-', '-']) : chainTsv('chain', s.chain));
  return lines.join('\n') + '\n';
}

// No separator between rows: a compact table that still reads as one.
const COMPACT = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

function countTable(title: string, rows: Array<[string, number]>, total: number, distinct?: number): string {
  const t = new Table({
    head: [title, 'count', '%'],
    colAligns: ['left', 'right', 'right'],
    style: { head: [], border: [] },
    chars: COMPACT,
  });
  for (const [k, n] of rows) t.push([safeText(k), String(n), total ? ((100 * n) / total).toFixed(1) : '0.0']);
  if (distinct !== undefined && distinct > rows.length) t.push([`… ${distinct - rows.length} more`, '', '']);
  return t.toString();
}

/** Tables for a terminal. */
export function formatSummaryTable(s: Summary, c: ChalkInstance, zone?: string): string {
  const out: string[] = [];
  out.push(c.bold(`Audit summary  ${windowText(s, zone)}`) + c.dim(`  (${s.files.length} file(s))`));
  out.push(
    `Entries ${c.bold(String(s.total))}   success ` +
      `${c.green(String(s.success))}   failure ${s.failure ? c.red(String(s.failure)) : '0'}` +
      (s.first ? `   first ${safeText(s.first)}   last ${safeText(s.last ?? '-')}` : ''),
  );
  if (s.total === 0) out.push(c.dim('No entries in this window. Try --since 7d, or --since with a date.'));
  else {
    out.push(
      countTable(
        'event',
        s.byEvent.map((x) => [x.key, x.count]),
        s.total,
        s.distinctEvents,
      ),
    );
    out.push(
      countTable(
        'level',
        Object.entries(s.byLevel).filter(([, n]) => n > 0),
        s.total,
      ),
    );
    out.push(
      countTable(
        'actor',
        s.byActor.map((x) => [x.key, x.count]),
        s.total,
        s.distinctActors,
      ),
    );
    // Loki Mode's own split (spec §6.2), for the writer-schema entries.
    if (s.byAction.length) {
      out.push(
        countTable(
          'action',
          s.byAction.map((x) => [x.key, x.count]),
          s.total,
          s.distinctActions,
        ),
      );
      out.push(
        countTable(
          'resource type',
          s.byResourceType.map((x) => [x.key, x.count]),
          s.total,
          s.distinctResourceTypes,
        ),
      );
    }
  }
  if (s.recentFailures.length) {
    out.push(c.bold('Recent failures'));
    for (const f of s.recentFailures) {
      const time = zone === undefined ? f.timestamp : shownTime(f.timestamp, Date.parse(f.timestamp), zone);
      out.push(
        `  ${safeText(time)}  ${c.red(safeText(f.event))}  ${safeText(f.actor)}: ` +
          `${safeText(f.error ?? 'no error text')}`,
      );
    }
  }
  if (s.problemCount) {
    out.push(
      c.yellow(
        `${s.problemCount} line(s) are not entries; first: ` +
          `${safeText(s.problems[0].file)}:${s.problems[0].line}: ${safeText(s.problems[0].message)}`,
      ),
    );
  }
  if (!chainless(s)) out.push(coverageText(s, c));
  const paint = (st: ChainStatus | null, text: string) =>
    st?.verdict === 'intact' ? c.green(text) : st ? c.red(text) : c.dim(text);
  if (chainless(s)) out.push(`Chain: ${c.dim(`none: the ${STREAM_NAMES[s.streams[0]].title} carries no hash chain`)}`);
  else out.push(`Chain: ${paint(s.chain, chainText(s.chain, 'in the files covered'))}`);
  if (s.jsChain)
    out.push(`JS AuditLog chain: ${paint(s.jsChain, chainText(s.jsChain, 'in the whole file, which has no dates'))}`);
  return out.join('\n') + '\n';
}

/** The summary's skipped lines as warnings on stderr (the first few, then how many more). */
export function writeSummaryWarnings(s: Summary): void {
  const warnings = new LineWarnings();
  for (const p of s.problems) warnings.add(p);
  warnings.countMore(s.problemCount - s.problems.length);
  warnings.finish();
}
