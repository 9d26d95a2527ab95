/**
 * Ceiling: a plain BullMQ Worker with a no-op processor, nothing of Conveyor.
 * Usage: bullmq-worker.ts --queue <name> --prefix <p> [--concurrency 50] [--redis <url>]
 * Prints READY {"queue","prefix","concurrency"}; answers `stats` with {completed, failed} and
 * `latency` with the add → completed histogram of jobs whose data carries `t` (addAtRate), then
 * starts a new one.
 */
import { Worker } from 'bullmq';
import { parseArgs } from '../lib/args.ts';
import { serveChild } from '../lib/child.ts';
import { LatencyHistogram, nowMs } from '../lib/stats.ts';
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
const latency = new LatencyHistogram();
worker.on('completed', (job) => {
  completed++;
  // Recorded after the job is marked completed in Redis; t was stamped by the producer.
  const t = (job.data as { t?: unknown }).t;
  if (typeof t === 'number') latency.record(nowMs() - t);
});
worker.on('failed', () => failed++);
worker.on('error', (err) => process.stderr.write(`worker error: ${err.message}\n`));

const child = serveChild({
  commands: {
    stats: () => ({ completed, failed }),
    latency: () => {
      const json = latency.toJSON();
      latency.reset();
      return json;
    },
  },
  stop: async () => {
    await worker.close();
  },
});
await worker.waitUntilReady();
child.ready({ queue, prefix, concurrency });
