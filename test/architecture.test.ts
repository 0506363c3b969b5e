/**
 * The layout's one-way arrows (docs/architecture.md), checked on every import of src/:
 * commands → cli/output → core ← sinks; formats below output; core pure. And thin commands
 * (issue #14): each `run()` of src/commands/ is parse → one run → one output → return.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { ROOT } from './helpers/cli.js';

const SRC = join(ROOT, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The layer of a file or an import target: commands, cli, output, formats, sinks, core, or a package name. */
function layer(path: string): string {
  const rel = relative(SRC, path).split('/');
  return rel.length > 1 ? rel[0] : 'root';
}

/** Every import specifier of a file: static, type-only and dynamic. */
function imports(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'";]*?from\s*['"]([^'"]+)['"]/g)) out.push(m[1]);
  for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]);
  return out;
}

/** What each layer may import (layers of src/, and packages by name). */
const ALLOWED: Record<string, { layers: string[]; packages?: RegExp }> = {
  // src/cli.ts, the bundle's entry: the commands, and oclif's hooks (src/cli/usage-errors.ts).
  root: { layers: ['commands', 'cli'], packages: /^@oclif\/core$/ },
  commands: { layers: ['cli', 'output', 'core', 'formats'], packages: /^@oclif\/core$/ },
  cli: {
    layers: ['cli', 'core', 'formats', 'sinks', 'output'],
    packages: /^(@oclif\/core|yaml|valibot|chalk|tinyglobby)$/,
  },
  output: { layers: ['output', 'core', 'formats'], packages: /^(chalk|cli-table3)$/ },
  formats: { layers: ['formats', 'core'], packages: /^$/ },
  sinks: { layers: ['sinks', 'core', 'formats'], packages: /^$/ },
  core: { layers: ['core'], packages: /^(split2|date-fns\/[a-zA-Z]+|@date-fns\/tz)$/ },
};

describe('architecture: dependency arrows point one way', () => {
  const files = sources(SRC);

  it('every import of src/ goes to a layer (or package) its layer may use', () => {
    const wrong: string[] = [];
    for (const f of files) {
      const from = layer(f);
      const rule = ALLOWED[from];
      assert.ok(rule, `a rule for ${from}`);
      for (const spec of imports(readFileSync(f, 'utf8'))) {
        if (spec.startsWith('node:')) continue;
        if (spec.startsWith('.')) {
          const to = layer(resolve(dirname(f), spec));
          if (!rule.layers.includes(to)) wrong.push(`${relative(ROOT, f)} imports ${spec} (${from} → ${to})`);
        } else if (!rule.packages?.test(spec)) wrong.push(`${relative(ROOT, f)} imports package ${spec}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('src/core reads no environment and writes to no terminal', () => {
    const wrong = files
      .filter((f) => layer(f) === 'core')
      .filter((f) => /process\.(env|stdout|stderr|exit)\b/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f));
    assert.deepEqual(wrong, []);
  });

  it('the rules can fail: a core module importing chalk or a sink is caught', () => {
    const fake = join(SRC, 'core', 'x.ts');
    const bad = [`import chalk from 'chalk';`, `import { x } from '../sinks/loki/client.js';`];
    const caught = bad.filter((line) =>
      imports(line).some((spec) =>
        spec.startsWith('.')
          ? !ALLOWED.core.layers.includes(layer(resolve(dirname(fake), spec)))
          : !ALLOWED.core.packages?.test(spec),
      ),
    );
    assert.equal(caught.length, 2);
  });
});

/** The most lines of code a command's `run()` body may have: parse, setup, one run, its output, return. */
const RUN_BODY_MAX_LINES = 15;

/**
 * The lines of code (lines holding a token: not blank, not only a comment) of the body of each
 * class method named `run` in a TypeScript source, by class name.
 */
function runBodyLines(text: string, file = 'command.ts'): Map<string, number> {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found = new Map<string, number>();
  const lines = new Set<number>();
  // Every line a token covers (a multi-line template literal counts each of its lines).
  const tokens = (n: ts.Node): void => {
    if (n.getChildCount(sf) > 0) return n.getChildren(sf).forEach(tokens);
    const first = sf.getLineAndCharacterOfPosition(n.getStart(sf)).line;
    const last = sf.getLineAndCharacterOfPosition(n.getEnd()).line;
    for (let l = first; l <= last; l++) lines.add(l);
  };
  const visit = (n: ts.Node): void => {
    if (ts.isClassLike(n))
      for (const m of n.members)
        if (ts.isMethodDeclaration(m) && m.name.getText(sf) === 'run' && m.body) {
          lines.clear();
          m.body.statements.forEach(tokens);
          found.set(n.name?.text ?? '(anonymous)', lines.size);
        }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

describe('architecture: thin commands', () => {
  const commands = readdirSync(join(SRC, 'commands')).filter((n) => n.endsWith('.ts'));

  it(`every command's run() is at most ${RUN_BODY_MAX_LINES} lines of code: its logic lives in cli/ or core/`, () => {
    const fat: string[] = [];
    for (const name of commands) {
      const runs = runBodyLines(readFileSync(join(SRC, 'commands', name), 'utf8'), name);
      assert.equal(runs.size, 1, `src/commands/${name}: one class with a run()`);
      for (const [cls, n] of runs)
        if (n > RUN_BODY_MAX_LINES) fat.push(`src/commands/${name} ${cls}.run(): ${n} lines`);
    }
    assert.deepEqual(fat, []);
  });

  it('the count can fail: statements are counted, comments and blank lines are not', () => {
    const statements = Array.from({ length: 20 }, (_, i) => `    const v${i} = ${i};`).join('\n');
    const comments = Array.from({ length: 30 }, (_, i) => `    // note ${i}\n\n    /* block ${i} */`).join('\n');
    const text = `class Fat { async run() {\n${statements}\n  }\n}
class Thin { async run() {\n${comments}\n    const x = \`a\nb\`;\n    return x;\n  }\n}`;
    const runs = runBodyLines(text);
    assert.equal(runs.get('Fat'), 20);
    // The template literal spans two lines; `return x;` is the third.
    assert.equal(runs.get('Thin'), 3);
  });
});
