/**
 * `export`'s record writers: one per format, each turning entries into records on a writer
 * (stdout or a file). JSON and JSON Lines are the entry printer's; CSV, the syslog layouts and
 * the SIEM formats (CEF, LEEF, ECS, HEC: each record one line, with the chain) come from
 * src/formats/.
 */
import type { ChalkInstance } from 'chalk';
import type { ReadEntry } from '../core/read/entries.js';
import { csvHeader, csvRow } from '../formats/csv.js';
import { cefRecord } from '../formats/cef.js';
import { ecsDocument } from '../formats/ecs.js';
import { hecEvent, type HecOptions } from '../formats/hec.js';
import { leefRecord } from '../formats/leef.js';
import { SyslogFormatter, type SyslogLayout } from '../formats/syslog.js';
import { EntryPrinter } from './entries.js';

export const EXPORT_FORMATS = [
  'json',
  'jsonl',
  'csv',
  'syslog',
  'rfc5424',
  'rfc3164',
  'cef',
  'leef',
  'ecs',
  'hec',
] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The formats whose records carry each entry's chain predecessor (the reader must track it). */
export const CHAIN_FORMATS: ReadonlySet<ExportFormat> = new Set(['cef', 'leef', 'ecs', 'hec']);

/** Options of the SIEM formats. */
export interface ExportSiemOptions {
  /** CEF/LEEF Device Vendor and Product (defaults: Loki Mode's, cef.ts). */
  vendor?: string;
  product?: string;
  /** CEF/LEEF Device Version: loki-audit's version. */
  version: string;
  /** ECS `host.name`. */
  hostname: string;
  hec: HecOptions;
}

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
  { terminal = false, siem }: { terminal?: boolean; siem?: ExportSiemOptions } = {},
): Promise<RecordWriter> {
  if (format === 'json' || format === 'jsonl') return new EntryPrinter(format, chalk, write, { terminal });
  if (format === 'csv') {
    await write(csvHeader());
    return { entry: (e) => write(csvRow(e)), end: async () => undefined };
  }
  if (format === 'cef' || format === 'leef' || format === 'ecs' || format === 'hec') {
    const o = siem ?? { version: '0.0.0', hostname: 'localhost', hec: {} };
    const record =
      format === 'cef'
        ? (e: ReadEntry) => cefRecord(e, o)
        : format === 'leef'
          ? (e: ReadEntry) => leefRecord(e, o)
          : format === 'ecs'
            ? (e: ReadEntry) => ecsDocument(e, o)
            : (e: ReadEntry) => hecEvent(e, o.hec);
    return { entry: (e) => write(record(e) + '\n'), end: async () => undefined };
  }
  const formatter = new SyslogFormatter({ layout: format as SyslogLayout, ...syslog });
  return { entry: (e) => write(formatter.format(e) + '\n'), end: async () => undefined };
}
