/**
 * The entry at each finding, as data for the report: its time, event and actor through the one
 * view (read/view.ts) and its stored hash, read back from the file at the finding's offset once
 * verification is done. What `verify --quiet` names at 3 a.m. (output/verify.ts), and `--json`
 * carries as `finding.entry`.
 */
import { openAuditFile, scanLines, type RawLine } from '../read/lines.js';
import { parseLine } from '../read/entries.js';
import type { ViewStream } from '../read/view.js';
import type { Finding, FindingEntry } from './report.js';

/** The field that holds an entry's stored hash, per schema of the one view. */
const HASH_FIELD: Readonly<Partial<Record<string, string>>> = {
  writer: '_integrity_hash',
  documented: 'chain_hash',
  'js-auditlog': 'hash',
};

/** A file of a chain: its name (as findings give it), its path, whether it is a JS AuditLog. */
export interface ChainFile {
  file: string;
  path: string;
  js: boolean;
}

/** The timestamp of a line that is an entry, else null. */
function timestampOf(raw: RawLine, name: string, maxLineBytes: number, stream: ViewStream): string | null {
  const item = parseLine(raw, name, maxLineBytes, undefined, stream);
  return item?.kind === 'entry' && item.view.timestamp ? item.view.timestamp : null;
}

/** The timestamp of the last (`last`) or first entry of a file, or null. Never throws. */
async function endTimestamp(
  report: ChainFile,
  last: boolean,
  maxLineBytes: number,
  stream: ViewStream,
): Promise<string | null> {
  let found: string | null = null;
  try {
    for await (const raw of scanLines(openAuditFile(report.path), { maxLineBytes })) {
      const t = timestampOf(raw, report.file, maxLineBytes, stream);
      if (t !== null) found = t;
      if (found !== null && !last) break;
    }
  } catch {
    // unreadable now: no neighbour to name
  }
  return found;
}

/**
 * Sets `entry` on each finding whose line can be read back as an entry (an object at the
 * finding's offset, or at its line where the verifier keeps no offset: the JS AuditLog), with
 * the timestamps of the entries before and after it in chain order (in the previous or next
 * file at a file's edge). An anchor finding (its place is where a head was, now another entry),
 * or one whose line is not an entry (torn, malformed, not UTF-8, too long, the file gone) gets
 * none. Each file with findings is read once, as a stream, up to the line after its last
 * finding (memory: two lines of at most `maxLineBytes`; `.gz` decompressed as it is read).
 * `files`: the directory's chain files in chain order (all of them, also under `--state`).
 * Never throws: an unreadable file leaves its findings without `entry`.
 */
export async function attachFindingEntries(
  findings: readonly Finding[],
  files: readonly ChainFile[],
  maxLineBytes: number,
): Promise<void> {
  const byFile = new Map<string, Finding[]>();
  for (const f of findings) {
    // An anchor's place is where a head was when recorded: what is there now is another entry.
    if (f.class === 'anchor-mismatch' || (f.offset < 0 && f.line < 1)) continue;
    const list = byFile.get(f.file) ?? [];
    list.push(f);
    byFile.set(f.file, list);
  }
  for (const [name, list] of byFile) {
    const index = files.findIndex((r) => r.file === name);
    if (index < 0) continue;
    const report = files[index];
    // The neighbour files of the same chain (a JS AuditLog file is a chain of its own).
    const previous = index > 0 && !report.js && !files[index - 1].js ? files[index - 1] : null;
    const next = !report.js && files[index + 1] && !files[index + 1].js ? files[index + 1] : null;
    const stream: ViewStream = report.js ? 'js-auditlog' : 'dashboard';
    // By offset where the verifier knows it (the dashboard chain), else by line (the JS AuditLog).
    const at = (raw: RawLine): Finding[] =>
      list.filter((f) => (f.offset >= 0 ? f.offset === raw.offset : f.line === raw.line));
    const lastLine = Math.max(...list.map((f) => f.line));
    let before: string | null = null;
    let waiting: FindingEntry[] = []; // entries whose next neighbour is still to come
    try {
      for await (const raw of scanLines(openAuditFile(report.path), { maxLineBytes })) {
        const here = at(raw);
        const item = waiting.length || here.length ? parseLine(raw, name, maxLineBytes, undefined, stream) : null;
        const t = item?.kind === 'entry' && item.view.timestamp ? item.view.timestamp : null;
        if (t !== null) {
          for (const w of waiting) w.after = t;
          waiting = [];
        }
        if (here.length && item?.kind === 'entry') {
          const v = item.view;
          const entry: FindingEntry = {
            timestamp: v.timestamp,
            event: v.event,
            actor: v.actor,
            hash: v.hash,
            hashField: v.hash === null ? null : (HASH_FIELD[v.schema] ?? null),
            before: before ?? (previous ? await endTimestamp(previous, true, maxLineBytes, stream) : null),
            after: null,
          };
          for (const f of here) f.entry = entry;
          waiting.push(entry);
        }
        if (raw.line > lastLine && !waiting.length) break;
        before = t ?? (item ? before : (timestampOf(raw, name, maxLineBytes, stream) ?? before));
      }
    } catch {
      // The file went away or cannot be read now: its findings say so themselves.
    }
    if (waiting.length && next) {
      const t = await endTimestamp(next, false, maxLineBytes, stream);
      for (const w of waiting) w.after = t;
    }
  }
}
