/**
 * The output flags the reading commands share, named as journalctl and logcli name them:
 * `-o/--output FORMAT` is always the format (each command its own list), `--output-file FILE`
 * where a command writes a file, `--limit/--offset/--reverse` for a list of matches.
 */
import { Flags } from '@oclif/core';
import { extname } from 'node:path';

const group = 'OUTPUT';

/**
 * `-o/--output FORMAT`, one of `formats`. `legacyFormat`: also `-F/--format`, export's former
 * name for it (deprecated: oclif warns when it is used).
 */
export function outputFlag<const F extends string>(
  formats: readonly F[],
  options: { default: F; summary?: string; legacyFormat?: boolean },
) {
  return {
    output: Flags.option({
      char: 'o',
      options: formats,
      default: options.default,
      summary: options.summary ?? 'Output format.',
      helpGroup: group,
      ...(options.legacyFormat ? { aliases: ['format'], charAliases: ['F'], deprecateAliases: true } : {}),
    })(),
  };
}

/** `--output-file FILE [--force]`: written atomically instead of stdout. */
export const outputFileFlags = {
  'output-file': Flags.string({
    summary: 'Write to this file (atomically) instead of stdout.',
    helpGroup: group,
  }),
  force: Flags.boolean({ summary: 'Replace --output-file if it exists.', helpGroup: group }),
};

/** `-n/--limit`, `--offset`, `-r/--reverse`: which of the matches, in which order. */
export const matchListFlags = {
  limit: Flags.integer({ char: 'n', min: 0, summary: 'At most this many entries.', helpGroup: group }),
  offset: Flags.integer({ min: 0, default: 0, summary: 'Skip this many matches first.', helpGroup: group }),
  reverse: Flags.boolean({ char: 'r', summary: 'Newest first.', helpGroup: group }),
};

/**
 * `summary` and `verify`: `-o text|json`, where `-o json` is `--json` (oclif's flag, which
 * decides before parsing whether an error is printed as JSON: so argv is read the same way).
 */
export const reportOutputFlag = outputFlag(['text', 'json'] as const, {
  default: 'text',
  summary: 'Output format: text, or json (the same as --json).',
});

/** Whether argv asks for `-o json` / `--output json` / `--output=json` / `-ojson` (before a `--`). */
export function jsonOutputInArgv(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  const args = end < 0 ? argv : argv.slice(0, end);
  return args.some(
    (a, i) =>
      a === '--output=json' ||
      a === '-ojson' ||
      a === '-o=json' ||
      ((a === '-o' || a === '--output') && args[i + 1] === 'json'),
  );
}

const FORMAT_NAMES = new Set([
  'text',
  'json',
  'jsonl',
  'raw',
  'csv',
  'syslog',
  'rfc5424',
  'rfc3164',
  'cef',
  'leef',
  'ecs',
  'hec',
]);

/**
 * A hint when `--output-file NAME` looks like a format (`--output-file json`): formerly
 * `export --output json` silently wrote a file named `json`. Undefined for a file name.
 */
export function formatLikeFileHint(file: string): string | undefined {
  if (extname(file) !== '' || !FORMAT_NAMES.has(file.toLowerCase())) return undefined;
  return `wrote a file named ${file}; for the format ${file}, use -o ${file.toLowerCase()}`;
}

/**
 * A hint for `--output VALUE` that is no format of the command (`--output audit.csv`): the file
 * is `--output-file` (`export`; formerly `--output FILE`), or a redirection where there is none.
 */
export function outputFileHint(value: string, hasOutputFile: boolean): string {
  return hasOutputFile
    ? `--output is the format; to write a file: --output-file ${value}`
    : `--output is the format; to write a file: > ${value}`;
}
