import { Flags } from '@oclif/core';
import split2 from 'split2';
import { AuditCommand } from '../cli/base-command.js';
import type { AppendResult } from '../core/write/append.js';
import { appendEntry, canLock } from '../core/write/append.js';
import type { PyValue } from '../core/pyjson/dumps.js';

/** The writer schema's keys in the writer's order (spec §2.1), with their defaults. */
const WRITER_KEYS: Array<[string, PyValue]> = [
  ['action', null],
  ['resource_type', null],
  ['resource_id', null],
  ['user_id', null],
  ['token_id', null],
  ['ip_address', null],
  ['user_agent', null],
  ['success', true],
  ['error', null],
  ['details', {}],
];

/** An entry in the writer's key order from whatever fields were given; `event` splits into resource_type.action. */
export function writerEntry(fields: Record<string, unknown>): { [key: string]: PyValue } {
  const f = { ...fields };
  if (typeof f.event === 'string' && f.action === undefined) {
    const dot = f.event.indexOf('.');
    f.resource_type = dot > 0 ? f.event.slice(0, dot) : 'event';
    f.action = dot > 0 ? f.event.slice(dot + 1) : f.event;
    delete f.event;
  }
  if (typeof f.actor === 'string' && f.user_id === undefined) {
    f.user_id = f.actor;
    delete f.actor;
  }
  const out: { [key: string]: PyValue } = {};
  if (typeof f.timestamp === 'string') out.timestamp = f.timestamp;
  for (const [k, d] of WRITER_KEYS) out[k] = (f[k] ?? d) as PyValue;
  for (const [k, v] of Object.entries(f))
    if (!(k in out) && k !== '_integrity_hash' && k !== 'chain_hash') out[k] = v as PyValue;
  return out;
}

/** `key=value`: the value as a JSON number, boolean or null when it is one, else a string. */
function detailValue(v: string): PyValue {
  if (/^(-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?|true|false|null)$/.test(v)) return JSON.parse(v) as PyValue;
  return v;
}

export default class Append extends AuditCommand {
  static override summary = "Append an entry to the audit chain, safely beside Loki Mode's own writer.";

  static override description = `Writes into the same directory and chain as Loki Mode: the UTC day's file, an exclusive flock on it (the lock Loki Mode's writer takes), the chain head re-read inside the lock, CPython-identical serialization, size rotation to audit-DAY.HHMMSS.jsonl at LOKI_AUDIT_MAX_SIZE_MB (10). Two writers — loki-audit or Loki Mode — appending at the same time leave a chain that verifies.

One entry from flags, or one JSON object per line on stdin (--stdin), each appended under its own lock. The lock is held by util-linux flock(1); without it, appends are unlocked (as Loki Mode does when locking fails), with a warning.

Exit codes: 0 appended, 2 usage error (bad JSON on stdin names the line), 3 directory or file not writable, or the lock could not be taken.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --event task.complete --actor cron:backup --detail job=nightly --detail bytes=1048576',
    '<%= config.bin %> <%= command.id %> --event auth.login --actor alice --failure --error "bad password"',
    'echo \'{"event": "project.delete", "actor": "ops", "details": {"id": 7}}\' | <%= config.bin %> <%= command.id %> --stdin',
  ];

  static override enableJsonFlag = true;

  static override flags = {
    event: Flags.string({
      char: 'e',
      summary: 'Event as resource_type.action (task.complete, auth.login).',
      exclusive: ['stdin'],
    }),
    actor: Flags.string({ char: 'a', summary: 'Who did it (user_id).' }),
    'resource-id': Flags.string({ summary: 'resource_id.' }),
    failure: Flags.boolean({ summary: 'The action failed (success: false).' }),
    error: Flags.string({ summary: 'Error text (implies --failure).' }),
    detail: Flags.string({
      multiple: true,
      summary: 'details KEY=VALUE (numbers, true, false, null as such); repeatable.',
    }),
    stdin: Flags.boolean({ summary: 'Read one JSON object per line from stdin, each appended as an entry.' }),
    'lock-timeout': Flags.integer({ min: 1, default: 10, summary: 'Seconds to wait for the file lock.' }),
  };

  async run(): Promise<{ appended: AppendResult[] }> {
    const { flags } = await this.parse(Append);
    const dir = this.setup(flags);
    if (!flags.stdin && !flags.event)
      this.fail('give --event (and --actor, --detail …), or --stdin with JSON objects', 2);
    if (!canLock())
      process.stderr.write(
        'loki-audit: warning: flock(1) not found: appending without a file lock, as Loki Mode does when locking fails\n',
      );
    const env = process.env.LOKI_AUDIT_MAX_SIZE_MB;
    const maxSizeBytes = (env && /^\d+$/.test(env) ? Number(env) : 10) * 1048576;
    const options = { maxSizeBytes, lockTimeoutS: flags['lock-timeout'] };
    const appended: AppendResult[] = [];
    const write = async (entry: { [key: string]: PyValue }) => {
      try {
        const r = await appendEntry(dir, entry, options);
        appended.push(r);
        if (!this.jsonEnabled())
          process.stdout.write(
            `${r.file}: ${r.hash}${r.rotatedTo ? ` (rotated the full file to ${r.rotatedTo})` : ''}\n`,
          );
      } catch (err) {
        this.fail((err as Error).message, 3);
      }
    };
    if (flags.stdin) {
      let n = 0;
      for await (const line of process.stdin.pipe(split2()) as AsyncIterable<string>) {
        n++;
        if (!line.trim()) continue;
        let o: unknown;
        try {
          o = JSON.parse(line);
        } catch {
          this.fail(`stdin line ${n}: not valid JSON`, 2);
        }
        if (typeof o !== 'object' || o === null || Array.isArray(o)) this.fail(`stdin line ${n}: not a JSON object`, 2);
        await write(writerEntry(o as Record<string, unknown>));
      }
    } else {
      const details: { [key: string]: PyValue } = {};
      for (const d of flags.detail ?? []) {
        const eq = d.indexOf('=');
        if (eq <= 0) this.fail(`--detail needs KEY=VALUE, got "${d}"`, 2);
        details[d.slice(0, eq)] = detailValue(d.slice(eq + 1));
      }
      await write(
        writerEntry({
          event: flags.event,
          actor: flags.actor ?? null,
          resource_id: flags['resource-id'] ?? null,
          success: !(flags.failure || flags.error),
          error: flags.error ?? null,
          details,
        }),
      );
    }
    return { appended };
  }
}
