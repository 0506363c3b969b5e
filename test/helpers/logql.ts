/**
 * The subset of LogQL the test Loki receiver evaluates (test/helpers/loki-receiver.ts), written
 * to Loki's docs (docs/sources/query/log_queries) and source (pkg/logql/syntax, pkg/logql/log):
 *
 * - stream selector `{name="v", name!="v", name=~"re", name!~"re"}`: at least one matcher;
 *   regular expressions are fully anchored, as Prometheus matchers are;
 * - line filters `|= "s"`, `!= "s"` (substring), `|~ "re"`, `!~ "re"` (unanchored);
 * - `| json` (no parameters): every scalar of the line's JSON object becomes a label, nested
 *   keys joined with `_`, characters outside `[a-zA-Z0-9_]` replaced by `_`, a name that is
 *   already a stream label gets `_extracted`; arrays are not extracted; a line that is not a
 *   JSON object gets `__error__="JSONParserErr"`;
 * - label filters after it, `| name="v"`, `!=`, `=~`, `!~` (on the value, missing = ""), and
 *   numeric `>`, `>=`, `<`, `<=`, `==`, `!=` with a number: a missing label drops the line, a
 *   value that is not a number keeps it with `__error__="LabelFilterErr"` (NumericLabelFilter).
 *
 * Strings are double-quoted with Go escapes or back-quoted (raw). JavaScript regular
 * expressions stand in for RE2 (the same for the classes the tests use). Anything else is a
 * parse error, answered 400 as Loki answers one (`parse error at line 1, col N: …`).
 */

export type MatchOp = '=' | '!=' | '=~' | '!~';
type Matcher = { name: string; op: MatchOp; value: string; re?: RegExp };
type Stage =
  | { kind: 'line'; op: '|=' | '!=' | '|~' | '!~'; value: string; re?: RegExp }
  | { kind: 'json' }
  | { kind: 'label'; m: Matcher }
  | { kind: 'numeric'; name: string; op: '>' | '>=' | '<' | '<=' | '==' | '!='; value: number };

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
        out += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'r' ? '\r' : n;
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
      'parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will',
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
      stages.push({ kind: 'json' });
      continue;
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
      stages.push({ kind: 'numeric', name: n, op: num, value: Number(m[0]) });
      continue;
    }
    i -= n.length;
    stages.push({ kind: 'label', m: matcher() });
  }
  return { selector, stages };
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
    } else if (s.kind === 'json') {
      const extracted = jsonLabels(line, lbs);
      lbs = extracted ? { ...lbs, ...extracted } : { ...lbs, __error__: lbs.__error__ ?? 'JSONParserErr' };
    } else if (s.kind === 'label') {
      if (!matches(s.m, lbs[s.m.name] ?? '')) return null;
    } else {
      const v = lbs[s.name];
      if (v === undefined) return null;
      const n = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(v) ? Number(v) : NaN;
      if (Number.isNaN(n)) {
        lbs = { ...lbs, __error__: lbs.__error__ ?? 'LabelFilterErr' };
        continue;
      }
      const ok =
        s.op === '>'
          ? n > s.value
          : s.op === '>='
            ? n >= s.value
            : s.op === '<'
              ? n < s.value
              : s.op === '<='
                ? n <= s.value
                : s.op === '=='
                  ? n === s.value
                  : n !== s.value;
      if (!ok) return null;
    }
  }
  return lbs;
}
