/**
 * `forward`'s terminal output: its events as they happen (retries, refusals, giving up, bad
 * lines) on stderr, above the progress line; the result per target, or the `--dry-run` preview,
 * on stdout. Values that come from the log or from a server are escaped for the terminal.
 */
import type { CheckpointReport } from '../core/forward/checkpoints.js';
import type { ForwardEvent, TargetReport } from '../core/forward/pipeline.js';
import type { TargetPreview, TargetRefusal } from '../core/forward/target.js';
import type { ReplayReport } from '../core/forward/replay.js';
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
        : 'HEC refused the token: check LOKI_SPLUNK_HEC_TOKEN or ' +
            '--splunk-hec-token-file (a token file is read again before each retry)';
    case 'path':
      return (
        'nothing takes events at that URL: give the collector ' +
        '(https://splunk:8088) or its event URL (…/services/collector/event)'
      );
    case 'too-large':
      return (
        'even one event is too large for HEC: raise its max_content_length ' +
        "(limits.conf [http_input]) or a proxy's body limit"
      );
    case 'target':
      if (/Incorrect index/.test(error))
        return (
          'the token may not write to that index: check --splunk-hec-index ' +
          "(LOKI_SPLUNK_HEC_INDEX) against the token's allowed indexes"
        );
      if (/acknowledgement is off|ACK is disabled/.test(error))
        return 'turn indexer acknowledgement on for the token, or forward without --splunk-hec-ack';
      return 'HEC refused the request itself, not an event in it: see its message above';
    case 'tls-trust':
      return (
        "the server's certificate does not verify: give its CA with --ca FILE " +
        '(PEM), or the host name its certificate names; this is not retried'
      );
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
        `loki-audit: ${e.target}: ${safeText(e.error)}; batches of at most ` +
          `${e.bytes} bytes from now on (--batch-bytes ${e.bytes} starts there)`,
      );
    else if (e.kind === 'dead-letter')
      say(
        `loki-audit: ${e.target}: ${e.entries} entr${e.entries === 1 ? 'y' : 'ies'} ` +
          `refused (${safeText(e.reason)}); written to ${safeText(deadLetterPath)}`,
      );
    else if (e.kind === 'gave-up')
      say(`loki-audit: ${e.target}: giving up: ${safeText(e.error)}; position saved, run again to resume`);
    else if (e.kind === 'problem') warnings.add(e.problem);
    else if (e.kind === 'chain-break') {
      const breaks = e.resumed
        ? 'the chain broke here (found by an earlier run)'
        : `the chain breaks here (${safeText(e.at.reason)})`;
      say(
        `loki-audit: warning: ${safeText(e.at.file)}:${e.at.line}: ${breaks}: ` +
          `no checkpoint is signed past it; forwarding goes on (run: loki-audit verify)`,
      );
    } else if (e.kind === 'checkpoint-retry' && (e.attempt === 1 || e.attempt % 10 === 0))
      say(
        `loki-audit: checkpoint store ${safeText(e.store)}: ${safeText(e.error)}; ` +
          `retrying (attempt ${e.attempt}, next in ${e.delayMs} ms)`,
      );
    else if (e.kind === 'checkpoint-failed')
      say(
        `loki-audit: checkpoint store ${safeText(e.store)}: giving up: ` +
          `${safeText(e.error)}; the checkpoint is kept and pushed by the next run`,
      );
  };
}

/**
 * `--checkpoint-every`'s line of the report: how many were signed and reached the store, the
 * newest, what is left for the next run, and where the chain broke.
 */
export function formatCheckpointReport(r: CheckpointReport): string {
  const parts = [`${r.signed} signed`, `${r.pushed} pushed`];
  if (r.superseded) parts.push(`${r.superseded} replaced by a newer one before it was pushed`);
  let text =
    `checkpoints (every ${r.every} entries acknowledged by ` +
    `${r.target}) to ${safeText(r.store)}: ${parts.join(', ')}`;
  if (r.last)
    text +=
      `; newest head ${r.last.head.slice(0, 12)}… at ` +
      `${safeText(r.last.file)}:${r.last.line}, ${r.last.entries} entries`;
  if (r.pending) text += `; one not pushed${r.error ? ` (${safeText(r.error)})` : ''}: kept for the next run`;
  if (r.brokenAt)
    text +=
      `; none past ${safeText(r.brokenAt.file)}:${r.brokenAt.line}, ` +
      `where the chain breaks (run: loki-audit verify)`;
  return text + '\n';
}

/** What `--dry-run` would have sent, per target. */
export function formatForwardPreview(previews: TargetPreview[]): string {
  const out: string[] = [];
  for (const p of previews) {
    const refusals = Object.entries(p.wouldBeRefused);
    const notSent = refusals.reduce((n, [, k]) => n + k, 0);
    out.push(
      `${p.target}: ${p.entries} entr${p.entries === 1 ? 'y' : 'ies'} would be sent` +
        (notSent ? `, ${notSent} would be refused by the target` : ''),
    );
    for (const [labels, n] of Object.entries(p.streams)) out.push(`  stream ${safeText(labels)}: ${n}`);
    for (const [reason, n] of refusals) out.push(`  would be refused: ${n}: ${safeText(reason)}`);
    if (refusals.some(([reason]) => /too old/.test(reason)))
      out.push('  hint: --timestamp ingest sends them with the time of sending (the event time stays in the line)');
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
        `${r.target}: ${taken(r)}${r.deadLettered ? `, ${r.deadLettered} refused (dead-letter)` : ''}` +
        (r.unreadable.length
          ? `, ${r.unreadable.length} file(s) could not be read (${r.unreadable.map(safeText).join(', ')}): ` +
            'their entries were not sent'
          : '') +
        `${r.error ? `, ${r.stopped ? 'stopped' : 'gave up'}: ${safeText(r.error)}` : ''}\n`,
    )
    .join('');
}

/**
 * What a run that dead-lettered entries says at its end (stderr): where they are, that the
 * position has moved past them, and the command that sends them again.
 */
export function deadLetterNote(entries: number, deadLetterPath: string, command: string): string {
  return (
    `loki-audit: note: ${entries} refused entr${entries === 1 ? 'y is' : 'ies are'} in ${safeText(deadLetterPath)}; ` +
    'the position has moved past them, so later runs do not send them again\n' +
    `loki-audit: hint: once the cause is fixed, send them again with: ${safeText(command)}\n`
  );
}

/** The outcome of `--replay-dead-letter`: one line per target, then what the file kept. */
export function formatReplayReport(r: ReplayReport): string {
  if (!r.found) return `no dead-letter file at ${safeText(r.file)}: nothing to replay\n`;
  const out: string[] = [];
  for (const t of r.targets) {
    const taken = t.acknowledges
      ? `${t.replayed} replayed`
      : `${t.replayed} sent (${/^syslog:(\w+):/.exec(t.target)?.[1] ?? 'the target'} has no acknowledgement)`;
    out.push(
      `${t.target}: ${taken}, ${t.stillRefused} still refused` +
        (t.error ? `, ${t.stopped ? 'stopped' : 'gave up'}: ${safeText(t.error)}` : ''),
    );
  }
  const unconfigured = Object.values(r.unconfigured).reduce((a, b) => a + b, 0);
  const kept = r.stillRefused + unconfigured + r.invalid + r.carriedOver;
  out.push(`${safeText(r.file)}: ${r.replayed} removed, ${kept} kept`);
  for (const [target, n] of Object.entries(r.unconfigured))
    out.push(
      `  kept: ${n} for ${safeText(target)}, not a target of this run (give its --loki/--syslog to replay them)`,
    );
  if (r.invalid) out.push(`  kept: ${r.invalid} line(s) that are not dead-letter records, as they are`);
  if (r.carriedOver) out.push(`  kept: ${r.carriedOver} line(s) a forward run wrote during the replay`);
  return out.map((l) => l + '\n').join('');
}
