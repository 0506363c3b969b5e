/** `-o/--output FORMAT` is the format in every command that has formats; `--output-file` writes a file. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertExit, LOKI, ROOT, runCli } from '../helpers/cli.js';

const WRITER = join(LOKI, 'extended/valid/writer');
const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
  commands: Record<string, { flags: Record<string, { char?: string; type: string; options?: string[] }> }>;
};

describe('-o/--output FORMAT', () => {
  it('search, tail, export, summary and verify: -o/--output is an option of formats, never a file', () => {
    const want: Record<string, string[]> = {
      search: ['text', 'json', 'jsonl', 'raw'],
      tail: ['text', 'jsonl', 'raw', 'json'],
      export: ['json', 'jsonl', 'csv', 'syslog', 'rfc5424', 'rfc3164', 'cef', 'leef', 'ecs', 'hec'],
      summary: ['text', 'json'],
      verify: ['text', 'json'],
    };
    for (const [id, formats] of Object.entries(want)) {
      const f = manifest.commands[id].flags.output;
      assert.equal(f.char, 'o', id);
      assert.equal(f.type, 'option', id);
      assert.deepEqual(f.options, formats, id);
    }
    assert.equal(manifest.commands.export.flags['output-file'].type, 'option');
  });

  for (const id of ['summary', 'verify']) {
    it(`${id} -o json prints what --json prints; -o text the text`, async () => {
      const args = id === 'summary' ? [id, '--dir', WRITER, '--all'] : [id, '--dir', WRITER];
      const json = assertExit(await runCli([...args, '--json']), 0).stdout;
      JSON.parse(json);
      for (const o of [['-o', 'json'], ['--output', 'json'], ['--output=json'], ['-ojson']])
        assert.equal(assertExit(await runCli([...args, ...o]), 0, o.join(' ')).stdout, json, o.join(' '));
      const text = assertExit(await runCli(args), 0).stdout;
      assert.equal(assertExit(await runCli([...args, '-o', 'text']), 0).stdout, text);
      assert.throws(() => JSON.parse(text));
    });

    it(`${id} -o json: an error is the JSON error object too, as with --json`, async () => {
      const args = [id, '--dir', join(ROOT, 'no-such-dir')];
      const json = assertExit(await runCli([...args, '--json']), 3, '--json');
      const o = assertExit(await runCli([...args, '-o', 'json']), 3, '-o json');
      assert.equal(o.stdout, json.stdout);
      assert.ok(JSON.parse(o.stdout).error);
    });
  }

  it('search --output FILE: refused with the redirection as hint', async () => {
    const r = await runCli(['search', '--dir', WRITER, '--output', 'found.txt']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^loki-audit: hint: --output is the format; to write a file: > found.txt$/m);
  });
});
