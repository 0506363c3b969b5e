/**
 * `forward`'s terminal output: its events as they happen (retries, refusals, giving up, bad
 * lines) on stderr, above the progress line; the result per target, or the `--dry-run` preview,
 * on stdout. Values that come from the log or from a server are escaped for the terminal.
 */
import type { ForwardEvent, TargetReport } from '../core/forward/pipeline.js';
import type { TargetPreview } from '../core/forward/target.js';
import type { ProgressLine } from './progress.js';
import { safeText } from '../formats/escape.js';
import { LineWarnings } from './warnings.js';

/**
 * A listener for forward's events. Progress follows the first target's reading; retries are
 * reported at the first attempt and every tenth.
 */
export function forwardEventPrinter(
  firstTarget: string,
  deadLetterPath: string,
  progress: ProgressLine | null,
): (e: ForwardEvent) => void {
  const say = (line: string) => process.stderr.write(line + '\n');
  const warnings = new LineWarnings(say);
  return (e) => {
    if (e.kind === 'read') {
      if (e.target === firstTarget) progress?.update(e.progress);
      return;
    }
    progress?.clear();
    if (e.kind === 'retry' && (e.attempt === 1 || e.attempt % 10 === 0))
      say(`loki-audit: ${e.target}: ${safeText(e.error)}; retrying (attempt ${e.attempt}, next in ${e.delayMs} ms)`);
    else if (e.kind === 'dead-letter')
      say(
        `loki-audit: ${e.target}: ${e.entries} entr${e.entries === 1 ? 'y' : 'ies'} refused (${safeText(e.reason)}); written to ${safeText(deadLetterPath)}`,
      );
    else if (e.kind === 'gave-up')
      say(`loki-audit: ${e.target}: giving up: ${safeText(e.error)}; position saved, run again to resume`);
    else if (e.kind === 'problem') warnings.add(e.problem);
  };
}

/** What `--dry-run` would have sent, per target. */
export function formatForwardPreview(previews: TargetPreview[]): string {
  const out: string[] = [];
  for (const p of previews) {
    out.push(`${p.target}: ${p.entries} entries would be sent`);
    for (const [labels, n] of Object.entries(p.streams)) out.push(`  stream ${safeText(labels)}: ${n}`);
    for (const [reason, n] of Object.entries(p.refused)) out.push(`  refused: ${n}: ${safeText(reason)}`);
    if (p.sample) out.push(`  first message: ${safeText(p.sample)}`);
  }
  return out.map((l) => l + '\n').join('');
}

/** One line per target: delivered, refused, files that could not be read, given up. */
export function formatForwardReports(reports: TargetReport[]): string {
  return reports
    .map(
      (r) =>
        `${r.target}: ${r.delivered} delivered${r.deadLettered ? `, ${r.deadLettered} refused (dead-letter)` : ''}${r.unreadable.length ? `, ${r.unreadable.length} file(s) could not be read (${r.unreadable.map(safeText).join(', ')}): their entries were not sent` : ''}${r.error ? `, gave up: ${safeText(r.error)}` : ''}\n`,
    )
    .join('');
}
