/**
 * Entry output for search and tail: `text` (one safe line per entry, coloured by level on a
 * terminal), `json` (one streamed array), `jsonl` and `raw` (each entry's original bytes, so
 * the output still verifies).
 */
import type { ChalkInstance } from 'chalk';
import type { ReadEntry } from '../core/read/entries.js';
import { safeText } from '../formats/escape.js';

export type EntryFormat = 'text' | 'json' | 'jsonl' | 'raw';

const LEVEL_TAGS = { debug: 'DEBUG', info: 'INFO ', warning: 'WARN ', error: 'ERROR' } as const;

/** Compact JSON of a value for display, never longer than `max` characters. */
function compact(v: unknown, max = 400): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? '';
  } catch {
    s = String(v);
  }
  return s.length > max ? s.slice(0, max) + `…(+${s.length - max})` : s;
}

/**
 * One text line: time, level, event, actor, outcome, compact details. Values from the log are
 * escaped for the terminal; the line never contains a raw control character.
 */
export function formatEntryText(e: ReadEntry, c: ChalkInstance): string {
  const v = e.view;
  const paint =
    v.level === 'error' ? c.red : v.level === 'warning' ? c.yellow : v.level === 'debug' ? c.dim : (s: string) => s;
  const details =
    e.record.details !== undefined
      ? compact(e.record.details)
      : e.record.metadata !== undefined
        ? compact(e.record.metadata)
        : e.record.data !== undefined && v.error === null // Loki Mode's session audit (spec §5): error= shows it
          ? compact(e.record.data)
          : '';
  const error = v.error ? ` error=${compact(v.error, 200)}` : '';
  return (
    `${safeText(v.timestamp || '-')} ${paint(LEVEL_TAGS[v.level])} ${paint(safeText(v.event))} ${safeText(v.actor)} ` +
    `${v.outcome === 'success' ? 'ok' : c.red('FAIL')}${safeText(error)}${details ? ' ' + c.dim(safeText(details)) : ''}\n`
  );
}

/** Streams entries in one output format; `end()` closes a JSON array. */
export class EntryPrinter {
  private count = 0;
  constructor(
    private readonly format: EntryFormat,
    private readonly chalk: ChalkInstance,
    private readonly write: (chunk: string | Buffer, tail?: string | Buffer) => void | Promise<void>,
  ) {}

  /** Writes one entry; returns a promise only when the output is full (await it before the next). */
  entry(e: ReadEntry): void | Promise<void> {
    const first = this.count++ === 0;
    switch (this.format) {
      case 'text':
        return this.write(formatEntryText(e, this.chalk));
      case 'json':
        // The original text when it is valid JSON (keeps big integers exact); else re-encoded.
        return this.write(first ? '[\n' : ',\n', e.strictJson ? e.text : JSON.stringify(e.record));
      default:
        return this.write(e.bytes, NEWLINE);
    }
  }

  async end(): Promise<void> {
    if (this.format === 'json') await this.write(this.count === 0 ? '[]\n' : '\n]\n');
  }

  get printed(): number {
    return this.count;
  }
}

const NEWLINE = Buffer.from('\n');
