/**
 * Loki as a witness (`verify --against-loki URL`): the entries forwarded to Loki are a copy an
 * attacker on this host cannot rewrite. This compares the chain hashes stored in Loki for a
 * time range with the local entries of the same range:
 *
 * - in Loki but not here: an entry was removed or changed locally after it was forwarded
 *   (anchor-mismatch, exit 12);
 * - here but not in Loki: not forwarded (yet), or lost on the way (a note).
 *
 * Reads Loki's `GET /loki/api/v1/query_range` (stream selector `{service_name="loki-audit"}`
 * by default, forward direction, paged by time). The hash is read from each line, which is
 * the entry's original JSON as `forward` sends it, so structured metadata support is not needed.
 * Source: Loki HTTP API docs (query_range).
 */
import type { Finding, Note } from '../sequential/verifier.js';
import type { AuditFile } from '../../read/files.js';
import { lokiHeaders, type LokiAuth } from '../../../sinks/loki/push.js';
import { hashInLine } from '../sequential/verifier.js';
import { readEntries } from '../../read/entries.js';

export interface WitnessOptions {
  url: string;
  tenant?: string;
  auth: LokiAuth;
  selector?: string;
  /** Time range in ms; default: from the first local entry to now. */
  since?: number;
  until?: number;
  timeoutMs?: number;
  pageSize?: number;
}

export interface WitnessResult {
  findings: Finding[];
  notes: Note[];
  local: number;
  inLoki: number;
}

/** Loki could not be queried. */
export class WitnessError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WitnessError';
  }
}

async function lokiHashes(o: WitnessOptions, startNs: bigint, endNs: bigint): Promise<Map<string, string>> {
  const out = new Map<string, string>(); // hash -> line (for the message)
  const headers = lokiHeaders(o.tenant, o.auth);
  const limit = o.pageSize ?? 5000;
  let start = startNs;
  for (let page = 0; page < 100_000; page++) {
    const u = new URL('loki/api/v1/query_range', o.url.endsWith('/') ? o.url : o.url + '/');
    u.searchParams.set('query', o.selector ?? '{service_name="loki-audit"}');
    u.searchParams.set('start', start.toString());
    u.searchParams.set('end', endNs.toString());
    u.searchParams.set('limit', String(limit));
    u.searchParams.set('direction', 'forward');
    let body: { data?: { result?: Array<{ values?: Array<[string, string]> }> } };
    try {
      const res = await fetch(u, { headers, signal: AbortSignal.timeout(o.timeoutMs ?? 30_000) });
      if (!res.ok)
        throw new WitnessError(`Loki answered HTTP ${res.status}: ${(await res.text()).slice(0, 300).trim()}`);
      body = (await res.json()) as typeof body;
    } catch (err) {
      if (err instanceof WitnessError) throw err;
      const e = err as Error & { cause?: { code?: string } };
      throw new WitnessError(`cannot query ${u.host}: ${e.cause?.code ?? e.message}`);
    }
    let count = 0;
    let last = start;
    for (const s of body.data?.result ?? []) {
      for (const [ts, line] of s.values ?? []) {
        count++;
        const t = BigInt(ts);
        if (t > last) last = t;
        const h = hashInLine(line);
        if (h) out.set(h, line);
      }
    }
    if (count < limit) break;
    // Next page: after the newest timestamp seen (entries sharing it were all in this page
    // unless more than `limit` share one nanosecond, which audit entries do not).
    start = last + 1n;
  }
  return out;
}

/**
 * Compares local entries with the copy in Loki.
 * @throws WitnessError when Loki cannot be queried.
 */
export async function compareWithLoki(
  files: AuditFile[],
  o: WitnessOptions,
  maxLineBytes?: number,
): Promise<WitnessResult> {
  const local = new Map<string, { file: string; line: number; offset: number }>();
  let first = Infinity;
  let last = -Infinity;
  for await (const item of readEntries(files, { maxLineBytes })) {
    if (item.kind !== 'entry' || !item.view.hash) continue;
    const t = item.view.time;
    if (o.since !== undefined && t < o.since) continue;
    if (o.until !== undefined && t >= o.until) continue;
    local.set(item.view.hash, { file: item.file, line: item.line, offset: item.offset });
    if (t < first) first = t;
    if (t > last) last = t;
  }
  const since = o.since ?? (Number.isFinite(first) ? first : Date.now());
  // Up to now: entries in Loki newer than the newest local one are exactly what a truncation removes.
  const until = o.until ?? Math.max(Date.now() + 10 * 60_000, Number.isFinite(last) ? last + 1 : 0);
  const remote = await lokiHashes(
    o,
    BigInt(Math.floor(since)) * 1_000_000n,
    BigInt(Math.ceil(until)) * 1_000_000n + 999_999n,
  );
  const findings: Finding[] = [];
  for (const [h, line] of remote) {
    if (local.has(h)) continue;
    const ts = /"timestamp"\s*:\s*"([^"]+)"/.exec(line)?.[1] ?? '?';
    findings.push({
      file: '-',
      line: 0,
      offset: -1,
      class: 'anchor-mismatch',
      reason: 'head-missing',
      expected: h,
      message: `an entry forwarded to Loki (time ${ts}, chain hash ${h.slice(0, 16)}…) is not in the local files: removed or changed here after it was forwarded`,
    });
  }
  const notes: Note[] = [];
  const missing = [...local.entries()].filter(([h]) => !remote.has(h));
  if (missing.length) {
    const [, where] = missing[0];
    notes.push({
      kind: 'not-forwarded',
      file: where.file,
      line: where.line,
      message: `${missing.length} local entr${missing.length === 1 ? 'y is' : 'ies are'} not in Loki (not forwarded yet, or lost on the way); first: ${where.file}:${where.line}`,
    });
  }
  return { findings, notes, local: local.size, inLoki: remote.size };
}
