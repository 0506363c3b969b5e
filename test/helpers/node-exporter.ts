/**
 * A real node_exporter (Debian's prometheus-node-exporter, installed by .ci/run) on a loopback
 * port, with only its textfile collector, reading a test's directory: what Prometheus would
 * scrape from the files loki-audit writes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { waitFor } from './wait.js';

export const NODE_EXPORTER = ['prometheus-node-exporter', 'node_exporter'].find(
  (bin) => spawnSync(bin, ['--version']).status === 0,
);

/** A port free on 127.0.0.1 right now (the kernel's pick). */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  await once(server, 'close');
  return port;
}

/** One sample of a scrape: name, labels, value. */
export interface ScrapedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * The samples of a text exposition (as node_exporter serves it: label values escaped with `\\`,
 * `\"`, `\n`), in order.
 */
export function parseExposition(text: string): ScrapedSample[] {
  const out: ScrapedSample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g))
      labels[l[1]] = l[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** A running node_exporter: its URL, a scrape, and stop. */
export interface NodeExporter {
  url: string;
  scrape(): Promise<ScrapedSample[]>;
  stop(): Promise<void>;
  /** What it printed (for failure messages). */
  log(): string;
}

/**
 * Starts node_exporter with only the textfile collector on `directory`, and resolves once its
 * /metrics answers.
 */
export async function startNodeExporter(directory: string): Promise<NodeExporter> {
  if (!NODE_EXPORTER) throw new Error('node_exporter is not installed');
  const port = await freePort();
  const child: ChildProcess = spawn(
    NODE_EXPORTER,
    [
      `--web.listen-address=127.0.0.1:${port}`,
      '--collector.disable-defaults',
      '--collector.textfile',
      `--collector.textfile.directory=${directory}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout?.on('data', (b: Buffer) => (log += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (log += b.toString()));
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  const url = `http://127.0.0.1:${port}/metrics`;
  let up = false;
  const probe = () =>
    fetch(url).then(
      (r) => (up = r.ok),
      () => false,
    );
  await waitFor(
    () => {
      if (exited !== undefined) throw new Error(`node_exporter exited ${exited}: ${log}`);
      void probe();
      return up;
    },
    { describe: () => `node_exporter answering on ${url}; it printed: ${log}`, pollMs: 50, wakeOn: [[child, 'exit']] },
  );
  return {
    url,
    async scrape() {
      const r = await fetch(url);
      return parseExposition(await r.text());
    },
    async stop() {
      if (exited !== undefined) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
    log: () => log,
  };
}
