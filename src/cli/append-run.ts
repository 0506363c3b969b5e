/**
 * One `append` run: the entry from flags (src/core/write/entry-fields.ts `entryFromFlags`) or one
 * per JSON line of stdin (`entriesFromJsonLines`), each appended under its own lock as Loki Mode's
 * writer does (src/core/write/append.ts), with LOKI_AUDIT_MAX_SIZE_MB's rotation size
 * (src/cli/loki-mode-env.ts), and one line per entry on stdout (src/output/append.ts). Exit
 * codes: 2 for bad input, 3 for a directory that cannot be written, 19 for a full disk
 * (src/cli/exit-codes.ts).
 */
import { AppendDirError, appendEntry, canLock, type AppendResult } from '../core/write/append.js';
import { entriesFromJsonLines, entryFromFlags, EntryInputError } from '../core/write/entry-fields.js';
import { DiskFullError } from '../core/runtime/safe-files.js';
import { formatAppended } from '../output/append.js';
import { Exit } from './exit-codes.js';
import { maxFileBytes } from './loki-mode-env.js';
import { fail } from './usage-errors.js';

/** The append flags read here. */
export interface AppendRunFlags {
  event?: string;
  actor?: string;
  'resource-id'?: string;
  failure: boolean;
  error?: string;
  detail?: string[];
  stdin: boolean;
  'lock-timeout': number;
  create: boolean;
}

/** What `append --json` prints: each entry appended, in order. */
export interface AppendRunResult {
  appended: AppendResult[];
}

/** The run's surroundings: `--json` (then nothing is printed here), and where stdout text goes. */
export interface AppendRunContext {
  json: boolean;
  out: (text: string) => void;
}

/**
 * Appends the entry of the flags, or with `--stdin` each JSON object read, to the chain in `dir`.
 * Warns on stderr once when flock(1) is missing (appends unlocked, as Loki Mode does).
 * @throws CLIError: usage (2) without --event or --stdin and for input that is no entry; io (3)
 *   for a directory that cannot be appended to (with the `--create` hint when it is missing) or
 *   a write error; diskFull (19). Entries appended before the error stay appended.
 */
export async function runAppend(
  dir: string,
  flags: AppendRunFlags,
  context: AppendRunContext,
): Promise<AppendRunResult> {
  if (!flags.stdin && !flags.event)
    fail('give --event (and --actor, --detail …), or --stdin with JSON objects', Exit.usage);
  if (!canLock())
    process.stderr.write(
      'loki-audit: warning: flock(1) not found: appending without a file lock, as Loki Mode does when locking fails\n',
    );
  const options = {
    maxSizeBytes: maxFileBytes(),
    lockTimeoutS: flags['lock-timeout'],
    create: flags.create === true,
  };
  const appended: AppendResult[] = [];
  try {
    // Inside the try: a bad --detail is a usage error (2), like a bad --stdin line.
    const entries = flags.stdin
      ? entriesFromJsonLines(process.stdin)
      : [
          entryFromFlags({
            event: flags.event as string,
            actor: flags.actor,
            resourceId: flags['resource-id'],
            failure: flags.failure,
            error: flags.error,
            details: flags.detail,
          }),
        ];
    for await (const entry of entries) {
      const r = await appendEntry(dir, entry, options).catch((err: Error) =>
        err instanceof AppendDirError
          ? fail(err.message, Exit.io, [`to start a new chain there: loki-audit append --create --dir ${dir} …`])
          : fail(err.message, err instanceof DiskFullError ? Exit.diskFull : Exit.io),
      );
      appended.push(r);
      if (!context.json) context.out(formatAppended(r));
    }
  } catch (err) {
    if (err instanceof EntryInputError) fail(err.message, Exit.usage);
    throw err;
  }
  return { appended };
}
