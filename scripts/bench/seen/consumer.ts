/**
 * A consumer service that answers 200 at once and measures request-to-delivery latency: from the
 * fact's seen_at (stamped by the API when it accepted the request) to its arrival here.
 * Commands: `stats` → {count, latency}, `reset`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveChild } from '../lib/child.ts';
import { LatencyHistogram } from '../lib/stats.ts';

let histogram = new LatencyHistogram();
let count = 0;
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const seenAt = /"seen_at":"([^"]+)"/.exec(Buffer.concat(chunks).toString('latin1'))?.[1];
    if (seenAt) histogram.record(Math.max(0, Date.now() - Date.parse(seenAt)));
    count++;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' }).end('{}');
  });
});
server.keepAliveTimeout = 60_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

const child = serveChild({
  stop: async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  },
  commands: {
    stats: () => ({ count, latency: histogram.summary() }),
    reset: () => {
      histogram = new LatencyHistogram();
      count = 0;
      return true;
    },
  },
});
child.ready({ port: (server.address() as AddressInfo).port });
