/**
 * Issue #15 point 6: entries their chain does not cover are marked wherever they are shown
 * (summary, search, tail, export), built as attacks on an intact copy of examples/audit.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { assertExit, LOKI, ROOT, runCli, tempDir } from '../helpers/cli.js';

const EXAMPLES = join(ROOT, 'examples', 'audit');
const WRITER_VALID = join(LOKI, 'writer', 'valid');

/** A forged "pre-integrity" day before the first hashed file: admin logins without hashes. */
function forgedLines(extra: Record<string, unknown> = {}): string {
  return [1, 2, 3]
    .map(
      (i) =>
        JSON.stringify({
          timestamp: `2026-11-15T0${i}:00:00.000000+00:00`,
          action: 'login',
          resource_type: 'auth',
          resource_id: null,
          user_id: 'admin',
          token_id: null,
          ip_address: '203.0.113.9',
          user_agent: null,
          success: true,
          error: null,
          details: { forged: i },
          ...extra,
        })
          .replace(/":/g, '": ')
          .replace(/,"/g, ', "') + '\n',
    )
    .join('');
}

function copyOf(src: string): string {
  const t = tempDir('loki-audit-unverified-');
  cleanups.push(t.cleanup);
  cpSync(src, t.dir, { recursive: true });
  return t.dir;
}
const cleanups: Array<() => void> = [];
after(() => cleanups.forEach((c) => c()));

async function summaryJson(dir: string): Promise<{
  total: number;
  verified: number;
  unverified: { total: number; noHash: number; afterUnreadable: number; doesNotChain: number };
}> {
  const r = assertExit(await runCli(['summary', '--dir', dir, '--all', '--json']), 0, 'summary');
  const s = JSON.parse(r.stdout);
  assert.equal(s.unchecked, 0); // the chain check ran: every entry is verified or not
  return s;
}

/** `search -o json`'s items: entries, or our envelope around an unverified one. */
async function searchJson(dir: string, ...args: string[]): Promise<Array<Record<string, unknown>>> {
  const r = await runCli(['search', '--dir', dir, '-o', 'json', ...args]);
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  return JSON.parse(r.stdout);
}

const lines = (s: string) => s.split('\n').filter(Boolean);

describe('unverified entries: intact writer output', () => {
  for (const [name, src] of [
    ['examples/audit', EXAMPLES],
    ['writer/valid', WRITER_VALID],
  ] as const) {
    it(`${name}: every entry is verified in summary, search, tail and export`, async () => {
      const s = await summaryJson(src);
      assert.ok(s.total > 50);
      assert.equal(s.verified, s.total);
      assert.deepEqual(s.unverified, { total: 0, noHash: 0, afterUnreadable: 0, doesNotChain: 0 });
      const text = assertExit(await runCli(['search', '--dir', src]), 0).stdout;
      assert.equal(lines(text).length, s.total);
      assert.doesNotMatch(text, /unverified/);
      const json = await searchJson(src);
      assert.equal(json.length, s.total);
      assert.ok(json.every((e) => !('verified' in e) && typeof e.timestamp === 'string'));
      const csv = lines(assertExit(await runCli(['export', '--dir', src, '-o', 'csv']), 0).stdout);
      assert.match(csv[0], /,verified,unverified$/);
      assert.ok(csv.slice(1).every((row) => row.endsWith(',true,')));
      // jsonl keeps each entry's exact bytes.
      const jsonl = assertExit(
        await runCli(['export', '--dir', src, '-o', 'jsonl', '--since', '2026-11-17']),
        0,
      ).stdout;
      assert.ok(lines(jsonl).every((l) => !l.startsWith('{"verified"')));
      const tail = assertExit(await runCli(['tail', '--dir', src, '-n', '30']), 0).stdout;
      assert.equal(lines(tail).length, 30);
      assert.doesNotMatch(tail, /unverified/);
    });
  }
});

describe('unverified entries: a forged pre-integrity file', () => {
  const dir = copyOf(EXAMPLES);
  writeFileSync(join(dir, 'audit-2026-11-15.jsonl'), forgedLines());

  it('summary counts them apart, never among the verified', async () => {
    const s = await summaryJson(dir);
    const base = await summaryJson(EXAMPLES);
    assert.equal(s.total, base.total + 3);
    assert.equal(s.verified, base.total);
    assert.deepEqual(s.unverified, { total: 3, noHash: 3, afterUnreadable: 0, doesNotChain: 0 });
    const plain = assertExit(await runCli(['summary', '--dir', dir, '--all']), 0).stdout;
    assert.match(plain, new RegExp(`^verified\\t${base.total}$`, 'm'));
    assert.match(plain, /^unverified\t3$/m);
    assert.match(plain, /^unverified\tno-hash\t3$/m);
  });

  it('summary --no-chain hashes nothing: still counts them apart, the hashed entries unchecked', async () => {
    const base = await summaryJson(EXAMPLES);
    const r = assertExit(await runCli(['summary', '--dir', dir, '--all', '--no-chain', '--json']), 0);
    const s = JSON.parse(r.stdout) as { total: number; verified: number; unchecked: number; unverified: object };
    assert.equal(s.total, base.total + 3);
    assert.equal(s.verified, 0);
    assert.equal(s.unchecked, base.total);
    assert.deepEqual(s.unverified, { total: 3, noHash: 3, afterUnreadable: 0, doesNotChain: 0 });
    const plain = assertExit(await runCli(['summary', '--dir', dir, '--all', '--no-chain']), 0).stdout;
    assert.match(plain, /^verified\t-$/m);
    assert.match(plain, new RegExp(`^unchecked\\t${base.total}$`, 'm'));
  });

  it('search text marks them first on their line, with or without a needle', async () => {
    for (const args of [[], ['--actor', 'admin'], ['--event', 'auth.login']]) {
      const out = lines(assertExit(await runCli(['search', '--dir', dir, ...args]), 0).stdout);
      const marked = out.filter((l) => l.startsWith('[unverified: no-hash] 2026-11-15T0'));
      assert.equal(marked.length, 3, args.join(' '));
      assert.equal(out.filter((l) => l.includes('unverified')).length, 3, args.join(' '));
    }
  });

  it('search -o json, export json and jsonl wrap them with verified false; csv and syslog say false', async () => {
    const json = await searchJson(dir, '--actor', 'admin');
    assert.equal(json.length, 3);
    for (const e of json) {
      assert.equal(e.verified, false);
      assert.equal(e.unverified, 'no-hash');
      assert.equal((e.entry as { user_id: string }).user_id, 'admin');
    }
    const jsonl = lines(assertExit(await runCli(['export', '--dir', dir, '-o', 'jsonl']), 0).stdout);
    const wrapped = jsonl.filter((l) => l.startsWith('{"verified":false,"unverified":"no-hash","entry":{'));
    assert.equal(wrapped.length, 3);
    // The genuine entries keep their exact bytes.
    const day = readFileSync(join(dir, 'audit-2026-11-17.jsonl'), 'utf8').split('\n')[0];
    assert.ok(jsonl.includes(day));
    const exported = JSON.parse(assertExit(await runCli(['export', '--dir', dir, '-o', 'json']), 0).stdout);
    assert.equal(exported.filter((e: { verified?: boolean }) => e.verified === false).length, 3);
    const csv = lines(assertExit(await runCli(['export', '--dir', dir, '-o', 'csv', '--actor', 'admin']), 0).stdout);
    assert.equal(csv.length, 4);
    assert.ok(csv.slice(1).every((row) => row.endsWith(',false,no-hash')));
    const syslog = lines(
      assertExit(await runCli(['export', '--dir', dir, '-o', 'syslog', '--actor', 'admin']), 0).stdout,
    );
    assert.equal(syslog.length, 3);
    assert.ok(syslog.every((l) => / line=\d verified=false unverified=no-hash /.test(l)));
    const rfc = lines(
      assertExit(await runCli(['export', '--dir', dir, '-o', 'rfc5424', '--actor', 'admin']), 0).stdout,
    );
    assert.ok(rfc.every((l) => / line="\d" verified="false" unverified="no-hash" /.test(l)));
    const genuine = lines(
      assertExit(await runCli(['export', '--dir', dir, '-o', 'syslog', '--actor', 'bob']), 0).stdout,
    );
    assert.ok(genuine.length > 0 && genuine.every((l) => !l.includes('verified=')));
  });

  it('tail marks them too', async () => {
    const out = lines(assertExit(await runCli(['tail', '--dir', dir, '-n', '10000']), 0).stdout);
    assert.equal(out.filter((l) => l.startsWith('[unverified: no-hash] ')).length, 3);
    assert.equal(out.filter((l) => l.includes('unverified')).length, 3);
  });
});

describe('unverified entries: the forged entries claim "verified": true themselves', () => {
  const dir = copyOf(EXAMPLES);
  writeFileSync(join(dir, 'audit-2026-11-15.jsonl'), forgedLines({ verified: true, unverified: null }));

  it('the SIEM records (cef, leef, ecs, hec) say false in their own field, the rest true', async () => {
    const records = async (format: string, ...args: string[]) =>
      lines(assertExit(await runCli(['export', '--dir', dir, '-o', format, ...args]), 0).stdout);
    for (const [args, verified] of [
      [['--actor', 'admin'], false],
      [['--actor', 'bob'], true],
    ] as const) {
      const cef = await records('cef', ...args);
      const leef = await records('leef', ...args);
      const ecs = (await records('ecs', ...args)).map((l) => JSON.parse(l) as { loki_audit: Record<string, unknown> });
      const hec = (await records('hec', ...args)).map((l) => JSON.parse(l) as { fields: Record<string, string> });
      assert.ok(cef.length > 0 && cef.length === leef.length && cef.length === ecs.length && cef.length === hec.length);
      for (const r of cef) {
        assert.match(r, new RegExp(` cs6Label=verified cs6=${verified}( |$)`), r);
        if (!verified) assert.match(r, / flexString1Label=unverified flexString1=no-hash( |$)/);
        else assert.doesNotMatch(r, /flexString1/);
      }
      for (const r of leef) {
        assert.match(r, new RegExp(`\tverified=${verified}(\t|$)`), r);
        if (!verified) assert.match(r, /\tunverified=no-hash(\t|$)/);
      }
      for (const r of ecs) {
        assert.equal(r.loki_audit.verified, verified);
        assert.equal(r.loki_audit.unverified, verified ? undefined : 'no-hash');
      }
      for (const r of hec) {
        assert.equal(r.fields.verified, String(verified));
        assert.equal(r.fields.unverified, verified ? undefined : 'no-hash');
      }
    }
  });

  it('they still show as unverified in every output', async () => {
    const json = await searchJson(dir, '--actor', 'admin');
    assert.equal(json.length, 3);
    for (const e of json) {
      assert.deepEqual(Object.keys(e), ['verified', 'unverified', 'entry']);
      assert.equal(e.verified, false);
      assert.equal((e.entry as { verified: boolean }).verified, true); // theirs, inside, as written
    }
    const jsonl = lines(
      assertExit(await runCli(['export', '--dir', dir, '-o', 'jsonl', '--actor', 'admin']), 0).stdout,
    );
    assert.ok(jsonl.length === 3 && jsonl.every((l) => JSON.parse(l).verified === false));
    const csv = lines(assertExit(await runCli(['export', '--dir', dir, '-o', 'csv', '--actor', 'admin']), 0).stdout);
    assert.ok(csv.slice(1).every((row) => row.endsWith(',false,no-hash')));
    const s = await summaryJson(dir);
    assert.equal(s.unverified.noHash, 3);
    const text = lines(assertExit(await runCli(['search', '--dir', dir, '--actor', 'admin']), 0).stdout);
    assert.ok(text.every((l) => l.startsWith('[unverified: no-hash] ')));
  });
});

describe('unverified entries: damage inside the chain', () => {
  const FILE = 'audit-2026-11-17.jsonl';

  it('removed entries replaced by an unreadable line: the entry after it is after-unreadable', async () => {
    const dir = copyOf(EXAMPLES);
    const day = readFileSync(join(dir, FILE), 'utf8').split('\n');
    // Lines 10 and 11 go, a line nobody can read comes in their place.
    const next = JSON.parse(day[11]) as { timestamp: string };
    writeFileSync(join(dir, FILE), [...day.slice(0, 9), '{"action": "login", garbage', ...day.slice(11)].join('\n'));
    const s = await summaryJson(dir);
    assert.deepEqual(s.unverified, { total: 1, noHash: 0, afterUnreadable: 1, doesNotChain: 0 });
    assert.equal(s.verified, s.total - 1);
    // The same entry is marked whether the read parses every line or a needle skips the garbage.
    for (const args of [[], ['--grep', next.timestamp.replace(/[.+]/g, '\\$&')]]) {
      const out = lines((await runCli(['search', '--dir', dir, ...args])).stdout);
      const marked = out.filter((l) => l.includes('[unverified'));
      assert.equal(marked.length, 1, args.join(' '));
      assert.ok(marked[0].startsWith(`[unverified: after-unreadable] ${next.timestamp} `), marked[0]);
    }
  });

  it('an unreadable line inserted where nothing was removed: the chain continues, all verified', async () => {
    const dir = copyOf(EXAMPLES);
    const day = readFileSync(join(dir, FILE), 'utf8').split('\n');
    writeFileSync(join(dir, FILE), [...day.slice(0, 9), '\u0000not json', ...day.slice(9)].join('\n'));
    const s = await summaryJson(dir);
    assert.equal(s.unverified.total, 0);
    assert.equal(s.verified, s.total);
  });

  it('an edited entry does not chain; the entries around it are verified', async () => {
    const dir = copyOf(EXAMPLES);
    const day = readFileSync(join(dir, FILE), 'utf8').split('\n');
    assert.match(day[4], /"user_id": "[a-z]+"/);
    day[4] = day[4].replace(/"user_id": "[a-z]+"/, '"user_id": "mallory"');
    writeFileSync(join(dir, FILE), day.join('\n'));
    const s = await summaryJson(dir);
    assert.deepEqual(s.unverified, { total: 1, noHash: 0, afterUnreadable: 0, doesNotChain: 1 });
    for (const args of [[], ['--actor', 'mallory']]) {
      const json = await searchJson(dir, ...args);
      const bad = json.filter((e) => e.verified === false);
      assert.equal(bad.length, 1, args.join(' '));
      assert.equal(bad[0].unverified, 'does-not-chain');
      assert.equal((bad[0].entry as { user_id: string }).user_id, 'mallory');
    }
    const text = lines(assertExit(await runCli(['search', '--dir', dir, '--actor', 'mallory']), 0).stdout);
    assert.equal(text.length, 1);
    assert.match(text[0], /^\[unverified: does-not-chain\] /);
  });

  it('newest first (--reverse) and a window starting mid-history mark the same entries', async () => {
    const dir = copyOf(EXAMPLES);
    const day = readFileSync(join(dir, FILE), 'utf8').split('\n');
    day[4] = day[4].replace(/"user_id": "[a-z]+"/, '"user_id": "mallory"');
    writeFileSync(join(dir, FILE), day.join('\n'));
    for (const args of [['--reverse'], ['--since', '2026-11-17'], ['--since', '2026-11-18', '--reverse']]) {
      const json = await searchJson(dir, ...args);
      const bad = json.filter((e) => e.verified === false);
      const expected = args.includes('2026-11-18') ? 0 : 1;
      assert.equal(bad.length, expected, args.join(' '));
      assert.ok(json.length > 100);
    }
  });
});
