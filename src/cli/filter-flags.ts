/**
 * The filter flags search, tail, export and forward share, and their translation into a
 * core FilterSpec. Names follow journalctl, logcli and ripgrep.
 */
import { Errors, Flags } from '@oclif/core';
import { Exit } from './exit-codes.js';
import type { FilterSpec } from '../core/query/filters.js';
import { parseFieldSpec, parseLevelSpec } from '../core/query/filters.js';
import type { TimeWindow } from '../core/query/time.js';
import { checkTimeZone, parseTimeSpec, TimeZoneError } from '../core/query/time.js';

const group = 'FILTER';

/** `--utc` and `--timezone`: the zone of times typed without an offset and of times shown. */
export const timeZoneFlags = {
  utc: Flags.boolean({
    summary: 'Times in UTC: those typed without an offset, and those shown.',
    exclusive: ['timezone'],
    helpGroup: group,
  }),
  timezone: Flags.string({
    summary:
      'Zone (Europe/Berlin, +05:30) of times typed without an offset and of times shown. Default: $TZ, else UTC.',
    helpGroup: group,
  }),
};

export const filterFlags = {
  event: Flags.string({
    char: 'e',
    multiple: true,
    summary: 'Event, glob allowed (auth.*, *.delete); repeat or comma-separate for any of several.',
    helpGroup: group,
  }),
  level: Flags.string({
    char: 'l',
    summary: 'Level and more severe (warning = warning+error), a range (info..warning), or =info for one.',
    helpGroup: group,
  }),
  actor: Flags.string({
    char: 'a',
    multiple: true,
    summary: 'Actor, glob allowed (alice, token:*, agent:*); a comma list for any of several.',
    helpGroup: group,
  }),
  outcome: Flags.option({
    options: ['success', 'failure'] as const,
    summary: 'Only successes or only failures.',
    helpGroup: group,
  })(),
  action: Flags.string({
    multiple: true,
    summary: 'Raw field action (writer schema), glob allowed.',
    helpGroup: group,
  }),
  'resource-type': Flags.string({
    multiple: true,
    summary: 'Raw field resource_type, glob allowed.',
    helpGroup: group,
  }),
  user: Flags.string({ multiple: true, summary: 'Raw field user_id, glob allowed.', helpGroup: group }),
  field: Flags.string({
    multiple: true,
    summary:
      'PATH=GLOB on any field, dotted path (details.path=/api/v1/*); also !=, and ' +
      '>, >=, <, <= on numbers and ISO times (details.status>=500); repeat to AND.',
    helpGroup: group,
  }),
  grep: Flags.string({ char: 'g', summary: 'Regular expression (JavaScript) over the raw line.', helpGroup: group }),
  'ignore-case': Flags.boolean({
    char: 'i',
    summary: 'Ignore case in --grep and in the globs (--event, --actor, --field values …).',
    helpGroup: group,
  }),
  since: Flags.string({
    char: 'S',
    aliases: ['from'],
    summary: 'Start time (inclusive): ISO 8601, date, 14:30, "today 09:00", 1h30m, 7d, @EPOCH, recent, this-week …',
    helpGroup: group,
  }),
  until: Flags.string({
    char: 'U',
    aliases: ['to'],
    summary: 'End time (exclusive); a bare date means the end of that day.',
    helpGroup: group,
  }),
  ...timeZoneFlags,
};

/**
 * The zone chosen: `--utc`, `--timezone`, else the `TZ` variable (`:Europe/Berlin` as glibc
 * writes it too), else none (UTC, and times shown as the log wrote them).
 * @throws TimeZoneError for a `--timezone` that is no zone; an unusable `TZ` is ignored.
 */
export function chosenTimeZone(
  flags: { utc?: boolean; timezone?: string },
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (flags.utc) return 'UTC';
  if (flags.timezone !== undefined) return checkTimeZone(flags.timezone);
  const tz = env.TZ?.replace(/^:/, '');
  if (!tz) return undefined;
  try {
    return checkTimeZone(tz);
  } catch (err) {
    // A TZ such as `:/etc/localtime` or a POSIX rule is the system's business, not an error here.
    if (err instanceof TimeZoneError) return undefined;
    throw err;
  }
}

export interface FilterFlagValues {
  event?: string[];
  level?: string;
  actor?: string[];
  outcome?: 'success' | 'failure';
  action?: string[];
  'resource-type'?: string[];
  user?: string[];
  field?: string[];
  grep?: string;
  'ignore-case'?: boolean;
  since?: string;
  until?: string;
  utc?: boolean;
  timezone?: string;
}

/**
 * A repeatable glob flag's values with comma lists split (`--event auth.login,auth.logout` is
 * `--event auth.login --event auth.logout`, as logcli and ausearch take lists); empty items
 * dropped. Events, actors and the raw fields Loki Mode writes hold no commas.
 */
function splitLists(values: string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const items = values.flatMap((v) => v.split(',').map((p) => p.trim())).filter((p) => p !== '');
  // Only commas (`--event ,`): as written, which matches nothing rather than everything.
  return items.length ? items : values;
}

const GLOB_FLAGS = ['event', 'actor', 'action', 'resource-type', 'user'] as const;
/** Regular-expression syntax that a glob takes literally (`.` and `*` are fine: `auth.*`). */
const REGEX_SYNTAX = /[|()[\]{}+^$\\]/;

/**
 * Why a filter may have matched nothing as written: a JavaScript regex literal given to
 * `--grep` (`/x/i`), regular-expression syntax in a glob (`auth.(login|logout)`), a doubled or
 * swapped operator in `--field` (`x==500`, `x=>500`, LogQL's `x=~re`), capitals without `-i`.
 * Each hint is one line with what to type instead; search prints them on a terminal after
 * exit 1 (issue #17.6).
 */
export function filterHints(flags: FilterFlagValues): string[] {
  const hints: string[] = [];
  const literal = flags.grep === undefined ? null : /^\/(.+)\/([dgimsuvy]*)$/s.exec(flags.grep);
  if (literal)
    hints.push(
      `--grep takes the expression without slashes and flags: ` +
        `-g '${literal[1]}'${literal[2].includes('i') ? ' -i' : ''}`,
    );
  for (const name of GLOB_FLAGS) {
    for (const v of splitLists(flags[name]) ?? []) {
      if (REGEX_SYNTAX.test(v))
        hints.push(
          `--${name} takes globs (* and ?), not regular expressions: "${v}"; list alternatives with commas (a,b)`,
        );
    }
  }
  for (const f of flags.field ?? []) {
    const m = /^([^=!<>]+)(=|!=)([=<>~].*)$/s.exec(f);
    if (!m) continue;
    const [, path, op, rest] = m;
    if (rest.startsWith('~'))
      hints.push(`--field takes a glob, not a regular expression (LogQL =~): use --field '${path}${op}GLOB' or --grep`);
    else if (rest.startsWith('=')) hints.push(`did you mean --field '${path}${op}${rest.slice(1)}'? (one =)`);
    else hints.push(`did you mean --field '${path}${rest[0]}${op}${rest.slice(1)}'?`);
  }
  if (!flags['ignore-case']) {
    const typed = [flags.grep ?? '', ...GLOB_FLAGS.flatMap((n) => flags[n] ?? [])];
    if (typed.some((v) => /[A-Z]/.test(v))) hints.push('case counts: add -i (--ignore-case) to ignore it');
  }
  return hints;
}

/**
 * Builds a FilterSpec from parsed flags.
 * @throws FilterError / TimeSpecError for bad values.
 */
export function filterSpecFromFlags(flags: FilterFlagValues, now = new Date(), env = process.env): FilterSpec {
  const zone = chosenTimeZone(flags, env);
  const window: TimeWindow = {
    since: flags.since ? parseTimeSpec(flags.since, now, { zone }).getTime() : null,
    until: flags.until ? parseTimeSpec(flags.until, now, { end: true, zone }).getTime() : null,
  };
  return {
    events: splitLists(flags.event),
    levels: flags.level ? parseLevelSpec(flags.level) : undefined,
    actors: splitLists(flags.actor),
    outcome: flags.outcome,
    actions: splitLists(flags.action),
    resourceTypes: splitLists(flags['resource-type']),
    users: splitLists(flags.user),
    fields: flags.field?.map((f) => parseFieldSpec(f, (t) => parseTimeSpec(t, now, { zone }).getTime())),
    grep: flags.grep,
    ignoreCase: flags['ignore-case'],
    window,
  };
}

/**
 * `summary`'s window: `--since` (default 24h) to `--until` (default now).
 * @throws TimeSpecError for a time that cannot be read; CLIError (usage) for an empty window.
 */
export function summaryWindowFromFlags(
  flags: { since: string; until?: string; utc?: boolean; timezone?: string },
  now = new Date(),
  env = process.env,
): TimeWindow {
  const zone = chosenTimeZone(flags, env);
  const since = parseTimeSpec(flags.since, now, { zone }).getTime();
  const until = flags.until ? parseTimeSpec(flags.until, now, { end: true, zone }).getTime() : null;
  if (until !== null && since >= until)
    throw new Errors.CLIError(`empty window: --since ${flags.since} is not before --until ${flags.until}`, {
      exit: Exit.usage,
    });
  return { since, until };
}
