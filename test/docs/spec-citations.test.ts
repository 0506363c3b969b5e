/**
 * The docs hold together: every "spec §N" the code and the docs cite is a section of
 * docs/spec/loki-mode-audit.md, every command has its page, and every relative markdown link
 * points at a file of this repository (never at ../shared or anything outside it).
 *
 * A citation resolves to a numbered heading (`## 4.`, `### 3.1`) or to a numbered list item of
 * the section that numbers its items: `spec §10.3` is item 3 of section 10, and a range heading
 * such as `### 10.17–10.26` continues section 10's items.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/cli.js';

const SPEC = join(ROOT, 'docs', 'spec', 'loki-mode-audit.md');

/** Files under `dir` (relative to ROOT) whose names end with `ext`, recursively, sorted. */
function filesUnder(dir: string, ext: string): string[] {
  const out: string[] = [];
  const walk = (abs: string): void => {
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      const p = join(abs, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(ext)) out.push(relative(ROOT, p));
    }
  };
  walk(join(ROOT, dir));
  return out.sort();
}

/** Markdown with fenced code blocks blanked out (line count kept), so examples are not read as text. */
function withoutFences(md: string): string[] {
  let fenced = false;
  return md.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line;
  });
}

/**
 * The section numbers a citation may name: numbered headings, and the numbered list items at
 * the start of a line, as `SECTION.ITEM` of the section they are in.
 */
function specSections(md: string): Set<string> {
  const ids = new Set<string>();
  let owner: string | null = null;
  for (const line of withoutFences(md)) {
    const h = /^#{2,6}\s+(\d+(?:\.\d+)*)\.?(?:[–-](\d+(?:\.\d+)*))?\s/.exec(line);
    if (h) {
      if (h[2]) {
        // `### 10.17–10.26`: more items of section 10.
        owner = h[1].split('.').slice(0, -1).join('.') || null;
      } else {
        owner = h[1];
        ids.add(h[1]);
      }
      continue;
    }
    if (/^#{1,6}\s/.test(line)) {
      owner = null;
      continue;
    }
    const item = /^(\d+)\.\s/.exec(line);
    if (item && owner) ids.add(`${owner}.${item[1]}`);
  }
  return ids;
}

interface Citation {
  file: string;
  line: number;
  section: string;
}

const NUM = String.raw`\d+(?:\.\d+)*`;
/** `spec §3`, `spec §1, §10.25`, `spec §2.1 and §3.3`, `Loki Mode §10.1/10.2`, across a comment's line break. */
const CODE_CITATION = new RegExp(
  String.raw`\b(?:spec|Loki Mode)\s+(?:(?:\*|//)\s+)?§(${NUM})((?:(?:\s*,\s*(?:and\s+)?|\s+and\s+)§${NUM}|/${NUM})*)`,
  'g',
);

/** Spec citations in TypeScript source: only those that say they are the spec's (others cite RFCs). */
function codeCitations(file: string, text: string): Citation[] {
  const out: Citation[] = [];
  for (const m of text.matchAll(CODE_CITATION)) {
    const line = text.slice(0, m.index).split('\n').length;
    for (const section of [m[1], ...[...m[2].matchAll(new RegExp(NUM, 'g'))].map((n) => n[0])])
      out.push({ file, line, section });
  }
  return out;
}

/** Spec citations in markdown: every `§N` outside code blocks except an RFC's (`RFC 5424 §6.3`). */
function markdownCitations(file: string, text: string): Citation[] {
  const out: Citation[] = [];
  withoutFences(text).forEach((line, i) => {
    for (const m of line.matchAll(new RegExp(`(RFC \\d+\\s+)?§(${NUM})`, 'g')))
      if (!m[1]) out.push({ file, line: i + 1, section: m[2] });
  });
  return out;
}

/**
 * Relative link targets of a markdown file (inline and reference links, images, and paths such
 * as `../x.md` written out in prose), with their lines.
 */
function markdownLinks(text: string): Array<{ line: number; target: string }> {
  const out: Array<{ line: number; target: string }> = [];
  withoutFences(text).forEach((raw, i) => {
    const line = raw.replace(/`[^`]*`/g, '');
    const inline = /\]\(\s*<?([^)\s>]+)>?(?:\s+["'(][^)]*)?\)/g;
    const reference = /^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/g;
    const prose = line.replace(inline, '').replace(reference, '');
    const targets = [
      ...[...line.matchAll(inline)].map((m) => m[1]),
      ...[...line.matchAll(reference)].map((m) => m[1]),
      ...[...prose.matchAll(/(?<![\w/.])\.\.?\/[^\s)`'"<>,;]*[^\s)`'"<>,;.]/g)].map((m) => m[0]),
    ];
    for (const target of targets) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
      out.push({ line: i + 1, target });
    }
  });
  return out;
}

const sourceFiles = filesUnder('src', '.ts');
const topDocs = readdirSync(join(ROOT, 'docs'))
  .filter((n) => n.endsWith('.md'))
  .map((n) => join('docs', n))
  .sort();
const markdownFiles = [
  'README.md',
  'CHANGELOG.md',
  ...filesUnder('docs', '.md'),
  ...filesUnder(join('test', 'fixtures'), '.md'),
];
const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');

describe('spec citations resolve to docs/spec/loki-mode-audit.md', () => {
  const sections = specSections(read(relative(ROOT, SPEC)));

  it('the spec has its sections, and items of the sections that number them', () => {
    for (const id of ['1', '1.1', '3', '3.1', '3.3', '4', '6.3', '10', '10.3', '10.16', '10.17', '10.25', '11'])
      assert.ok(sections.has(id), `§${id}`);
    for (const id of ['12', '3.4', '10.27', '10.17–10.26']) assert.ok(!sections.has(id), `no §${id}`);
  });

  it('reads citations as the code writes them, and only those', () => {
    const text = [
      '/** rotated (spec §1, §10.25); see spec §2.1 and §3.3; Loki Mode §10.1/10.2 */',
      '// RFC 5424 §6.3.3, then a sentence that ends with spec §4.',
      ' * cited across a comment break (spec',
      ' * §3.1)',
    ].join('\n');
    assert.deepEqual(
      codeCitations('x.ts', text).map((c) => `${c.line}:${c.section}`),
      ['1:1', '1:10.25', '1:2.1', '1:3.3', '1:10.1', '1:10.2', '2:4', '3:3.1'],
    );
    assert.deepEqual(
      markdownCitations('x.md', 'forks (§10.1, §10.2), RFC 5426 §3.2\n```\nspec §99\n```\nspec §7.').map(
        (c) => `${c.line}:${c.section}`,
      ),
      ['1:10.1', '1:10.2', '5:7'],
    );
  });

  it('a made-up citation does not resolve', () => {
    const bad = codeCitations('x.ts', '// as spec §10.27 says, and spec §12').filter((c) => !sections.has(c.section));
    assert.deepEqual(
      bad.map((c) => c.section),
      ['10.27', '12'],
    );
  });

  it('every "spec §N" in src/**/*.ts names a section that exists', () => {
    const citations = sourceFiles.flatMap((f) => codeCitations(f, read(f)));
    assert.ok(citations.length >= 35, `found ${citations.length} citations: the scanner reads the code`);
    const unresolved = citations.filter((c) => !sections.has(c.section));
    assert.deepEqual(
      unresolved.map((c) => `${c.file}:${c.line}: §${c.section}`),
      [],
      'citations with no such section in docs/spec/loki-mode-audit.md',
    );
  });

  it('every § in docs/*.md, README.md, test/fixtures READMEs and the spec itself exists', () => {
    const files = ['README.md', ...topDocs, relative(ROOT, SPEC), ...filesUnder(join('test', 'fixtures'), '.md')];
    const citations = files.flatMap((f) => markdownCitations(f, read(f)));
    assert.ok(citations.length >= 10, `found ${citations.length} citations`);
    const unresolved = citations.filter((c) => !sections.has(c.section));
    assert.deepEqual(
      unresolved.map((c) => `${c.file}:${c.line}: §${c.section}`),
      [],
    );
  });
});

describe('every command has its page', () => {
  it('docs/COMMAND.md exists for each of src/commands/*.ts, and README.md links it', () => {
    const readme = read('README.md');
    const commands = readdirSync(join(ROOT, 'src', 'commands'))
      .filter((n) => n.endsWith('.ts'))
      .map((n) => n.slice(0, -3));
    assert.ok(commands.includes('checkpoint'), commands.join(' '));
    for (const c of commands) {
      assert.ok(existsSync(join(ROOT, 'docs', `${c}.md`)), `docs/${c}.md`);
      assert.ok(readme.includes(`](docs/${c}.md)`), `README.md links docs/${c}.md`);
    }
  });
});

describe('relative markdown links resolve inside the repository', () => {
  it('reads inline, reference and image links and paths in prose; skips URLs, anchors and code', () => {
    const md = [
      'See [verify](verify.md#cron), [spec](spec/loki-mode-audit.md "title") and ![x](img.png).',
      '[web](https://example.com) [top](#top) `[not](a-link.md)`',
      '```',
      '[also not](in-a-fence.md)',
      '```',
      '[ref]: ../README.md',
      'written out: (see ../spec/loki-mode-audit.md §1), ./bin/run.js.',
    ].join('\n');
    assert.deepEqual(markdownLinks(md), [
      { line: 1, target: 'verify.md#cron' },
      { line: 1, target: 'spec/loki-mode-audit.md' },
      { line: 1, target: 'img.png' },
      { line: 6, target: '../README.md' },
      { line: 7, target: '../spec/loki-mode-audit.md' },
      { line: 7, target: './bin/run.js' },
    ]);
  });

  it('every relative link in README.md, CHANGELOG.md, docs/**/*.md and test/fixtures/**/*.md', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const file of markdownFiles) {
      for (const { line, target } of markdownLinks(read(file))) {
        checked++;
        const path = decodeURIComponent(target.split('#')[0]);
        const abs = path.startsWith('/') ? join(ROOT, path) : resolve(ROOT, dirname(file), path);
        const inside = abs === ROOT || abs.startsWith(ROOT + sep);
        if (!inside || !existsSync(abs))
          broken.push(`${file}:${line}: ${target}${inside ? '' : ' (outside the repository)'}`);
      }
    }
    assert.ok(checked >= 20, `checked ${checked} links`);
    assert.deepEqual(broken, []);
  });
});
