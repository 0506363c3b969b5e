/** `-o/--output FORMAT` is the format in every command that has formats; `--output-file` writes a file. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LOKI, ROOT, runCli } from '../helpers/cli.js';

const WRITER = join(LOKI, 'extended/valid/writer');
const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
  commands: Record<string, { flags: Record<string, { char?: string; type: string; options?: string[] }> }>;
};

describe('-o/--output FORMAT', () => {
  it('search, tail and export: -o/--output is an option of formats, never a file', () => {
    const want: Record<string, string[]> = {
      search: ['text', 'json', 'jsonl', 'raw'],
      tail: ['text', 'jsonl', 'raw', 'json'],
      export: ['json', 'jsonl', 'csv', 'syslog', 'rfc5424', 'rfc3164'],
    };
    for (const [id, formats] of Object.entries(want)) {
      const f = manifest.commands[id].flags.output;
      assert.equal(f.char, 'o', id);
      assert.equal(f.type, 'option', id);
      assert.deepEqual(f.options, formats, id);
    }
    assert.equal(manifest.commands.export.flags['output-file'].type, 'option');
  });

  it('search --output FILE: refused with the redirection as hint', async () => {
    const r = await runCli(['search', '--dir', WRITER, '--output', 'found.txt']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^loki-audit: hint: --output is the format; to write a file: > found.txt$/m);
  });
});
