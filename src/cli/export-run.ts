/**
 * One `export` run: the matching entries (src/core/query/search.ts, streamed in batches) written
 * as one record each in the chosen format (src/output/export.ts, src/formats/) to stdout, the
 * pager, or `--output-file` (atomically: a temp file renamed into place only when complete,
 * src/core/runtime/atomic.ts). Exit codes: 2 for an existing file without --force, 3 when a file
 * could not be read (what could be read is exported), 19 for a full disk (src/cli/exit-codes.ts).
 */
import type { ChalkInstance } from 'chalk';
import type { Interfaces } from '@oclif/core';
import { hostname } from 'node:os';
import { searchEntryBatches } from '../core/query/search.js';
import type { FilterSpec } from '../core/query/filters.js';
import { openAtomic, TargetExistsError, type AtomicFile } from '../core/runtime/atomic.js';
import { constrainHeap } from '../core/runtime/heap.js';
import { DiskFullError, isDiskFull } from '../core/runtime/safe-files.js';
import { FACILITIES } from '../formats/syslog.js';
import { BufferedWriter } from '../output/buffered-writer.js';
import { CHAIN_FORMATS, recordWriter } from '../output/export.js';
import { writeMatches } from '../output/matches.js';
import { ProgressLine, progressWanted } from '../output/progress.js';
import { Exit } from './exit-codes.js';
import type { exportFlags } from './export-flags.js';
import { cefDevice, splunkHecEnvelope } from './loki-mode-env.js';
import { formatLikeFileHint } from './output-flags.js';
import { pagedStdout } from './pager-choice.js';
import { expandPath } from './paths.js';
import { fail } from './usage-errors.js';

/** `export`'s parsed flags, with the audit commands' `--max-line-bytes`. */
export type ExportRunFlags = Interfaces.InferredFlags<typeof exportFlags> & { 'max-line-bytes': number };

/**
 * Exports the entries of `dir` matching `spec`. `version` is the CLI's (CEF/LEEF device
 * version). Sets `process.exitCode` 3 when a file could not be read; throws a CLIError (exit 2)
 * for an existing --output-file without --force and DiskFullError (exit 19).
 */
export async function runExport(
  dir: string,
  spec: FilterSpec,
  flags: ExportRunFlags,
  chalk: ChalkInstance,
  version: string,
): Promise<void> {
  let file: AtomicFile | null = null;
  const path = flags['output-file'];
  if (path) {
    try {
      // `~` and `$HOME` expanded, as in every path flag (a systemd unit passes them literally).
      file = await openAtomic(expandPath(path), { force: flags.force });
    } catch (err) {
      if (err instanceof TargetExistsError) fail(err.message, Exit.usage);
      throw err;
    }
  }
  // To a terminal: through $PAGER or less, as journalctl (src/cli/pager-choice.ts).
  const output = file ? null : await pagedStdout(flags);
  const out = new BufferedWriter(file ? file.stream : (output?.stream ?? process.stdout));
  // Every entry goes through here: young generation at most 2 × 4 MB, old generation grown by half
  // (src/core/runtime/heap.ts).
  const stopHeapWatch = constrainHeap();
  try {
    const records = await recordWriter(
      flags.output,
      (c, tail) => out.write(c, tail),
      chalk,
      {
        facility: FACILITIES[flags.facility],
        maxBytes: flags['max-message-bytes'],
        hostname: flags.hostname,
        appName: flags['app-name'],
      },
      { terminal: !file && process.stdout.isTTY === true, siem: siemOptions(flags, version) },
    );
    // Progress with --output-file FILE or stdout redirected to a file; never into a pipe (logger, a pager).
    const progress = progressWanted({ outputToFile: !!file }) ? new ProgressLine('exporting') : null;
    const matches = searchEntryBatches(dir, {
      filter: spec,
      stream: flags.stream,
      limit: flags.limit,
      offset: flags.offset,
      reverse: flags.reverse,
      maxLineBytes: flags['max-line-bytes'],
      onProgress: progress?.listener(),
      transientBytes: true,
      predecessors: CHAIN_FORMATS.has(flags.output),
    });
    const { entries: count, unreadableFiles } = await writeMatches(matches, (e) => records.entry(e), progress);
    await records.end();
    await out.flush();
    if (file && path) {
      await file.commit();
      process.stderr.write(`exported ${count} entries to ${path}\n`);
      const hint = formatLikeFileHint(path);
      if (hint) process.stderr.write(`loki-audit: hint: ${hint}\n`);
    }
    // What could be read is exported; the exit code says that some of it is missing.
    if (unreadableFiles > 0) process.exitCode = Exit.io;
  } catch (err) {
    await file?.abort();
    // The stream's own error does not say which file (ENOSPC, EDQUOT: exit 19).
    if (file && isDiskFull(err)) throw new DiskFullError(path ?? '', err.code);
    throw err;
  } finally {
    stopHeapWatch();
    await output?.close();
  }
}

/** The SIEM formats' options: flags, then Loki Mode's variables (spec §11). */
function siemOptions(
  flags: {
    hostname?: string;
    'hec-index'?: string;
    'hec-sourcetype'?: string;
    'hec-source'?: string;
  },
  version: string,
) {
  const env = splunkHecEnvelope();
  const host = flags.hostname ?? hostname();
  return {
    ...cefDevice(),
    version,
    hostname: host,
    hec: {
      host,
      source: flags['hec-source'],
      sourcetype: flags['hec-sourcetype'] ?? env.sourcetype,
      index: flags['hec-index'] ?? env.index,
    },
  };
}
