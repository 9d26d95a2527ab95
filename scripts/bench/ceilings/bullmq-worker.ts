/**
 * Ceiling: a plain BullMQ Worker with a no-op processor, nothing of Conveyor.
 * Usage: bullmq-worker.ts --queue <name> --prefix <p> [--concurrency 50] [--redis <url>]
 * Prints READY {"queue","prefix","concurrency"}; answers `stats` with {completed, failed}.
 */
import { Worker } from 'bullmq';
import { parseArgs } from '../lib/args.ts';
import { serveChild } from '../lib/child.ts';
import { benchRedis, DEFAULT_REDIS_URL } from '../lib/redis.ts';

const args = parseArgs(process.argv.slice(2), { name: 'bullmq-worker' });
const queue = args.str('queue', 'ceiling');
const prefix = args.str('prefix', 'bench');
const concurrency = args.num('concurrency', 50);

const worker = new Worker(queue, async () => undefined, {
  connection: benchRedis(args.str('redis', DEFAULT_REDIS_URL), true),
  prefix,
  concurrency,
  autorun: true,
});
let completed = 0;
let failed = 0;
worker.on('completed', () => completed++);
worker.on('failed', () => failed++);
worker.on('error', (err) => process.stderr.write(`worker error: ${err.message}\n`));

const child = serveChild({
  commands: { stats: () => ({ completed, failed }) },
  stop: async () => {
    await worker.close();
  },
});
await worker.waitUntilReady();
child.ready({ queue, prefix, concurrency });
