import { Flags } from '@oclif/core';
import { AuditCommand, dirArg } from '../cli/base-command.js';
import { runAppend, type AppendRunResult } from '../cli/append-run.js';
import { exitCodesHelp } from '../cli/exit-codes.js';

export default class Append extends AuditCommand {
  static override summary = "Append an entry to the audit chain, safely beside Loki Mode's own writer.";

  static override description =
    `Writes into the same directory and chain as Loki Mode: the UTC day's file, ` +
    `an exclusive flock on it (the lock Loki Mode's writer takes), the chain head re-read inside the lock, ` +
    `CPython-identical serialization, size rotation to audit-DAY.HHMMSS.jsonl at LOKI_AUDIT_MAX_SIZE_MB ` +
    `(10). Two writers — loki-audit or Loki Mode — appending at the same time leave a chain that verifies.

One entry from flags, or one JSON object per line on stdin (--stdin), each appended under its own lock. The ` +
    `lock is held by util-linux flock(1); without it, appends are unlocked (as Loki Mode does when locking ` +
    `fails), with a warning.

${exitCodesHelp('append')}`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --event task.complete ' +
      '--actor cron:backup --detail job=nightly --detail bytes=1048576',
    '<%= config.bin %> <%= command.id %> --event auth.login --actor alice --failure --error "bad password"',
    'echo \'{"event": "project.delete", "actor": "ops", "details": ' +
      '{"id": 7}}\' | <%= config.bin %> <%= command.id %> --stdin',
  ];

  static override enableJsonFlag = true;

  static override args = dirArg;

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
    create: Flags.boolean({ summary: 'Create the audit directory if it does not exist (else: an error, exit 3).' }),
  };

  async run(): Promise<AppendRunResult> {
    const { flags, args } = await this.parse(Append);
    const dir = this.setup(flags, args);
    return runAppend(dir, flags, { json: this.jsonEnabled(), out: (text) => this.out(text) });
  }
}
