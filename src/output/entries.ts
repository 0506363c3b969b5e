/**
 * Entry output for search and tail: `text` (one safe line per entry, coloured by level on a
 * terminal), `json` (one streamed array), `jsonl` and `raw` (each entry's original bytes, so
 * the output still verifies).
 *
 * On a terminal the JSON formats are escaped with `safeJson`: the same values, still JSON, but
 * no raw C1 control, bidi override, line separator or invisible character from the log reaches
 * the screen (a JSON string may hold them raw; only C0 controls must be escaped). Into a pipe
 * or a file, `jsonl` and `raw` stay the original bytes.
 */
import type { ChalkInstance } from 'chalk';
import { replaceNonFinite, type ReadEntry } from '../core/read/entries.js';
import { compactJson, memberText } from '../core/read/json-text.js';
import { safeJson, safeText } from '../formats/escape.js';
import { formatInZone } from '../core/query/time.js';

export type EntryFormat = 'text' | 'json' | 'jsonl' | 'raw';

const LEVEL_TAGS = { debug: 'DEBUG', info: 'INFO ', warning: 'WARN ', error: 'ERROR' } as const;

/** At most `max` characters of `s`, with how many more there were. */
function shorten(s: string, max: number): string {
  return s.length > max ? s.slice(0, max) + `…(+${s.length - max})` : s;
}

/**
 * A top-level member of the entry for display: its text in the line, compacted (numbers as
 * written, any depth), never longer than `max` characters; '' when absent.
 */
function memberShown(e: ReadEntry, key: string, max = 400): string {
  const raw = e.record[key] === undefined ? undefined : memberText(e.text, key);
  return raw === undefined ? '' : shorten(compactJson(raw), max);
}

/**
 * An entry's time as wall time in `zone` with its offset, keeping the digits of the second's
 * fraction the log wrote (Loki Mode writes microseconds); as written when it is no time.
 */
export function shownTime(timestamp: string, ms: number, zone: string): string {
  if (Number.isNaN(ms)) return timestamp || '-';
  const fraction = /T\d{2}:\d{2}:\d{2}(?:[.,](\d+))?/.exec(timestamp);
  return formatInZone(ms, zone, fraction ? (fraction[1] ?? '') : undefined);
}

/**
 * The mark that starts the text line of an entry its chain does not cover
 * (`[unverified: no-hash] `), '' for a verified entry or one of a stream without a chain. It
 * comes first, before anything from the log, so no field of the entry can hide or fake it.
 */
function unverifiedTag(e: ReadEntry, c: ChalkInstance): string {
  return e.unverified ? c.red(`[unverified: ${e.unverified}]`) + ' ' : '';
}

/**
 * The JSON of an entry as `--json`, `-o json`/`jsonl` and export print it: a verified entry (or
 * one of a stream without a chain) is its own text; an unverified one is wrapped,
 * `{"verified":false,"unverified":"no-hash","entry":{…}}`, so that the entry's own keys (a
 * forged `"verified": true`) can never stand beside ours. `text`: the entry's JSON as written.
 */
function markedJson(e: ReadEntry, text: string): string {
  return e.unverified ? `{"verified":false,"unverified":"${e.unverified}","entry":${text}}` : text;
}

/**
 * One text line: time, level, event, actor, outcome, compact details. Values from the log are
 * escaped for the terminal; the line never contains a raw control character. An unverified
 * entry's line starts with {@link unverifiedTag}.
 */
export function formatEntryText(e: ReadEntry, c: ChalkInstance, timeZone?: string): string {
  const v = e.view;
  const time = timeZone === undefined ? v.timestamp || '-' : shownTime(v.timestamp, v.time, timeZone);
  const paint =
    v.level === 'error' ? c.red : v.level === 'warning' ? c.yellow : v.level === 'debug' ? c.dim : (s: string) => s;
  const details =
    memberShown(e, 'details') ||
    memberShown(e, 'metadata') ||
    // Loki Mode's session audit (spec §5): `data`, unless error= shows it.
    (v.error === null ? memberShown(e, 'data') : '');
  const error = v.error ? ` error=${shorten(JSON.stringify(v.error), 200)}` : '';
  return (
    `${unverifiedTag(e, c)}${safeText(time)} ${paint(LEVEL_TAGS[v.level])} ` +
    `${paint(safeText(v.event))} ${safeText(v.actor)} ` +
    `${v.outcome === 'success' ? 'ok' : c.red('FAIL')}${safeText(error)}` +
    `${details ? ' ' + c.dim(safeText(details)) : ''}\n`
  );
}

/** Options of an {@link EntryPrinter}. */
export interface EntryPrinterOptions {
  /** The output is a terminal: JSON formats are escaped (`safeJson`), not the raw bytes. */
  terminal?: boolean;
  /** Show `text` times in this zone (`--utc`, `--timezone`, `TZ`); as the log wrote them without. */
  timeZone?: string;
}

/** Streams entries in one output format; `end()` closes a JSON array. */
export class EntryPrinter {
  private count = 0;
  private readonly terminal: boolean;
  private readonly timeZone: string | undefined;
  constructor(
    private readonly format: EntryFormat,
    private readonly chalk: ChalkInstance,
    private readonly write: (chunk: string | Buffer, tail?: string | Buffer) => void | Promise<void>,
    options: EntryPrinterOptions = {},
  ) {
    this.terminal = options.terminal === true;
    this.timeZone = options.timeZone;
  }

  /** Writes one entry; returns a promise only when the output is full (await it before the next). */
  entry(e: ReadEntry): void | Promise<void> {
    const first = this.count++ === 0;
    switch (this.format) {
      case 'text':
        return this.write(formatEntryText(e, this.chalk, this.timeZone));
      case 'json': {
        // The original text. JSON has no NaN or Infinity: in a line that holds them, those (and
        // only those) become null; big integers, 1.0, key order and escapes stay as written.
        const json = markedJson(e, e.strictJson ? e.text : replaceNonFinite(e.text));
        return this.write(first ? '[\n' : ',\n', this.terminal ? safeJson(json) : json);
      }
      case 'jsonl':
        // Verified: the original bytes (they still verify). Unverified: wrapped (markedJson), the
        // entry's decoded text inside as written.
        if (e.unverified)
          return this.write(this.terminal ? safeJson(markedJson(e, e.text)) : markedJson(e, e.text), NEWLINE);
        if (this.terminal) return this.write(safeJson(e.text), NEWLINE);
        return this.write(e.bytes, NEWLINE);
      default:
        // `raw`: the line itself, marked or not (it is what verify reads).
        // The decoded line (without a byte-order mark or surrounding whitespace), escaped.
        if (this.terminal) return this.write(safeJson(e.text), NEWLINE);
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
