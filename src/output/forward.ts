/**
 * `forward`'s terminal output: its events as they happen (retries, refusals, giving up, bad
 * lines) on stderr, above the progress line; the result per target, or the `--dry-run` preview,
 * on stdout. Values that come from the log or from a server are escaped for the terminal.
 */
import type { ForwardEvent, TargetReport } from '../core/forward/pipeline.js';
import type { TargetPreview, TargetRefusal } from '../core/forward/target.js';
import type { ProgressLine } from './progress.js';
import { safeText } from '../formats/escape.js';
import { LineWarnings } from './warnings.js';

/**
 * What to do about a refusal of the target itself, in the operator's words: which setting is
 * wrong and where it is set. `error` is the target's answer (Loki's "no org id" wants a tenant).
 */
export function refusalHint(target: string, refusal: TargetRefusal, error: string): string {
  const loki = target.startsWith('loki:');
  if (target.startsWith('splunk-hec:')) return hecHint(refusal, error);
  switch (refusal) {
    case 'credentials':
      if (loki && /no org id/i.test(error)) return 'Loki wants a tenant: give it with --tenant (X-Scope-OrgID)';
      return loki
        ? 'the credentials were refused: check LOKI_AUDIT_LOKI_TOKEN or --loki-token-file (bearer), or ' +
            'LOKI_AUDIT_LOKI_USERNAME with LOKI_AUDIT_LOKI_PASSWORD or --loki-password-file (basic); ' +
            'a secret file is read again before each retry'
        : 'the credentials were refused: check the client certificate (--cert, --key)';
    case 'path':
      return loki
        ? 'nothing takes pushes at that URL: check its path (behind a proxy, give the prefix: ' +
            '--loki https://host/prefix; loki-audit adds /loki/api/v1/push)'
        : 'nothing takes messages at that URL: check it';
    case 'too-large':
      return (
        'even a push of one entry is too large for the receiver, which took no smaller one: raise its ' +
        "body size limit (nginx: client_max_body_size; Loki: distributor's max_recv_msg_size); " +
        '--batch-bytes sets where batches start'
      );
    case 'target':
      return 'the receiver refused the push itself, not an entry in it: see its message above';
    case 'tls-trust':
      return loki
        ? "the server's certificate does not verify: give its CA to Node with NODE_EXTRA_CA_CERTS=FILE " +
            '(a PEM file), or use the host name its certificate names; this is not retried'
        : "the server's certificate does not verify: give its CA with --ca FILE (PEM), or the host name " +
            'its certificate names; this is not retried';
  }
}

/** {@link refusalHint} for a Splunk HEC target. */
function hecHint(refusal: TargetRefusal, error: string): string {
  switch (refusal) {
    case 'credentials':
      return /Token disabled/.test(error)
        ? 'the HEC token is disabled: enable it in Splunk (Settings › Data inputs › HTTP Event Collector)'
        : 'HEC refused the token: check LOKI_SPLUNK_HEC_TOKEN or --splunk-hec-token-file (a token file is read again before each retry)';
    case 'path':
      return 'nothing takes events at that URL: give the collector (https://splunk:8088) or its event URL (…/services/collector/event)';
    case 'too-large':
      return "even one event is too large for HEC: raise its max_content_length (limits.conf [http_input]) or a proxy's body limit";
    case 'target':
      if (/Incorrect index/.test(error))
        return "the token may not write to that index: check --splunk-hec-index (LOKI_SPLUNK_HEC_INDEX) against the token's allowed indexes";
      if (/acknowledgement is off|ACK is disabled/.test(error))
        return 'turn indexer acknowledgement on for the token, or forward without --splunk-hec-ack';
      return 'HEC refused the request itself, not an event in it: see its message above';
    case 'tls-trust':
      return "the server's certificate does not verify: give its CA with --ca FILE (PEM), or the host name its certificate names; this is not retried";
  }
}

/**
 * A listener for forward's events. Progress follows the first target's reading; retries are
 * reported at the first attempt and every tenth.
 */
export function forwardEventPrinter(
  firstTarget: string,
  deadLetterPath: string,
  progress: ProgressLine | null,
): (e: ForwardEvent) => void {
  const say = (line: string) => process.stderr.write(line + '\n');
  const warnings = new LineWarnings(say);
  return (e) => {
    if (e.kind === 'read') {
      if (e.target === firstTarget) progress?.update(e.progress);
      return;
    }
    progress?.clear();
    if (e.kind === 'retry' && (e.attempt === 1 || e.attempt % 10 === 0)) {
      say(`loki-audit: ${e.target}: ${safeText(e.error)}; retrying (attempt ${e.attempt}, next in ${e.delayMs} ms)`);
      if (e.refusal) say(`loki-audit: hint: ${refusalHint(e.target, e.refusal, e.error)}`);
    } else if (e.kind === 'stopped') {
      say(`loki-audit: error: ${e.target}: ${safeText(e.error)}`);
      say(`loki-audit: hint: ${refusalHint(e.target, e.refusal, e.error)}`);
      say('loki-audit: hint: nothing was dead-lettered and the position is kept: run again once it is fixed');
    } else if (e.kind === 'batch-bytes')
      say(
        `loki-audit: ${e.target}: ${safeText(e.error)}; batches of at most ${e.bytes} bytes from now on (--batch-bytes ${e.bytes} starts there)`,
      );
    else if (e.kind === 'dead-letter')
      say(
        `loki-audit: ${e.target}: ${e.entries} entr${e.entries === 1 ? 'y' : 'ies'} refused (${safeText(e.reason)}); written to ${safeText(deadLetterPath)}`,
      );
    else if (e.kind === 'gave-up')
      say(`loki-audit: ${e.target}: giving up: ${safeText(e.error)}; position saved, run again to resume`);
    else if (e.kind === 'problem') warnings.add(e.problem);
  };
}

/** What `--dry-run` would have sent, per target. */
export function formatForwardPreview(previews: TargetPreview[]): string {
  const out: string[] = [];
  for (const p of previews) {
    out.push(`${p.target}: ${p.entries} entries would be sent`);
    for (const [labels, n] of Object.entries(p.streams)) out.push(`  stream ${safeText(labels)}: ${n}`);
    for (const [reason, n] of Object.entries(p.refused)) out.push(`  refused: ${n}: ${safeText(reason)}`);
    if (p.sample) out.push(`  first message: ${safeText(p.sample)}`);
  }
  return out.map((l) => l + '\n').join('');
}

/**
 * One line per target: delivered (acknowledged) or, for syslog without acknowledgement, only
 * sent; refused; files that could not be read; stopped or given up.
 */
export function formatForwardReports(reports: TargetReport[]): string {
  const taken = (r: TargetReport) =>
    r.acknowledges
      ? `${r.delivered} delivered`
      : r.target.startsWith('splunk-hec:')
        ? `${r.sent} sent (HEC answered 200; --splunk-hec-ack waits for indexer acknowledgement)`
        : `${r.sent} sent (${/^syslog:(\w+):/.exec(r.target)?.[1] ?? 'the target'} has no acknowledgement)`;
  return reports
    .map(
      (r) =>
        `${r.target}: ${taken(r)}${r.deadLettered ? `, ${r.deadLettered} refused (dead-letter)` : ''}${r.unreadable.length ? `, ${r.unreadable.length} file(s) could not be read (${r.unreadable.map(safeText).join(', ')}): their entries were not sent` : ''}${r.error ? `, ${r.stopped ? 'stopped' : 'gave up'}: ${safeText(r.error)}` : ''}\n`,
    )
    .join('');
}
