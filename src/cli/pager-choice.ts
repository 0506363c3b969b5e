/**
 * `--[no-]pager` and `$PAGER`: whether `search`, `tail` and `export` page their output, as
 * journalctl does (systemd's pager.c): only when stdout is a terminal, never with `--follow`,
 * `--no-pager` or `TERM=dumb`; `$LOKI_AUDIT_PAGER`, else `$PAGER`, else `less -FRX` (quit when
 * it fits on one screen, let our own colours through, leave the screen as it is). An empty
 * value or `cat` means no pager, as in git and systemd.
 */
import { Flags } from '@oclif/core';
import type { Writable } from 'node:stream';
import { safeText } from '../formats/escape.js';
import { openPager } from '../output/pager.js';

export const pagerFlag = {
  pager: Flags.boolean({
    allowNo: true,
    default: true,
    summary: 'On a terminal, show the output in $LOKI_AUDIT_PAGER, $PAGER or less -FRX; --no-pager: not.',
    helpGroup: 'OUTPUT',
  }),
};

/** The default pager: `-R` only because our text may carry our own colours (values are escaped). */
const DEFAULT_PAGER = 'less -FRX';

/** The pager to run, or null for none. `explicit`: chosen by the user's environment. */
function choosePager(
  options: { pager: boolean; follow?: boolean },
  stdout: { isTTY?: boolean } = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): { command: string; explicit: boolean } | null {
  if (!options.pager || options.follow || stdout.isTTY !== true || env.TERM === 'dumb') return null;
  const configured = env.LOKI_AUDIT_PAGER ?? env.PAGER;
  if (configured === undefined) return { command: DEFAULT_PAGER, explicit: false };
  const command = configured.trim();
  return command === '' || command === 'cat' ? null : { command, explicit: true };
}

/** Where a command's output goes: the pager's input or stdout; `close()` waits for the pager. */
export interface CommandOutput {
  stream: Writable;
  close(): Promise<void>;
}

/**
 * Stdout, through the pager when {@link choosePager} says so. A pager that cannot be started
 * leaves stdout, with one note on stderr when the user named it (silently for the default).
 * Quitting the pager early ends the run with the exit code set so far (0), as `| head` does.
 */
export async function pagedStdout(
  options: { pager: boolean; follow?: boolean },
  env: NodeJS.ProcessEnv = process.env,
): Promise<CommandOutput> {
  const plain = { stream: process.stdout, close: async () => undefined };
  const choice = choosePager(options, process.stdout, env);
  if (!choice) return plain;
  const pager = await openPager({
    command: choice.command,
    // git's defaults for less and lv, when the user has none.
    env: { ...env, LESS: env.LESS ?? 'FRX', LV: env.LV ?? '-c' },
    onClosedEarly: () => process.exit(process.exitCode ?? 0),
  });
  if (pager) return pager;
  if (choice.explicit)
    process.stderr.write(
      `loki-audit: note: pager ${safeText(JSON.stringify(choice.command))} could not be started: not paging\n`,
    );
  return plain;
}
