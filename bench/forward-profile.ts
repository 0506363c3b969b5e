/**
 * One `forward` of DIR to the loopback Loki receiver (test/helpers/loki-receiver.ts, validating,
 * storing nothing), for profiling: `npx tsx bench/forward-profile.ts DIR [NODE_FLAG…]`, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof`. Prints `entries wall_s forwarder_cpu_s receiver_cpu_s
 * peak_rss_mb`: CPU seconds are user+sys (GNU time for the forwarder, this process for the
 * receiver), so the rate can be read as the forwarder's.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LokiReceiver } from '../test/helpers/loki-receiver.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = process.argv[2];
if (!dir) throw new Error('usage: forward-profile.ts DIR [NODE_FLAG…]');
const rx = new LokiReceiver({ store: false });
await rx.start();
const state = join(tmpdir(), `forward-profile-${process.pid}.json`);
const t0 = performance.now();
const cpu0 = process.cpuUsage();
let stderr = '';
await new Promise<void>((resolve, reject) => {
  const c = spawn(
    '/usr/bin/time',
    [
      '-f',
      '@@TIME %M %U %S',
      process.execPath,
      ...process.argv.slice(3),
      join(ROOT, 'bin', 'run.js'),
      'forward',
      '--dir',
      dir,
      '--loki',
      rx.url,
      '--timestamp',
      'ingest',
      '--state',
      state,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`forward exited ${code}: ${stderr}`))));
});
const wall = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
await rx.stop();
rmSync(state, { force: true });
rmSync(state.replace(/\.json$/, '.dead-letter.jsonl'), { force: true });
const m = /@@TIME (\d+) ([\d.]+) ([\d.]+)/.exec(stderr);
process.stdout.write(
  `${rx.accepted} ${wall.toFixed(2)} ${m ? (Number(m[2]) + Number(m[3])).toFixed(2) : '?'} ` +
    `${((cpu.user + cpu.system) / 1e6).toFixed(2)} ${m ? Math.round(Number(m[1]) / 1024) : '?'}\n`,
);
