import { AuditCommand, dirArg } from '../cli/base-command.js';
import { exitCodesHelp } from '../cli/exit-codes.js';
import { exportFlags } from '../cli/export-flags.js';
import { runExport } from '../cli/export-run.js';
import { filterSpecFromFlags } from '../cli/filter-flags.js';

export default class Export extends AuditCommand {
  static override summary =
    'Export entries as JSON, JSON Lines, CSV, syslog lines or SIEM records (CEF, LEEF, ECS, HEC), to stdout or a file.';

  static override description =
    `Formats:
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

cef/leef: $LOKI_CEF_VENDOR and $LOKI_CEF_PRODUCT set the device; hec: $LOKI_SPLUNK_HEC_INDEX and ` +
    `$LOKI_SPLUNK_HEC_SOURCETYPE (or the flags). Their records carry each entry's chain predecessor, also ` +
    `when a filter skips entries.

--output-file FILE writes a temporary file and renames it when complete: a failed export never leaves half ` +
    `a file. -F/--format is the old name of -o/--output (deprecated). To a terminal, the output goes ` +
    `through $LOKI_AUDIT_PAGER, $PAGER or less -FRX (--no-pager: not). ${exitCodesHelp('export')}`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> -o csv --since 7d --output-file audit-week.csv',
    '<%= config.bin %> <%= command.id %> -o jsonl --output-file backup.jsonl --force',
    '<%= config.bin %> <%= command.id %> -o syslog --since today | ' +
      'logger --prio-prefix -t loki-audit -n siem.example.com -P 514 -T',
    '<%= config.bin %> <%= command.id %> -o cef --since today | logger -t loki-audit -n arcsight.example.com -P 514 -T',
    '<%= config.bin %> <%= command.id %> -o ecs --output-file /var/lib/loki-audit/ecs.ndjson --force',
  ];

  static override args = dirArg;

  static override flags = exportFlags;

  async run(): Promise<void> {
    const { flags, args } = await this.parse(Export);
    const dir = this.setup(flags, args);
    await runExport(dir, filterSpecFromFlags(flags), flags, this.chalk, this.config.version);
  }
}
