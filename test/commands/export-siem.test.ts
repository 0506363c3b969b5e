import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { canonicalizeEntry } from '../../src/core/pyjson/canonical.js';
import { chainHash, GENESIS_HASH, HASH_KEYS } from '../../src/core/chain/rule.js';
import { assertExit, LOKI, runCli, tempDir } from '../helpers/cli.js';
import { parseCef, parseLeef } from '../helpers/siem.js';

const WRITER = join(LOKI, 'extended/valid/writer');
const DAYS = ['01', '02', '03'].map((d) => `audit-2026-02-${d}.jsonl`);

/** Every line of the fixture in chain order, with its stored hash and the stored hash before it. */
function chainLines(dir: string, files: string[]) {
  const out = new Map<string, { text: string; hash: string | null; prev: string }>();
  let prev = GENESIS_HASH;
  for (const f of files)
    readFileSync(join(dir, f), 'utf8')
      .split('\n')
      .forEach((text, i) => {
        if (!text) return;
        let hash: string | null = null;
        try {
          const h = canonicalizeEntry(text, { hashKeys: HASH_KEYS }).hashValue;
          hash = typeof h === 'string' && h ? h : null;
        } catch {
          // not an entry
        }
        out.set(`${f}:${i + 1}`, { text, hash, prev });
        if (hash) prev = hash;
      });
  return out;
}

/** The chain fields of a record of each format. */
function chainOf(format: string, record: string): { hash?: string; prev?: string; file: string; line: string } {
  if (format === 'cef') {
    const x = parseCef(record).ext;
    assert.equal(x.get('cs4Label'), 'chainHash');
    assert.equal(x.get('cs5Label'), 'prevHash');
    assert.equal(x.get('cn1Label'), 'line');
    return { hash: x.get('cs4'), prev: x.get('cs5'), file: x.get('fname')!, line: x.get('cn1')! };
  }
  if (format === 'leef') {
    const a = parseLeef(record).attrs;
    return { hash: a.get('chainHash'), prev: a.get('prevHash'), file: a.get('fname')!, line: a.get('line')! };
  }
  const o = JSON.parse(record);
  if (format === 'ecs')
    return {
      hash: o.event.hash,
      prev: o.loki_audit.prev_hash,
      file: o.loki_audit.file,
      line: String(o.loki_audit.line),
    };
  return { hash: o.fields.chain_hash, prev: o.fields.prev_hash, file: o.fields.file, line: o.fields.line };
}

describe('export -o cef|leef|ecs|hec: records that keep the chain', () => {
  const lines = chainLines(WRITER, DAYS);

  for (const format of ['cef', 'leef', 'ecs', 'hec']) {
    it(
      `${format}: each record's hash is sha256(its prevHash ` +
        `+ the entry's canonical text), chained record to record`,
      async () => {
        const r = await runCli(['export', '--dir', WRITER, '-o', format]);
        assert.equal(r.code, 0, r.stderr);
        const records = r.stdout.split('\n').filter(Boolean);
        assert.equal(records.length, 150);
        let before = GENESIS_HASH;
        for (const rec of records) {
          const c = chainOf(format, rec);
          const src = lines.get(`${c.file}:${c.line}`)!;
          assert.ok(src, `${c.file}:${c.line}`);
          assert.equal(c.prev, before);
          assert.equal(c.hash, src.hash);
          assert.equal(chainHash(c.prev!, canonicalizeEntry(src.text, { hashKeys: HASH_KEYS }).canonical), c.hash);
          before = c.hash!;
        }
      },
    );
  }

  it(
    'a window starting mid-history and a filter that skips ' + 'entries: the predecessor is the chain predecessor',
    async () => {
      for (const format of ['cef', 'leef', 'ecs', 'hec']) {
        const r = await runCli(['export', '--dir', WRITER, '-o', format, '--since', '2026-02-02', '--action', 'login']);
        assert.equal(r.code, 0, r.stderr);
        const records = r.stdout.split('\n').filter(Boolean);
        assert.ok(records.length >= 3, `${format}: ${records.length} records`);
        let skipped = 0;
        for (const rec of records) {
          const c = chainOf(format, rec);
          const src = lines.get(`${c.file}:${c.line}`)!;
          assert.match(src.text, /"action": "login"/);
          assert.equal(c.prev, src.prev, `${format} ${c.file}:${c.line}`);
          if (c.line === '1') assert.notEqual(c.prev, GENESIS_HASH);
          skipped += c.prev === records.map((x) => chainOf(format, x).hash).find((h) => h === c.prev) ? 0 : 1;
        }
        assert.ok(skipped > 0, 'some predecessors are entries the filter skipped');
      }
    },
  );

  it(
    'a line that is no entry (invalid UTF-8, malformed) gives ' +
      'no record; the next entry chains from the last stored hash',
    async () => {
      const t = tempDir();
      try {
        const src = readFileSync(join(WRITER, DAYS[0]));
        const text = src.toString('utf8').split('\n');
        const out = Buffer.concat([
          Buffer.from(text.slice(0, 2).join('\n') + '\n'),
          Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]),
          Buffer.from('{"broken": \n'),
          Buffer.from(text.slice(2).join('\n')),
        ]);
        writeFileSync(join(t.dir, DAYS[0]), out);
        const r = assertExit(await runCli(['export', '--dir', t.dir, '-o', 'cef']), 0);
        const records = r.stdout.split('\n').filter(Boolean).map(parseCef);
        assert.equal(records.length, text.filter(Boolean).length, r.stderr);
        assert.match(r.stderr, /invalid UTF-8/);
        assert.equal(records[2].ext.get('cn1'), '5');
        assert.equal(records[2].ext.get('cs5'), records[1].ext.get('cs4'));
      } finally {
        t.cleanup();
      }
    },
  );

  it(
    'numbers exact (18446744073709551617 in a detail) and ' + 'LOKI_CEF_VENDOR/PRODUCT, LOKI_SPLUNK_HEC_* honoured',
    async () => {
      const t = tempDir();
      try {
        writeFileSync(
          join(t.dir, 'audit-2026-02-01.jsonl'),
          '{"timestamp": "2026-02-01T00:00:00.000001+00:00", "action": "login", "success": ' +
            'true, "details": {"n": 18446744073709551617, "z": -0.0}, "_integrity_hash": "' +
            'a'.repeat(64) +
            '"}\n',
        );
        const env = {
          LOKI_CEF_VENDOR: 'Acme',
          LOKI_CEF_PRODUCT: 'Audit|X',
          LOKI_SPLUNK_HEC_INDEX: 'sec',
          LOKI_SPLUNK_HEC_SOURCETYPE: 'st',
        };
        const cef = assertExit(await runCli(['export', '--dir', t.dir, '-o', 'cef'], { env }), 0);
        const p = parseCef(cef.stdout.trim());
        assert.deepEqual(p.header.slice(0, 2), ['Acme', 'Audit|X']);
        assert.equal(p.ext.get('loki.n'), '18446744073709551617');
        const leef = assertExit(await runCli(['export', '--dir', t.dir, '-o', 'leef'], { env }), 0);
        assert.equal(parseLeef(leef.stdout.trim()).attrs.get('loki.n'), '18446744073709551617');
        const ecs = assertExit(await runCli(['export', '--dir', t.dir, '-o', 'ecs'], { env }), 0);
        assert.equal(JSON.parse(ecs.stdout).labels.details_n, '18446744073709551617');
        const hec = assertExit(await runCli(['export', '--dir', t.dir, '-o', 'hec', '--hostname', 'h1'], { env }), 0);
        assert.match(
          hec.stdout,
          /^\{"time":1769904000\.000001,"host":"h1","source":"loki-mode","sourcetype":"st","index":"sec",/,
        );
        assert.match(hec.stdout, /"n": 18446744073709551617, "z": -0\.0/);
        const flags = assertExit(
          await runCli(['export', '--dir', t.dir, '-o', 'hec', '--hec-index', 'i2', '--hec-sourcetype', 's2'], { env }),
          0,
        );
        assert.match(flags.stdout, /"sourcetype":"s2","index":"i2"/);
      } finally {
        t.cleanup();
      }
    },
  );
});
