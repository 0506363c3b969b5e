/**
 * A one-line progress display on stderr for long reads (verify, summary, search, export,
 * forward): files done, MB done of MB, MB/s, ETA. Redrawn in place (carriage return, no ANSI
 * sequence) at most every 200 ms and erased at the end, so nothing of it stays on screen.
 *
 * When it shows (see {@link progressWanted}): only with stderr on a terminal, never with
 * `--quiet` or `--json`, and never when the command's own output goes to that terminal or into
 * a pipe (a pager or another tool on the same terminal would be garbled).
 */
import { fstatSync } from 'node:fs';
import type { ReadProgress } from '../core/read/entries.js';

/** Whether to show progress. `outputToFile`: the command writes its results to a file (`--output-file`). */
export function progressWanted(options: {
  quiet?: boolean;
  json?: boolean;
  outputToFile?: boolean;
  resultsAtEnd?: boolean;
}): boolean {
  if (process.stderr.isTTY !== true || options.quiet || options.json) return false;
  if (options.outputToFile) return true;
  // Commands that print only at the end (verify, summary) may draw while the terminal is idle.
  if (options.resultsAtEnd) return process.stdout.isTTY === true;
  // Streaming commands: only when stdout is redirected to a regular file.
  try {
    return fstatSync(1).isFile();
  } catch {
    return false;
  }
}

/** The progress line of one command run. */
export class ProgressLine {
  private readonly started = Date.now();
  private lastDraw = 0;
  /** Width of what is on the line now (0: nothing drawn). */
  private width = 0;

  constructor(
    private readonly verb: string,
    private readonly stream: NodeJS.WritableStream = process.stderr,
    private readonly everyMs = 200,
  ) {}

  /** Redraws (throttled; `force` draws now, e.g. when a file is done). */
  update(p: ReadProgress, force = false): void {
    const now = Date.now();
    if (!force && now - this.lastDraw < this.everyMs) return;
    this.lastDraw = now;
    // Carriage return and spaces only, no ANSI sequence (NO_COLOR, dumb terminals).
    const text = formatProgress(this.verb, p, (now - this.started) / 1000);
    this.stream.write(`\r${text}${' '.repeat(Math.max(0, this.width - text.length))}`);
    this.width = text.length;
  }

  /** `update` as a callback, for a core function's `onProgress` option. */
  listener(): (p: ReadProgress) => void {
    return (p) => this.update(p);
  }

  /** Erases the line (call before printing results). */
  clear(): void {
    if (this.width) this.stream.write(`\r${' '.repeat(this.width)}\r`);
    this.width = 0;
  }
}

/** `verifying: 3/44 files, 120/411 MB, 95 MB/s, ETA 3s` */
export function formatProgress(verb: string, p: ReadProgress, seconds: number): string {
  const s = Math.max(0.001, seconds);
  const rate = p.bytesDone / s;
  const eta = rate > 0 ? Math.round((p.bytesTotal - p.bytesDone) / rate) : 0;
  const mb = (n: number) => (n / 1048576).toFixed(0);
  return (
    `${verb}: ${p.filesDone}/${p.files} files, ` +
    `${mb(p.bytesDone)}/${mb(p.bytesTotal)} MB, ${mb(rate)} MB/s, ETA ${eta}s`
  );
}
