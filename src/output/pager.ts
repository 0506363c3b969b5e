/**
 * Output through a pager on a terminal, as journalctl and git do: the pager is a child whose
 * stdin is a pipe we write to and whose stdout and stderr are our terminal. Which pager (and
 * whether one at all) is decided from flags and the environment in src/cli/pager-choice.ts.
 *
 * Closing the pager early (`q` in less) is not an error: the pipe breaks (EPIPE) or the child
 * exits while we still write, and `onClosedEarly` ends the run as quietly as `| head` does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';

/** A running pager. */
export interface Pager {
  /** Its input: what would have gone to stdout. */
  stream: Writable;
  /** Ends its input and waits until the user quits it (the run's exit code comes after). */
  close(): Promise<void>;
}

/** How to start a pager (see src/cli/pager-choice.ts). */
export interface PagerStart {
  /** `$PAGER` as written: `less -FRX`, `most`, or a shell command line (`less -R | cat`). */
  command: string;
  /** The child's whole environment (LESS and LV defaults added by the caller). */
  env: NodeJS.ProcessEnv;
  /** Called once when the pager quits or closes its input before all output was written. */
  onClosedEarly: () => void;
}

/** Characters that make `$PAGER` a shell command line, run with `sh -c` (as git does). */
const SHELL_SYNTAX = /[|&;<>()$`\\"'*?[\]#~={}%]/;

/** The program and its arguments: plain words, or `sh -c` for anything a shell must read. */
function pagerArgv(command: string): string[] {
  return SHELL_SYNTAX.test(command) ? ['sh', '-c', command] : command.trim().split(/\s+/);
}

/**
 * Starts the pager and waits until it runs. Null when it cannot be started (not installed,
 * not executable): the caller writes to the terminal itself.
 */
export async function openPager(start: PagerStart): Promise<Pager | null> {
  const [file, ...args] = pagerArgv(start.command);
  const child: ChildProcess = spawn(file, args, { stdio: ['pipe', 'inherit', 'inherit'], env: start.env });
  const started = await new Promise<boolean>((resolve) => {
    child.once('spawn', () => resolve(true));
    child.once('error', () => resolve(false));
  });
  const stdin = child.stdin as Writable;
  if (!started) {
    stdin.destroy();
    return null;
  }
  let closing = false;
  let ended = false;
  const closedEarly = () => {
    if (closing || ended) return;
    ended = true;
    start.onClosedEarly();
  };
  // EPIPE: the pager quit while we wrote; any later error on the pipe means the same.
  stdin.on('error', closedEarly);
  child.once('exit', closedEarly);
  // Ctrl-C belongs to the pager while it runs (less stops waiting for input and stays open);
  // the run ends when the pager does.
  const ignoreInterrupt = () => undefined;
  process.on('SIGINT', ignoreInterrupt);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    stream: stdin,
    close: async () => {
      closing = true;
      stdin.end();
      await exited;
      process.removeListener('SIGINT', ignoreInterrupt);
    },
  };
}
