import { SYSLOG_FORMATS } from '../cli/forward-targets.js';
import { Flags } from '@oclif/core';
import { pathFlag } from '../cli/paths.js';
import { AuditCommand, dirArg } from '../cli/base-command.js';
import { Exit, forwardExitCode, exitCodesHelp } from '../cli/exit-codes.js';
import { filterFlags } from '../cli/filter-flags.js';
import { forwardSetup } from '../cli/forward-setup.js';
import { forwardConfig } from '../cli/config.js';
import type { ForwardEvent, TargetReport } from '../core/forward/pipeline.js';
import type { ForwardTarget, TargetPreview } from '../core/forward/target.js';
import { replayDeadLetters, type ReplayReport } from '../core/forward/replay.js';
import { DEFAULT_MAX_LINE_BYTES } from '../core/read/lines.js';
import { replayCommand } from '../cli/forward-replay.js';
import { safeText } from '../formats/escape.js';
import { forward } from '../core/forward/pipeline.js';
import { StateError } from '../core/forward/positions.js';
import { constrainHeap } from '../core/runtime/heap.js';
import {
  deadLetterNote,
  formatForwardPreview,
  formatForwardReports,
  formatReplayReport,
  forwardEventPrinter,
  refusalHint,
} from '../output/forward.js';
import { ProgressLine, progressWanted } from '../output/progress.js';
import { streamFlag, streamTitle } from '../cli/stream-flag.js';
import { resolveAuditSource } from '../core/read/streams.js';
import { ForwardMetrics, forwardMetricsFlags } from '../cli/forward-metrics.js';
import { MetricsRun, writeMetricsAfterError } from '../cli/metrics-flags.js';
import { forwardMetrics } from '../output/metrics.js';

export interface ForwardResult {
  dir: string;
  state: string;
  targets: TargetReport[];
  preview?: TargetPreview[];
  /** With --replay-dead-letter: what was sent again and what stays in the file (`targets` is empty). */
  replay?: ReplayReport;
}

export default class Forward extends AuditCommand {
  static override summary =
    'Send entries to Grafana Loki, syslog (UDP, TCP, TLS, RELP) and Splunk HEC, with no loss and no duplicates across restarts.';

  static override description = `Each target keeps its position in a state file (like Promtail's positions file): after a restart, forwarding resumes right after the last acknowledged entry, once the bytes there are checked unchanged. Retries with exponential backoff on 429, 5xx and network errors; entries Loki refuses (a 400 naming an entry problem) go to a dead-letter file; a refusal of the target itself (credentials, URL path, body size) stops with the position kept, or with --follow is retried until it is fixed.

Targets come from --loki/--syslog/--splunk-hec flags, else the config file's forward.targets (.loki/config.yaml), else Loki Mode's LOKI_SPLUNK_HEC_URL and LOKI_AUDIT_SYSLOG_HOST/_PORT/_PROTO. For targets of the config file, each flag given (--tenant, --label, --timestamp, --timeout, --batch-*, --framing, --ca, --facility, …) wins over its key for every target of its kind (docs/forward.md#configuration). Secrets only from the environment (LOKI_AUDIT_LOKI_USERNAME, LOKI_AUDIT_LOKI_PASSWORD, LOKI_AUDIT_LOKI_TOKEN, LOKI_SPLUNK_HEC_TOKEN) or files (--loki-password-file, --loki-token-file, --splunk-hec-token-file).

${exitCodesHelp('forward')}`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --loki http://loki:3100 --label env=prod --follow',
    'LOKI_AUDIT_LOKI_TOKEN=… <%= config.bin %> <%= command.id %> --loki https://logs.example.com --tenant acme --level warning',
    '<%= config.bin %> <%= command.id %> --syslog tls://siem.example.com:6514 --ca /etc/ssl/siem-ca.pem --follow',
    '<%= config.bin %> <%= command.id %> --syslog relp://siem.example.com:20514 --follow',
    '<%= config.bin %> <%= command.id %> --loki http://loki:3100 --dry-run',
    'LOKI_SPLUNK_HEC_TOKEN=… <%= config.bin %> <%= command.id %> --splunk-hec https://splunk:8088 --splunk-hec-ack --follow',
    '<%= config.bin %> <%= command.id %> --replay-dead-letter --loki http://loki:3100 --timestamp ingest',
  ];

  static override enableJsonFlag = true;

  static override args = dirArg;

  static override flags = {
    ...filterFlags,
    ...streamFlag,
    follow: Flags.boolean({
      char: 'f',
      summary: 'Keep forwarding new entries as they are written (rotation and midnight included).',
    }),
    'dry-run': Flags.boolean({ summary: 'Send nothing: show the streams, labels and messages that would be sent.' }),
    state: pathFlag({
      summary: "State file with each target's position (default: ~/.local/state/loki-audit/forward-<dir hash>.json).",
    }),
    'dead-letter': pathFlag({
      summary: 'Where refused entries go, as JSON Lines (default: next to the state file).',
    }),
    'replay-dead-letter': Flags.boolean({
      summary:
        "Send the dead-letter file's entries again to the targets that refused them; remove those delivered (positions untouched).",
      exclusive: ['follow', 'dry-run', 'reset-state'],
    }),
    'reset-state': Flags.boolean({ summary: 'Forget saved positions and start again (see --start-at).' }),
    'start-at': Flags.option({
      options: ['beginning', 'end'] as const,
      default: 'beginning' as const,
      summary: 'Where a target without a saved position starts.',
    })(),
    'give-up-after': Flags.integer({
      min: 1,
      summary: 'Seconds of failed retries before giving up on a target (default: 300; never with --follow).',
    }),
    'batch-wait': Flags.integer({ min: 1, default: 1000, summary: 'Longest wait before a partial batch is sent, ms.' }),
    loki: Flags.string({ multiple: true, summary: 'Loki base URL (http://loki:3100); repeatable.', helpGroup: 'LOKI' }),
    tenant: Flags.string({ summary: 'Loki tenant (X-Scope-OrgID).', helpGroup: 'LOKI' }),
    label: Flags.string({
      multiple: true,
      summary: 'Extra static stream label NAME=VALUE (low cardinality only).',
      helpGroup: 'LOKI',
    }),
    'loki-username': Flags.string({
      summary: 'Basic auth user (password from LOKI_AUDIT_LOKI_PASSWORD or --loki-password-file).',
      helpGroup: 'LOKI',
    }),
    'loki-password-file': pathFlag({ summary: 'File holding the basic auth password.', helpGroup: 'LOKI' }),
    'loki-token-file': pathFlag({
      summary: 'File holding a bearer token (or LOKI_AUDIT_LOKI_TOKEN).',
      helpGroup: 'LOKI',
    }),
    timestamp: Flags.option({
      options: ['entry', 'ingest'] as const,
      summary:
        "Loki entry time: the entry's own (default), or now (for entries older than Loki accepts; the event time stays in the line).",
      helpGroup: 'LOKI',
    })(),
    'batch-entries': Flags.integer({
      min: 1,
      summary: 'Largest batch in entries (Loki 10000, syslog 500).',
      helpGroup: 'LOKI',
    }),
    'batch-bytes': Flags.integer({
      min: 1024,
      summary: 'Largest Loki batch in bytes (default 1 MiB).',
      helpGroup: 'LOKI',
    }),
    timeout: Flags.integer({ min: 100, summary: 'Request / connect timeout, ms (default 10000).' }),
    syslog: Flags.string({
      multiple: true,
      summary:
        'Syslog target udp://HOST:PORT, tcp://HOST:PORT, tls://HOST:PORT, relp://HOST:PORT or relp+tls://HOST:PORT (RELP: acknowledged); repeatable.',
      helpGroup: 'SYSLOG',
    }),
    framing: Flags.option({
      options: ['octet-counting', 'lf'] as const,
      summary: 'TCP/TLS framing (RFC 6587; default octet-counting).',
      helpGroup: 'SYSLOG',
    })(),
    ca: pathFlag({
      summary: 'TLS (tls://, relp+tls://, Splunk HEC https://): CA certificate (PEM) to verify the server.',
      helpGroup: 'SYSLOG',
    }),
    cert: pathFlag({ summary: 'TLS: client certificate (PEM) for mutual TLS.', helpGroup: 'SYSLOG' }),
    key: pathFlag({ summary: 'TLS: client key (PEM) for mutual TLS.', helpGroup: 'SYSLOG' }),
    facility: Flags.string({ summary: 'Syslog facility (default local0).', helpGroup: 'SYSLOG' }),
    hostname: Flags.string({ summary: 'Syslog HOSTNAME (default: this host).', helpGroup: 'SYSLOG' }),
    'splunk-hec': Flags.string({
      summary:
        'Splunk HTTP Event Collector URL, http(s)://HOST:8088 (or LOKI_SPLUNK_HEC_URL); token from LOKI_SPLUNK_HEC_TOKEN or --splunk-hec-token-file.',
      helpGroup: 'SPLUNK HEC',
    }),
    'splunk-hec-token-file': pathFlag({
      summary: 'File holding the HEC token (or LOKI_SPLUNK_HEC_TOKEN).',
      helpGroup: 'SPLUNK HEC',
    }),
    'splunk-hec-index': Flags.string({
      summary: "Splunk index (or LOKI_SPLUNK_HEC_INDEX; default: the token's).",
      helpGroup: 'SPLUNK HEC',
    }),
    'splunk-hec-sourcetype': Flags.string({
      summary: 'Sourcetype (or LOKI_SPLUNK_HEC_SOURCETYPE; default loki:audit).',
      helpGroup: 'SPLUNK HEC',
    }),
    'splunk-hec-ack': Flags.boolean({
      summary: 'Require indexer acknowledgement: a batch counts only once Splunk says it is indexed.',
      helpGroup: 'SPLUNK HEC',
    }),
    'splunk-hec-channel': Flags.string({
      summary: 'Request channel, a GUID (default: a random one per run).',
      helpGroup: 'SPLUNK HEC',
    }),
    'syslog-format': Flags.option({
      options: SYSLOG_FORMATS,
      summary:
        'Syslog message format: rfc5424 (default; chain in STRUCTURED-DATA), rfc3164, or cef/leef records (with the chain) as MSG.',
      helpGroup: 'SYSLOG',
    })(),
    ...forwardMetricsFlags,
  };

  /** With --metrics-file or --metrics-listen: this run's counts; the file written at the end, also on error. */
  private metrics: ForwardMetrics | null = null;
  private metricsFile: MetricsRun | null = null;

  async run(): Promise<ForwardResult> {
    const { flags, args } = await this.parse(Forward);
    const given = this.setup(flags, args);
    if (flags['metrics-file'] && !flags['dry-run'])
      this.metricsFile = new MetricsRun(flags['metrics-file'], 'forward', given);
    // Positions, follow and the Loki witness are built on the dashboard chain's files: forward sends that chain only.
    const source = await resolveAuditSource(given, { stream: flags.stream, requireFiles: !flags.follow });
    const other = source.streams.find((s) => s !== 'dashboard');
    if (!source.streams.includes('dashboard'))
      this.fail(
        `forward sends the dashboard audit chain only; ${streamTitle(other ?? source.streams[0])} is not forwarded`,
        Exit.streamUnsupported,
        [`send it as a one-off export: loki-audit export --stream ${other} --dir ${given} -o rfc5424`],
      );
    if (other)
      process.stderr.write(
        `loki-audit: note: ${source.files
          .filter((f) => f.chain !== 'dashboard')
          .map((f) => f.name)
          .join(', ')} (${streamTitle(other)}) is not forwarded: forward sends the dashboard audit chain only\n`,
      );
    const dir = source.home;
    const { targets, filter, state, statePath, deadLetterPath } = await forwardSetup(
      { ...flags, version: this.config.version },
      dir,
      forwardConfig(this.configuration),
    );
    if (flags['replay-dead-letter']) return this.replay(flags, dir, statePath, deadLetterPath, targets);
    if ((this.metricsFile || flags['metrics-listen']) && !flags['dry-run']) {
      const ids = targets.map((t) => t.id);
      this.metrics = new ForwardMetrics(dir, ids, state, deadLetterPath, this.metricsFile, flags['metrics-listen']);
      await this.metrics.start();
    }
    // A long run at full speed: young generation at most 2 × 4 MB, old generation grown by half
    // (src/core/runtime/heap.ts).
    const stopHeapWatch = constrainHeap();
    const abort = new AbortController();
    const stop = () => abort.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const quiet = this.jsonEnabled();
    // Progress of a bounded run on a terminal (files, MB, MB/s, ETA of the first target's read).
    const progress =
      !flags.follow && !flags['dry-run'] && progressWanted({ json: quiet, resultsAtEnd: true })
        ? new ProgressLine('forwarding')
        : null;
    const previews: TargetPreview[] = [];
    const printEvent = forwardEventPrinter(targets[0].id, deadLetterPath, progress);
    // Loki refused entries for their age: the replay command then carries --timestamp ingest.
    let tooOld = false;
    const onEvent = (e: ForwardEvent) => {
      if (e.kind === 'dead-letter' && /too old|too far behind/i.test(e.reason)) tooOld = true;
      printEvent(e);
    };
    let reports: TargetReport[];
    try {
      reports = await forward(targets, {
        dir,
        filter,
        state,
        statePath,
        follow: flags.follow,
        startAt: flags['start-at'],
        batchWaitMs: flags['batch-wait'],
        giveUpAfterMs: flags['give-up-after'] !== undefined ? flags['give-up-after'] * 1000 : undefined,
        deadLetterPath,
        maxLineBytes: flags['max-line-bytes'],
        signal: abort.signal,
        onEvent: withMetrics(this.metrics, onEvent),
        dryRun: flags['dry-run'],
        previews,
      });
    } catch (err) {
      if (err instanceof StateError)
        this.fail(err.message, Exit.stateMismatch, [
          `check the directory: loki-audit verify --dir ${dir}`,
          'then forward from the start: add --reset-state',
        ]);
      throw err;
    } finally {
      stopHeapWatch();
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      progress?.clear();
    }
    if (!quiet) this.out(flags['dry-run'] ? formatForwardPreview(previews) : formatForwardReports(reports));
    const deadLettered = reports.reduce((n, r) => n + r.deadLettered, 0);
    if (deadLettered)
      process.stderr.write(
        deadLetterNote(deadLettered, deadLetterPath, replayCommand(flags, dir, deadLetterPath, tooOld)),
      );
    const exitCode = forwardExitCode(reports);
    process.exitCode = exitCode;
    await this.metrics?.finish(exitCode);
    return { dir, state: statePath, targets: reports, ...(flags['dry-run'] ? { preview: previews } : {}) };
  }

  /** `--replay-dead-letter`: the dead-letter file's entries sent again; its report, and exit 11 while some stay. */
  private async replay(
    flags: { 'give-up-after'?: number; 'max-line-bytes'?: number },
    dir: string,
    statePath: string,
    deadLetterPath: string,
    targets: ForwardTarget[],
  ): Promise<ForwardResult> {
    const abort = new AbortController();
    const stop = () => abort.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    let report: ReplayReport;
    try {
      report = await replayDeadLetters(targets, {
        deadLetterPath,
        maxLineBytes: flags['max-line-bytes'] ?? DEFAULT_MAX_LINE_BYTES,
        retry: {
          backoffMs: { min: 500, max: 30_000 },
          giveUpAfterMs: (flags['give-up-after'] ?? 300) * 1000,
          signal: abort.signal,
        },
        onRetry: (target, n) => {
          if (n.attempt === 1 || n.attempt % 10 === 0)
            process.stderr.write(
              `loki-audit: ${target}: ${safeText(n.error)}; retrying (attempt ${n.attempt}, next in ${n.delayMs} ms)\n`,
            );
        },
      });
    } finally {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      await Promise.all(targets.map((t) => t.close()));
    }
    if (!this.jsonEnabled()) this.out(formatReplayReport(report));
    for (const t of report.targets)
      if (t.stopped) process.stderr.write(`loki-audit: hint: ${refusalHint(t.target, t.stopped, t.error ?? '')}\n`);
    const kept = Object.values(report.unconfigured).reduce((a, b) => a + b, report.invalid);
    process.exitCode = forwardExitCode([
      ...report.targets.map((t) => ({ error: t.error, stopped: t.stopped, deadLettered: t.stillRefused })),
      { error: null, deadLettered: kept },
    ]);
    return { dir, state: statePath, targets: [], replay: report };
  }

  /** A run that ended in an error still writes its metrics file, with its exit code. */
  protected override async finally(err: Error | undefined): Promise<unknown> {
    writeMetricsAfterError(
      this.metricsFile,
      err,
      (info) => this.metrics?.fileFamilies(info) ?? forwardMetrics([], info),
    );
    return super.finally(err);
  }
}

/** The event hook, with the metrics counting first. */
function withMetrics(metrics: ForwardMetrics | null, print: (e: ForwardEvent) => void): (e: ForwardEvent) => void {
  return metrics ? (e) => (metrics.onEvent(e), print(e)) : print;
}
