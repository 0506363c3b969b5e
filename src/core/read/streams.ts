/**
 * Loki Mode's audit streams (spec §5) and which of them a directory holds.
 *
 * | stream      | where                                         | written by                        | chain |
 * |-------------|-----------------------------------------------|-----------------------------------|-------|
 * | `dashboard` | `~/.loki/dashboard/audit/audit-YYYY-MM-DD…`   | `dashboard/audit.py` (spec §1–§3) | yes   |
 * | `js`        | `<project>/.loki/audit/audit.jsonl`           | `src/audit/log.js`                | yes   |
 * | `agent`     | `<project>/.loki/logs/agent-audit.jsonl`      | `run.sh audit_agent_action`       | no    |
 * | `session`   | `<project>/.loki/logs/audit-YYYYMMDD.jsonl`   | `run.sh audit_log`                | no    |
 *
 * A directory given is a project directory (it has `.loki/`: its streams are under `.loki/logs`
 * and `.loki/audit`), or the directory of the files themselves (a project's `.loki/logs` or
 * `.loki/audit`, the dashboard audit directory). Without a stream asked for, a directory's
 * chains are read (the dashboard chain and a JS AuditLog, together when both are there, as
 * verify checks them); the agent and session audits only when the directory holds nothing else
 * and only one of them — otherwise the caller must choose ({@link StreamChoiceError}).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditFile, FileChain } from './files.js';
import { AuditDirError, CHAIN_FILE_RE, compareChainOrder, discoverAuditFiles } from './files.js';

/** Loki Mode's audit streams. */
export const STREAM_KINDS = ['dashboard', 'js', 'agent', 'session'] as const;
export type StreamKind = (typeof STREAM_KINDS)[number];

/** The streams that carry a hash chain. */
export const CHAIN_STREAMS: ReadonlySet<StreamKind> = new Set(['dashboard', 'js']);

/** What each stream is called in messages, and where it is in a project. */
export const STREAM_NAMES: Readonly<Record<StreamKind, { title: string; where: string }>> = {
  dashboard: { title: 'dashboard audit chain', where: 'audit-YYYY-MM-DD.jsonl (~/.loki/dashboard/audit)' },
  js: { title: 'JS AuditLog', where: '.loki/audit/audit.jsonl' },
  agent: { title: 'agent audit', where: '.loki/logs/agent-audit.jsonl' },
  session: { title: 'session audit', where: '.loki/logs/audit-YYYYMMDD.jsonl' },
};

/** The `chain` value (AuditFile) of each stream's files. */
export const STREAM_FILE_CHAIN: Readonly<Record<StreamKind, FileChain>> = {
  dashboard: 'dashboard',
  js: 'js-auditlog',
  agent: 'agent',
  session: 'session',
};

/** The agent audit's file name (spec §5). */
export const AGENT_AUDIT_NAME = 'agent-audit.jsonl';
/** A session audit file: `audit-YYYYMMDD.jsonl`, named by the host's **local** date (`date +%Y%m%d`). */
export const SESSION_FILE_RE = /^audit-(\d{4})(\d{2})(\d{2})\.jsonl$/;
const JS_AUDITLOG_FILE = 'audit.jsonl';

/** How to list and order the files of a stream that is being followed as it is written. */
export interface StreamNames {
  /** Whether a plain (not compressed) file of the stream has this name. */
  match(name: string): boolean;
  /** Reading order of two names. */
  compare(a: string, b: string): number;
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The names of each stream's plain files, in the order they are written. */
export const STREAM_FILE_NAMES: Readonly<Record<StreamKind, StreamNames>> = {
  dashboard: { match: (n) => CHAIN_FILE_RE.test(n) && !n.endsWith('.gz'), compare: compareChainOrder },
  js: { match: (n) => n === JS_AUDITLOG_FILE, compare: byName },
  agent: { match: (n) => n === AGENT_AUDIT_NAME, compare: byName },
  session: { match: (n) => SESSION_FILE_RE.test(n), compare: byName },
};

/** What a command reads: one stream, or a directory's two chains. */
export interface AuditSource {
  /** The directory given. */
  dir: string;
  /** The streams read, in the order of `files`. */
  streams: StreamKind[];
  /** The directory the files are in: `dir`, or its `.loki/logs` or `.loki/audit`. */
  home: string;
  /**
   * Every file read, in reading order: the dashboard chain in chain order, then the JS
   * AuditLog; or one stream's files.
   */
  files: AuditFile[];
  /** Names in `home` that look like audit files and are read by no command (see `discoverAuditFiles`). */
  foreign: string[];
}

/** Several streams and no way to tell which one is meant: the caller must choose. */
export class StreamChoiceError extends Error {
  constructor(
    readonly dir: string,
    readonly available: StreamKind[],
  ) {
    super(
      `${dir} holds several audit streams: ` +
        `${available.map((s) => `${s} (${STREAM_NAMES[s].title})`).join(', ')}; choose one with --stream`,
    );
    this.name = 'StreamChoiceError';
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function sessionFiles(dir: string): Promise<AuditFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => SESSION_FILE_RE.test(n))
    .sort(byName)
    .map((name) => {
      const m = SESSION_FILE_RE.exec(name) as RegExpExecArray;
      return { path: join(dir, name), name, date: `${m[1]}-${m[2]}-${m[3]}`, piece: null, gz: false, chain: 'session' };
    });
}

/**
 * Finds what to read in `dir`: the stream asked for, or the one(s) the directory holds.
 * With `requireFiles` false (following), a stream with no file yet is read from where its
 * files will appear.
 * @throws AuditDirError when `dir` is missing or unreadable, or (with `requireFiles`) the stream
 *   has no file there.
 * @throws StreamChoiceError when no stream is asked for and the directory holds several streams
 *   that are not chains (a project's `.loki/logs`).
 */
export async function resolveAuditSource(
  dir: string,
  { stream, requireFiles = true }: { stream?: StreamKind; requireFiles?: boolean } = {},
): Promise<AuditSource> {
  // Checks that `dir` is a readable directory (and lists the chain files if it holds them).
  const here = await discoverAuditFiles(dir, { requireFiles: false });
  const project = await isDirectory(join(dir, '.loki'));
  const logsHome = project ? join(dir, '.loki', 'logs') : dir;
  const jsHome = project ? join(dir, '.loki', 'audit') : dir;
  const chains =
    project && (await isDirectory(jsHome))
      ? { ...(await discoverAuditFiles(jsHome, { requireFiles: false })), files: [] }
      : project
        ? { dir: jsHome, files: [], jsFiles: [], foreign: [] }
        : here;
  const agentPath = join(logsHome, AGENT_AUDIT_NAME);
  const found: Record<StreamKind, AuditFile[]> = {
    dashboard: chains.files,
    js: chains.jsFiles,
    agent: (await isFile(agentPath))
      ? [{ path: agentPath, name: AGENT_AUDIT_NAME, date: null, piece: null, gz: false, chain: 'agent' }]
      : [],
    session: await sessionFiles(logsHome),
  };
  const homes: Record<StreamKind, string> = { dashboard: dir, js: jsHome, agent: logsHome, session: logsHome };
  const available = STREAM_KINDS.filter((s) => found[s].length > 0);

  let chosen: StreamKind[];
  if (stream) chosen = [stream];
  else if (available.some((s) => CHAIN_STREAMS.has(s))) chosen = available.filter((s) => CHAIN_STREAMS.has(s));
  else if (available.length > 1) throw new StreamChoiceError(dir, available);
  else chosen = available.length ? available : ['dashboard'];

  const files = chosen.flatMap((s) => found[s]);
  if (requireFiles && files.length === 0) {
    if (!stream && !project) {
      const hint = here.foreign.length
        ? ` (ignored ${here.foreign.length} other file(s) such as ${here.foreign[0]})`
        : '';
      throw new AuditDirError('no-audit-files', dir, `no audit files (audit-YYYY-MM-DD.jsonl) in ${dir}${hint}`);
    }
    const wanted = stream ? [stream] : STREAM_KINDS.filter((s) => s !== 'dashboard');
    throw new AuditDirError(
      'no-audit-files',
      dir,
      `no ${wanted.map((s) => `${STREAM_NAMES[s].title} (${STREAM_NAMES[s].where})`).join(', ')} in ${dir}`,
    );
  }
  const home = homes[chosen[0]];
  const read = new Set(files.map((f) => f.name));
  const foreign = home === chains.dir ? chains.foreign.filter((n) => !read.has(n)) : [];
  return { dir, streams: chosen, home, files, foreign };
}
