/**
 * The subset of LogQL the test Loki receiver evaluates (test/helpers/loki-receiver.ts), written
 * to Loki's docs (docs/sources/query/log_queries) and source (pkg/logql/syntax, pkg/logql/log):
 *
 * - stream selector `{name="v", name!="v", name=~"re", name!~"re"}`: at least one matcher;
 *   regular expressions are fully anchored, as Prometheus matchers are;
 * - line filters `|= "s"`, `!= "s"` (substring), `|~ "re"`, `!~ "re"` (unanchored);
 * - `| json name="expr", …` (parameters): each label the value at its expression (`a.b`,
 *   `a[0]`, `a["k"]`): a string decoded, other values as written (objects and arrays as their
 *   JSON text), "" for null or nothing there;
 * - `| json` (no parameters): every scalar of the line's JSON object becomes a label, nested
 *   keys joined with `_`, characters outside `[a-zA-Z0-9_]` replaced by `_`, a name that is
 *   already a stream label gets `_extracted`; arrays are not extracted; a line that is not a
 *   JSON object gets `__error__="JSONParserErr"`;
 * - label filters after it, `| name="v"`, `!=`, `=~`, `!~` (on the value, missing = ""), and
 *   numeric `>`, `>=`, `<`, `<=`, `==`, `!=` with a number: a missing label drops the line, a
 *   value that is not a number keeps it with `__error__="LabelFilterErr"`; combined with
 *   `and` (also `,` or a space) and `or`, `and` binding tighter, and parentheses
 *   (log_queries "Label filter expression"; pkg/logql/log/label_filter.go BinaryLabelFilter).
 *
 * Strings are double-quoted with Go escapes (`\n \t \r \a \b \f \v \\ \" \xHH \uHHHH
 * \UHHHHHHHH`, strconv.Unquote) or back-quoted (raw). Label matchers and label filters with
 * `=~`/`!~` are fully anchored, line filters `|~` not. JavaScript regular expressions stand in
 * for RE2 (the same for the syntax loki-audit sends, core/query/logql.ts). Anything else is a
 * parse error, answered 400 as Loki answers one (`parse error at line 1, col N: …`).
 */

import { valueTextAt } from '../../src/core/read/json-text.js';

export type MatchOp = '=' | '!=' | '=~' | '!~';
type Matcher = { name: string; op: MatchOp; value: string; re?: RegExp };
type NumericOp = '>' | '>=' | '<' | '<=' | '==' | '!=';
/** A label filter expression: one filter, or two joined by `and` / `or`. */
type LabelExpr =
  | { kind: 'label'; m: Matcher }
  | { kind: 'numeric'; name: string; op: NumericOp; value: number }
  | { kind: 'and'; left: LabelExpr; right: LabelExpr }
  | { kind: 'or'; left: LabelExpr; right: LabelExpr };
type Stage =
  | { kind: 'line'; op: '|=' | '!=' | '|~' | '!~'; value: string; re?: RegExp }
  | { kind: 'json'; expressions?: Array<{ name: string; path: string[] }> }
  | { kind: 'filter'; expr: LabelExpr };

/** A parsed query: its selector and pipeline. */
export interface LogQuery {
  selector: Matcher[];
  stages: Stage[];
}

/** A query Loki could not parse: the receiver answers 400 with the message. */
export class LogQLParseError extends Error {}

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/** Parses `q`. @throws LogQLParseError with Loki's "parse error at line 1, col N: …" wording. */
export function parseLogQL(q: string): LogQuery {
  let i = 0;
  const fail = (what: string): never => {
    throw new LogQLParseError(`parse error at line 1, col ${i + 1}: ${what}`);
  };
  const ws = () => {
    while (i < q.length && /\s/.test(q[i])) i++;
  };
  const eat = (s: string) => {
    ws();
    if (q.startsWith(s, i)) {
      i += s.length;
      return true;
    }
    return false;
  };
  const name = (): string => {
    ws();
    const m = NAME.exec(q.slice(i));
    if (!m) fail('syntax error: unexpected character, expecting IDENTIFIER');
    i += m![0].length;
    return m![0];
  };
  const str = (): string => {
    ws();
    if (q[i] === '`') {
      const end = q.indexOf('`', i + 1);
      if (end < 0) fail('literal not terminated');
      const s = q.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    if (q[i] !== '"') fail('syntax error: unexpected character, expecting STRING');
    let out = '';
    for (i++; i < q.length; i++) {
      const c = q[i];
      if (c === '"') {
        i++;
        return out;
      }
      if (c === '\\') {
        const n = q[++i];
        const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v' };
        const hex = n === 'x' ? 2 : n === 'u' ? 4 : n === 'U' ? 8 : 0;
        if (hex) {
          const h = q.slice(i + 1, i + 1 + hex);
          if (!new RegExp(`^[0-9a-fA-F]{${hex}}$`).test(h)) fail('invalid syntax');
          out += String.fromCodePoint(parseInt(h, 16));
          i += hex;
        } else if (n in simple) out += simple[n];
        else if (n === '\\' || n === '"') out += n;
        else fail('invalid syntax');
      } else out += c;
    }
    return fail('literal not terminated');
  };
  const regex = (source: string, anchored: boolean): RegExp => {
    try {
      return new RegExp(anchored ? `^(?:${source})$` : source, 's');
    } catch {
      return fail(`invalid regular expression ${JSON.stringify(source)}`);
    }
  };
  const matcher = (): Matcher => {
    const n = name();
    ws();
    const op = (['=~', '!~', '!=', '='] as const).find((o) => q.startsWith(o, i));
    if (!op) fail('syntax error: unexpected character, expecting = or != or =~ or !~');
    i += op!.length;
    const value = str();
    return { name: n, op: op!, value, re: op === '=~' || op === '!~' ? regex(value, true) : undefined };
  };
  if (!eat('{')) fail('syntax error: unexpected IDENTIFIER, expecting {');
  const selector: Matcher[] = [];
  if (!eat('}')) {
    do selector.push(matcher());
    while (eat(','));
    if (!eat('}')) fail('syntax error: unexpected character, expecting } or ,');
  }
  if (!selector.length || selector.every((m) => m.op !== '=' && !(m.op === '=~' && !m.re!.test(''))))
    throw new LogQLParseError(
      'parse error : queries require at least one regexp or equality matcher that does not have an ' +
        'empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will',
    );
  const stages: Stage[] = [];
  for (;;) {
    ws();
    if (i >= q.length) break;
    const lineOp = (['|=', '!=', '|~', '!~'] as const).find((o) => q.startsWith(o, i));
    if (lineOp) {
      i += 2;
      const value = str();
      stages.push({ kind: 'line', op: lineOp, value, re: lineOp[1] === '~' ? regex(value, false) : undefined });
      continue;
    }
    if (!eat('|')) fail('syntax error: unexpected character');
    ws();
    if (q.startsWith('json', i) && !/[a-zA-Z0-9_]/.test(q[i + 4] ?? '')) {
      i += 4;
      // `| json name="expr", …`: a name then `=` starts the parameters (else a label filter follows).
      ws();
      if (!/^[a-zA-Z_][a-zA-Z0-9_]*\s*=\s*["`]/.test(q.slice(i))) {
        stages.push({ kind: 'json' });
        continue;
      }
      const expressions: Array<{ name: string; path: string[] }> = [];
      do {
        const n = name();
        if (!eat('=')) fail('syntax error: unexpected character, expecting =');
        expressions.push({ name: n, path: jsonPath(str()) });
      } while (eat(','));
      stages.push({ kind: 'json', expressions });
      continue;
    }
    stages.push({ kind: 'filter', expr: orExpr() });
  }
  return { selector, stages };

  /** `a or b`, of `and` terms. */
  function orExpr(): LabelExpr {
    let left = andExpr();
    while (keyword('or')) left = { kind: 'or', left, right: andExpr() };
    return left;
  }
  /** `a and b` (also `a, b` and `a b`), of single filters or parenthesized expressions. */
  function andExpr(): LabelExpr {
    let left = term();
    for (;;) {
      ws();
      if (keyword('and') || eat(',')) left = { kind: 'and', left, right: term() };
      else if (NAME.test(q.slice(i)) && !/^or\b/.test(q.slice(i))) left = { kind: 'and', left, right: term() };
      else if (q[i] === '(') left = { kind: 'and', left, right: term() };
      else return left;
    }
  }
  /** A json parser expression (`a.b`, `a[0]`, `a["k"]`) as its keys. */
  function jsonPath(e: string): string[] {
    const out: string[] = [];
    const re = /^(?:\.?([a-zA-Z_][a-zA-Z0-9_]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\])/;
    let rest = e;
    while (rest.length) {
      const m = re.exec(rest);
      if (!m || (out.length === 0 && rest.startsWith('.'))) fail(`invalid json expression ${JSON.stringify(e)}`);
      out.push(m![1] ?? m![2] ?? JSON.parse(`"${m![3]}"`));
      rest = rest.slice(m![0].length);
    }
    if (!out.length) fail('empty json expression');
    return out;
  }
  function keyword(k: string): boolean {
    ws();
    if (q.startsWith(k, i) && !/[a-zA-Z0-9_]/.test(q[i + k.length] ?? '')) {
      i += k.length;
      return true;
    }
    return false;
  }
  function term(): LabelExpr {
    if (eat('(')) {
      const e = orExpr();
      if (!eat(')')) fail('syntax error: unexpected character, expecting )');
      return e;
    }
    const n = name();
    ws();
    const num = (['>=', '<=', '==', '!=', '>', '<'] as const).find((o) => q.startsWith(o, i));
    const rest = q.slice(i + (num?.length ?? 0)).trimStart();
    if (num && /^-?\d/.test(rest)) {
      i += num.length;
      ws();
      const m = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(q.slice(i))!;
      i += m[0].length;
      return { kind: 'numeric', name: n, op: num, value: Number(m[0]) };
    }
    i -= n.length;
    return { kind: 'label', m: matcher() };
  }
}

function matches(m: Matcher, v: string): boolean {
  switch (m.op) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return m.re!.test(v);
    case '!~':
      return !m.re!.test(v);
  }
}

/** Whether a stream's labels satisfy the selector. */
export function selects(query: LogQuery, labels: Record<string, string>): boolean {
  return query.selector.every((m) => matches(m, labels[m.name] ?? ''));
}

/** `| json`'s labels of a line (see the header), or null when it is not a JSON object. */
function jsonLabels(line: string, taken: Record<string, string>): Record<string, string> | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const out: Record<string, string> = {};
  const walk = (o: Record<string, unknown>, prefix: string) => {
    for (const [k, x] of Object.entries(o)) {
      const key = prefix + k.replace(/[^a-zA-Z0-9_]/g, '_');
      if (x !== null && typeof x === 'object') {
        if (!Array.isArray(x)) walk(x as Record<string, unknown>, key + '_');
        continue;
      }
      const name = key in taken ? key + '_extracted' : key;
      out[name] = x === null ? '' : typeof x === 'string' ? x : String(x);
    }
  };
  walk(v as Record<string, unknown>, '');
  return out;
}

/**
 * `| json name="expr"`'s labels (log_queries, "JSON" with parameters): the value at each path; a
 * string decoded, a number or boolean as written, an object or array as its JSON text as
 * written; "" for null or nothing there; a name that is a stream label gets `_extracted`. Null
 * when the line is not a JSON object.
 */
function jsonExpressionLabels(
  line: string,
  expressions: Array<{ name: string; path: string[] }>,
  taken: Record<string, string>,
): Record<string, string> | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const out: Record<string, string> = {};
  for (const { name, path } of expressions) {
    let x: unknown = v;
    for (const k of path)
      x = x !== null && typeof x === 'object' && Object.hasOwn(x, k) ? (x as Record<string, unknown>)[k] : undefined;
    const label = name in taken ? name + '_extracted' : name;
    out[label] = x === undefined || x === null ? '' : typeof x === 'string' ? x : (valueTextAt(line, path) ?? '');
  }
  return out;
}

/**
 * Runs the pipeline on one line of a selected stream: null when the line is filtered out,
 * else the labels the line ends with (the stream's, plus what `| json` extracted, plus
 * `__error__`).
 */
export function runPipeline(
  query: LogQuery,
  labels: Record<string, string>,
  line: string,
): Record<string, string> | null {
  let lbs = labels;
  for (const s of query.stages) {
    if (s.kind === 'line') {
      const hit = s.re ? s.re.test(line) : line.includes(s.value);
      if (hit !== (s.op === '|=' || s.op === '|~')) return null;
    } else if (s.kind === 'json' && s.expressions) {
      const extracted = jsonExpressionLabels(line, s.expressions, lbs);
      lbs = extracted ? { ...lbs, ...extracted } : { ...lbs, __error__: lbs.__error__ ?? 'JSONParserErr' };
    } else if (s.kind === 'json') {
      const extracted = jsonLabels(line, lbs);
      lbs = extracted ? { ...lbs, ...extracted } : { ...lbs, __error__: lbs.__error__ ?? 'JSONParserErr' };
    } else {
      const r = evaluate(s.expr, lbs);
      if (!r.ok) return null;
      lbs = r.lbs;
    }
  }
  return lbs;
}

/** A label filter expression on `lbs`: whether the line passes, and its labels after. */
function evaluate(e: LabelExpr, lbs: Record<string, string>): { ok: boolean; lbs: Record<string, string> } {
  if (e.kind === 'label') return { ok: matches(e.m, lbs[e.m.name] ?? ''), lbs };
  if (e.kind === 'and' || e.kind === 'or') {
    // BinaryLabelFilter: the left side, then the right one unless the left decided.
    const l = evaluate(e.left, lbs);
    if (e.kind === 'and' ? !l.ok : l.ok) return l;
    return evaluate(e.right, l.lbs);
  }
  // NumericLabelFilter: a missing label fails.
  const v = lbs[e.name];
  if (v === undefined) return { ok: false, lbs };
  const n = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(v) ? Number(v) : NaN;
  if (Number.isNaN(n)) return { ok: true, lbs: { ...lbs, __error__: 'LabelFilterErr' } };
  const ok =
    e.op === '>'
      ? n > e.value
      : e.op === '>='
        ? n >= e.value
        : e.op === '<'
          ? n < e.value
          : e.op === '<='
            ? n <= e.value
            : e.op === '=='
              ? n === e.value
              : n !== e.value;
  return { ok, lbs };
}
