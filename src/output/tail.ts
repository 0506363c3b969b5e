/**
 * `tail`'s diagnostics on stderr: lines that are not entries, what following notices (a
 * truncation, a torn line; not the routine switch to the next file), and chain breaks seen by
 * `--follow --verify`, reported the moment they are read.
 */
import type { LiveTailEvent } from '../core/follow/live-tail.js';
import type { LineWarnings } from './warnings.js';
import { safeText } from '../formats/escape.js';

/** Everything but an entry; lines that are not entries go to `warnings` (bounded). */
export function writeLiveTailEvent(ev: Exclude<LiveTailEvent, { kind: 'entry' }>, warnings: LineWarnings): void {
  if (ev.kind === 'problem') warnings.add(ev.problem);
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
