/**
 * Human output of `verify --against-loki URL --host H` / `--all-hosts`: one verdict line per
 * host, its breaks and gaps (the first few), and a summary line. Host names, files and hashes
 * come from Loki (data): escaped with safeText.
 */
import type { ChalkInstance } from 'chalk';
import type { LokiHostsReport } from '../core/chain/anchors/host-chain.js';
import { safeText } from '../formats/escape.js';
import { shortHash } from './text.js';

const TITLES: Record<LokiHostsReport['hosts'][number]['verdict'], string> = {
  intact: 'intact',
  tampered: 'TAMPERED',
  incomplete: 'GAP',
  'stale-head': 'STALE head',
};

/** A duration in the largest whole unit, `3d4h`, `25m`. */
function age(ms: number): string {
  const m = Math.floor(ms / 60_000);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h}h${m % 60 ? `${m % 60}m` : ''}` : `${Math.floor(h / 24)}d${h % 24 ? `${h % 24}h` : ''}`;
}

/** The report as text (lines joined by `\n`, no trailing newline); `quiet`: only hosts not intact. */
export function formatLokiHosts(r: LokiHostsReport, c: ChalkInstance, o: { quiet?: boolean } = {}): string {
  const out: string[] = [];
  for (const h of r.hosts) {
    if (o.quiet && h.verdict === 'intact') continue;
    const title = TITLES[h.verdict];
    const painted =
      h.verdict === 'intact' ? c.green.bold(title) : h.exitCode === 1 ? c.red.bold(title) : c.yellow.bold(title);
    const parts = [`${safeText(h.host)}: ${painted}: ${h.entries} entries in Loki, ${h.chained} chain`];
    if (h.breaks) parts.push(`${h.breaks} break(s)`);
    if (h.gaps) parts.push(`${h.gaps} gap(s)`);
    if (h.start === 'mid-chain') parts.push('starts mid-chain');
    if (h.head)
      parts.push(
        `head ${safeText(shortHash(h.head.hash))}` +
          (h.head.file ? ` at ${safeText(h.head.file)}:${h.head.line}` : '') +
          (h.head.time ? ` ${h.head.time}` : '') +
          (h.ageMs !== null ? ` (${age(Math.max(0, h.ageMs))} old${h.stale ? ', over --max-age' : ''})` : ''),
      );
    out.push(parts.join('; ') + ` (exit ${h.exitCode})`);
    for (const f of h.findings) out.push(`  ${f.kind}: ${safeText(f.message)}`);
    const shown = h.findings.length;
    if (h.breaks + h.gaps > shown) out.push(`  … and ${h.breaks + h.gaps - shown} more not shown`);
  }
  const s = r.summary;
  const counts = [
    `${s.intact} intact`,
    s.tampered ? `${s.tampered} tampered` : '',
    s.incomplete ? `${s.incomplete} with gaps` : '',
    s['stale-head'] ? `${s['stale-head']} stale` : '',
  ].filter(Boolean);
  if (!o.quiet || !r.ok)
    out.push(`${r.hosts.length} host(s) in ${safeText(r.url)}: ${counts.join(', ')} (exit ${r.exitCode})`);
  return out.join('\n');
}
