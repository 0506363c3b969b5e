import { AuditCommand, dirArg } from '../cli/base-command.js';
import { exitCodesHelp } from '../cli/exit-codes.js';
import { forwardFlags } from '../cli/forward-flags.js';
import { ForwardRun, type ForwardResult } from '../cli/forward-run.js';
import { forwardConfig } from '../cli/config.js';

export type { ForwardResult } from '../cli/forward-run.js';

export default class Forward extends AuditCommand {
  static override summary =
    'Send entries to Grafana Loki, syslog (UDP, TCP, TLS, RELP) ' +
    'and Splunk HEC, with no loss and no duplicates across restarts.';

  static override description =
    `Each target keeps its position in a state file (like Promtail's positions ` +
    `file): after a restart, forwarding resumes right after the last acknowledged entry, once the bytes ` +
    `there are checked unchanged. Retries with exponential backoff on 429, 5xx and network errors; entries ` +
    `Loki refuses (a 400 naming an entry problem) go to a dead-letter file; a refusal of the target itself ` +
    `(credentials, URL path, body size) stops with the position kept, or with --follow is retried until it is fixed.

Targets come from --loki/--syslog/--splunk-hec flags, else the config file's forward.targets ` +
    `(.loki/config.yaml), else Loki Mode's LOKI_SPLUNK_HEC_URL and LOKI_AUDIT_SYSLOG_HOST/_PORT/_PROTO. For ` +
    `targets of the config file, each flag given (--tenant, --label, --timestamp, --timeout, --batch-*, ` +
    `--framing, --ca, --facility, …) wins over its key for every target of its kind ` +
    `(docs/forward.md#configuration). Secrets only from the environment (LOKI_AUDIT_LOKI_USERNAME, ` +
    `LOKI_AUDIT_LOKI_PASSWORD, LOKI_AUDIT_LOKI_TOKEN, LOKI_SPLUNK_HEC_TOKEN) or files ` +
    `(--loki-password-file, --loki-token-file, --splunk-hec-token-file).

${exitCodesHelp('forward')}`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --loki http://loki:3100 --label env=prod --follow',
    'LOKI_AUDIT_LOKI_TOKEN=… <%= config.bin %> <%= command.id %> ' +
      '--loki https://logs.example.com --tenant acme --level warning',
    '<%= config.bin %> <%= command.id %> --syslog tls://siem.example.com:6514 --ca /etc/ssl/siem-ca.pem --follow',
    '<%= config.bin %> <%= command.id %> --syslog relp://siem.example.com:20514 --follow',
    '<%= config.bin %> <%= command.id %> --loki http://loki:3100 --dry-run',
    'LOKI_SPLUNK_HEC_TOKEN=… <%= config.bin %> <%= command.id %> ' +
      '--splunk-hec https://splunk:8088 --splunk-hec-ack --follow',
    '<%= config.bin %> <%= command.id %> --replay-dead-letter --loki http://loki:3100 --timestamp ingest',
    '<%= config.bin %> <%= command.id %> --loki http://loki:3100 --follow ' +
      '--checkpoint-every 10000 --checkpoint-key /etc/loki-audit/checkpoint.key',
  ];

  static override enableJsonFlag = true;

  static override args = dirArg;
  static override flags = forwardFlags;

  /** The run, kept for its metrics file when the run ends in an error. */
  private session: ForwardRun | null = null;

  async run(): Promise<ForwardResult> {
    const { flags, args } = await this.parse(Forward);
    const given = this.setup(flags, args);
    this.session = new ForwardRun(flags, {
      version: this.config.version,
      config: forwardConfig(this.configuration),
      json: this.jsonEnabled(),
      out: (text) => this.out(text),
    });
    return this.session.run(given);
  }

  /** A run that ended in an error still writes its metrics file, with its exit code. */
  protected override async finally(err: Error | undefined): Promise<unknown> {
    this.session?.afterError(err);
    return super.finally(err);
  }
}
