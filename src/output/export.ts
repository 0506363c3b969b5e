/**
 * `export`'s record writers: one per format, each turning entries into records on a writer
 * (stdout or a file). JSON and JSON Lines are the entry printer's; CSV and the syslog layouts
 * come from src/formats/.
 */
import type { ChalkInstance } from 'chalk';
import type { ReadEntry } from '../core/read/entries.js';
import { csvHeader, csvRow } from '../formats/csv.js';
import { SyslogFormatter, type SyslogLayout } from '../formats/syslog.js';
import { EntryPrinter } from './entries.js';

export const EXPORT_FORMATS = ['json', 'jsonl', 'csv', 'syslog', 'rfc5424', 'rfc3164'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Options of the syslog layouts (see SyslogFormatter). */
export interface ExportSyslogOptions {
  facility: number;
  maxBytes?: number;
  hostname?: string;
  appName?: string;
}

/** Writes records; `entry` returns a promise only when the output is full (await it). */
export interface RecordWriter {
  entry(e: ReadEntry): void | Promise<void>;
  /** Writes what closes the output (a JSON array's bracket). */
  end(): Promise<void>;
}

type Write = (chunk: string | Buffer, tail?: string | Buffer) => void | Promise<void>;

/**
 * The record writer of `format`; a CSV header is written at once. `terminal`: the records go
 * to a terminal (JSON formats escaped, see EntryPrinter; CSV and syslog are always escaped).
 */
export async function recordWriter(
  format: ExportFormat,
  write: Write,
  chalk: ChalkInstance,
  syslog: ExportSyslogOptions,
  { terminal = false }: { terminal?: boolean } = {},
): Promise<RecordWriter> {
  if (format === 'json' || format === 'jsonl') return new EntryPrinter(format, chalk, write, { terminal });
  if (format === 'csv') {
    await write(csvHeader());
    return { entry: (e) => write(csvRow(e)), end: async () => undefined };
  }
  const formatter = new SyslogFormatter({ layout: format as SyslogLayout, ...syslog });
  return { entry: (e) => write(formatter.format(e) + '\n'), end: async () => undefined };
}
