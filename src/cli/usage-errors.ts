/**
 * Usage errors in this CLI's one style (docs/exit-codes.md): `loki-audit: error: MESSAGE` on
 * stderr in one line, then a `loki-audit: hint: …` line per next step ("did you mean", where the
 * help is), never the whole help text. Shared by the commands' catch (base-command.ts), the
 * unknown-command hook and `help`.
 */
import type { Hook, Interfaces } from '@oclif/core';
import { Errors } from '@oclif/core';
import { safeText } from '../formats/escape.js';
import { Exit } from './exit-codes.js';
import { closest } from './suggest.js';

/** Writes an error and its hints to stderr (values escaped: they may come from argv). */
export function writeError(message: string, hints: readonly string[] = []): void {
  process.stderr.write(
    `loki-audit: error: ${safeText(message)}\n` + hints.map((h) => `loki-audit: hint: ${safeText(h)}\n`).join(''),
  );
}

/**
 * Stops a command with an error for the user: its message, the exit code (a name of `Exit`) and
 * the next steps to suggest; rendered in the one style by the base command's catch, as the
 * command's own `this.error` is. For the run modules of src/cli that are not the command.
 */
export function fail(message: string, exit: number, suggestions?: string[]): never {
  throw new Errors.CLIError(message, { exit, suggestions });
}

/** The commands a user can type, `help` included. */
function commandIds(config: Interfaces.Config): string[] {
  return config.commands.filter((c) => !c.hidden).map((c) => c.id.replaceAll(':', ' '));
}

/** What `loki-audit TYPED` gets when TYPED is no command: the closest command, and where the help is. */
export function unknownCommand(typed: string, config: Interfaces.Config): { message: string; hints: string[] } {
  const hints: string[] = [];
  if (typed.startsWith('-')) {
    hints.push(`flags come after the command: ${config.bin} COMMAND ${typed}`);
    return { message: `Nonexistent flag: ${typed}`, hints: [...hints, `see: ${config.bin} --help`] };
  }
  const near = closest(typed, commandIds(config));
  if (near) hints.push(`did you mean ${near}?`);
  hints.push(`see: ${config.bin} --help`);
  return { message: `unknown command: ${typed}`, hints };
}

/**
 * oclif's `command_not_found` hook (package.json `oclif.hooks`): one error line, "did you mean",
 * the help hint, exit 2, instead of oclif's `command x not found`.
 */
export const commandNotFound: Hook.CommandNotFound = async function ({ id, config }) {
  const { message, hints } = unknownCommand(id.split(':')[0], config);
  writeError(message, hints);
  throw new Errors.ExitError(Exit.usage);
};
