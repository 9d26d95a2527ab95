/**
 * Conveyor itself as a benchmark child: the given roles, in one process, on a given DB and prefix.
 * Usage: conveyor.ts --roles api,worker --database-url <url> --prefix <p> --consumer <url> [--redis-cluster]
 * Prints READY {"port"} once its Redis connections are ready. Commands: `deliveries` answers the
 * job counts of the two delivery queues (batches and single facts) added up; `pauses` answers
 * the event-loop delay and GC pauses since the last `pauses` call (what a latency tail is made of).
 */
import { once } from 'node:events';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { loadConfig, type Role } from '../../../src/config.ts';
import { parseIntegrations } from '../../../src/domain/notify/integrations.ts';
import { start } from '../../../src/runtime.ts';
import { parseArgs } from '../lib/args.ts';
import { serveChild } from '../lib/child.ts';
import { DEFAULT_REDIS_URL } from '../lib/redis.ts';

const args = parseArgs(process.argv.slice(2), { name: 'conveyor' });
const roles = args.str('roles', 'api,worker').split(',') as Role[];
const config = loadConfig({
  NODE_ENV: 'development',
  PORT: '0',
  HOST: '127.0.0.1',
  DATABASE_URL: args.str('database-url', 'mysql://root@127.0.0.1:3306/conveyor_bench'),
  REDIS_URL: args.str('redis', DEFAULT_REDIS_URL),
  REDIS_CLUSTER: String(args.flag('redis-cluster')),
  QUEUE_PREFIX: args.str('prefix', 'bench'),
  JWT_SECRET: 'bench-secret-bench-secret-bench-secret',
  ADMIN_PASSWORD: 'bench',
  LOG_LEVEL: args.str('log-level', 'warn'),
  ROLE: roles.join(','),
});
const integrations = parseIntegrations({
  promotions: { delivery: 'http', url: args.str('consumer', 'http://127.0.0.1:9/v1/seen'), timeout_ms: 2000, backoff: { delay_ms: 100, max_delay_ms: 1000 } },
});
const running = await start(config, roles, { integrations });
const queues = ['notify.deliver-seen-batch', 'notify.deliver-seen'].map((q) => running.services.queues.get(q));
// The API fails fast while Redis is not connected yet (503): the load must not start before.
const { redis } = running.services;
if (redis.status !== 'ready') await once(redis, 'ready');
for (const q of queues) await q.waitUntilReady();
for (const w of running.workers) await w.waitUntilReady();

const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
let gc = { count: 0, totalMs: 0, maxMs: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.count++;
    gc.totalMs += e.duration;
    gc.maxMs = Math.max(gc.maxMs, e.duration);
  }
}).observe({ entryTypes: ['gc'] });

const child = serveChild({
  stop: () => running.stop(),
  commands: {
    deliveries: async () => {
      const counts = await Promise.all(queues.map((q) => q.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed')));
      return Object.fromEntries(Object.keys(counts[0]!).map((k) => [k, counts.reduce((sum, c) => sum + (c[k] ?? 0), 0)]));
    },
    pauses: () => {
      const out = { loopDelayMs: { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 }, gc: { ...gc, totalMs: Math.round(gc.totalMs), maxMs: Math.round(gc.maxMs * 10) / 10 } };
      loop.reset();
      gc = { count: 0, totalMs: 0, maxMs: 0 };
      return out;
    },
  },
});
child.ready({ port: running.port });
