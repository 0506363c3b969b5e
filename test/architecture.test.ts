/**
 * The layout's one-way arrows (docs/architecture.md), checked on every import of src/:
 * commands → cli/output → core ← sinks; formats below output; core pure.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
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
