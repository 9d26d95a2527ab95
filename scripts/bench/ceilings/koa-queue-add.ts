/**
 * Ceiling: a plain Koa route that reads a small JSON body and does ONE `Queue.add`; the most an
 * API that enqueues per request can do on this machine.
 * Usage: koa-queue-add.ts --queue <name> --prefix <p> [--port 0] [--redis <url>].
 * POST /seen → 200 {"success":true}. Prints READY {"port","queue","prefix"}.
 */
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import Koa from 'koa';
import { parseArgs } from '../lib/args.ts';
import { BENCH_JOB_OPTS } from '../lib/bullmq.ts';
import { serveChild } from '../lib/child.ts';
import { benchRedis, DEFAULT_REDIS_URL } from '../lib/redis.ts';

const args = parseArgs(process.argv.slice(2), { name: 'koa-queue-add' });
const queueName = args.str('queue', 'ceiling');
const prefix = args.str('prefix', 'bench');
const redis = benchRedis(args.str('redis', DEFAULT_REDIS_URL));
const queue = new Queue(queueName, { connection: redis, prefix });

// The same limit Conveyor's API applies, so both read bodies the same way.
const LIMIT = 64 * 1024;

async function readJson(req: NodeJS.ReadableStream): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > LIMIT) throw Object.assign(new Error('body too large'), { status: 413, expose: true });
    chunks.push(buf);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

const app = new Koa();
app.use(async (ctx) => {
  if (ctx.method !== 'POST' || ctx.path !== '/seen') {
    ctx.status = 404;
    return;
  }
  let body: unknown;
  try {
    body = await readJson(ctx.req);
  } catch {
    ctx.status = 400;
    ctx.body = { success: false };
    return;
  }
  await queue.add('seen', body as object, BENCH_JOB_OPTS);
  ctx.body = { success: true };
});

await queue.waitUntilReady();
const server = app.listen(args.num('port', 0), '127.0.0.1');
const child = serveChild({
  stop: async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await queue.close();
    redis.disconnect();
  },
});
server.once('listening', () => child.ready({ port: (server.address() as AddressInfo).port, queue: queueName, prefix }));
