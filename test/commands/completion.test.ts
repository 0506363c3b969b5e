/** `loki-audit completion bash|zsh`: scripts made from the commands' own definitions, loaded by real shells. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertExit, ROOT, runCli, tempDir } from '../helpers/cli.js';

interface ManifestCommand {
  flags: Record<string, { name: string; char?: string; hidden?: boolean }>;
}
const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
  commands: Record<string, ManifestCommand>;
};
const ids = Object.keys(manifest.commands).sort();

/** The lines of a script between `    ID)` and the next command's case. */
function caseOf(script: string, id: string): string {
  const start = script.indexOf(`\n    ${id})\n`);
  assert.ok(start >= 0, `a case for ${id}`);
  const next = script.slice(start + 1).search(/\n {4}[a-z*]+\)\n/);
  return script.slice(start, next < 0 ? undefined : start + 1 + next);
}

const has = (shell: string): boolean => spawnSync(shell, ['-c', 'true']).status === 0;

describe('completion bash', () => {
  const t = tempDir();
  let script = '';
  before(async () => {
    script = assertExit(await runCli(['completion', 'bash']), 0).stdout;
    writeFileSync(join(t.dir, 'loki-audit.bash'), script);
  });
  after(() => t.cleanup());

  it('names every command and, in its case, every flag of it', () => {
    assert.match(script, new RegExp(`compgen -W "${ids.join(' ')}"`));
    for (const id of ids) {
      const block = caseOf(script, id);
      for (const f of Object.values(manifest.commands[id].flags).filter((f) => !f.hidden)) {
        assert.match(block, new RegExp(`flags="[^"]*--${f.name}( |")`), `${id} --${f.name}`);
        if (f.char) assert.match(block, new RegExp(`flags="[^"]*-${f.char}( |")`), `${id} -${f.char}`);
      }
    }
  });

  it('passes bash -n', () => {
    const r = spawnSync('bash', ['-n', join(t.dir, 'loki-audit.bash')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('completes commands, flags, option values, directories and help topics in bash', () => {
    const complete = (...words: string[]): string => {
      const r = spawnSync(
        'bash',
        [
          '-c',
          `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( ` +
            `$# - 1 )); _loki_audit; printf '%s\\n' "\${COMPREPLY[@]}"`,
          'bash',
          join(t.dir, 'loki-audit.bash'),
          ...words,
        ],
        { encoding: 'utf8', cwd: ROOT },
      );
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim().split('\n').join(' ');
    };
    assert.equal(complete('loki-audit', 'ver'), 'verify');
    assert.equal(complete('loki-audit', 'verify', '--st'), '--start-hash --state --stdin --stream --strict');
    assert.equal(complete('loki-audit', 'search', '--level', ''), complete('loki-audit', 'search', '-l', ''));
    assert.equal(complete('loki-audit', 'export', '--output', 'c'), 'csv cef');
    assert.equal(complete('loki-audit', 'search', '--no-p'), '--no-pager');
    assert.equal(complete('loki-audit', 'verify', '--color', ''), 'auto always never');
    assert.equal(complete('loki-audit', 'summary', 'exam'), 'examples');
    assert.equal(complete('loki-audit', 'summary', '--dir', 'exam'), 'examples');
    assert.equal(complete('loki-audit', 'help', 's'), 'search summary');
    assert.equal(complete('loki-audit', 'completion', ''), 'bash zsh');
    assert.equal(complete('loki-audit', 'search', '--since', ''), '');
  });
});

describe('completion zsh', () => {
  let script = '';
  before(async () => {
    script = assertExit(await runCli(['completion', 'zsh']), 0).stdout;
  });

  it('names every command and, in its case, every flag of it', () => {
    assert.match(script, /^#compdef loki-audit\n/);
    for (const id of ids) {
      assert.match(script, new RegExp(`^ {4}'${id}:`, 'm'));
      const block = caseOf(script, id);
      for (const f of Object.values(manifest.commands[id].flags).filter((f) => !f.hidden))
        assert.ok(block.includes(`--${f.name}[`) || block.includes(`--${f.name}}'[`), `${id} --${f.name}`);
    }
  });

  it(
    'parses (zsh -n) and registers itself with compinit when sourced',
    { skip: !has('zsh') && 'zsh is not installed' },
    () => {
      const t = tempDir();
      try {
        const file = join(t.dir, '_loki-audit');
        writeFileSync(file, script);
        const n = spawnSync('zsh', ['-n', file], { encoding: 'utf8' });
        assert.equal(n.status, 0, n.stderr);
        const r = spawnSync(
          'zsh',
          [
            '-f',
            '-c',
            `autoload -U compinit; compinit -u -d ${t.dir}/zcompdump; ` +
              `source ${file}; print -r -- \${_comps[loki-audit]}`,
          ],
          {
            encoding: 'utf8',
          },
        );
        assert.equal(r.stdout, '_loki-audit\n', r.stderr);
      } finally {
        t.cleanup();
      }
    },
  );
});

it('completion of a shell it does not know, or of none: one error line, exit 2', async () => {
  const r = assertExit(await runCli(['completion', 'fish']), 2);
  assert.match(r.stderr, /^loki-audit: error: Expected fish to be one of: bash, zsh\n/);
  const none = assertExit(await runCli(['completion']), 2);
  assert.equal(
    none.stderr,
    'loki-audit: error: Missing 1 required arg: shell (bash|zsh) The ' +
      'shell.\nloki-audit: hint: see: loki-audit completion --help\n',
  );
});
