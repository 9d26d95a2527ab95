/**
 * Ceiling: Koa hello world, the most a Koa route can answer on this machine.
 * Usage: koa-hello.ts [--port 0]. Prints READY {"port"}.
 */
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { parseArgs } from '../lib/args.ts';
import { serveChild } from '../lib/child.ts';

const args = parseArgs(process.argv.slice(2), { name: 'koa-hello' });
const app = new Koa();
app.use((ctx) => {
  ctx.body = 'Hello World';
});

const server = app.listen(args.num('port', 0), '127.0.0.1');
const child = serveChild({
  stop: () => {
    // Keep-alive clients would otherwise hold close() open until their idle timeout.
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  },
});
server.once('listening', () => child.ready({ port: (server.address() as AddressInfo).port }));
