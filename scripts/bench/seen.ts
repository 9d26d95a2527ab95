/**
 * mark-notify end to end: POST /seen → BullMQ → delivery to a consumer that answers at once,
 * beside the raw ceilings measured in the same run (a bare Koa route doing one Queue.add, and a
 * bare BullMQ no-op worker).
 * Usage: npm run bench:seen -- [--duration 15] [--connections 64]
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { createDb, dropDatabase, ensureDatabase, migrate } from '../../src/platform/db.ts';
import { signToken } from '../../src/http/auth/jwt.ts';
import { cliArgs } from './lib/args.ts';
import { machineFacts, waitForIdle } from './lib/machine.ts';
import { note } from './lib/progress.ts';
import { runHttpLoad, runHttpLoadAtRate } from './lib/http-load.ts';
import { startCpuMeter, startNodeScript, type ChildHandle } from './lib/processes.ts';
import { benchPrefix, benchRedis, deletePrefix, DEFAULT_REDIS_URL } from './lib/redis.ts';
import { MemorySampler, type LatencySummary } from './lib/stats.ts';
import { finish, fmt, pct, ratio, type Cell } from './lib/table.ts';
import { koaQueueAddCeiling, workerDrainCeiling } from './ceilings/measure.ts';

const args = cliArgs({
  name: 'seen',
  summary: 'POST /4.0/mark-notify/v1/seen end to end, beside bare Koa+Queue.add and a bare BullMQ worker.',
  defaults: { duration: 15, connections: 64 },
  options: { 'mysql <url>': 'MySQL server (default mysql://root@127.0.0.1:3306)', 'redis <url>': `Redis (default ${DEFAULT_REDIS_URL})` },
});

const SECRET = 'bench-secret-bench-secret-bench-secret';
const redisUrl = args.str('redis', DEFAULT_REDIS_URL);
const databaseUrl = `${args.str('mysql', 'mysql://root@127.0.0.1:3306')}/conveyor_bench_${randomUUID().slice(0, 8)}`;
const redis = benchRedis(redisUrl);
const prefix = benchPrefix('bench-seen');
const ceilingPrefix = benchPrefix('bench-seen-ceil');

note('waiting (up to 60 s) for idle cores…');
const busyBefore = await waitForIdle(60_000);
const machine = await machineFacts({ redis, busyBefore, mysqlUrl: databaseUrl.replace(/\/[^/]*$/, '') });
await ensureDatabase(databaseUrl);
const db = createDb(databaseUrl, 2);
await migrate(db);
await db.destroy();

const token = await signToken(SECRET, { sub: randomUUID(), role: 'client', user_id: 'bench-user', bound_uids: ['b1'] }, 3600);
let n = 0;
// Unique ids: every request is a new fact, none is deduplicated.
const body = () => `{"tag":"promotions","id":"p-${++n}"}`;
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
const children: ChildHandle<{ port: number }>[] = [];
const startConveyor = async (roles: string, consumerPort: number) => {
  const c = await startNodeScript<{ port: number }>('scripts/bench/seen/conveyor.ts', {
    name: `conveyor[${roles}]`,
    args: ['--roles', roles, '--database-url', databaseUrl, '--prefix', prefix, '--redis', redisUrl, '--consumer', `http://127.0.0.1:${consumerPort}/v1/seen`],
  });
  children.push(c);
  return c;
};
type Counts = Record<'waiting' | 'active' | 'delayed' | 'completed' | 'failed', number>;

try {
  const consumer = await startNodeScript<{ port: number }>('scripts/bench/seen/consumer.ts', { name: 'consumer' });
  children.push(consumer);

  // 1. Ceilings, same run.
  const base = { durationMs: args.durationMs, connections: args.connections, redisUrl, prefix: ceilingPrefix, monitor: redis };
  const bareAdd = await koaQueueAddCeiling({ ...base, queue: 'seen-ceiling' });
  const [bareDrain] = await workerDrainCeiling({ ...base, jobs: 30_000, concurrencies: [50] });

  // 2. Conveyor's API alone (no workers): requests/s it can accept and queue.
  const api = await startConveyor('api', consumer.info.port);
  const apiCpu = await startCpuMeter([api], redis);
  const apiLoad = await runHttpLoad({ url: `http://127.0.0.1:${api.info.port}/4.0/mark-notify/v1/seen`, method: 'POST', headers, body, connections: args.connections, durationMs: args.durationMs, warmupMs: 1000, label: 'conveyor POST /seen (api role)' });
  const apiCores = await apiCpu.stop();
  await api.stop();

  // 3. Conveyor's workers draining what the API queued: deliveries/s to the consumer.
  const queue = new Queue('notify.deliver-seen', { connection: redis, prefix });
  const queued = await queue.getWaitingCount();
  await consumer.request('reset');
  const worker = await startConveyor('worker', consumer.info.port);
  const drainStart = performance.now();
  let counts: Counts;
  const drainDeadline = drainStart + Math.max(60_000, args.durationMs * 6);
  for (;;) {
    counts = (await worker.request('deliveries')) as Counts;
    if (counts.waiting + counts.active + counts.delayed === 0 || performance.now() > drainDeadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const drainSeconds = (performance.now() - drainStart) / 1000;
  const delivered = ((await consumer.request('stats')) as { count: number }).count;
  const deliveryRate = delivered / drainSeconds;
  await worker.stop();

  // 4. API + workers in one process at half the end-to-end maximum: request-to-delivery latency and
  // memory. One process does both halves of the work, so its maximum is the harmonic combination.
  const combinedMax = 1 / (1 / apiLoad.rps + 1 / deliveryRate);
  const halfRate = Math.max(50, Math.floor(combinedMax / 2));
  const both = await startConveyor('api,worker', consumer.info.port);
  // A warm-up at the same rate (JIT, pools, sockets), drained, before the stats are reset: a cold
  // process's first second would otherwise be the p99.
  await runHttpLoadAtRate({ url: `http://127.0.0.1:${both.info.port}/4.0/mark-notify/v1/seen`, method: 'POST', headers, body, rate: halfRate, connections: args.connections, durationMs: 3000, label: 'warm-up' });
  for (let i = 0; i < 100 && ((await both.request('deliveries')) as Counts).waiting > 0; i++) await new Promise((r) => setTimeout(r, 100));
  await consumer.request('reset');
  const memory = new MemorySampler(() => both.memory()).start();
  const open = await runHttpLoadAtRate({ url: `http://127.0.0.1:${both.info.port}/4.0/mark-notify/v1/seen`, method: 'POST', headers, body, rate: halfRate, connections: args.connections, durationMs: args.durationMs, label: `api+worker at ${fmt(halfRate)} req/s` });
  const sent = open.ok;
  const settleDeadline = performance.now() + 30_000;
  let e2e: { count: number; latency: LatencySummary };
  for (;;) {
    e2e = (await consumer.request('stats')) as { count: number; latency: LatencySummary };
    if (e2e.count >= sent || performance.now() > settleDeadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const mem = await memory.stop();
  await both.stop();

  const ms = (x: number) => x.toFixed(2);
  const rows: Cell[][] = [
    ['bare Koa + one Queue.add (ceiling)', `${fmt(bareAdd.rps)} req/s`, ms(bareAdd.p50), ms(bareAdd.p99), ''],
    ['Conveyor POST /seen, api role', `${fmt(apiLoad.rps)} req/s`, ms(apiLoad.latency.p50), ms(apiLoad.latency.p99), `${apiLoad.requests - apiLoad.ok} non-2xx, api ${(apiCores.conveyor ?? Object.values(apiCores)[0] ?? 0).toFixed(2)} cores`],
    ['bare BullMQ no-op worker c=50 (ceiling)', `${fmt(bareDrain?.jobsPerSec ?? 0)} jobs/s`, '', '', ''],
    ['Conveyor delivery to an HTTP consumer', `${fmt(deliveryRate)} deliveries/s`, '', '', `${fmt(delivered)} of ${fmt(queued)} queued in ${drainSeconds.toFixed(1)} s; failed ${counts.failed}`],
    [`request → delivery at ${fmt(halfRate)} req/s (api+worker)`, `${fmt(e2e.count)} delivered`, ms(e2e.latency.p50), ms(e2e.latency.p99), `${open.skipped} skipped, ${open.requests - open.ok} non-2xx`],
    ['memory of api+worker over that run', `RSS ${mem.rss.startMB.toFixed(0)} → ${mem.rss.endMB.toFixed(0)} MB`, '', '', `max ${mem.rss.maxMB.toFixed(0)} MB, slope ${mem.rss.slopeMBPerMin.toFixed(1)} MB/min, heap slope ${mem.heapUsed.slopeMBPerMin.toFixed(1)} MB/min`],
  ];
  const apiRatio = ratio(apiLoad.rps, bareAdd.rps);
  const deliveryRatio = ratio(deliveryRate, bareDrain?.jobsPerSec ?? 0);
  finish({
    bench: 'seen',
    machine,
    table: { columns: ['what', 'figure', 'p50 ms', 'p99 ms', 'notes'], rows },
    figures: { combinedMax, bareKoaQueueAdd: bareAdd, bareWorkerDrain: bareDrain, api: { rps: apiLoad.rps, latency: apiLoad.latency, cpu: apiCores }, delivery: { rate: deliveryRate, delivered, queued, seconds: drainSeconds, counts }, endToEnd: { rate: halfRate, latency: e2e.latency, delivered: e2e.count, sent, skipped: open.skipped }, memory: mem },
    ratios: { apiVsBareKoaQueueAdd: apiRatio, deliveryVsBareWorker: deliveryRatio },
    params: { duration: args.duration, connections: args.connections },
    notes: [
      `API ${pct(apiRatio)} of the bare Koa+Queue.add route (target ≥ 70 %); delivery ${pct(deliveryRatio)} of the bare no-op worker (target ≥ 70 %; ours makes an HTTP call per job, the ceiling does nothing).`,
      `p99 request → delivery ${ms(e2e.latency.p99)} ms at ${fmt(halfRate)} req/s, half the end-to-end maximum (target < 50 ms).`,
      'Run --duration 300 to judge memory: the slope should stay near 0 MB/min.',
    ],
  });
} finally {
  for (const c of children) await c.stop().catch(() => undefined);
  await deletePrefix(redis, prefix);
  await deletePrefix(redis, ceilingPrefix);
  redis.disconnect();
  await dropDatabase(databaseUrl);
}
