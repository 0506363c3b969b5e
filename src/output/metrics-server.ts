/**
 * `forward --follow --metrics-listen ADDR`: a minimal Prometheus scrape endpoint (node:http),
 * serving the text exposition at `/metrics` and nothing else. Loopback unless an address says
 * otherwise: the metrics name directories and targets.
 */
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';

/** A listen address: host (default 127.0.0.1) and port. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** An address that is not `PORT`, `HOST:PORT` or `[IPv6]:PORT`. */
export class ListenAddressError extends Error {
  constructor(readonly input: string) {
    super(`--metrics-listen ${input}: use PORT, HOST:PORT or [IPv6]:PORT (e.g. 127.0.0.1:9464)`);
    this.name = 'ListenAddressError';
  }
}

/**
 * Reads `PORT`, `HOST:PORT` or `[IPv6]:PORT`; a bare port listens on 127.0.0.1.
 * @throws ListenAddressError
 */
export function parseListenAddress(input: string): ListenAddress {
  const m = /^(?:(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):)?(\d{1,5})$/.exec(input.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ListenAddressError(input);
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port };
}

/** The content type of the text format, version 0.0.4. */
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Serves `body()` at `GET /metrics` (also HEAD); 404 elsewhere, 405 for other methods.
 * @returns the server, listening.
 * @throws NodeJS.ErrnoException (EADDRINUSE, EACCES …) when it cannot listen.
 */
export async function serveMetrics(address: ListenAddress, body: () => string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const text = body();
    res.writeHead(200, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
    res.end(req.method === 'HEAD' ? undefined : text);
  });
  server.listen(address.port, address.host);
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([err]) => {
      throw err;
    }),
  ]);
  // Scrapes keep connections alive; they must not keep a stopping forwarder running.
  server.unref();
  return server;
}
