/**
 * What every loki-audit command shares: the audit directory flag, colour, line size limit, and
 * the mapping of core errors to clear messages and stable exit codes (docs/exit-codes.md).
 */
import { Command, Errors, Flags, Interfaces } from '@oclif/core';
import type { ChalkInstance } from 'chalk';
import { AuditDirError, resolveAuditDir } from '../core/read/files.js';
import { DEFAULT_MAX_LINE_BYTES } from '../core/read/lines.js';
import { FilterError } from '../core/query/filters.js';
import { TimeSpecError } from '../core/query/time.js';
import { EXIT_IO, EXIT_USAGE } from '../core/chain/verdict.js';
import type { ColorMode } from '../output/text.js';
import { makeChalk, safeText } from '../output/text.js';
import type { ProgressLine } from '../output/progress.js';
import type { ReadEntry, ReadProgress } from '../core/read/entries.js';
import { searchEntryBatches, type SearchOptions } from '../core/query/search.js';

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof AuditCommand)['baseFlags'] & T['flags']
>;

/** An error for the user, with its exit code (see AuditCommand.fail). */
class UserError extends Error {
  constructor(
    message: string,
    readonly exit: number,
  ) {
    super(message);
  }
}

let pipeGuardInstalled = false;

/** Closing a pipe early (`| head`) is not an error: stop quietly with exit 0. */
function installPipeGuard(): void {
  if (pipeGuardInstalled) return;
  pipeGuardInstalled = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
}

export abstract class AuditCommand extends Command {
  static override baseFlags = {
    dir: Flags.string({
      char: 'd',
      summary: 'Audit directory (default: $LOKI_AUDIT_DIR, else ~/.loki/dashboard/audit).',
      helpGroup: 'GLOBAL',
    }),
    color: Flags.option({
      options: ['auto', 'always', 'never'] as const,
      default: 'auto' as const,
      summary: 'Colour output: auto (only on a terminal, not with NO_COLOR), always, never.',
      helpGroup: 'GLOBAL',
    })(),
    'max-line-bytes': Flags.integer({
      summary: 'Longest line read, in bytes; longer lines are reported, not loaded.',
      default: DEFAULT_MAX_LINE_BYTES,
      min: 1024,
      helpGroup: 'GLOBAL',
    }),
  };

  protected chalk!: ChalkInstance;

  override async init(): Promise<void> {
    await super.init();
    installPipeGuard();
  }

  /** Resolves the audit directory and sets up colour from parsed flags. */
  protected setup(flags: { dir?: string; color: ColorMode }): string {
    this.chalk = makeChalk(flags.color);
    return resolveAuditDir(flags.dir);
  }

  /** Writes text to stdout as is (no formatting, no extra newline). */
  protected out(text: string): void {
    process.stdout.write(text);
  }

  /**
   * Stops with one unwrapped line on stderr (`loki-audit: error: …`, greppable in cron mail),
   * or the error object with --json, and the given exit code.
   */
  protected fail(message: string, exit: number): never {
    throw new UserError(message, exit);
  }

  /**
   * Runs a search for search and export: each match to `onEntry`, awaited only when it returns
   * a promise (a full output); each problem as a warning on stderr, above the progress line.
   * Matches are written out batch by batch, so their bytes may be views of the read buffer
   * (`transientBytes`): `onEntry` must copy what it keeps.
   */
  protected async eachMatch(
    dir: string,
    options: Omit<SearchOptions, 'onProgress' | 'transientBytes'>,
    progress: ProgressLine | null,
    onEntry: (e: ReadEntry) => void | Promise<void>,
  ): Promise<void> {
    const onProgress = progress ? (p: ReadProgress) => progress.update(p) : undefined;
    for await (const batch of searchEntryBatches(dir, { ...options, onProgress, transientBytes: true })) {
      for (const item of batch) {
        if (item.kind === 'problem') {
          progress?.clear();
          process.stderr.write(`warning: ${item.file}:${item.line}: ${safeText(item.message)}\n`);
          continue;
        }
        const full = onEntry(item);
        if (full) await full;
      }
    }
    progress?.clear();
  }

  /** Maps core errors to messages and exit codes; never a stack trace for bad input. */
  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    // One unwrapped line on stderr (greppable in cron mail), or the error object with --json.
    const fail = (message: string, exit: number) => {
      process.exitCode = exit;
      if (this.jsonEnabled()) return super.catch(new Errors.CLIError(message, { exit }));
      process.stderr.write(`loki-audit: error: ${message}\n`);
      throw new Errors.ExitError(exit);
    };
    if (err instanceof UserError) return fail(err.message, err.exit);
    if (err instanceof AuditDirError) return fail(err.message, EXIT_IO);
    if (err instanceof TimeSpecError || err instanceof FilterError) return fail(err.message, EXIT_USAGE);
    const code = (err as NodeJS.ErrnoException).code;
    if (code && /^E[A-Z]+$/.test(code) && !('oclif' in err)) return fail(err.message, EXIT_IO);
    return super.catch(err);
  }
}
