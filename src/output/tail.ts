/**
 * `tail`'s diagnostics on stderr: lines that are not entries, what following notices (a
 * truncation, a torn line; not the routine switch to the next file), and chain breaks seen by
 * `--follow --verify`, reported the moment they are read.
 */
import type { LiveTailEvent } from '../core/follow/live-tail.js';
import type { ReadProblem } from '../core/read/entries.js';
import { safeText } from '../formats/escape.js';

/** `warning: FILE:LINE: message` for a line that is not an entry. */
export function writeProblem(p: ReadProblem): void {
  process.stderr.write(`warning: ${safeText(p.file)}:${p.line}: ${safeText(p.message)}\n`);
}

/** Everything but an entry. */
export function writeLiveTailEvent(ev: Exclude<LiveTailEvent, { kind: 'entry' }>): void {
  if (ev.kind === 'problem') writeProblem(ev.problem);
  else if (ev.kind === 'notice') {
    if (ev.notice.kind !== 'switch') process.stderr.write(`loki-audit: ${safeText(ev.notice.message)}\n`);
  } else {
    const c = ev.check;
    process.stderr.write(
      `loki-audit: CHAIN BREAK at ${safeText(ev.file)}:${ev.line}: ${c.reason}` +
        `${c.expected ? ` (expected ${safeText(c.expected)}, stored ${safeText(c.stored ?? '-')})` : ''}\n`,
    );
  }
}
