/**
 * Streams the entries of audit files one at a time, each with its file, line and byte offset.
 * Memory holds one line at a time whatever the directory size.
 */
import { readErrorText } from './open.js';
import { statSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import type { AuditFile } from './files.js';
import { decodeLine, firstInvalidUtf8, type DecodedLine } from './decode.js';
import { ObjectAssembler, type AssembledItem } from './objects.js';
import type { EntryView, ViewStream } from './view.js';
import { toView } from './view.js';
import type { LineChainKind, RawLine, SkippedGap } from './lines.js';
import type { NeedleChoices } from './needles.js';
import {
  DEFAULT_MAX_LINE_BYTES,
  LineSplitter,
  lineBatches,
  openAuditFile,
  readChunks,
  scanLineBatches,
} from './lines.js';
import { canonicalize, PyJsonError } from '../pyjson/canonical.js';

/** One entry read from a file. */
export interface ReadEntry {
  kind: 'entry';
  file: string;
  line: number;
  offset: number;
  /** The line's original bytes, without terminator. */
  bytes: Buffer;
  /** The decoded, stripped line. */
  text: string;
  /** Whether `text` is standard JSON (no NaN/Infinity), so it can be passed on as is. */
  strictJson: boolean;
  /** The parsed object (NaN/Infinity read as null; big integers as the nearest double). */
  record: Record<string, unknown>;
  view: EntryView;
  /**
   * The stored hash of the entry's chain predecessor (64 hex, or the genesis' 64 zeros), set only
   * by readers that track it (see core/chain/predecessors.ts); null for a stream without a chain.
   */
  prevHash?: string | null;
  /**
   * Whether the entry is covered by its chain, set when the read was given a
   * {@link ChainTracker} (core/chain/coverage.ts) and the entry is of a chained stream: `null`
   * verified, else why not. Absent: not checked (a stream without a chain, or not asked).
   */
  unverified?: UnverifiedReason | null;
}

/**
 * Why an entry is not verified: it has no stored hash (`no-hash`: pre-integrity, or written
 * with integrity off, or inserted); it follows an unreadable line and does not chain from the
 * entry before that line (`after-unreadable`); or its stored hash is not the chain rule's hash
 * of it from the entry before it (`does-not-chain`: edited, reordered, forked, or not writer output).
 */
export type UnverifiedReason = 'no-hash' | 'after-unreadable' | 'does-not-chain';

/**
 * Follows the chain through a read, to say of each entry whether it is verified (the read
 * calls it in line order; core/chain/coverage.ts implements it). Lines the read skips unparsed
 * are handed to it too, so the stored hash before each entry is known.
 */
export interface ChainTracker {
  /** A file's lines come next. Resolves once the chain state before the file is known. */
  startFile(file: AuditFile): Promise<void>;
  /** What a line of the current file holds of its chain (for lines skipped unparsed). */
  classify(line: Buffer): LineChainKind;
  /** Lines skipped by a needle search, as one gap. */
  gap(gap: SkippedGap): void;
  /** A line the prefilters rejected unparsed (its bytes stay valid until `endBatch`). */
  skip(raw: RawLine): void;
  /** An entry (its `unverified` is set) or a problem line, in line order. */
  item(item: ReadItem): void;
  /** The batch is handed out: the skipped lines' bytes may be reused after this. */
  endBatch(): void;
}

/** A line that is not an entry. */
export interface ReadProblem {
  kind: 'problem';
  file: string;
  line: number;
  offset: number;
  code: 'invalid-utf8' | 'too-long' | 'malformed-json' | 'not-an-object' | 'torn-last-line' | 'io-error';
  message: string;
}

export type ReadItem = ReadEntry | ReadProblem;

/** How far a read of several files is; bytes are file sizes on disk. */
export interface ReadProgress {
  filesDone: number;
  files: number;
  bytesDone: number;
  bytesTotal: number;
}

/** Options for {@link readEntries}. */
export interface ReadOptions {
  maxLineBytes?: number;
  /**
   * Cheap test on the decoded line before parsing; lines it rejects are skipped unparsed. Runs
   * after `prefilterBytes`, on the lines it passed (it need not repeat that test).
   */
  prefilter?: (text: string) => boolean;
  /** Cheaper test on the raw bytes before decoding; lines it rejects are skipped undecoded. */
  prefilterBytes?: (bytes: Buffer) => boolean;
  /**
   * Only lines containing one of the byte strings of one of these sets can matter (see
   * `EntryFilter.needles`): the others are skipped without being split out one by one.
   */
  needles?: NeedleChoices | null;
  /** Read plain files only up to this byte offset (exclusive). */
  endOffset?: number;
  /** Skip a final line without newline (a write in progress) instead of reporting it. */
  completeLinesOnly?: boolean;
  /** Called after each chunk read and each file (progress display). */
  onProgress?: (p: ReadProgress) => void;
  /**
   * The caller is done with each batch before it asks for the next (writes the lines out at
   * once): selective reads then hand out lines as views of one reused read buffer instead of
   * copies, so an entry's `bytes` is valid only until the next batch is requested.
   */
  transientBytes?: boolean;
  /** Called after each file: where its whole lines end, and the number of the next line. */
  onFileEnd?: (info: { file: string; completeOffset: number; nextLine: number }) => void;
  /** Marks each entry of a chained stream verified or not (sets `ReadEntry.unverified`). */
  chain?: ChainTracker;
  /**
   * Decides a whole line from its bytes, before the prefilters and any decoding (a filter's byte
   * path, core/query/filters.ts `matchesBytes`): true, the line is an entry that passes, handed
   * out with its `text`, `record` and `view` made on first use (from `bytes`: with
   * `transientBytes`, read them before the next batch too), or an EntryView: passes, with this
   * view (made from the bytes; toView's); false, it cannot pass (skipped
   * like a line the prefilters reject); null, undecided (the prefilters, the parse and
   * `matches` decide).
   */
  selectBytes?: (bytes: Buffer, stream: ViewStream) => boolean | EntryView | null;
  /**
   * The full test of the entries `selectBytes` left undecided: an entry that fails it is seen
   * by `chain` but not handed out. Without it every entry is handed out.
   */
  matches?: (entry: ReadEntry) => boolean;
}

/**
 * Parses an audit line as Python's `json.loads` would accept it. JSON.parse is the fast path;
 * Python's extra tokens (`NaN`, `Infinity`, `-Infinity`) are read as null.
 * @throws PyJsonError when the line is not JSON Python would accept.
 */
export function parseAuditJson(text: string): unknown {
  return parseJsonLine(text).value;
}

/**
 * {@link parseAuditJson}, saying whether JSON.parse alone read it (`strict`). A line that cannot
 * be an object (its first character is not `{` or white space: garbage, a bare value) skips
 * JSON.parse: its SyntaxError is costly, and a garbage file has millions of them
 * (bench/results/decisions.md).
 * @throws PyJsonError when the line is not JSON Python would accept.
 */
export function parseJsonLine(text: string): { value: unknown; strict: boolean } {
  const c = text.charCodeAt(0);
  if (c === 0x7b || c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0; // a SyntaxError here is dropped: no stack to capture
    try {
      return { value: JSON.parse(text), strict: true };
    } catch {
      // Python's extras, or a real error (the canonicalizer says which, as Python would).
    } finally {
      Error.stackTraceLimit = limit;
    }
  }
  canonicalize(text); // throws the precise error when Python would reject it too
  return { value: JSON.parse(replaceNonFinite(text)), strict: false };
}

/**
 * The text with bare NaN/Infinity/-Infinity tokens (outside strings) replaced by null (or by
 * what `as` makes of the token): valid JSON, every other byte as written (big integers, `1.0`,
 * key order, escapes). Iterative.
 */
export function replaceNonFinite(text: string, as: (token: string) => string = () => 'null'): string {
  let out = '';
  let last = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      continue;
    }
    let len = 0;
    if (c === 0x4e && text.startsWith('NaN', i)) len = 3;
    else if (c === 0x49 && text.startsWith('Infinity', i)) len = 8;
    else if (c === 0x2d && text.startsWith('-Infinity', i)) len = 9;
    if (len) {
      out += text.slice(last, i) + as(text.slice(i, i + len));
      i += len - 1;
      last = i + 1;
    }
  }
  return out + text.slice(last);
}

/**
 * One raw line as an entry, or as the problem that stops it being one; null for a blank line.
 * `stream`: the stream the line is from, for its view (see `toView`). Never throws.
 */
export function parseLine(
  raw: RawLine,
  file: string,
  maxLineBytes: number,
  decoded?: DecodedLine,
  stream?: ViewStream,
): ReadItem | null {
  const base = { file, line: raw.line, offset: raw.offset };
  const d = decoded ?? decodeLine(raw, maxLineBytes);
  if (d.kind === 'blank') return null;
  if (d.kind === 'undecodable') return { kind: 'problem', ...base, code: d.code, message: d.message };
  let value: unknown;
  let strictJson: boolean;
  try {
    ({ value, strict: strictJson } = parseJsonLine(d.text));
  } catch (err) {
    const message = err instanceof PyJsonError ? err.message : String(err);
    return raw.terminated
      ? { kind: 'problem', ...base, code: 'malformed-json', message: `malformed JSON: ${message}` }
      : { kind: 'problem', ...base, code: 'torn-last-line', message: 'incomplete last line (no newline yet): skipped' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'problem', ...base, code: 'not-an-object', message: 'line is valid JSON but not an object' };
  }
  const record = value as Record<string, unknown>;
  return {
    kind: 'entry',
    ...base,
    bytes: raw.bytes,
    text: d.text,
    strictJson,
    record,
    view: toView(record, stream, d.text, strictJson),
  };
}

/**
 * One object of a session audit file (see objects.ts) as an entry, or the problem met. Its
 * `bytes` and `text` are the object minified to one line of strict JSON, not the lines on disk:
 * the session audit has no chain to keep byte for byte, and `-o jsonl` stays one entry per line.
 * Never throws.
 */
export function parseAssembled(item: AssembledItem, file: string): ReadItem {
  const base = { file, line: item.line, offset: item.offset };
  if (item.kind === 'problem') return { kind: 'problem', ...base, code: item.code, message: item.message };
  if (!isUtf8(item.bytes))
    return {
      kind: 'problem',
      ...base,
      code: 'invalid-utf8',
      message: `invalid UTF-8 at byte ${firstInvalidUtf8(item.bytes) + 1} of the object (minified)`,
    };
  const text = item.bytes.toString('utf8');
  let value: unknown;
  let strictJson: boolean;
  try {
    ({ value, strict: strictJson } = parseJsonLine(text));
  } catch (err) {
    const message = err instanceof PyJsonError ? err.message : String(err);
    return { kind: 'problem', ...base, code: 'malformed-json', message: `malformed JSON object: ${message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { kind: 'problem', ...base, code: 'not-an-object', message: 'object is valid JSON but not an object' };
  const record = value as Record<string, unknown>;
  return {
    kind: 'entry',
    ...base,
    bytes: item.bytes,
    text,
    strictJson,
    record,
    view: toView(record, 'session', text, strictJson),
  };
}

/**
 * An entry of a line known to be one (a line in the writer's exact form, which JSON.parse reads
 * as an object: core/query/byte-facts.ts), whose `text`, `strictJson`, `record` and `view` are
 * made by {@link parseLine} on first use: `-o raw` and `-c` never make them (the view may be
 * given, made from the bytes: summary). They are getters of
 * the class, not own properties: a spread copy (`{ ...e }`) lacks them.
 */
class LazyEntry implements ReadEntry {
  readonly kind = 'entry';
  readonly line: number;
  readonly offset: number;
  readonly bytes: Buffer;
  prevHash?: string | null;
  unverified?: UnverifiedReason | null;
  private parsed: ReadEntry | null = null;

  constructor(
    private readonly raw: RawLine,
    readonly file: string,
    private readonly maxLineBytes: number,
    private readonly stream: ViewStream,
    private readonly known: EntryView | null = null,
  ) {
    this.line = raw.line;
    this.offset = raw.offset;
    this.bytes = raw.bytes;
  }

  /** @throws Error when the line is no entry after all (the selector's broken promise). */
  private full(): ReadEntry {
    if (this.parsed) return this.parsed;
    const item = parseLine(this.raw, this.file, this.maxLineBytes, undefined, this.stream);
    if (item?.kind !== 'entry') throw new Error(`${this.file}:${this.line}: a line selected as an entry is none`);
    return (this.parsed = item);
  }

  get text(): string {
    return this.full().text;
  }

  get strictJson(): boolean {
    return this.full().strictJson;
  }

  get record(): Record<string, unknown> {
    return this.full().record;
  }

  get view(): EntryView {
    return this.known ?? this.full().view;
  }
}

/**
 * An entry of a line in the writer's exact form (query/byte-facts.ts proved it: ASCII, no NaN
 * or Infinity), its view made from its bytes by the caller: its text is its bytes; its record
 * parsed from the text (not the bytes, which are a view of a reused read buffer) when asked, as
 * parseLine parses it. Text, view and the rest are own properties, so a copy made with `{...e}`
 * has them.
 */
export class WriterFormEntry implements ReadEntry {
  readonly kind = 'entry';
  readonly line: number;
  readonly offset: number;
  readonly bytes: Buffer;
  readonly text: string;
  /** The byte canonicalizer admits no NaN or Infinity. */
  readonly strictJson = true;
  prevHash?: string | null;
  unverified?: UnverifiedReason | null;
  private parsed: Record<string, unknown> | null = null;

  constructor(
    raw: RawLine,
    readonly file: string,
    readonly view: EntryView,
  ) {
    this.line = raw.line;
    this.offset = raw.offset;
    this.bytes = raw.bytes;
    this.text = raw.bytes.toString('latin1');
  }

  get record(): Record<string, unknown> {
    return (this.parsed ??= parseJsonLine(this.text).value as Record<string, unknown>);
  }
}

/** Size of a file on disk; 0 when it cannot be read (the read reports that). */
export function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Streams entries of `files` in order. Bad lines come out as problems; reading goes on. */
export async function* readEntries(files: AuditFile[], options: ReadOptions = {}): AsyncGenerator<ReadItem> {
  for await (const batch of readEntryBatches(files, options)) yield* batch;
}

/**
 * {@link readEntries} a chunk at a time (one asynchronous step per chunk of the file, not per
 * line): the entries and problems of each chunk as one array.
 */
export async function* readEntryBatches(files: AuditFile[], options: ReadOptions = {}): AsyncGenerator<ReadItem[]> {
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const prefilter = options.prefilter;
  const { selectBytes: select, matches } = options;
  const onProgress = options.onProgress;
  const sizes = onProgress ? files.map((f) => sizeOf(f.path)) : [];
  const progress: ReadProgress = {
    filesDone: 0,
    files: files.length,
    bytesDone: 0,
    bytesTotal: sizes.reduce((a, b) => a + b, 0),
  };
  for (const [index, file] of files.entries()) {
    let lastLine = 0;
    let completeOffset = 0;
    if (file.chain === 'session') {
      // Multi-line objects: no line prefilters (a needle on one line says nothing of the object).
      const pos = { nextLine: 1, completeOffset: 0 };
      for await (const all of sessionBatches(file, max, options, pos)) {
        if (onProgress)
          onProgress({ ...progress, bytesDone: progress.bytesDone + Math.min(sizes[index], pos.completeOffset) });
        const items = matches ? all.filter((item) => item.kind === 'problem' || matches(item)) : all;
        if (items.length) yield items;
      }
      options.onFileEnd?.({ file: file.name, completeOffset: pos.completeOffset, nextLine: pos.nextLine });
      if (onProgress) {
        progress.filesDone++;
        progress.bytesDone += sizes[index];
        onProgress({ ...progress });
      }
      continue;
    }
    const stream: ViewStream = file.chain;
    const tracker = options.chain && (stream === 'dashboard' || stream === 'js-auditlog') ? options.chain : undefined;
    try {
      if (tracker) await tracker.startFile(file);
      // Selective reads of plain files: one reused buffer (the lines handed out are copied, unless transient).
      const selective = !!options.needles && !file.gz;
      const source = selective
        ? readChunks(file.path, 0, options.endOffset)
        : openAuditFile(file.path, 0, file.gz ? undefined : options.endOffset);
      // Empty lines are counted by the splitter, not handed out: 10 M blank lines cost no objects.
      const splitter = new LineSplitter({
        maxLineBytes: max,
        volatile: selective && (options.transientBytes ? 'parts' : true),
        skipEmptyLines: true,
        classifySkipped: tracker && ((line) => tracker.classify(line)),
      });
      let torn = false;
      for await (const lines of lineBatches(source, splitter, options.needles ?? undefined)) {
        const items: ReadItem[] = [];
        for (const raw of lines) {
          torn ||= !raw.terminated;
          if (!raw.terminated && options.completeLinesOnly) break;
          lastLine = raw.line;
          completeOffset = raw.offset + raw.length + (raw.terminated ? (raw.crlf ? 2 : 1) : 0);
          if (tracker && raw.skippedBefore) tracker.gap(raw.skippedBefore);
          if (select && raw.terminated && !raw.tooLong) {
            const verdict = select(raw.bytes, stream);
            if (verdict === false) {
              tracker?.skip(raw);
              continue;
            }
            if (verdict !== null) {
              const item = new LazyEntry(raw, file.name, max, stream, verdict === true ? null : verdict);
              tracker?.item(item);
              items.push(item);
              continue;
            }
          }
          if (options.prefilterBytes && raw.terminated && !raw.tooLong && !options.prefilterBytes(raw.bytes)) {
            tracker?.skip(raw);
            continue;
          }
          const d = decodeLine(raw, max);
          if (prefilter && raw.terminated && d.kind === 'text' && !prefilter(d.text)) {
            tracker?.skip(raw);
            continue;
          }
          const item = parseLine(raw, file.name, max, d, stream);
          if (item) {
            tracker?.item(item);
            if (item.kind === 'problem' || !matches || matches(item)) items.push(item);
          }
        }
        tracker?.endBatch();
        if (onProgress)
          onProgress({ ...progress, bytesDone: progress.bytesDone + Math.min(sizes[index], completeOffset) });
        if (items.length) yield items;
      }
      const trailing = splitter.takeSkippedGap();
      if (tracker && trailing) tracker.gap(trailing);
      // Empty lines after the last line handed out are complete too.
      if (!torn && splitter.position > completeOffset) {
        completeOffset = splitter.position;
        lastLine = splitter.nextLine - 1;
      }
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const problem: ReadProblem = {
        kind: 'problem',
        file: file.name,
        line: lastLine + 1,
        offset: 0,
        code: 'io-error',
        message: readErrorText(file.name, e),
      };
      tracker?.item(problem);
      yield [problem];
    }
    options.onFileEnd?.({ file: file.name, completeOffset, nextLine: lastLine + 1 });
    if (onProgress) {
      progress.filesDone++;
      progress.bytesDone += sizes[index];
      onProgress({ ...progress });
    }
  }
}

/**
 * The entries of one session audit file a chunk at a time; `pos` is kept at where a reader
 * that stops should start again (the start of an object still open, for `tail --follow`).
 */
async function* sessionBatches(
  file: AuditFile,
  max: number,
  options: ReadOptions,
  pos: { nextLine: number; completeOffset: number },
): AsyncGenerator<ReadItem[]> {
  const assembler = new ObjectAssembler(max);
  let torn = false;
  try {
    for await (const lines of scanLineBatches(openAuditFile(file.path, 0, file.gz ? undefined : options.endOffset), {
      maxLineBytes: max,
    })) {
      const items: ReadItem[] = [];
      for (const raw of lines) {
        if (!raw.terminated && options.completeLinesOnly) break;
        torn = !raw.terminated;
        for (const a of assembler.push(raw)) items.push(parseAssembled(a, file.name));
        Object.assign(pos, { nextLine: assembler.resumeAt.line, completeOffset: assembler.resumeAt.offset });
      }
      yield items;
    }
    // An object still open while only whole writes are wanted (a write in progress) is left for later.
    if (!(options.completeLinesOnly && assembler.pending)) {
      const last = assembler.end(torn).map((a) => parseAssembled(a, file.name));
      Object.assign(pos, { nextLine: assembler.resumeAt.line, completeOffset: assembler.resumeAt.offset });
      yield last;
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    yield [
      {
        kind: 'problem',
        file: file.name,
        line: pos.nextLine,
        offset: 0,
        code: 'io-error',
        message: readErrorText(file.name, e),
      },
    ];
  }
}
