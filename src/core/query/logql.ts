/**
 * A filter (filters.ts) as a LogQL log query (Loki docs, "Log queries"), for `search` and
 * `summary --from-loki` and for Grafana (`--print-logql`). The query selects a superset of the
 * entries the filter matches, never fewer: the entries Loki returns are filtered again with the
 * local filter, so where LogQL cannot say exactly what the filter says, Loki sends more and the
 * local filter decides (correctness first, the query only saves transfer).
 *
 * - Stream selector: the base selector (`{service_name="loki-audit"}`, what `forward` labels),
 *   plus label matchers for what `forward` puts in labels (src/sinks/loki/client.ts): `host`
 *   (`--host`), `level` (`--level`, and `--outcome`: in every schema an entry fails exactly when
 *   its level is `error`, core/read/view.ts), `event_family` (`--event`: the text before the
 *   event's first dot; `other` too, the label of families beyond the first 16 unknown ones).
 * - Line filters: `|= "text"` for a `--grep` without regular-expression syntax, `|~` for one in
 *   the syntax JavaScript and RE2 read alike; for `--event`, `--action`, `--resource-type`,
 *   `--user` and `--field` globs, `|~ "lit1|lit2|\\u00[2-7][0-9a-fA-F]"`: one literal of each
 *   glob, or an escaped printable ASCII character that could hide it (the raw-line prefilter's
 *   rule, filters.ts).
 * - `| json field_details_status="details.status", …` (the json parser with expressions: one
 *   label per `--field` path, named by us, so no other key of the line can take its name) and a
 *   label filter for each `--field PATH=GLOB` and `PATH>=NUMBER` (`>`, `<`, `<=`):
 *   `(f=~"re" or f="" or f=~"[\[{]…")` / `(f >= 500 or f="" or …)`: an entry whose value Loki
 *   extracts as nothing (missing, null, a line it cannot parse: `NaN`) or as an object's or
 *   array's text (as written, where loki-audit compares it compacted) is kept for the local
 *   filter. Loki's parser takes the first of duplicate keys, loki-audit (as JSON.parse and
 *   Python) the last: an entry with a key twice (which Python's json.dumps never writes) can be
 *   missed over Loki.
 *
 * Not sent to Loki (the local filter alone): `--actor` (the actor is derived, `token:` +
 * token_id), `!=` and time comparisons of `--field`, `-i` globs and `--grep -i`, regular
 * expressions outside the shared syntax.
 */
import type { FilterSpec } from './filters.js';
import { asciiLiterals, FilterError, globToRegExp } from './filters.js';
import { LEVELS, type Level } from '../read/view.js';

/** The stream selector `forward` labels every entry with (src/sinks/loki/client.ts). */
export const DEFAULT_LOKI_SELECTOR = '{service_name="loki-audit"}';

/** Options of {@link filterToLogQL}. */
export interface LogQLOptions {
  /** Base stream selector, `{…}` (default {@link DEFAULT_LOKI_SELECTOR}). */
  selector?: string;
  /** Globs on the `host` label (`forward` sets it to the host name); any of them. */
  hosts?: string[];
}

/** A LogQL (Go) double-quoted string of `s`. */
export function logqlString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}

/** `s` as an RE2 (and JavaScript) regular expression matching it literally. */
function re2Quote(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/**
 * A glob as an RE2 expression of the whole value (label matchers are anchored): `*` any text,
 * `any` the expression of one character (`[\s\S]`, newlines too; `.` for label values, which
 * `forward` keeps printable).
 */
function globRe2(glob: string, any = '[\\s\\S]'): string {
  let re = '';
  for (const ch of glob) re += ch === '*' ? any + '*' : ch === '?' ? any : re2Quote(ch);
  return re;
}

/** A value's text that is an object's or an array's (or a string starting so). */
const COMPOSITE_RE2 = '[\\[{][\\s\\S]*';

/** Escaped printable ASCII in a JSON line (`\u0041`): it could hide a literal. */
const ESCAPED_ASCII_RE2 = '\\\\u00[2-7][0-9a-fA-F]';

/**
 * A `--grep` expression JavaScript (with the `u` flag) and RE2 read alike: literal characters,
 * `.`, classes without escapes other than `\d \w`, groups `(` `(?:`, `|`, quantifiers `* + ? {n,m}`,
 * anchors, and the escapes `\d \w \b \D \W \B` and escaped punctuation. No `\s` (Unicode in
 * JavaScript, ASCII in RE2), no back-references, look-arounds or named groups.
 */
const SHARED_REGEX = /^(?:[^\\(]|\\[dwbDWB.\\/\-[\](){}*+?|^$]|\((?!\?)|\(\?:)*$/u;

/** The line filter for `--grep` (none with `-i` or outside the shared syntax). */
function grepFilter(grep: string): string | null {
  if (!/[\\^$.|?*+()[\]{}]/.test(grep)) return `|= ${logqlString(grep)}`;
  if (!SHARED_REGEX.test(grep)) return null;
  return `|~ ${logqlString(grep)}`;
}

/**
 * The line filter of one repeatable glob flag: any glob's longest literal, or escaped ASCII;
 * null when some glob has no literal (`*`). `safe`: which literals may be used.
 */
function literalFilter(globs: string[] | undefined, safe: (lit: string) => boolean = () => true): string | null {
  if (!globs || globs.length === 0) return null;
  const picks = new Set<string>();
  for (const g of globs) {
    const lits = asciiLiterals(g).filter(safe);
    if (lits.length === 0) return null;
    picks.add(lits.reduce((a, b) => (b.length > a.length ? b : a)));
  }
  return `|~ ${logqlString([...[...picks].map(re2Quote), ESCAPED_ASCII_RE2].join('|'))}`;
}

/** `name="v"` for one literal value, else `name=~"a|b"`; null for no constraint. */
function labelMatcher(name: string, values: string[], quote: (v: string) => string = re2Quote): string | null {
  if (values.length === 0) return null;
  if (values.length === 1 && quote(values[0]) === re2Quote(values[0]) && !/[*?]/.test(values[0]))
    return `${name}=${logqlString(values[0])}`;
  return `${name}=~${logqlString(values.map(quote).join('|'))}`;
}

/** The `event_family` values an event glob can have, or null when any (see the header). */
function families(events: string[]): string[] | null {
  const out = new Set<string>();
  for (const g of events) {
    const dot = g.indexOf('.');
    const prefix = dot < 0 ? g : g.slice(0, dot);
    // forward's labelValue: printable ASCII kept, at most 128 characters, '' as `unknown`.
    if (/[*?]/.test(prefix) || !/^[\x20-\x7e]{1,128}$/.test(prefix)) return null;
    out.add(prefix);
  }
  out.add('other');
  return [...out];
}

/**
 * The LogQL log query selecting (a superset of) the entries `spec` matches; `spec.window` is not
 * in it (it is the query's range, `start`/`end`).
 * @throws FilterError when `o.selector` is not a stream selector `{…}`.
 */
export function filterToLogQL(spec: FilterSpec, o: LogQLOptions = {}): string {
  const base = (o.selector ?? DEFAULT_LOKI_SELECTOR).trim();
  const m = /^\{([\s\S]*)\}$/.exec(base);
  if (!m) throw new FilterError(`--loki-selector ${base}: not a stream selector such as {service_name="loki-audit"}`);
  const ic = spec.ignoreCase === true;
  const matchers: string[] = [];
  const push = (x: string | null) => {
    if (x) matchers.push(x);
  };
  if (o.hosts?.length) push(labelMatcher('host', o.hosts, (g) => globRe2(g, '.')));
  let levels: Level[] = spec.levels ? [...spec.levels] : [...LEVELS];
  if (spec.outcome === 'failure') levels = levels.filter((l) => l === 'error');
  else if (spec.outcome === 'success') levels = levels.filter((l) => l !== 'error');
  // No level at all: nothing matches; `level=""` selects no stream of forward's (all have one).
  if (levels.length === 0) matchers.push('level=""');
  else if (levels.length < LEVELS.length) push(labelMatcher('level', levels));
  if (spec.events?.length && !ic) {
    const f = families(spec.events);
    if (f) push(labelMatcher('event_family', f));
  }
  const inner = m[1].trim();
  const selector = `{${[inner, ...matchers].filter((s) => s !== '').join(', ')}}`;

  const stages: string[] = [];
  if (spec.grep !== undefined && !ic) {
    const g = grepFilter(spec.grep);
    if (g) stages.push(g);
  }
  if (!ic)
    for (const list of [spec.events, spec.actions, spec.resourceTypes, spec.users]) {
      const f = literalFilter(list);
      if (f) stages.push(f);
    }
  const extract: string[] = [];
  const json: string[] = [];
  const names = new Set<string>();
  for (const f of spec.fields ?? []) {
    const op = f.op ?? '=';
    if (op === '=' && !ic) {
      // A literal within one JSON token: the same in the value's compact text and in the line.
      const lf = literalFilter([f.pattern], (lit) => !/[\s{}[\]:,]/.test(lit));
      if (lf) stages.push(lf);
    }
    // Keys the json parser's expressions name plainly (`details.status`); others stay local.
    if (!f.path.every((s) => /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(s))) continue;
    const cond =
      op === '=' && !ic && !globToRegExp(f.pattern).test('')
        ? (n: string) => `${n}=~${logqlString(globRe2(f.pattern))}`
        : op !== '=' && op !== '!=' && f.number !== undefined && Number.isFinite(f.number)
          ? (n: string) => `${n} ${op} ${String(f.number)}`
          : null;
    if (!cond) continue;
    let name = 'field_' + f.path.join('_');
    for (let i = 2; names.has(name); i++) name = `field_${f.path.join('_')}_${i}`;
    names.add(name);
    extract.push(`${name}=${logqlString(f.path.join('.'))}`);
    // Kept for the local filter: no value (missing, null, a line Loki cannot parse) and an
    // object or array (Loki extracts its text as written, loki-audit compares it compacted).
    json.push(`| (${cond(name)} or ${name}="" or ${name}=~${logqlString(COMPOSITE_RE2)})`);
  }
  if (extract.length) stages.push(`| json ${extract.join(', ')}`, ...json);
  return [selector, ...stages].join(' ');
}
