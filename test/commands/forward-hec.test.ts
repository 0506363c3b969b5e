/**
 * forward --splunk-hec against the HEC receiver (test/helpers/hec-receiver.ts, Splunk's
 * documented HEC behaviour), running the built CLI: every entry indexed once with the chain in
 * its fields, indexer acknowledgement (positions saved only for acknowledged batches), retries
 * on 503, an event refused with code 6 dead-lettered alone, a refused token (exit 15) and index
 * (exit 18) stopping with nothing dead-lettered, URLs, the config file, --dry-run, and kill -9
 * while a batch waits for its acknowledgement.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { generateSample } from '../../scripts/sample.js';
import { sealEntry } from '../../src/core/write/seal.js';
import { GENESIS_HASH } from '../../src/core/chain/rule.js';
import { assertExit, BIN, ROOT, runCli, tempDir } from '../helpers/cli.js';
import { HecReceiver } from '../helpers/hec-receiver.js';
import { makePki } from '../helpers/pki.js';

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

/** All lines of a directory's chain files, in chain order. */
function allLines(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => /^audit-.*\.jsonl$/.test(n))
    .sort((a, b) => (a.replace('.jsonl', '~') < b.replace('.jsonl', '~') ? -1 : 1))
    .flatMap((n) => readFileSync(join(dir, n), 'utf8').split('\n').filter(Boolean));
}

describe('forward --splunk-hec', () => {
  let t: { dir: string; cleanup: () => void };
  let audit: string;
  let state: string;
  let rx: HecReceiver | null;
  beforeEach(() => {
    t = tempDir();
    audit = join(t.dir, 'audit');
    state = join(t.dir, 'state.json');
    generateSample(audit, { seed: 19, startDate: daysAgo(3), perDay: [120, 120], maxFileBytes: 24 * 1024 });
    rx = null;
  });
  afterEach(async () => {
    await rx?.stop();
    t.cleanup();
  });
  async function receiver(o: ConstructorParameters<typeof HecReceiver>[0] = {}): Promise<HecReceiver> {
    rx = new HecReceiver(o);
    await rx.start();
    return rx;
  }
  const env = (token = rx!.token) => ({ env: { LOKI_SPLUNK_HEC_TOKEN: token } });
  const fwd = (a: string[], o: { env?: NodeJS.ProcessEnv } = env()) =>
    runCli(['forward', '--dir', audit, '--state', state, '--batch-wait', '100', ...a], o);
  const positions = () =>
    existsSync(state) ? (JSON.parse(readFileSync(state, 'utf8')) as { targets: Record<string, unknown> }).targets : {};
  const deadLetter = () => join(t.dir, 'state.dead-letter.jsonl');

  it('with acks: every entry indexed once, chain in fields, position saved; a second run sends nothing', async () => {
    await receiver({ acks: true, ackAfterPolls: 2 });
    const r = assertExit(await fwd(['--splunk-hec', rx!.url, '--splunk-hec-ack', '--splunk-hec-index', 'audit']), 0);
    const lines = allLines(audit);
    assert.match(r.stdout, /^splunk-hec:http:\/\/127\.0\.0\.1:\d+#audit: 240 delivered\n$/);
    assert.deepEqual(
      rx!.indexed.map((e) => e.eventText),
      lines,
    );
    assert.equal(rx!.duplicates, 0);
    assert.equal(rx!.pendingAcks, 0, 'every ackId was polled until acknowledged');
    const first = JSON.parse(lines[0]);
    assert.equal(rx!.indexed[0].fields.chain_hash, first._integrity_hash);
    assert.equal(rx!.indexed[1].fields.prev_hash, first._integrity_hash);
    assert.equal(rx!.indexed[0].index, 'audit');
    assert.equal(rx!.indexed[0].sourcetype, 'loki:audit');
    // time: epoch seconds with the microseconds as written.
    const frac = /\.(\d+)\+/.exec(first.timestamp)![1];
    assert.equal(rx!.indexed[0].timeText, `${Math.floor(Date.parse(first.timestamp) / 1000)}.${frac}`);
    assert.ok(Object.keys(positions()).some((k) => k.startsWith('splunk-hec:')));
    const requests = rx!.requests;
    assertExit(await fwd(['--splunk-hec', rx!.url, '--splunk-hec-ack', '--splunk-hec-index', 'audit']), 0);
    assert.equal(rx!.requests, requests);
  });

  it(
    'without acks: a 200 counts (reported as sent); LOKI_SPLUNK_HEC_URL, ' +
      '_INDEX and _SOURCETYPE enable and shape the target',
    async () => {
      await receiver({ allowedIndexes: ['audit'] });
      const r = assertExit(
        await fwd([], {
          env: {
            LOKI_SPLUNK_HEC_URL: `${rx!.url}/services/collector/event`,
            LOKI_SPLUNK_HEC_TOKEN: rx!.token,
            LOKI_SPLUNK_HEC_SOURCETYPE: 'audit:chain',
            LOKI_SPLUNK_HEC_INDEX: 'audit',
          },
        }),
        0,
      );
      assert.match(r.stdout, /: 240 sent \(HEC answered 200; --splunk-hec-ack waits for indexer acknowledgement\)/);
      assert.equal(rx!.indexed.length, 240);
      assert.equal(rx!.ackPolls, 0);
      assert.ok(rx!.indexed.every((e) => e.sourcetype === 'audit:chain' && e.index === 'audit'));
    },
  );

  it('503 "Server is busy" is retried with backoff until HEC takes the batch', async () => {
    await receiver({ acks: true });
    rx!.failNext(3);
    const r = assertExit(await fwd(['--splunk-hec', rx!.url, '--splunk-hec-ack']), 0);
    assert.match(r.stderr, /HTTP 503: Server is busy \(HEC code 9\); retrying \(attempt 1, next in \d+ ms\)/);
    assert.equal(rx!.indexed.length, 240);
    assert.equal(rx!.duplicates, 0);
  });

  it(
    'an event refused with code 6: dead-lettered alone ' + 'with HEC text (exit 11), every other entry indexed',
    async () => {
      const lines = allLines(audit);
      const bad = lines[57];
      await receiver({ acks: true, refuseEvent: (e) => e.eventText === bad });
      const r = assertExit(await fwd(['--splunk-hec', rx!.url, '--splunk-hec-ack', '--batch-entries', '20']), 11);
      assert.match(r.stderr, /1 entry refused \(HTTP 400: Invalid data format \(HEC code 6\)/);
      const dead = readFileSync(deadLetter(), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.equal(dead.length, 1);
      assert.match(JSON.stringify(dead[0]), /Invalid data format/);
      assert.ok(JSON.stringify(dead[0]).includes(JSON.parse(bad)._integrity_hash));
      const counts = rx!.counts();
      assert.equal(counts.get(bad), undefined);
      for (const l of lines) if (l !== bad) assert.ok(counts.get(l), `indexed: ${l.slice(0, 80)}`);
      // HEC indexes the events before a bad one, and the batch is split to find it: only events of
      // the refused batch (20 entries around it) repeat, each at most once per halving.
      const repeated = lines.flatMap((l, i) => ((counts.get(l) ?? 0) > 1 ? [i] : []));
      assert.ok(
        repeated.length > 0 && repeated.every((i) => Math.abs(i - 57) < 20),
        `repeats near the refused entry: ${repeated}`,
      );
      assert.ok(
        repeated.every((i) => counts.get(lines[i])! <= 1 + Math.ceil(Math.log2(20))),
        'at most once per split',
      );
    },
  );

  it('a wrong token: exit 15, nothing dead-lettered, no position saved', async () => {
    await receiver({ acks: true });
    const r = assertExit(await fwd(['--splunk-hec', rx!.url], env('not-the-token')), 15);
    assert.match(r.stderr, /error: splunk-hec:http:\/\/127\.0\.0\.1:\d+: HTTP 403: Invalid token \(HEC code 4\)/);
    assert.match(r.stderr, /hint: HEC refused the token: check LOKI_SPLUNK_HEC_TOKEN or --splunk-hec-token-file/);
    assert.ok(!r.stderr.includes('not-the-token'), 'the token is never printed');
    assert.equal(existsSync(deadLetter()), false);
    assert.deepEqual(positions(), {});
    assert.equal(rx!.indexed.length, 0);
    // Fixed in its file, the same state delivers everything.
    writeFileSync(join(t.dir, 'token'), rx!.token + '\n');
    assertExit(await fwd(['--splunk-hec', rx!.url, '--splunk-hec-token-file', join(t.dir, 'token')], { env: {} }), 0);
    assert.equal(rx!.indexed.length, 240);
  });

  it('an index the token may not write to: exit 18, the hint names the index setting, position kept', async () => {
    await receiver({ allowedIndexes: ['audit'] });
    const r = assertExit(await fwd(['--splunk-hec', rx!.url, '--splunk-hec-index', 'main']), 18);
    assert.match(r.stderr, /HTTP 400: Incorrect index \(HEC code 7\)/);
    assert.match(r.stderr, /hint: the token may not write to that index: check --splunk-hec-index/);
    assert.equal(existsSync(deadLetter()), false);
    assert.deepEqual(positions(), {});
  });

  it('only http and https URLs, no credentials in them, a token required: one-line usage errors (exit 2)', async () => {
    for (const [url, message] of [
      ['tcp://127.0.0.1:8088', /^loki-audit: error: --splunk-hec: Splunk HEC URL must be http: or https:, got tcp:$/m],
      ['https://u:p@127.0.0.1:8088', /credentials in a URL would show in process lists/],
      ['not a url', /invalid Splunk HEC URL/],
    ] as const) {
      const r = assertExit(await fwd(['--splunk-hec', url], { env: { LOKI_SPLUNK_HEC_TOKEN: 'x' } }), 2, url);
      assert.match(r.stderr, message);
      assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');
    }
    const r = assertExit(await fwd(['--splunk-hec', 'http://127.0.0.1:9'], { env: {} }), 2);
    assert.match(r.stderr, /no HEC token: set LOKI_SPLUNK_HEC_TOKEN or give --splunk-hec-token-file FILE/);
  });

  it(
    'a config-file target (splunk_hec, token_file, index, ack) ' +
      'delivers; --dry-run sends nothing and shows the first event',
    async () => {
      await receiver({ acks: true, allowedIndexes: ['audit'] });
      writeFileSync(join(t.dir, 'token'), rx!.token);
      const config = join(t.dir, 'config.yaml');
      writeFileSync(
        config,
        `forward:\n  targets:\n    - splunk_hec: ${rx!.url}\n      token_file: ` +
          `${join(t.dir, 'token')}\n      index: audit\n      ack: true\n`,
      );
      const dry = assertExit(await fwd(['--config', config, '--dry-run'], { env: {} }), 0);
      assert.match(dry.stdout, /^splunk-hec:http:\/\/127\.0\.0\.1:\d+#audit: 240 entries would be sent$/m);
      assert.match(dry.stdout, /^ {2}stream index=audit sourcetype=loki:audit: 240$/m);
      assert.match(dry.stdout, /^ {2}first message: \{"time":\d+\.\d+,"host":/m);
      assert.equal(rx!.requests, 0);
      const r = assertExit(await fwd(['--config', config], { env: {} }), 0);
      assert.match(r.stdout, /: 240 delivered/);
      assert.equal(rx!.indexed.length, 240);
    },
  );

  it('an entry with a big integer reaches HEC with its digits as written', async () => {
    await receiver();
    const dir = join(t.dir, 'big');
    mkdirSync(dir);
    const s = sealEntry(
      {
        timestamp: new Date().toISOString().replace('Z', '+00:00'),
        action: 'create',
        resource_type: 'task',
        resource_id: null,
        user_id: 'u',
        token_id: null,
        ip_address: null,
        user_agent: null,
        success: true,
        error: null,
        details: { n: 18446744073709551617n },
      },
      GENESIS_HASH,
    );
    writeFileSync(join(dir, `audit-${daysAgo(0)}.jsonl`), s.line);
    assertExit(
      await runCli(['forward', '--dir', dir, '--state', join(t.dir, 'big.json'), '--splunk-hec', rx!.url], env()),
      0,
    );
    assert.equal(rx!.indexed.length, 1);
    assert.match(rx!.indexed[0].eventText, /"n": 18446744073709551617\}/);
    assert.equal(rx!.indexed[0].eventText, s.line.trimEnd());
  });

  it(
    'https: a CA it does not know stops at once (exit ' + '20, the hint names --ca); with --ca FILE it delivers',
    async () => {
      const pki = makePki(join(t.dir, 'pki'));
      await receiver({
        tls: { cert: readFileSync(join(pki, 'server.pem')), key: readFileSync(join(pki, 'server.key')) },
      });
      const r = assertExit(await fwd(['--splunk-hec', rx!.url]), 20);
      assert.match(r.stderr, /TLS: 127\.0\.0\.1:\d+ is not trusted: .* \([A-Z_]+\); give its CA with --ca FILE/);
      assert.match(r.stderr, /^loki-audit: hint: .*--ca FILE \(PEM\)/m);
      assert.equal(rx!.requests, 0);
      assertExit(await fwd(['--splunk-hec', rx!.url, '--ca', join(pki, 'ca.pem')]), 0);
      assert.equal(rx!.indexed.length, 240);
    },
  );

  it(
    'killed (SIGKILL) while a batch waits for its acknowledgement: ' +
      'the restart loses nothing, repeats only that batch',
    async () => {
      await receiver({ acks: true });
      const child = spawn(
        process.execPath,
        [
          BIN,
          'forward',
          '--dir',
          audit,
          '--state',
          state,
          '--splunk-hec',
          rx!.url,
          '--splunk-hec-ack',
          '--batch-entries',
          '20',
        ],
        { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LOKI_SPLUNK_HEC_TOKEN: rx!.token } },
      );
      let stderr = '';
      child.stderr.on('data', (b) => (stderr += b));
      const closed = new Promise<NodeJS.Signals | null>((r) => child.on('close', (_code, signal) => r(signal)));
      // Three batches acknowledged, then acks held: the fourth is indexed but never acknowledged.
      await rx!.waitFor(() => rx!.requests >= 3, {
        describe: () => `3 batches before holding acks; stderr: ${stderr}`,
      });
      rx!.holdAcks();
      await rx!.waitFor(() => rx!.unacknowledgedEvents > 0 && rx!.ackPolls > 3 + 1, {
        describe: () => `a batch waiting for its ack; stderr: ${stderr}`,
      });
      const inFlight = rx!.unacknowledgedEvents;
      child.kill('SIGKILL');
      assert.equal(await closed, 'SIGKILL', `killed while running, not exited before: ${stderr}`);
      const before = rx!.indexed.length;
      assert.ok(before > 0 && before < 240, `some indexed before the kill (${before})`);
      assert.ok(inFlight > 0 && inFlight <= 20, `one batch in flight (${inFlight})`);
      rx!.releaseAcks();
      const r = assertExit(await fwd(['--splunk-hec', rx!.url, '--splunk-hec-ack', '--batch-entries', '20']), 0);
      assert.match(r.stdout, /: \d+ delivered/);
      const counts = rx!.counts();
      for (const l of allLines(audit)) assert.ok(counts.get(l), `indexed after the restart: ${l.slice(0, 80)}`);
      assert.equal(rx!.duplicates, inFlight, 'only the batch that was waiting for its ack is indexed twice');
    },
  );
});
