import { Flags } from '@oclif/core';
import { ProgressLine, progressWanted } from '../output/progress.js';
import { AuditCommand, dirArg } from '../cli/base-command.js';
import { openAtomic, TargetExistsError, type AtomicFile } from '../core/runtime/atomic.js';
import { DiskFullError, isDiskFull } from '../core/runtime/safe-files.js';
import { constrainHeap } from '../core/runtime/heap.js';
import { Exit, exitCodesHelp } from '../cli/exit-codes.js';
import { searchEntryBatches } from '../core/query/search.js';
import { EXPORT_FORMATS, recordWriter } from '../output/export.js';
import { writeMatches } from '../output/matches.js';
import { BufferedWriter } from '../output/buffered-writer.js';
import { FACILITIES } from '../formats/syslog.js';
import { filterFlags, filterSpecFromFlags } from '../cli/filter-flags.js';
import { streamFlag } from '../cli/stream-flag.js';

export default class Export extends AuditCommand {
  static override summary = 'Export entries as JSON, JSON Lines, CSV or syslog lines, to stdout or a file.';

  static override description = `Formats:
  json     one JSON array, streamed
  jsonl    each entry's original bytes, one per line (an unfiltered export still verifies)
  csv      RFC 4180 with a header; fixed columns, details and other fields as JSON; spreadsheet formulas neutralised
  syslog   <PRI> + key=value message, one line per entry, for \`logger --prio-prefix\` (see docs/export.md)
  rfc5424  full RFC 5424 lines, chain hash and seq in STRUCTURED-DATA [audit@32473 ...]
  rfc3164  BSD syslog lines

--output FILE writes a temporary file and renames it when complete: a failed export never leaves half a file. ${exitCodesHelp('export')}`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --format csv --since 7d --output audit-week.csv',
    '<%= config.bin %> <%= command.id %> --format jsonl --output backup.jsonl --force',
    '<%= config.bin %> <%= command.id %> --format syslog --since today | logger --prio-prefix -t loki-audit -n siem.example.com -P 514 -T',
  ];

  static override args = dirArg;

  static override flags = {
    ...filterFlags,
    ...streamFlag,
    format: Flags.option({
      char: 'F',
      options: EXPORT_FORMATS,
      default: 'jsonl' as const,
      summary: 'Output format.',
      helpGroup: 'OUTPUT',
    })(),
    output: Flags.string({ summary: 'Write to this file (atomically) instead of stdout.', helpGroup: 'OUTPUT' }),
    force: Flags.boolean({ summary: 'Replace --output if it exists.', helpGroup: 'OUTPUT' }),
    limit: Flags.integer({ char: 'n', min: 0, summary: 'At most this many entries.', helpGroup: 'OUTPUT' }),
    offset: Flags.integer({ min: 0, default: 0, summary: 'Skip this many matches first.', helpGroup: 'OUTPUT' }),
    reverse: Flags.boolean({ char: 'r', summary: 'Newest first.', helpGroup: 'OUTPUT' }),
    facility: Flags.option({
      options: Object.keys(FACILITIES),
      default: 'local0',
      summary: 'Syslog facility.',
      helpGroup: 'SYSLOG',
    })(),
    'max-message-bytes': Flags.integer({
      min: 256,
      summary:
        "Syslog: longest message; longer ones are shortened with a marker (default 1024 for syslog, logger's -S; 2048 for rfc5424/rfc3164).",
      helpGroup: 'SYSLOG',
    }),
    hostname: Flags.string({ summary: 'Syslog HOSTNAME (rfc5424/rfc3164). Default: this host.', helpGroup: 'SYSLOG' }),
    'app-name': Flags.string({
      default: 'loki-audit',
      summary: 'Syslog APP-NAME / TAG (rfc5424/rfc3164).',
      helpGroup: 'SYSLOG',
    }),
  };

  async run(): Promise<void> {
    const { flags, args } = await this.parse(Export);
    const dir = this.setup(flags, args);
    const spec = filterSpecFromFlags(flags);
    let file: AtomicFile | null = null;
    if (flags.output) {
      try {
        file = await openAtomic(flags.output, { force: flags.force });
      } catch (err) {
        if (err instanceof TargetExistsError) this.fail(err.message, Exit.usage);
        throw err;
      }
    }
    const out = new BufferedWriter(file ? file.stream : process.stdout);
    // Every entry goes through here: young generation at most 2 × 4 MB, old generation grown by half
    // (src/core/runtime/heap.ts).
    const stopHeapWatch = constrainHeap();
    try {
      const records = await recordWriter(
        flags.format,
        (c, tail) => out.write(c, tail),
        this.chalk,
        {
          facility: FACILITIES[flags.facility],
          maxBytes: flags['max-message-bytes'],
          hostname: flags.hostname,
          appName: flags['app-name'],
        },
        { terminal: !file && process.stdout.isTTY === true },
      );
      // Progress with --output FILE or stdout redirected to a file; never into a pipe (logger, a pager).
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
      });
      const { entries: count, unreadableFiles } = await writeMatches(matches, (e) => records.entry(e), progress);
      await records.end();
      await out.flush();
      if (file) {
        await file.commit();
        process.stderr.write(`exported ${count} entries to ${flags.output}\n`);
      }
      // What could be read is exported; the exit code says that some of it is missing.
      if (unreadableFiles > 0) process.exitCode = Exit.io;
    } catch (err) {
      await file?.abort();
      // The stream's own error does not say which file (ENOSPC, EDQUOT: exit 19).
      if (file && isDiskFull(err)) throw new DiskFullError(flags.output as string, err.code);
      throw err;
    } finally {
      stopHeapWatch();
    }
  }
}
