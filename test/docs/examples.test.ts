/**
 * Every example in README.md and docs/*.md that names the bundled sample (`examples/audit`) or a
 * fixture (`test/fixtures/`) runs as written, from the repository root of a fresh clone, and
 * prints what the page shows (issue 17, point 16).
 *
 * The convention the pages follow, and this test reads:
 *
 * - A fenced block with lines starting `$ ` is a transcript: each `$ ` line is a command (a line
 *   ending in `\` continues on the next), and the lines after it, up to the next `$ ` line, a
 *   blank line or the end of the block, are what it prints (stdout and stderr, as a terminal
 *   shows them). A ```sh / ```bash / ```shell / ```console block without `$ ` lines holds
 *   commands only: every line that is not blank or a `#` comment (a trailing `# comment` is
 *   the shell's).
 * - A command runs when it names `examples/audit` or `test/fixtures/`. Strict: every fenced
 *   line of these pages that names either must be such a command or the shown output of one;
 *   any other (a new block form, a cron line, a comment) fails the test, so that no example is
 *   skipped silently. Prose and inline code may name them freely.
 * - The exit code must be 0, unless the command ends in `echo "exit $?"`: then the `exit N`
 *   line is part of the output shown.
 * - Shown output must equal what is printed, line for line, except: `…` inside a line matches
 *   any text (a clone's absolute path `/…/examples/audit`, the rest of a hash); a line of only
 *   `…` matches any number of lines. Output that draws a table (`┌`) is what a terminal shows:
 *   that command runs on a pseudo-terminal (`script`).
 *
 * How it runs: each command in `bash -c`, with cwd a temporary directory holding a copy of
 * `examples/` and links to the clone's `bin/` and `test/` (so nothing is written into the
 * repository: state files, appends, keys), HOME and TMPDIR temporary directories, no `LOKI_AUDIT_*` or
 * `TZ` variable, `NO_COLOR=1`, `PAGER=cat`. Rewritten before running: the command word
 * `loki-audit` becomes `./bin/run.js` (the clone's CLI, as the README's set-up runs it); a
 * leading `npm ci && ` is dropped (the suite's build did it); `http://loki:3100`, the pages'
 * Loki, becomes a Loki push API on loopback started here (test/helpers/loki-receiver.ts), and
 * its address in the output becomes `http://loki:3100` again. Commands run in parallel.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HAS_SCRIPT, ROOT, tempDir } from '../helpers/cli.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';

/** What the test runs: a command and the output its page shows. */
interface Example {
  page: string;
  /** 1-based line of the `$ ` (or the command) in the page. */
  line: number;
  command: string;
  /** Lines shown below it (empty: none shown; only the exit code is checked). */
  shown: string[];
}

const NAMES = /examples\/audit|test\/fixtures\//;
const PAGES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const COMMAND_BLOCKS = new Set(['sh', 'bash', 'shell', 'console']);

/** A command line without its trailing shell comment (` # …` outside quotes). */
function withoutComment(line: string): string {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) return line.slice(0, i).trimEnd();
  }
  return line;
}

/**
 * The examples of one page, and the fenced lines naming the sample or a fixture that are
 * neither a command nor shown output (each a failure).
 */
function extract(page: string): { examples: Example[]; stray: string[] } {
  const lines = readFileSync(join(ROOT, page), 'utf8').split('\n');
  const examples: Example[] = [];
  const stray: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\S*)/.exec(lines[i]);
    if (!open) continue;
    const indent = open[1].length;
    const info = open[2];
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end])) end++;
    const body = lines.slice(start, end).map((l) => l.slice(indent));
    i = end;
    const transcript = body.some((l) => l.startsWith('$ '));
    if (transcript) {
      for (let j = 0; j < body.length; j++) {
        if (!body[j].startsWith('$ ')) {
          // Output of a command that is not run, or text outside any command.
          if (NAMES.test(body[j]) && !examples.some((e) => e.page === page && e.shown.includes(body[j])))
            stray.push(`${page}:${start + j + 1}: ${body[j]}`);
          continue;
        }
        const at = j;
        let command = body[j].slice(2);
        while (command.endsWith('\\') && j + 1 < body.length) command = command.slice(0, -1) + ' ' + body[++j].trim();
        const shown: string[] = [];
        while (j + 1 < body.length && !body[j + 1].startsWith('$ ') && body[j + 1].trim() !== '') shown.push(body[++j]);
        if (NAMES.test(withoutComment(command))) examples.push({ page, line: start + at + 1, command, shown });
        else if (NAMES.test(command)) stray.push(`${page}:${start + at + 1}: ${command} (named in a comment only)`);
        else
          for (const s of shown)
            if (NAMES.test(s)) stray.push(`${page}:${start + at + 1}: output of a command that is not run: ${s}`);
      }
    } else {
      for (let j = 0; j < body.length; j++) {
        const l = body[j];
        if (!NAMES.test(l)) continue;
        const command = withoutComment(l);
        if (COMMAND_BLOCKS.has(info) && NAMES.test(command) && !command.trimStart().startsWith('#'))
          examples.push({ page, line: start + j + 1, command: command.trim(), shown: [] });
        else stray.push(`${page}:${start + j + 1}: \`\`\`${info} block: ${l}`);
      }
    }
  }
  return { examples, stray };
}

/** Whether `out` (printed lines) matches `shown`, with the `…` rules above; the first mismatch otherwise. */
function mismatch(shown: string[], out: string[]): string | null {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = shown
    .map((l) => (l.trim() === '…' ? '(?:[^\\n]*\\n)*?' : esc(l).replaceAll('…', '[^\\n]*?') + '\\n'))
    .join('');
  if (new RegExp(`^${pattern}$`).test(out.map((l) => l + '\n').join(''))) return null;
  for (let k = 0; k < Math.max(shown.length, out.length); k++)
    if (shown[k] !== out[k] && !(shown[k]?.includes('…') ?? false))
      return `line ${k + 1}: the page shows\n  ${shown[k] ?? '(nothing)'}\nprinted\n  ${out[k] ?? '(nothing)'}`;
  return 'the lines differ where the page elides (…)';
}

/** Runs one command as the header says; resolves to its exit code and the lines printed. */
function run(
  cmd: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  tty: boolean,
): Promise<{ code: number | null; out: string[] }> {
  return new Promise((resolve, reject) => {
    const child = tty
      ? spawn('script', ['-qec', `bash -c ${`'${cmd.replaceAll("'", "'\\''")}'`}`, '/dev/null'], { cwd, env })
      : spawn('bash', ['-c', `{ ${cmd}\n} 2>&1`], { cwd, env });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => chunks.push(b));
    child.stderr.on('data', (b: Buffer) => chunks.push(b));
    child.stdin?.end();
    child.on('error', reject);
    child.on('close', (code) => {
      // A terminal's view: CRLF is a line end, and a carriage return (a progress line being
      // redrawn, then erased) leaves what was written after it.
      const text = Buffer.concat(chunks).toString('utf8').replace(/\r\n/g, '\n');
      const lines = text
        .replace(/\n$/, '')
        .split('\n')
        .map((l) => l.slice(l.lastIndexOf('\r') + 1));
      resolve({ code, out: lines.length === 1 && lines[0] === '' ? [] : lines });
    });
  });
}

const extracted = PAGES.map(extract);
const examples = extracted.flatMap((e) => e.examples);

describe('docs: every example that names the sample or a fixture runs as written', { concurrency: 4 }, () => {
  const loki = new LokiReceiver();
  let lokiUrl = '';
  const work = tempDir('loki-audit-docs-');
  const home = join(work.dir, 'home');
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', PAGER: 'cat', HOME: home, TMPDIR: work.dir };
  for (const k of Object.keys(env)) if (k.startsWith('LOKI_AUDIT_') || k === 'TZ' || k === 'FORCE_COLOR') delete env[k];

  before(async () => {
    lokiUrl = `http://127.0.0.1:${await loki.start()}`;
    mkdirSync(home);
  });
  after(async () => {
    await loki.stop();
    work.cleanup();
  });

  it('finds the examples, and no line naming the sample or a fixture outside one', () => {
    assert.deepEqual(
      extracted.flatMap((e) => e.stray),
      [],
    );
    // The README's set-up, tour and error examples at least; a broken extractor finds none.
    assert.ok(examples.filter((e) => e.page === 'README.md').length >= 6, JSON.stringify(examples, null, 1));
  });

  it('the extractor reads the convention (both sides)', () => {
    assert.equal(withoutComment(`loki-audit x --grep '#1' # a comment`), `loki-audit x --grep '#1'`);
    assert.equal(
      mismatch(['verify /…/examples/audit', '…', 'done'], ['verify /srv/examples/audit', 'a', 'b', 'done']),
      null,
    );
    assert.notEqual(mismatch(['verify /…/examples/audit'], ['verify /srv/examples/audit', 'extra']), null);
    assert.notEqual(mismatch(['exit 1'], ['exit 2']), null);
  });

  for (const [n, e] of examples.entries()) {
    it(`${e.page}:${e.line}: ${e.command}`, { skip: e.shown.some((l) => l.includes('┌')) && !HAS_SCRIPT }, async () => {
      // Each command in its own copy of examples/, beside links to the clone's bin/ and test/.
      const cwd = join(work.dir, `run-${n}`);
      mkdirSync(cwd);
      cpSync(join(ROOT, 'examples'), join(cwd, 'examples'), { recursive: true });
      symlinkSync(join(ROOT, 'bin'), join(cwd, 'bin'));
      symlinkSync(join(ROOT, 'test'), join(cwd, 'test'));
      const cmd = e.command
        .replace(/^npm ci && /, '')
        .replace(/(^|[|;&(]\s*|\$\(\s*)((?:[A-Z_]+=\S*\s+)*)loki-audit(?=\s|$)/g, '$1$2./bin/run.js')
        .replaceAll('http://loki:3100', lokiUrl);
      const r = await run(
        cmd,
        cwd,
        env,
        e.shown.some((l) => l.includes('┌')),
      );
      const out = r.out.map((l) => l.replaceAll(lokiUrl, 'http://loki:3100'));
      assert.equal(r.code, 0, `exit ${r.code} from ${cmd}\n${out.join('\n')}`);
      if (e.shown.length) {
        const why = mismatch(e.shown, out);
        assert.equal(why, null, `${why}\n--- printed:\n${out.join('\n')}`);
      }
    });
  }
});
