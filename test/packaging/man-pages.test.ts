/** The man pages the build writes from the commands' help (scripts/man-pages.mjs), installed by package.json "man". */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/cli.js';

const MAN = join(ROOT, 'dist', 'man');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { man: string[]; files: string[] };
const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
  commands: Record<string, { id: string; flags: Record<string, { name: string; char?: string; hidden?: boolean }> }>;
};
const commands = Object.values(manifest.commands).filter((c) => c.id !== 'help');
const roffName = (s: string): string => s.replaceAll('-', '\\-');
const groff = spawnSync('groff', ['--version']).status === 0;

describe('man pages: loki-audit(1) and one per command', () => {
  it('package.json "man" lists exactly the pages the build writes', () => {
    const written = readdirSync(MAN)
      .map((f) => `./dist/man/${f}`)
      .sort();
    assert.deepEqual([...pkg.man].sort(), written);
    assert.deepEqual(
      written,
      ['./dist/man/loki-audit.1', ...commands.map((c) => `./dist/man/loki-audit-${c.id}.1`)].sort(),
    );
  });

  it("each command's page names it and every visible flag; loki-audit(1) points to every page", () => {
    const main = readFileSync(join(MAN, 'loki-audit.1'), 'utf8');
    assert.match(main, /^\.TH LOKI\\-AUDIT 1 /m);
    for (const c of commands) {
      const page = readFileSync(join(MAN, `loki-audit-${c.id}.1`), 'utf8');
      assert.match(page, new RegExp(`^\\.TH LOKI\\\\-AUDIT\\\\-${roffName(c.id).toUpperCase()} 1 `, 'm'));
      assert.match(page, /^\.SH "EXIT STATUS"$/m);
      for (const f of Object.values(c.flags).filter((f) => !f.hidden))
        assert.ok(page.includes(`\\fB\\-\\-${roffName(f.name)}\\fR`), `${c.id}: --${f.name}`);
      assert.ok(main.includes(`\\fBloki\\-audit\\-${roffName(c.id)}\\fR(1)`), `loki-audit(1) → ${c.id}`);
    }
  });

  it('every page renders with groff -man -ww without a warning', { skip: !groff && 'groff is not installed' }, () => {
    for (const f of readdirSync(MAN)) {
      const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', join(MAN, f)], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${f}: ${r.stderr}`);
      assert.equal(r.stderr, '', f);
    }
    // -P-cbou: plain text, no bold or underline by overstriking.
    const r = spawnSync('groff', ['-man', '-Tutf8', '-P-cbou', join(MAN, 'loki-audit-verify.1')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const text = r.stdout;
    assert.match(text, /NAME\n\s+loki-audit-verify +- +Verify the hash chain/);
    assert.match(text, /^ {7}-q, --quiet$/m);
  });

  it('the docs that output and help point to (see docs/verify.md) ship in the package', () => {
    assert.ok(pkg.files.includes('docs'));
    const refs = new Set<string>();
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true }))
        if (e.isDirectory()) walk(join(dir, e.name));
        else
          for (const line of readFileSync(join(dir, e.name), 'utf8').split('\n'))
            if (!/^\s*(\/\/|\/?\*)/.test(line)) for (const m of line.matchAll(/docs\/[\w/-]+\.md/g)) refs.add(m[0]);
    };
    walk(join(ROOT, 'src'));
    assert.ok(refs.has('docs/verify.md'));
    for (const ref of refs) assert.ok(existsSync(join(ROOT, ref)), ref);
  });
});
