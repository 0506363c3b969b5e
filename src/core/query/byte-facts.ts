/**
 * What a filter reads of an entry (its view and its fields as text, see filters.ts), taken
 * straight from the line's bytes: no decoding, JSON.parse or object for the line, only the few
 * short strings the filter compares. Used for the lines a needle search hands out (issue #21:
 * `search --user X` on a line of 400 bytes was a UTF-8 decode, a JSON.parse and a view per
 * candidate line).
 *
 * Only for lines the byte canonicalizer proves are in the writer's exact form
 * (core/pyjson/canonical-bytes.ts `scan`: ASCII only, every string and number as CPython's
 * `json.dumps` prints it, keys without escapes, no NaN or Infinity). Such a line is an object
 * JSON.parse reads, its text is its bytes, and every member's value is one byte span: a
 * string's value is that span decoded, and since a string has exactly one such spelling, a
 * value equals X exactly when its span is X as `json.dumps` writes it (ensure_ascii); any other
 * value's text is its span compacted, as json-text.ts reads it from the text. A key inside a
 * string or in a nested object is never taken for a top-level one: members come from the
 * canonicalizer's tape, by depth (a `--field` path through an array is looked up in the text,
 * as json-text.ts does). Anything else (another form, the agent and session streams) is
 * declined, and the object path decides.
 */
import { ByteCanonicalizer } from '../pyjson/canonical-bytes.js';
import { compactJson, valueTextAt } from '../read/json-text.js';
import type { EntryView, Level, ViewStream } from '../read/view.js';
import { normalizeLevel, SECURITY_ACTIONS, timestampMs } from '../read/view.js';

/** Top-level members a filter reads as text (filters.ts `fieldText`). */
export type TopKey = 'action' | 'event' | 'resource_type' | 'user_id' | 'actor' | 'user';

/**
 * What a filter reads of an entry: the view (core/read/view.ts) and fields as text (a string as
 * it is, any other value as its compact JSON text; undefined when absent).
 */
export interface EntryFacts {
  /** `view.time`: ms since the epoch, NaN without a readable timestamp. */
  time(): number;
  level(): Level;
  outcome(): 'success' | 'failure';
  event(): string;
  actor(): string;
  /** A top-level member as text. */
  member(key: TopKey): string | undefined;
  /** The value at the filter's `--field` path number `i` as text. */
  at(i: number): string | undefined;
  /** Whether the line's text matches `re`; `literal`: the bytes `re` stands for (it has no metacharacter). */
  grep(re: RegExp, literal: Buffer | null): boolean;
  /** `t(member(key))`, undefined when the member is absent. */
  memberIs(key: TopKey, t: ValueTest): boolean | undefined;
  /** `t(at(i))`, undefined when there is no value at the path. */
  atIs(i: number, t: ValueTest): boolean | undefined;
  /** `t(actor())`. */
  actorIs(t: ValueTest): boolean;
}

/**
 * A test of a value's text: one filter flag's patterns, any of them (filters.ts `anyOf`).
 * `quoted`, when every pattern is a plain value (no `*` or `?`, no -i): those values as
 * CPython's `json.dumps` prints them, quotes and all (canonical.ts `pyQuote`). A string value of
 * a line in the writer's exact form, whose escapes the byte scan proved to be exactly CPython's
 * (one spelling per string), is one of the values exactly when its bytes are one of these: it
 * is compared without being decoded.
 */
export interface ValueTest {
  (s: string | null | undefined): boolean;
  readonly quoted: readonly Buffer[] | null;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
/** The top-level members the view and the filters read, each with its slot in a line's index. */
const TOP = [
  'timestamp',
  'action',
  'resource_type',
  'user_id',
  'token_id',
  'success',
  'event',
  'chain_hash',
  'level',
  'previousHash',
  'what',
  'who',
  'actor',
  'user',
  'hash',
  '_integrity_hash',
  'error',
  'details',
] as const;
type TopName = (typeof TOP)[number];
const KEYS = Object.fromEntries(TOP.map((k, i) => [k, i])) as Record<TopName, number>;
/** The names of TOP by their length in bytes, with their slots: a member's key is compared only with those. */
const BY_LENGTH: Array<Array<[Buffer, number]>> = [];
for (const [i, k] of TOP.entries()) (BY_LENGTH[k.length] ??= []).push([Buffer.from(k), i]);
const DETAILS_ERROR = Buffer.from('error');
const FALSE = Buffer.from('false');
/** Lines longer than this are left to the object path (the scratch copy would grow without bound). */
const MAX_BYTES = 1024 * 1024;
/** An array is on a `--field` path: the value is looked up in the line's text. */
const IN_ARRAY = -2;

/**
 * An entry's view read from its bytes, with the writer schema's raw `action` and
 * `resource_type` as summary's split counts them (`unknown` when missing or null; absent for
 * other schemas).
 */
export interface BytesView extends EntryView {
  rawAction?: string;
  rawResourceType?: string;
}

/**
 * The {@link EntryFacts} of one line at a time, read from its bytes. `load` a line, then ask;
 * the answers hold until the next `load`. Each method mirrors `toView` (view.ts) and
 * `fieldText` (filters.ts) for the schemas told by keys (writer, documented, JS AuditLog).
 */
export class ByteFacts implements EntryFacts {
  private readonly canon = new ByteCanonicalizer();
  private scratch = Buffer.allocUnsafe(64 * 1024);
  private bytes: Buffer = this.scratch;
  private schema: 'writer' | 'documented' | 'js-auditlog' = 'writer';
  private root = 0;
  /** Each TOP member's number on the tape for the line loaded (the last of duplicates), -1 when absent. */
  private readonly slots = new Int32Array(TOP.length);
  /** {@link slots} of the last key sequence indexed (ByteCanonicalizer.scanShape): the same for every line of it. */
  private indexedShape: object | null = null;
  private readonly indexedSlots = new Int32Array(TOP.length);
  /** The member of each `--field` path (-1 none, IN_ARRAY; else an index into the canonicalizer's tape). */
  private readonly paths: Int32Array;
  private readonly pathKeys: Buffer[][];

  /** @param fieldPaths the filter's `--field` paths, in order (their keys, as typed). */
  constructor(private readonly fieldPaths: readonly (readonly string[])[]) {
    this.pathKeys = fieldPaths.map((p) => p.map((k) => Buffer.from(k)));
    this.paths = new Int32Array(fieldPaths.length);
  }

  /**
   * Reads `bytes` (one line without its terminator) from the stream `stream` of. True when the
   * line is in the writer's exact form and every fact can be read from its bytes; false when
   * the object path must decide.
   */
  load(bytes: Buffer, stream: ViewStream | undefined): boolean {
    if (stream === 'agent' || stream === 'session') return false;
    const n = bytes.length;
    if (n === 0 || bytes[0] !== 0x7b || n > MAX_BYTES) return false;
    if (n + 1 > this.scratch.length) this.scratch = Buffer.allocUnsafe(2 * (n + 1));
    const buf = this.scratch;
    bytes.copy(buf, 0);
    buf[n] = NEWLINE; // the canonicalizer's scans stop at the newline
    const c = this.canon;
    if (!c.scan(buf, 0, n) || c.nonFinite) return false;
    this.bytes = bytes;
    this.root = c.root();
    const shape = c.scanShape;
    if (shape !== null && shape === this.indexedShape) this.slots.set(this.indexedSlots);
    else {
      this.index();
      this.indexedShape = shape;
      if (shape !== null) this.indexedSlots.set(this.slots);
    }
    // The schema as toView tells it by keys (view.ts).
    this.schema =
      this.has(KEYS.event) || this.has(KEYS.chain_hash) || (this.has(KEYS.level) && !this.has(KEYS.action))
        ? 'documented'
        : this.has(KEYS.previousHash) && this.has(KEYS.what)
          ? 'js-auditlog'
          : 'writer';
    for (let i = 0; i < this.pathKeys.length; i++) this.paths[i] = this.walk(this.pathKeys[i]);
    return true;
  }

  /** Fills {@link slots}: one pass over the top-level members, each key compared with the names of its length. */
  private index(): void {
    const c = this.canon;
    const slots = this.slots;
    const src = this.scratch;
    slots.fill(-1);
    const first = c.firstMember(this.root);
    const end = first + c.memberCount(this.root);
    for (let i = first; i < end; i++) {
      const ks = c.keyStart(i) + 1;
      const names = BY_LENGTH[c.keyEnd(i) - 1 - ks];
      if (names === undefined) continue;
      for (let j = 0; j < names.length; j++) {
        const name = names[j][0];
        let k = 0;
        while (k < name.length && src[ks + k] === name[k]) k++;
        if (k === name.length) {
          slots[names[j][1]] = i; // a later duplicate replaces it, as JSON.parse keeps the last
          break;
        }
      }
    }
  }

  /** Whether the line has the top-level member `key` (`key in o`). */
  private has(key: number): boolean {
    return this.slots[key] >= 0;
  }

  /** The member at `keys` (-1 none), or IN_ARRAY when an array is on the way. */
  private walk(keys: readonly Buffer[]): number {
    const c = this.canon;
    let node = this.root;
    let m = -1;
    for (let k = 0; k < keys.length; k++) {
      if (k > 0) {
        node = c.child(m);
        // A string, number, true, false or null: nothing inside (`v[key]` of a non-object).
        if (node < 0) return -1;
        if (c.nodeKind(node) !== 1) return IN_ARRAY;
      }
      m = c.member(node, keys[k]);
      if (m < 0) return -1;
    }
    return m;
  }

  /** Member `m`'s value as text (filters.ts `fieldText`): a string decoded, anything else compacted. */
  private text(m: number): string {
    const c = this.canon;
    const s = c.valueStart(m);
    const e = c.valueEnd(m);
    const buf = this.scratch;
    if (buf[s] !== QUOTE) return compactJson(buf.toString('latin1', s, e));
    for (let i = s + 1; i < e - 1; i++) if (buf[i] === BACKSLASH) return JSON.parse(buf.toString('latin1', s, e));
    return buf.toString('latin1', s + 1, e - 1);
  }

  /** A top-level member as the view reads it (view.ts `str`): null when absent or null. */
  private viewField(key: number): string | null {
    const m = this.slots[key];
    if (m < 0) return null;
    const s = this.canon.valueStart(m);
    if (this.scratch[s] === 0x6e && this.canon.valueEnd(m) - s === 4) return null; // null
    return this.text(m);
  }

  time(): number {
    const t = this.viewField(KEYS.timestamp) ?? '';
    return t ? timestampMs(t) : NaN;
  }

  level(): Level {
    if (this.schema === 'documented') {
      const m = this.slots[KEYS.level];
      return normalizeLevel(m >= 0 && this.scratch[this.canon.valueStart(m)] === QUOTE ? this.text(m) : undefined);
    }
    if (this.schema === 'js-auditlog') return 'info';
    if (this.failed()) return 'error';
    return SECURITY_ACTIONS.has(this.action()) ? 'warning' : 'info';
  }

  outcome(): 'success' | 'failure' {
    if (this.schema === 'documented') return this.level() === 'error' ? 'failure' : 'success';
    if (this.schema === 'js-auditlog') return 'success';
    return this.failed() ? 'failure' : 'success';
  }

  event(): string {
    if (this.schema === 'documented') return this.viewField(KEYS.event) ?? 'unknown';
    if (this.schema === 'js-auditlog') return this.viewField(KEYS.what) ?? 'unknown';
    const action = this.action();
    const resourceType = this.viewField(KEYS.resource_type);
    return resourceType ? `${resourceType}.${action}` : action;
  }

  actor(): string {
    if (this.schema === 'documented') return this.viewField(KEYS.actor) ?? 'anonymous';
    if (this.schema === 'js-auditlog') return this.viewField(KEYS.who) ?? 'anonymous';
    const userId = this.viewField(KEYS.user_id);
    if (userId) return userId;
    const tokenId = this.viewField(KEYS.token_id);
    return tokenId ? `token:${tokenId}` : 'anonymous';
  }

  member(key: TopKey): string | undefined {
    const m = this.slots[KEYS[key]];
    return m < 0 ? undefined : this.text(m);
  }

  memberIs(key: TopKey, t: ValueTest): boolean | undefined {
    const m = this.slots[KEYS[key]];
    return m < 0 ? undefined : (this.quotedIs(m, t, 0) ?? t(this.text(m)));
  }

  atIs(i: number, t: ValueTest): boolean | undefined {
    const m = this.paths[i];
    if (m >= 0) return this.quotedIs(m, t, 0) ?? t(this.text(m));
    const s = this.at(i);
    return s === undefined ? undefined : t(s);
  }

  actorIs(t: ValueTest): boolean {
    // The member actor() returns as it is when it holds a string other than "" (view.ts).
    const key = this.schema === 'documented' ? KEYS.actor : this.schema === 'js-auditlog' ? KEYS.who : KEYS.user_id;
    const m = this.slots[key];
    return (m >= 0 ? this.quotedIs(m, t, 1) : null) ?? t(this.actor());
  }

  /**
   * Whether member `m`'s value is one of `t.quoted`, compared as bytes; null when that says
   * nothing (`t` has globs, or the value is no string of more than `minChars` characters).
   */
  private quotedIs(m: number, t: ValueTest, minChars: number): boolean | null {
    const quoted = t.quoted;
    if (quoted === null) return null;
    const buf = this.scratch;
    const s = this.canon.valueStart(m);
    const n = this.canon.valueEnd(m) - s;
    if (buf[s] !== QUOTE || n < 2 + minChars) return null;
    // A byte loop: values are short, and Buffer#compare validates its four offsets first.
    next: for (const q of quoted) {
      if (q.length !== n) continue;
      for (let k = 1; k < n - 1; k++) if (buf[s + k] !== q[k]) continue next;
      return true;
    }
    return false;
  }

  at(i: number): string | undefined {
    const m = this.paths[i];
    if (m === IN_ARRAY) {
      // Array indexes as filters.ts's walk takes them (`v[key]`), as json-text.ts reads them.
      const raw = valueTextAt(this.bytes.toString('latin1'), this.fieldPaths[i]);
      if (raw === undefined) return undefined;
      return raw.charCodeAt(0) === QUOTE ? (JSON.parse(raw) as string) : compactJson(raw);
    }
    return m < 0 ? undefined : this.text(m);
  }

  grep(re: RegExp, literal: Buffer | null): boolean {
    return literal ? this.bytes.indexOf(literal) >= 0 : re.test(this.bytes.toString('latin1'));
  }

  /** The whole view of the line (`toView`), as the parse would make it. */
  view(): BytesView {
    const timestamp = this.viewField(KEYS.timestamp) ?? '';
    const time = timestamp ? timestampMs(timestamp) : NaN;
    if (this.schema === 'documented') {
      const level = this.level();
      return {
        schema: 'documented',
        timestamp,
        time,
        event: this.event(),
        level,
        actor: this.actor(),
        outcome: level === 'error' ? 'failure' : 'success',
        error: level === 'error' ? this.detailsError() : null,
        hash: this.viewField(KEYS.chain_hash) ?? this.viewField(KEYS._integrity_hash),
      };
    }
    if (this.schema === 'js-auditlog')
      return {
        schema: 'js-auditlog',
        timestamp,
        time,
        event: this.event(),
        level: 'info',
        actor: this.actor(),
        outcome: 'success',
        error: null,
        hash: this.viewField(KEYS.hash),
      };
    // The writer schema, each member read once (toView's writer branch).
    const rawAction = this.viewField(KEYS.action);
    const action = rawAction ?? 'unknown';
    const resourceType = this.viewField(KEYS.resource_type);
    const failed = this.failed();
    return {
      schema: this.has(KEYS.action) || this.has(KEYS.resource_type) ? 'writer' : 'unknown',
      timestamp,
      time,
      event: resourceType ? `${resourceType}.${action}` : action,
      level: failed ? 'error' : SECURITY_ACTIONS.has(action) ? 'warning' : 'info',
      actor: this.actor(),
      outcome: failed ? 'failure' : 'success',
      error: failed ? this.viewField(KEYS.error) : null,
      hash: this.viewField(KEYS._integrity_hash),
      rawAction: action,
      rawResourceType: resourceType ?? 'unknown',
    };
  }

  /** `details.error` of a documented entry as the view reads it (null unless `details` is an object). */
  private detailsError(): string | null {
    const c = this.canon;
    const d = this.slots[KEYS.details];
    const node = d < 0 ? -1 : c.child(d);
    if (node < 0 || c.nodeKind(node) !== 1) return null;
    const m = c.member(node, DETAILS_ERROR);
    if (m < 0) return null;
    const s = c.valueStart(m);
    if (this.scratch[s] === 0x6e && c.valueEnd(m) - s === 4) return null;
    return this.text(m);
  }

  /** The writer's action as the view reads it. */
  private action(): string {
    return this.viewField(KEYS.action) ?? 'unknown';
  }

  /** `success` is `false` (the writer schema's failure). */
  private failed(): boolean {
    const m = this.slots[KEYS.success];
    if (m < 0) return false;
    const s = this.canon.valueStart(m);
    if (this.canon.valueEnd(m) - s !== FALSE.length) return false;
    for (let i = 0; i < FALSE.length; i++) if (this.scratch[s + i] !== FALSE[i]) return false;
    return true;
  }
}
