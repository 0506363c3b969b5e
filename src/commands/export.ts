import { Flags } from '@oclif/core';
import { ProgressLine, progressWanted } from '../output/progress.js';
import { AuditCommand, dirArg } from '../cli/base-command.js';
import { openAtomic, TargetExistsError, type AtomicFile } from '../core/runtime/atomic.js';
import { DiskFullError, isDiskFull } from '../core/runtime/safe-files.js';
import { constrainHeap } from '../core/runtime/heap.js';
import { Exit, exitCodesHelp } from '../cli/exit-codes.js';
import { searchEntryBatches } from '../core/query/search.js';
import { CHAIN_FORMATS, EXPORT_FORMATS, recordWriter } from '../output/export.js';
import { writeMatches } from '../output/matches.js';
import { BufferedWriter } from '../output/buffered-writer.js';
import { FACILITIES } from '../formats/syslog.js';
import { filterFlags, filterSpecFromFlags } from '../cli/filter-flags.js';
import { streamFlag } from '../cli/stream-flag.js';
import { formatLikeFileHint, matchListFlags, outputFileFlags, outputFlag } from '../cli/output-flags.js';
import { pagedStdout, pagerFlag } from '../cli/pager-choice.js';
import { cefDevice, splunkHecEnvelope } from '../cli/loki-mode-env.js';
import { hostname } from 'node:os';

export default class Export extends AuditCommand {
  static override summary =
    'Export entries as JSON, JSON Lines, CSV, syslog lines or SIEM records (CEF, LEEF, ECS, HEC), to stdout or a file.';

  static override description = `Formats:
  json     one JSON array, streamed
  jsonl    each entry's original bytes, one per line (an unfiltered export still verifies)
  csv      RFC 4180 with a header; fixed columns, details and other fields as JSON; spreadsheet formulas neutralised
  syslog   <PRI> + key=value message, one line per entry, for \`logger --prio-prefix\` (see docs/export.md)
  rfc5424  full RFC 5424 lines, chain hash and seq in STRUCTURED-DATA [audit@32473 ...]
  rfc3164  BSD syslog lines
  cef      ArcSight CEF, Loki Mode's mapping plus the chain (cs4 chainHash, cs5 prevHash, fname, cn1 line)
  leef     IBM QRadar LEEF 2.0, tab-delimited, with the chain
  ecs      Elastic Common Schema JSON lines (event.original = the entry's line, event.hash, loki_audit.prev_hash)
  hec      Splunk HEC events: Loki Mode's envelope, the chain in indexed fields

cef/leef: $LOKI_CEF_VENDOR and $LOKI_CEF_PRODUCT set the device; hec: $LOKI_SPLUNK_HEC_INDEX and $LOKI_SPLUNK_HEC_SOURCETYPE (or the flags). Their records carry each entry's chain predecessor, also when a filter skips entries.

--output-file FILE writes a temporary file and renames it when complete: a failed export never leaves half a file. -F/--format is the old name of -o/--output (deprecated). To a terminal, the output goes through $LOKI_AUDIT_PAGER, $PAGER or less -FRX (--no-pager: not). ${exitCodesHelp('export')}`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> -o csv --since 7d --output-file audit-week.csv',
    '<%= config.bin %> <%= command.id %> -o jsonl --output-file backup.jsonl --force',
    '<%= config.bin %> <%= command.id %> -o syslog --since today | logger --prio-prefix -t loki-audit -n siem.example.com -P 514 -T',
    '<%= config.bin %> <%= command.id %> -o cef --since today | logger -t loki-audit -n arcsight.example.com -P 514 -T',
    '<%= config.bin %> <%= command.id %> -o ecs --output-file /var/lib/loki-audit/ecs.ndjson --force',
  ];

  static override args = dirArg;

  static override flags = {
    ...filterFlags,
    ...streamFlag,
    ...outputFlag(EXPORT_FORMATS, {
      default: 'jsonl',
      summary: 'Output format (-F/--format: its old name, deprecated).',
      legacyFormat: true,
    }),
    ...outputFileFlags,
    ...matchListFlags,
    ...pagerFlag,
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
    'hec-index': Flags.string({
      summary: 'HEC: the index (default $LOKI_SPLUNK_HEC_INDEX; else none).',
      helpGroup: 'HEC',
    }),
    'hec-sourcetype': Flags.string({
      summary: 'HEC: the sourcetype (default $LOKI_SPLUNK_HEC_SOURCETYPE, else loki:audit).',
      helpGroup: 'HEC',
    }),
    'hec-source': Flags.string({ summary: 'HEC: the source (default loki-mode).', helpGroup: 'HEC' }),
  };

  /** The SIEM formats' options: flags, then Loki Mode's variables (spec §11). */
  private siemOptions(flags: {
    hostname?: string;
    'hec-index'?: string;
    'hec-sourcetype'?: string;
    'hec-source'?: string;
  }) {
    const env = splunkHecEnvelope();
    const host = flags.hostname ?? hostname();
    return {
      ...cefDevice(),
      version: this.config.version,
      hostname: host,
      hec: {
        host,
        source: flags['hec-source'],
        sourcetype: flags['hec-sourcetype'] ?? env.sourcetype,
        index: flags['hec-index'] ?? env.index,
      },
    };
  }

  async run(): Promise<void> {
    const { flags, args } = await this.parse(Export);
    const dir = this.setup(flags, args);
    const spec = filterSpecFromFlags(flags);
    let file: AtomicFile | null = null;
    const path = flags['output-file'];
    if (path) {
      try {
        file = await openAtomic(path, { force: flags.force });
      } catch (err) {
        if (err instanceof TargetExistsError) this.fail(err.message, Exit.usage);
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
        this.chalk,
        {
          facility: FACILITIES[flags.facility],
          maxBytes: flags['max-message-bytes'],
          hostname: flags.hostname,
          appName: flags['app-name'],
        },
        { terminal: !file && process.stdout.isTTY === true, siem: this.siemOptions(flags) },
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
}
