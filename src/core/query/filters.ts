/**
 * Entry filters shared by search, tail, export and forward: on the one view (event, level,
 * actor, outcome), on raw fields (action, resource_type, user_id, dotted paths), on the raw
 * line (a regular expression) and on time.
 *
 * Cheap rejection comes first: time from the file name (files outside the window are never
 * opened), then a substring test on the raw line for literal parts of the patterns, and only
 * then the JSON parse.
 */
import type { EntryView, Level, ViewStream } from '../read/view.js';
import { LEVELS } from '../read/view.js';
import type { TimeWindow } from './time.js';
import type { Needle, NeedleChoices } from '../read/needles.js';
import { compactJson, valueTextAt } from '../read/json-text.js';
import type { BytesView, EntryFacts, TopKey, ValueTest } from './byte-facts.js';
import { ByteFacts } from './byte-facts.js';
import { pyQuote } from '../pyjson/canonical.js';
import { replaceNonFinite } from '../read/entries.js';

/** A filter specification as the commands build it from flags. */
export interface FilterSpec {
  events?: string[];
  /** Events never to match (Loki Mode's `enterprise.audit.exclude_events`), globs. */
  excludeEvents?: string[];
  /** Levels accepted (already expanded from "warning" or "info..warning"). */
  levels?: Level[];
  actors?: string[];
  outcome?: 'success' | 'failure';
  actions?: string[];
  resourceTypes?: string[];
  users?: string[];
  /** `path=glob` pairs, path dotted into the entry (`details.path`), see {@link parseFieldSpec}. */
  fields?: FieldCondition[];
  /** Regular expression over the raw line text. */
  grep?: string;
  /**
   * `-i`: --grep and the globs (events, actors, raw fields, `--field` values) ignore case.
   * The literal prefilter and needle search are then off (a byte search is case-sensitive,
   * and Unicode case folding maps `ſ` to `s`): every line in the window is parsed.
   */
  ignoreCase?: boolean;
  window?: TimeWindow;
}

/** A bad filter argument. */
export class FilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FilterError';
  }
}

/**
 * Shell-style glob (`*`, `?`) to an anchored regular expression; no glob characters = exact.
 * With `ignoreCase`, letters match either case (as `grep -i`).
 */
export function globToRegExp(glob: string, ignoreCase = false): RegExp {
  let re = '';
  for (const ch of glob) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, ignoreCase ? 'si' : 's');
}

/**
 * A level argument: `warning` means warning and more severe (like journalctl `-p`);
 * `info..warning` a range; `=info` exactly one level.
 * @throws FilterError for an unknown level.
 */
export function parseLevelSpec(spec: string): Level[] {
  const norm = (s: string): Level => {
    const l = s.trim().toLowerCase();
    const v = l === 'warn' ? 'warning' : l === 'err' ? 'error' : l;
    if (!(LEVELS as readonly string[]).includes(v))
      throw new FilterError(
        `unknown level "${s}": use debug, info, warning or error, a range info..warning, or =info for one level`,
      );
    return v as Level;
  };
  if (spec.startsWith('=')) return [norm(spec.slice(1))];
  const range = spec.split('..');
  if (range.length === 2) {
    const lo = LEVELS.indexOf(range[0] ? norm(range[0]) : 'debug');
    const hi = LEVELS.indexOf(range[1] ? norm(range[1]) : 'error');
    if (lo > hi) throw new FilterError(`empty level range "${spec}"`);
    return LEVELS.slice(lo, hi + 1) as Level[];
  }
  return LEVELS.slice(LEVELS.indexOf(norm(spec))) as Level[];
}

/** How a `--field` value is compared: a glob (`=`, `!=`) or an order on numbers or times. */
export type FieldOp = '=' | '!=' | '>' | '>=' | '<' | '<=';

/**
 * One `--field` condition. `=` and `!=` match the value's text with a glob (`!=` also matches
 * an absent field, as LogQL's `!=` does); the others compare `number` (a JSON number, or a
 * string holding one) or `time` (an ISO 8601 string, ms since the epoch).
 */
export interface FieldCondition {
  path: string[];
  pattern: string;
  op?: FieldOp;
  number?: number;
  time?: number;
}

const FIELD_SPEC = /^([^=!<>]+)(>=|<=|!=|=|>|<)(.*)$/s;
const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]|$)/;

/**
 * `details.path=/api/v1/x`, `details.status>=500`, `timestamp<2026-02-02T12:00:00Z`,
 * `details.agent!=qa` → the condition. `parseTime` reads an ordered comparison's ISO time (the
 * caller's time grammar and zone); without it, `Date.parse` with UTC for no offset.
 * @throws FilterError for a missing operator, or an order on something not a number or time.
 */
export function parseFieldSpec(spec: string, parseTime?: (s: string) => number): FieldCondition {
  const m = FIELD_SPEC.exec(spec);
  if (!m)
    throw new FilterError(
      `--field needs PATH=VALUE, PATH!=VALUE or PATH>=NUMBER|TIME (>, <, <= ` +
        `too), e.g. details.path=/api/v1/* or details.status>=500, got "${spec}"`,
    );
  const [, path, op, pattern] = m as unknown as [string, string, FieldOp, string];
  const cond: FieldCondition = { path: path.split('.'), pattern, op };
  if (op === '=' || op === '!=') return cond;
  if (NUMBER.test(pattern.trim())) return { ...cond, number: Number(pattern) };
  if (ISO_DATE.test(pattern.trim())) {
    const t = parseTime
      ? parseTime(pattern)
      : Date.parse(/(Z|[+-]\d{2}:?\d{2})$/i.test(pattern) || pattern.length === 10 ? pattern : pattern + 'Z');
    if (!Number.isNaN(t)) return { ...cond, time: t };
  }
  throw new FilterError(
    `--field "${spec}": ${op} compares numbers (500, 1.5) or ISO ` +
      `times (2026-02-01T12:00:00Z); for text use = or != with a glob`,
  );
}

/** Whether the text of a field value (see fieldText) passes an ordered comparison. */
function ordered(s: string | undefined, f: { op: FieldOp; number?: number; time?: number }): boolean {
  if (s === undefined) return false;
  let a: number;
  let b: number;
  if (f.number !== undefined) {
    // A JSON number's text, or a string that holds one ("500").
    const t = s.startsWith('"') ? s.slice(1, -1) : s;
    if (!NUMBER.test(t)) return false;
    [a, b] = [Number(t), f.number];
  } else {
    [a, b] = [Date.parse(s), f.time as number];
    if (Number.isNaN(a)) return false;
  }
  return f.op === '>' ? a > b : f.op === '>=' ? a >= b : f.op === '<' ? a < b : a <= b;
}

/**
 * The text a field value is matched as: strings as they are, other values as their JSON text in
 * the line, compacted (numbers exactly as written, `NaN` as `NaN`, any depth).
 */
function fieldText(v: unknown, text: string, path: readonly string[]): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  const raw = valueTextAt(text, path);
  // No such member in the JSON (a JavaScript property such as an array's length): nothing to match.
  return raw === undefined ? undefined : compactJson(raw);
}

/** Paths of the top-level members the filter reads, made once. */
const TOP_PATHS: Record<TopKey, readonly string[]> = {
  action: ['action'],
  event: ['event'],
  resource_type: ['resource_type'],
  user_id: ['user_id'],
  actor: ['actor'],
  user: ['user'],
};

/** What the filter reads of a parsed entry (one reused instance per filter: set, then ask). */
class ObjectFacts implements EntryFacts {
  view!: EntryView;
  record!: Record<string, unknown>;
  text!: string;
  constructor(private readonly paths: readonly (readonly string[])[]) {}
  time(): number {
    return this.view.time;
  }
  level(): Level {
    return this.view.level;
  }
  outcome(): 'success' | 'failure' {
    return this.view.outcome;
  }
  event(): string {
    return this.view.event;
  }
  actor(): string {
    return this.view.actor;
  }
  member(key: TopKey): string | undefined {
    return fieldText(this.record[key], this.text, TOP_PATHS[key]);
  }
  at(i: number): string | undefined {
    const path = this.paths[i];
    let v: unknown = this.record;
    for (const key of path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
    return fieldText(v, this.text, path);
  }
  grep(re: RegExp): boolean {
    return re.test(this.text);
  }
  memberIs(key: TopKey, t: ValueTest): boolean | undefined {
    const s = this.member(key);
    return s === undefined ? undefined : t(s);
  }
  atIs(i: number, t: ValueTest): boolean | undefined {
    const s = this.at(i);
    return s === undefined ? undefined : t(s);
  }
  actorIs(t: ValueTest): boolean {
    return t(this.view.actor);
  }
}

/**
 * A literal every match contains, as the strings it can be written as in a line (any one of
 * them): itself, and for a non-ASCII literal also its `\uXXXX` escapes as CPython's
 * `json.dumps` writes them (ensure_ascii: lowercase hex, UTF-16 surrogate pairs) and in
 * uppercase hex (other JSON writers).
 */
type Literal = readonly string[];

/** What always ends a literal: glob characters and the characters JSON always escapes. */
const CUT = '*?"\\\\\\x00-\\x1f';
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f]/;
/** Where an event, an actor or a raw field's value can differ from the line's bytes. */
const STRUCTURE = '{}\\[\\],:\\s'; // a non-string value is matched as compact JSON
const CUT_VALUE = new RegExp(`[${CUT}${STRUCTURE}]`);
// The writer's event is resource_type + "." + action, its actor `token:` + token_id or
// `agent:` + agent (view.ts); any part may be a non-string value's compact JSON.
const CUT_EVENT = new RegExp(`[${CUT}${STRUCTURE}.]`);
const CUT_ACTOR = CUT_VALUE;
const CUT_STRING = new RegExp(`[${CUT}]`);

/**
 * Where a flag's value pattern is cut into literals: a plain value (no `*` or `?`) that is no
 * non-string JSON value's compact text (`5`, `null`, `{"a":1}`) matches only a string, which
 * the line holds as it is but for JSON's escapes (`::1`, `user:bob`, `a, b` stay whole); any
 * other pattern may match a non-string value, compacted (`{"a": 1}` in the line is `{"a":1}`).
 */
function valueCut(pattern: string): RegExp {
  if (/[*?]/.test(pattern)) return CUT_VALUE;
  try {
    // Python's NaN and Infinity are values too (`[NaN,1]` is an array's compact text).
    return typeof JSON.parse(replaceNonFinite(pattern)) === 'string' ? CUT_STRING : CUT_VALUE;
  } catch {
    return CUT_STRING;
  }
}

function pyEscape(s: string, upper: boolean): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x7f) out += s[i];
    else {
      const hex = c.toString(16).padStart(4, '0');
      out += '\\u' + (upper ? hex.toUpperCase() : hex);
    }
  }
  return out;
}

function spellings(part: string): Literal {
  const ascii = /^[\x20-\x7e]*$/.test(part) ? [part] : [part, pyEscape(part, false), pyEscape(part, true)];
  // Some writers escape `/` as `\/` (PHP's json_encode); CPython does not.
  return part.includes('/') ? [...ascii, ...ascii.map((a) => a.replaceAll('/', '\\/'))] : ascii;
}

/**
 * Literal fragments (3 characters or more) every value matching `glob` contains, cut at `cut`
 * and before each non-ASCII character but the first of a fragment: a writer may escape some
 * and not others (Go's `json.Marshal` escapes U+2028 only, org.json U+2000-U+20FF), so a
 * fragment holds one, spelled raw or escaped.
 */
function literals(glob: string, cut: RegExp): Literal[] {
  let parts = glob.split(cut);
  // In a non-string value's compact JSON a backslash starts an escape, written as
  // JSON.stringify writes it (`\u001f`), which another writer may spell otherwise (`\u001F`):
  // what follows one is no literal. In a string's text a backslash is one (`\\` in the line).
  if (cut !== CUT_STRING) {
    let at = 0;
    parts = parts.filter((part) => {
      const afterEscape = at > 0 && glob[at - 1] === '\\';
      at += part.length + 1;
      return !afterEscape;
    });
  }
  return parts
    .flatMap(oneNonAscii)
    .filter((part) => part.length >= 3)
    .map(spellings);
}

/** `part` cut before each non-ASCII character (a code point, so a surrogate pair stays whole) after its first. */
function oneNonAscii(part: string): string[] {
  const out: string[] = [];
  let start = 0;
  let seen = false;
  for (let i = 0; i < part.length;) {
    const cp = part.codePointAt(i)!;
    if (cp > 0x7e) {
      if (seen) {
        out.push(part.slice(start, i));
        start = i;
      }
      seen = true;
    }
    i += cp > 0xffff ? 2 : 1;
  }
  out.push(part.slice(start));
  return out;
}

/**
 * Literal fragments every line matching the regular expression `source` contains, as typed
 * (the expression is matched against the line's text, escapes and all); none when the
 * expression has alternation, groups, classes, escapes or counted repeats.
 */
function regExpLiterals(source: string): Literal[] {
  if (/[|()[\]{}\\]/.test(source)) return [];
  const parts: string[] = [];
  let cur = '';
  for (const ch of source) {
    if (ch === '?' || ch === '*') {
      // The character before is optional.
      parts.push([...cur].slice(0, -1).join(''));
      cur = '';
    } else if (ch === '.' || ch === '^' || ch === '$' || ch === '+') {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts.filter((p) => p.length >= 3 && !CONTROL.test(p)).map((p) => [p]);
}

/**
 * Literal ASCII fragments every match of `glob` must contain in the raw line, unless the line
 * escapes printable ASCII (`\u0061`): `--from-loki`'s line filters (core/query/logql.ts).
 */
export function asciiLiterals(glob: string): string[] {
  return glob.split(/[*?.]/).filter((s) => s.length >= 3 && /^[\x20-\x7e]+$/.test(s) && !/["\\/]/.test(s));
}

// An escaped printable ASCII character (`\u0041`) would hide a literal from a substring test.
const ESCAPED_ASCII = /\\u00[2-7][0-9a-fA-F]/;
const ESCAPE_BYTES = Buffer.from('\\u00', 'latin1');

/** {@link ESCAPED_ASCII} on a line's bytes, without decoding them (a `\u00fc` is no hit). */
function hasEscapedAscii(b: Buffer): boolean {
  for (let i = b.indexOf(ESCAPE_BYTES); i >= 0; i = b.indexOf(ESCAPE_BYTES, i + 1)) {
    const c = b[i + 4];
    const h = b[i + 5] | 0x20; // ASCII letters to lowercase
    if (c >= 0x32 && c <= 0x37 && ((h >= 0x30 && h <= 0x39) || (h >= 0x61 && h <= 0x66))) return true;
  }
  return false;
}

/** A compiled filter. */
export interface EntryFilter {
  /** Cheap test on the raw line text; false means the entry cannot match. */
  prefilter(text: string): boolean;
  /** The same literal test on the line's bytes, before any decoding; false means it cannot match. */
  prefilterBytes(bytes: Buffer): boolean;
  /**
   * Whether {@link prefilterBytes} can reject a line the needle search hands out: it tests the
   * literals of two flags or more (an AND), the needles those of one.
   */
  readonly prefilterNarrows: boolean;
  /** What {@link prefilter} tests beyond {@link prefilterBytes} (the --grep expression), for a line that passed it. */
  prefilterRest(text: string): boolean;
  /**
   * Byte strings of which every line that can match contains at least one (the longest literal
   * of each pattern of one filter flag, plus `\u002`-`\u007`, escaped printable ASCII that
   * could hide a literal); null when the filter has no such literal.
   */
  readonly needles: NeedleChoices | null;
  /** Full test on a parsed entry. */
  matches(view: EntryView, record: Record<string, unknown>, text: string): boolean;
  /**
   * The same test on a line's bytes (without terminator) before any decoding, for a line of
   * `stream` in the writer's exact form (byte-facts.ts): true or false as {@link matches}
   * says of the entry the line parses to; null when the line is not in that form (parse it).
   */
  matchesBytes(bytes: Buffer, stream?: ViewStream): boolean | null;
  /** The view of the line {@link matchesBytes} last read (valid until its next call), as toView makes it. */
  bytesView(): BytesView;
  /** Whether any condition is set at all. */
  readonly active: boolean;
}

function anyOf(patterns: string[] | undefined, ignoreCase = false): ValueTest | null {
  if (!patterns || patterns.length === 0) return null;
  // A glob without `*` or `?` matches only itself (globToRegExp anchors it): compared, no regex.
  const exact = ignoreCase ? [] : patterns.filter((p) => !/[*?]/.test(p));
  const res = patterns.filter((p) => !exact.includes(p)).map((p) => globToRegExp(p, ignoreCase));
  if (res.length === 0)
    return Object.assign((s: string | null | undefined) => s !== null && s !== undefined && exact.includes(s), {
      quoted: exact.map((p) => Buffer.from(pyQuote(p), 'latin1')),
    });
  return Object.assign(
    (s: string | null | undefined) =>
      s !== null && s !== undefined && (exact.includes(s) || res.some((r) => r.test(s))),
    { quoted: null },
  );
}

/**
 * Compiles a filter.
 * @throws FilterError for an invalid regular expression.
 */
export function compileFilter(spec: FilterSpec): EntryFilter {
  const ic = spec.ignoreCase === true;
  const event = anyOf(spec.events, ic);
  // Loki Mode's exclusions are exact, whatever -i says.
  const excluded = anyOf(spec.excludeEvents);
  const actor = anyOf(spec.actors, ic);
  const action = anyOf(spec.actions, ic);
  const resourceType = anyOf(spec.resourceTypes, ic);
  const user = anyOf(spec.users, ic);
  const levels = spec.levels && spec.levels.length < LEVELS.length ? new Set(spec.levels) : null;
  const fields = (spec.fields ?? []).map((f) => ({ ...f, op: f.op ?? '=', test: anyOf([f.pattern], ic)! }));
  let grep: RegExp | null = null;
  if (spec.grep !== undefined) {
    try {
      grep = new RegExp(spec.grep, ic ? 'iu' : 'u');
    } catch (err) {
      throw new FilterError(`--grep: ${(err as Error).message}`);
    }
  }
  const since = spec.window?.since ?? null;
  const until = spec.window?.until ?? null;

  // Literal groups: for each filter flag, the entry must contain the literals of at least one
  // of its patterns (OR within a flag, AND across flags and literals).
  // None with -i: a case-sensitive byte search would reject lines that match.
  const groups: Literal[][][] = [];
  if (!ic) {
    const add = (list: string[] | undefined, cut?: RegExp) => {
      if (list && list.length) groups.push(list.map((p) => literals(p, cut ?? valueCut(p))));
    };
    // An event without its name is `unknown` (view.ts), a text no line holds: no literal of it.
    if (spec.events?.length)
      groups.push(spec.events.map((p) => literals(p, CUT_EVENT).filter((lit) => !'unknown'.includes(lit[0]))));
    add(spec.actions);
    add(spec.resourceTypes);
    add(spec.users);
    // An actor pattern that matches `anonymous` (no such text in the line) has no literal.
    if (actor)
      add(
        spec.actors?.map((p) => (globToRegExp(p).test('anonymous') ? '' : p)),
        CUT_ACTOR,
      );
    for (const f of fields) if (f.op === '=') groups.push([literals(f.pattern, valueCut(f.pattern))]);
    if (spec.grep !== undefined) groups.push([regExpLiterals(spec.grep)]);
  }
  // Groups without a literal in every pattern say nothing.
  const literalGroups = groups.filter((g) => g.every((lits) => lits.length > 0));
  const prefilterOn = literalGroups.length > 0 || grep !== null;
  const byteGroups = literalGroups.map((g) => g.map((lits) => lits.map((alts) => alts.map((a) => Buffer.from(a)))));

  const active =
    !!(
      event ||
      excluded ||
      actor ||
      action ||
      resourceType ||
      user ||
      levels ||
      fields.length ||
      grep ||
      spec.outcome
    ) ||
    since !== null ||
    until !== null;

  // Needle sets, one per flag (or per literal of a one-pattern flag), longest literals first:
  // the search uses the rarest on the first chunk (needles.ts chooseNeedles).
  // `\u0020`-`\u007f` (escaped printable ASCII) could hide a literal; `\u00e9` cannot.
  const hatch: Needle = { bytes: ESCAPE_BYTES, nextIn: [0x32, 0x37] };
  const choices: Array<{ weakest: number; needles: Needle[] }> = [];
  const longest = (lits: Buffer[][]) => lits.reduce((a, b) => (b[0].length > a[0].length ? b : a));
  for (const g of byteGroups) {
    const picks = g.length === 1 ? g[0].map((alts) => [alts]) : [g.map(longest)];
    for (const pick of picks)
      choices.push({
        weakest: Math.min(...pick.map((alts) => alts[0].length)),
        needles: [...pick.flat().map((bytes) => ({ bytes })), hatch],
      });
  }
  choices.sort((a, b) => b.weakest - a.weakest);
  const needles: NeedleChoices | null = choices.length ? choices.map((c) => c.needles) : null;

  const fieldPaths = fields.map((f) => f.path);
  const objectFacts = new ObjectFacts(fieldPaths);
  const byteFacts = new ByteFacts(fieldPaths);
  // A --grep without metacharacters matches where its bytes are (the byte path's line is ASCII).
  const grepLiteral = grep && !ic && !/[\\^$.*+?()[\]{}|]/.test(spec.grep ?? '') ? Buffer.from(spec.grep ?? '') : null;

  /** The whole test, on what the object path or the byte path reads of the entry (one rule for both). */
  const evaluate = (f: EntryFacts): boolean => {
    if (since !== null || until !== null) {
      const time = f.time();
      if (Number.isNaN(time)) return false;
      if (since !== null && time < since) return false;
      if (until !== null && time >= until) return false;
    }
    if (levels && !levels.has(f.level())) return false;
    if (spec.outcome && f.outcome() !== spec.outcome) return false;
    if (event || excluded) {
      const ev = f.event();
      if (event && !event(ev)) return false;
      if (excluded && excluded(ev)) return false;
    }
    if (actor && !f.actorIs(actor)) return false;
    if (action && !(f.memberIs('action', action) ?? f.memberIs('event', action) ?? false)) return false;
    if (resourceType && !f.memberIs('resource_type', resourceType)) return false;
    if (user && !(f.memberIs('user_id', user) ?? f.memberIs('actor', user) ?? f.memberIs('user', user) ?? false))
      return false;
    for (let i = 0; i < fields.length; i++) {
      const fc = fields[i];
      if (fc.op === '=') {
        if (!f.atIs(i, fc.test)) return false;
      } else if (fc.op === '!=') {
        if (f.atIs(i, fc.test)) return false;
      } else if (!ordered(f.at(i), fc)) return false;
    }
    if (grep && !f.grep(grep, grepLiteral)) return false;
    return true;
  };

  return {
    active,
    needles,
    prefilterNarrows: byteGroups.length > 1,
    prefilter(text: string): boolean {
      if (!prefilterOn) return true;
      if (grep && !grep.test(text)) return false;
      if (literalGroups.length && !(text.includes('\\u00') && ESCAPED_ASCII.test(text))) {
        for (const group of literalGroups) {
          if (!group.some((lits) => lits.every((alts) => alts.some((a) => text.includes(a))))) return false;
        }
      }
      return true;
    },
    prefilterRest(text: string): boolean {
      return !grep || grep.test(text);
    },
    prefilterBytes(bytes: Buffer): boolean {
      if (byteGroups.length === 0) return true;
      // An escaped ASCII character could hide a literal: let the text test decide.
      if (hasEscapedAscii(bytes)) return true;
      for (const group of byteGroups) {
        if (!group.some((lits) => lits.every((alts) => alts.some((a) => bytes.indexOf(a) >= 0)))) return false;
      }
      return true;
    },
    matches(view: EntryView, record: Record<string, unknown>, text: string): boolean {
      objectFacts.view = view;
      objectFacts.record = record;
      objectFacts.text = text;
      return evaluate(objectFacts);
    },
    matchesBytes(bytes: Buffer, stream?: ViewStream): boolean | null {
      return byteFacts.load(bytes, stream) ? evaluate(byteFacts) : null;
    },
    bytesView(): BytesView {
      return byteFacts.view();
    },
  };
}
