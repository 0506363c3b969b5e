/**
 * What every loki-audit command shares: the audit directory flag, colour, line size limit, and
 * the mapping of errors to one message style and the exit codes of src/cli/exit-codes.ts
 * (docs/exit-codes.md): `loki-audit: error: MESSAGE` on stderr, one line, greppable in cron
 * mail, followed by `loki-audit: hint: …` lines for each next step; with `--json`, oclif's
 * error object on stdout.
 */
import { Args, Command, Errors, Flags, type Interfaces } from '@oclif/core';
import { dirname } from 'node:path';
import type { ChalkInstance } from 'chalk';
import { AuditDirError } from '../core/read/files.js';
import { DEFAULT_MAX_LINE_BYTES } from '../core/read/lines.js';
import { FilterError } from '../core/query/filters.js';
import { StreamChoiceError, type StreamKind } from '../core/read/streams.js';
import { TimeSpecError, TimeZoneError } from '../core/query/time.js';
import { DiskFullError, FileExistsError, isDiskFull, UnsafeFileError } from '../core/runtime/safe-files.js';
import { LokiConfigError } from '../sinks/loki/client.js';
import type { ColorMode } from '../output/text.js';
import { makeChalk } from '../output/text.js';
import { safeJson, safeText } from '../formats/escape.js';
import { Exit } from './exit-codes.js';
import { pathFlag, resolveAuditDir } from './paths.js';
import { applyConfig, ConfigError, loadConfig, type FlagRules, type LoadedConfig } from './config.js';
import { closest } from './suggest.js';
import { jsonOutputInArgv, outputFileHint } from './output-flags.js';
import { writeError } from './usage-errors.js';
import { shellQuote } from '../formats/shell.js';

let pipeGuardInstalled = false;

export { shellQuote };

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

/** The long names (and aliases) of a command's flags. */
function flagNames(cmd: typeof Command): string[] {
  const flags = { ...cmd.baseFlags, ...cmd.flags } as Record<string, { aliases?: string[] }>;
  return Object.entries(flags).flatMap(([name, f]) => [name, ...(f.aliases ?? [])]);
}

/** Errors that are the user's input, not a defect: their message is the whole story. */
function exitForInputError(err: Error): number | null {
  if (err instanceof AuditDirError || err instanceof UnsafeFileError || err instanceof FileExistsError) return Exit.io;
  if (
    err instanceof TimeSpecError ||
    err instanceof TimeZoneError ||
    err instanceof FilterError ||
    err instanceof StreamChoiceError ||
    err instanceof LokiConfigError
  )
    return Exit.usage;
  if (err instanceof DiskFullError || isDiskFull(err)) return Exit.diskFull;
  const code = (err as NodeJS.ErrnoException).code;
  if (code && /^E[A-Z]+$/.test(code) && !('oclif' in err)) return Exit.io;
  return null;
}

/**
 * The directory as an argument, `loki-audit verify /path` for `--dir /path`: what ls, du and
 * `grep -r` take, and what users type first. Each command declares it (`static args = dirArg`):
 * oclif reads a command's own static `args`, not inherited ones.
 */
export const dirArg = {
  // ignoreStdin: else oclif reads a missing argument from piped stdin (`verify --stdin < FILE`).
  dir: Args.string({ description: 'Audit directory (the same as --dir).', ignoreStdin: true }),
};

/** Every command of this CLI: one error style (src/cli/usage-errors.ts), exit codes, stdout. */
export abstract class LokiCommand extends Command {
  /**
   * `--json` output: the value as indented JSON, escaped with `safeJson` (no raw control, bidi or
   * invisible character from the log, on a terminal or in a pipe; the same values, still JSON).
   * Replaces oclif's colourizing printer, which would pass them through.
   */
  override logJson(json: unknown): void {
    process.stdout.write(safeJson(JSON.stringify(json, null, 2), true) + '\n');
  }

  /** `--json`, or `-o json` where the command's `-o` has it (summary, verify: src/cli/output-flags.ts). */
  override jsonEnabled(): boolean {
    if (super.jsonEnabled()) return true;
    const output = (this.ctor.flags as Record<string, { options?: readonly string[] }> | undefined)?.output;
    return (
      this.ctor.enableJsonFlag === true && output?.options?.includes('json') === true && jsonOutputInArgv(this.argv)
    );
  }

  /** oclif's warnings (a deprecated flag: `export -F`) in this CLI's style, on stderr. */
  override warn(input: Error | string): Error | string {
    const message = typeof input === 'string' ? input : input.message;
    process.stderr.write(`loki-audit: warning: ${safeText(message)}\n`);
    return input;
  }

  /** Writes text to stdout as is (no formatting, no extra newline). */
  protected out(text: string): void {
    process.stdout.write(text);
  }

  /**
   * Stops with an error for the user: its message, the exit code (a name of {@link Exit}), and the
   * next steps to suggest (a flag to add, a command to run).
   */
  protected fail(message: string, exit: number, suggestions?: string[]): never {
    this.error(message, { exit, suggestions });
  }

  /**
   * oclif's flag and argument parse errors in this CLI's one style: the message in one line, a
   * "did you mean" for a mistyped flag, and where the help is, instead of the whole help text.
   */
  private parseError(err: Errors.CLIError): Errors.CLIError {
    const lines = err.message.replace(/\nSee more help with --help$/, '').split('\n');
    // "Missing 1 required arg:" names the argument on the next line; oclif's "The following
    // error occurred:" (exclusive flags) says nothing by itself: the next line is the error.
    const next = lines[1]?.trim().replace(/\s+/g, ' ');
    const message =
      !lines[0].endsWith(':') || !next
        ? lines[0]
        : /^The following error/.test(lines[0])
          ? next
          : `${lines[0]} ${next}`;
    const hints: string[] = [];
    // `export --output audit.csv`: --output FILE is now --output-file FILE.
    const format = /^Expected --output=(.+) to be one of: /.exec(message);
    if (format) hints.push(outputFileHint(format[1], 'output-file' in (this.ctor.flags ?? {})));
    for (const flag of (err as { flags?: string[] }).flags ?? []) {
      const near = closest(flag.replace(/^-+/, '').split('=')[0], flagNames(this.ctor));
      if (near) hints.push(`did you mean --${near}?`);
    }
    hints.push(`see: ${this.config.bin} ${this.id ?? ''} --help`.replace(/  +/g, ' '));
    return new Errors.CLIError(message, { exit: err.oclif.exit ?? Exit.usage, suggestions: hints });
  }

  /** Next steps for an input error: for a file given as the directory, the directory holding it. */
  protected inputErrorHints(err: Error): string[] | undefined {
    if (!(err instanceof AuditDirError) || err.code !== 'not-a-directory') return undefined;
    return [`the directory that holds it: ${this.config.bin} ${this.id} --dir ${shellQuote(dirname(err.dir))}`];
  }

  /**
   * An error no input should cause (a defect), as exit 70 ({@link Exit.internal}) so that cron
   * never reads a crash as exit 1 (tampered): `internal error: NAME: MESSAGE`, rendered as every
   * other error; its stack on stderr only with `LOKI_AUDIT_DEBUG=1`.
   */
  private internalError(err: Error): Errors.CLIError {
    if (process.env.LOKI_AUDIT_DEBUG === '1' && err.stack)
      process.stderr.write(err.stack.split('\n').map(safeText).join('\n') + '\n');
    return new Errors.CLIError(`internal error: ${err.name}: ${err.message}`, {
      exit: Exit.internal,
      suggestions: ['this is a defect in loki-audit: please report it, with the output of LOKI_AUDIT_DEBUG=1'],
    });
  }

  /** Maps errors to one message style and their exit codes; never a stack trace for bad input. */
  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    if (err instanceof Errors.CLIError && 'parse' in err) return this.catch(this.parseError(err));
    // A flag's own parse function failed (`--give-up-after 1s` to an integer flag): oclif puts
    // "Parsing --FLAG \n\t" before the error and its help line after it.
    const failed = /^Parsing (--[\w-]+) \n\t([^]*?)(?:\nSee more help with --help)?$/.exec(err.message);
    if (failed) {
      const usage = new Errors.CLIError(`${failed[1]}: ${failed[2].replace(/\s+/g, ' ')}`, { exit: Exit.usage });
      return this.catch(this.parseError(Object.assign(usage, { parse: {} })));
    }
    const exit = exitForInputError(err);
    const cli =
      exit !== null
        ? new Errors.CLIError(err.message, { exit, suggestions: this.inputErrorHints(err) })
        : // this.error()'s own errors (oclif's parse errors, subclasses, render as oclif renders them)
          Object.getPrototypeOf(err) === Errors.CLIError.prototype
          ? (err as Errors.CLIError)
          : null;
    if (!cli && !(err instanceof Errors.CLIError)) return this.catch(this.internalError(err));
    if (!cli) return super.catch(err);
    const code = cli.oclif.exit ?? Exit.usage;
    process.exitCode = code;
    if (this.jsonEnabled()) return super.catch(cli);
    const hints = cli.suggestions ?? [];
    writeError(cli.message, hints);
    throw new Errors.ExitError(code);
  }
}

/** The commands that read or write an audit directory: --dir (or the argument), colour, line size. */
export abstract class AuditCommand extends LokiCommand {
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
    config: pathFlag({
      summary:
        'Config file, over /etc/loki-audit/config.yaml, ~/.config/loki-audit/config.yaml ' +
        'and .loki/config.yaml (default: $LOKI_AUDIT_CONFIG); flags win. See docs/config.md.',
      helpGroup: 'GLOBAL',
    }),
  };

  protected chalk!: ChalkInstance;

  /** The config files read for this run, merged (src/cli/config.ts). */
  protected configuration!: LoadedConfig;

  /** The flags given on the command line (not defaults, not from a config file), by name. */
  protected givenFlags: Record<string, unknown> = {};

  /**
   * oclif's parse, then the config files: each flag not on the command line takes its setting's
   * value (docs/config.md), and the files' warnings (a secret file others can read) go to stderr.
   * @throws CLIError (usage, exit 2) for a config file that cannot be used.
   */
  protected override async parse<
    F extends Record<string, unknown>,
    B extends Record<string, unknown>,
    A extends Record<string, unknown>,
  >(options?: Interfaces.Input<F, B, A>, argv?: string[]): Promise<Interfaces.ParserOutput<F, B, A>> {
    const out = await super.parse(options, argv);
    const flags = out.flags as Record<string, unknown>;
    // Read once per run, also when a command parses twice.
    if (!this.configuration) {
      try {
        this.configuration = await loadConfig({ explicit: flags.config as string | undefined });
      } catch (err) {
        if (err instanceof ConfigError) throw new Errors.CLIError(err.message, { exit: Exit.usage });
        throw err;
      }
      for (const w of this.configuration.warnings) this.warn(w);
    }
    const defs = { ...this.ctor.baseFlags, ...this.ctor.flags } as Record<string, FlagRules>;
    const given = (name: string) =>
      flags[name] !== undefined &&
      (out.metadata.flags as Record<string, { setFromDefault?: boolean }>)[name]?.setFromDefault !== true;
    this.givenFlags = Object.fromEntries(Object.entries(flags).filter(([name]) => given(name)));
    applyConfig(this.id ?? '', flags, given, defs, this.configuration, {
      dirArgument: (out.args as { dir?: string }).dir !== undefined,
    });
    return out;
  }

  override async init(): Promise<void> {
    await super.init();
    installPipeGuard();
  }

  /**
   * Resolves the audit directory, from `--dir` or the directory argument (for `--stream`, if the
   * command has it), and sets up colour from parsed flags.
   */
  protected setup(flags: { dir?: string; color: ColorMode; stream?: StreamKind }, args: { dir?: string } = {}): string {
    this.chalk = makeChalk(flags.color);
    if (args.dir !== undefined && flags.dir !== undefined)
      this.fail(`Unexpected argument: ${args.dir}`, Exit.usage, [
        `the audit directory is given once: --dir ${flags.dir} or ${args.dir} alone`,
      ]);
    return resolveAuditDir(flags.dir ?? args.dir, process.env, flags.stream);
  }
}
