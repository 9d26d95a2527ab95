/**
 * mark-notify end to end: POST /seen → BullMQ → delivery to a consumer that answers at once,
 * beside the raw ceilings measured in the same run (a bare Koa route doing one Queue.add, and a
 * bare BullMQ no-op worker). The API and the bare route take turns (bare, API, bare, API, …, bare)
 * and each API round is compared with the mean of the bare runs on either side: the machine's
 * speed drifts while the bench runs, and the neighbours' mean follows it. The figure is the median
 * round. Delivery is measured once, between two bare workers, against their mean.
 * Usage: npm run bench:seen -- [--duration 15] [--rounds 3] [--connections 64] [--users 1000] [--memory 300] [--redis-cluster]
 *   --memory <s>: the latency phase (API and workers in one process at half the maximum) lasts
 *   that long and its memory is judged (heap and RSS slopes, heap floor per 30 s).
 *   --redis-cluster: then Conveyor's phases again on a three-master Redis Cluster started on
 *   loopback, with each master's share of the commands (seen/cluster.ts).
 */
import { randomUUID } from 'node:crypto';
import { dropDatabase } from '../../src/platform/db.ts';
import { migratedDatabase } from './lib/database.ts';
import { loadConfig } from '../../src/config.ts';
import { notifyContracts } from '../../queues/contracts/notify.ts';
import { cliArgs } from './lib/args.ts';
import { machineFacts, waitForIdle } from './lib/machine.ts';
import { note, startPhase } from './lib/progress.ts';
import { runHttpLoad, runHttpLoadAtRate } from './lib/http-load.ts';
import { startCpuMeter, startLoopMeter, startNodeScript, type ChildHandle } from './lib/processes.ts';
import { benchPrefix, benchRedis, deletePrefix, DEFAULT_REDIS_URL } from './lib/redis.ts';
import { alternatingRatios, median, slope, type LatencySummary } from './lib/stats.ts';
import { finish, fmt, pct, ratio, type Cell } from './lib/table.ts';
import { koaQueueAddCeiling, workerDrainCeiling } from './ceilings/measure.ts';
import { clientTokens } from './seen/tokens.ts';
import { fillThroughApi, queuedFacts } from './seen/fill.ts';
import { clusterPhases, resetCommandStats, type ClusterFigures } from './seen/cluster.ts';
import { RedisCluster } from '../../test/helpers/redisCluster.ts';

const args = cliArgs({
  name: 'seen',
  summary: 'POST /4.0/mark-notify/v1/seen end to end, beside bare Koa+Queue.add and a bare BullMQ worker.',
  defaults: { duration: 15, connections: 64 },
  options: {
    'users <n>': 'distinct callers, one token each (default 1,000)',
    'rounds <n>': 'API rounds, each between two runs of the bare route (default 3)',
    'memory <s>': 'length of the latency phase, judged for memory (default: --duration)',
    'mysql <url>': 'MySQL server (default mysql://root@127.0.0.1:3306)',
    'redis <url>': `Redis (default ${DEFAULT_REDIS_URL})`,
    'redis-cluster': 'also run Conveyor\'s phases on a Redis Cluster of three masters the bench starts',
  },
});

const SECRET = 'bench-secret-bench-secret-bench-secret';
const SEEN = '/4.0/mark-notify/v1/seen';
// The batch contract's concurrency; the bare worker runs at the same.
const CONCURRENCY = notifyContracts['notify.deliver-seen-batch'].concurrency;
// The api role's default (NOTIFY_BATCH_MAX); the bench children run with it.
const NOTIFY_BATCH_MAX = loadConfig({}).notifyBatchMax;
const DRAIN_JOBS = 30_000;
// Deliveries before the drain is timed: a freshly started worker runs slowly until the JIT has compiled its path.
const WARMUP_FACTS = 5_000;
const redisUrl = args.str('redis', DEFAULT_REDIS_URL);
const databaseUrl = `${args.str('mysql', 'mysql://root@127.0.0.1:3306')}/conveyor_bench_${randomUUID().slice(0, 8)}`;
const users = args.num('users', 1_000);
const rounds = args.num('rounds', 3);
if (!Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write(`seen: --rounds must be a whole number of at least 1, got ${rounds}\n`);
  process.exit(2);
}
const latencyMs = args.num('memory', args.duration) * 1000;
const redis = benchRedis(redisUrl);
const prefixes = { api: benchPrefix('bench-seen-api'), drain: benchPrefix('bench-seen-drain'), e2e: benchPrefix('bench-seen-e2e'), ceiling: benchPrefix('bench-seen-ceil') };

note('waiting (up to 60 s) for idle cores…');
const busyBefore = await waitForIdle(60_000);
const machine = await machineFacts({ redis, busyBefore, mysqlUrl: databaseUrl.replace(/\/[^/]*$/, '') });
await migratedDatabase(databaseUrl);

// Every request is a new fact (unique ids); callers take turns, each with its own token.
const tokens = clientTokens(SECRET, users);
let n = 0;
const body = () => `{"tag":"promotions","id":"p-${++n}"}`;
const userHeaders = () => ({ authorization: `Bearer ${tokens[n % users]!}` });
const children: ChildHandle<{ port: number }>[] = [];
const startConveyor = async (roles: string, prefix: string, consumerPort: number, cluster?: RedisCluster) => {
  const redisArgs = cluster ? ['--redis', cluster.url, '--redis-cluster'] : ['--redis', redisUrl];
  const c = await startNodeScript<{ port: number }>('scripts/bench/seen/conveyor.ts', {
    name: `conveyor[${roles}]${cluster ? ' on the cluster' : ''}`,
    args: ['--roles', roles, '--database-url', databaseUrl, '--prefix', prefix, ...redisArgs, '--consumer', `http://127.0.0.1:${consumerPort}/v1/seen`],
  });
  children.push(c);
  return c;
};
const stopChild = async (c: ChildHandle<{ port: number }>) => {
  await c.stop();
  children.splice(children.indexOf(c), 1);
};
const cpuSeconds = async (c: ChildHandle<unknown>) => {
  const u = await c.cpuUsage();
  return (u.user + u.system) / 1e6;
};
type Counts = Record<'waiting' | 'active' | 'delayed' | 'completed' | 'failed', number>;
const ms = (x: number) => x.toFixed(2);
const us = (x: number) => `${x.toFixed(0)} µs`;

try {
  const consumer = await startNodeScript<{ port: number }>('scripts/bench/seen/consumer.ts', { name: 'consumer' });
  children.push(consumer);
  const base = { durationMs: args.durationMs, connections: args.connections, redisUrl, prefix: prefixes.ceiling, monitor: redis };

  // 1. The API: the bare route and Conveyor in turns, then Conveyor with a never-seen token per request.
  const bareAdds = [await koaQueueAddCeiling({ ...base, queue: 'seen-ceiling' })];
  const api = await startConveyor('api', prefixes.api, consumer.info.port);
  const apiUrl = `http://127.0.0.1:${api.info.port}${SEEN}`;
  const apiRun = async (label: string, headersFor: () => Record<string, string>) => {
    const cpu = await startCpuMeter([api], redis);
    const loop = await startLoopMeter(api);
    const r = await runHttpLoad({ url: apiUrl, method: 'POST', headers: { 'content-type': 'application/json' }, headersFor, body, connections: args.connections, durationMs: args.durationMs, warmupMs: 1000, label });
    const loopBusy = await loop.stop();
    const cores = await cpu.stop();
    // As for the ceiling: the server's cores over the run divided by its rate.
    const apiCores = cores[api.name] ?? 0;
    return { rps: r.rps, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.requests - r.ok, errors: r.errors, cpuUsPerRequest: (apiCores / r.rps) * 1e6, cores: apiCores, loopBusy, otherCpuCores: cores.others ?? 0 };
  };
  const apiRounds: Awaited<ReturnType<typeof apiRun>>[] = [];
  for (let round = 1; round <= rounds; round++) {
    apiRounds.push(await apiRun(`conveyor POST /seen, ${fmt(users)} callers, round ${round} of ${rounds}`, userHeaders));
    bareAdds.push(await koaQueueAddCeiling({ ...base, queue: 'seen-ceiling' }));
  }
  const roundRatios = alternatingRatios(bareAdds.map((b) => b.rps), apiRounds.map((a) => a.rps));
  const apiRatio = median(roundRatios);
  // The median round stands for the API where one rate is needed (the tokens below, the harmonic estimate).
  const apiFig = apiRounds[roundRatios.indexOf(apiRatio)]!;
  // Enough never-seen tokens for the run at the rate just measured, and then some.
  const fresh = clientTokens(SECRET, Math.ceil(apiFig.rps * (args.duration + 1) * 1.5) + 1_000, users);
  let f = 0;
  const coldFig = await apiRun('conveyor POST /seen, a new token per request', () => ({ authorization: `Bearer ${fresh[f++ % fresh.length]!}` }));
  await stopChild(api);
  // Every API run's facts, in the batch jobs the API made (no worker ran).
  const apiQueued = await queuedFacts(redis, prefixes.api);
  await deletePrefix(redis, prefixes.api);

  // 2. Delivery: the bare worker, Conveyor's workers, the bare worker again, at the same
  // concurrency. Conveyor's input is what its API makes: the api role (no worker) is driven by
  // the same load until the facts are queued, in the batch jobs it made; then the worker role is
  // started and the drain is timed at the consumer, after the first WARMUP_FACTS (JIT warm-up).
  const [bareDrain1] = await workerDrainCeiling({ ...base, jobs: DRAIN_JOBS, concurrencies: [CONCURRENCY] });
  const filler = await startConveyor('api', prefixes.drain, consumer.info.port);
  const fill = await fillThroughApi({ redis, prefix: prefixes.drain, url: `http://127.0.0.1:${filler.info.port}${SEEN}`, facts: DRAIN_JOBS + WARMUP_FACTS, connections: args.connections, body, headersFor: userHeaders, label: 'queueing facts through the api role' });
  await stopChild(filler);
  await consumer.request('reset');
  const delivered = async () => ((await consumer.request('stats')) as { count: number }).count;
  const worker = await startConveyor('worker', prefixes.drain, consumer.info.port);
  const drainBar = startPhase(`conveyor delivery of ${fmt(fill.facts)} facts in ${fmt(fill.jobs)} jobs, c=${CONCURRENCY}`);
  while ((await delivered()) < WARMUP_FACTS) await new Promise((r) => setTimeout(r, 10));
  const drainCpu = await startCpuMeter([worker, consumer], redis);
  const [w0, c0, d0, t0] = [await cpuSeconds(worker), await cpuSeconds(consumer), await delivered(), performance.now()];
  let d1 = d0;
  const drainDeadline = t0 + 120_000;
  while (d1 < fill.facts && performance.now() < drainDeadline) {
    await new Promise((r) => setTimeout(r, 10));
    d1 = await delivered();
  }
  const t1 = performance.now();
  const [w1, c1] = [await cpuSeconds(worker), await cpuSeconds(consumer)];
  const drainCores = await drainCpu.stop();
  drainBar.done(`${fmt(d1 - d0)} timed after ${fmt(d0)} warm-up`);
  const drainCounts = (await worker.request('deliveries')) as Counts;
  await stopChild(worker);
  await deletePrefix(redis, prefixes.drain);
  const [bareDrain2] = await workerDrainCeiling({ ...base, jobs: DRAIN_JOBS, concurrencies: [CONCURRENCY] });
  const bareDrainRate = ((bareDrain1?.jobsPerSec ?? 0) + (bareDrain2?.jobsPerSec ?? 0)) / 2;
  const drained = d1 - d0;
  const deliveryFig = { rate: drained / ((t1 - t0) / 1000), delivered: d1, expected: fill.facts, timed: drained, jobs: fill.jobs, factsPerJob: fill.facts / fill.jobs, failed: drainCounts.failed, workerCpuUsPerJob: ((w1 - w0) / drained) * 1e6, consumerCpuUsPerJob: ((c1 - c0) / drained) * 1e6, cores: drainCores };

  // 3. API and workers in one process. Its maximum is measured: POSTs as fast as 64 connections
  // send them while its workers deliver, counting deliveries at the consumer (what it sustains end
  // to end); the harmonic combination of the two rates above, which assumes the costs only add,
  // is reported beside it. The latency is measured at half the measured maximum, after a warm-up.
  const combinedMax = 1 / (1 / apiFig.rps + 1 / deliveryFig.rate);
  const both = await startConveyor('api,worker', prefixes.e2e, consumer.info.port);
  const bothUrl = `http://127.0.0.1:${both.info.port}${SEEN}`;
  const waitDrained = async (maxMs: number) => {
    const until = performance.now() + maxMs;
    for (;;) {
      const c = (await both.request('deliveries')) as Counts;
      if (c.waiting + c.active + c.delayed === 0 || performance.now() > until) return c;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await consumer.request('reset');
  const satStart = performance.now();
  const saturated = await runHttpLoad({ url: bothUrl, method: 'POST', headers: { 'content-type': 'application/json' }, headersFor: userHeaders, body, connections: args.connections, durationMs: args.durationMs, warmupMs: 1000, label: 'api+worker, POSTs as fast as they go' });
  const satDelivered = ((await consumer.request('stats')) as { count: number }).count;
  // Deliveries over the whole run (its 1 s warm-up included), not only the measured window.
  const oneProcessMax = satDelivered / ((performance.now() - satStart) / 1000);
  await waitDrained(120_000);
  type Pauses = { loopDelayMs: { p99: number; max: number }; gc: { count: number; totalMs: number; maxMs: number } };
  const samples: { t: number; rss: number; heap: number }[] = [];
  const latencyAt = async (rate: number, durationMs: number, label: string, sampleMemory: boolean) => {
    const open = (ms: number, what: string) => runHttpLoadAtRate({ url: bothUrl, method: 'POST', headers: { 'content-type': 'application/json' }, headersFor: userHeaders, body, rate, connections: args.connections, durationMs: ms, label: what });
    await open(3_000, `settle at ${fmt(rate)} req/s`);
    await waitDrained(30_000);
    await new Promise((r) => setTimeout(r, 1_000));
    await consumer.request('reset');
    await both.request('pauses');
    const t0 = performance.now();
    const sampler = sampleMemory
      ? setInterval(() => {
          void both.memory().then(
            (m) => samples.push({ t: (performance.now() - t0) / 1000, rss: m.rss / 2 ** 20, heap: m.heapUsed / 2 ** 20 }),
            () => undefined,
          );
        }, 1_000)
      : undefined;
    const cpu = await startCpuMeter([both, consumer], redis);
    const load = await open(durationMs, label);
    const cores = await cpu.stop();
    clearInterval(sampler);
    const settleDeadline = performance.now() + 30_000;
    let e2e: { count: number; latency: LatencySummary };
    for (;;) {
      e2e = (await consumer.request('stats')) as { count: number; latency: LatencySummary };
      if (e2e.count >= load.ok || performance.now() > settleDeadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const pauses = (await both.request('pauses')) as Pauses;
    return { rate, seconds: durationMs / 1000, latency: e2e.latency, delivered: e2e.count, sent: load.ok, skipped: load.skipped, non2xx: load.requests - load.ok, cores, pauses };
  };
  // The earlier runs' rate (half the harmonic estimate), then half the measured maximum.
  const harmonicHalf = Math.max(50, Math.floor(combinedMax / 2));
  const atHarmonic = await latencyAt(harmonicHalf, args.durationMs, `api+worker at ${fmt(harmonicHalf)} req/s (half the estimate)`, false);
  const halfRate = Math.max(50, Math.floor(oneProcessMax / 2));
  const atHalf = await latencyAt(halfRate, latencyMs, `api+worker at ${fmt(halfRate)} req/s (half the measured maximum)`, true);
  await stopChild(both);

  // 4. The same Conveyor phases on a Redis Cluster (same run, same machine load), and where its commands went.
  let cluster: ClusterFigures | undefined;
  if (args.flag('redis-cluster')) {
    const own = await RedisCluster.start({ masters: 3 });
    try {
      await resetCommandStats(own);
      cluster = await clusterPhases({
        cluster: own,
        start: (roles, prefix) => startConveyor(roles, prefix, consumer.info.port, own),
        stop: stopChild,
        consumer,
        url: (c) => `http://127.0.0.1:${c.info.port}${SEEN}`,
        body,
        headersFor: userHeaders,
        durationMs: args.durationMs,
        connections: args.connections,
        facts: DRAIN_JOBS,
        warmupFacts: WARMUP_FACTS,
        prefix: benchPrefix,
      });
    } finally {
      await own.stop();
    }
  }

  // Memory: slopes over the run, and of the heap's floor (its lowest reading per 30 s, i.e.
  // after collections), which is what grows when something leaks.
  const series = (pick: (s: (typeof samples)[number]) => number) => slope(samples.map((s) => s.t), samples.map(pick)) * 60;
  const floors: { t: number; heap: number }[] = [];
  for (let w = 0; w * 30 < (samples.at(-1)?.t ?? 0); w++) {
    const inWindow = samples.filter((s) => s.t >= w * 30 && s.t < (w + 1) * 30);
    if (inWindow.length >= 10) floors.push({ t: w * 30 + 15, heap: Math.min(...inWindow.map((s) => s.heap)) });
  }
  const memory = {
    seconds: samples.at(-1)?.t ?? 0,
    rss: { startMB: samples[0]?.rss ?? 0, endMB: samples.at(-1)?.rss ?? 0, maxMB: Math.max(...samples.map((s) => s.rss)), slopeMBPerMin: series((s) => s.rss) },
    heap: { startMB: samples[0]?.heap ?? 0, endMB: samples.at(-1)?.heap ?? 0, maxMB: Math.max(...samples.map((s) => s.heap)), slopeMBPerMin: series((s) => s.heap) },
    heapFloorMB: floors.map((x) => Math.round(x.heap)),
    heapFloorSlopeMBPerMin: floors.length >= 3 ? slope(floors.map((x) => x.t), floors.map((x) => x.heap)) * 60 : null,
  };

  const apiFactsPerJob = apiQueued.jobs > 0 ? apiQueued.facts / apiQueued.jobs : 0;
  const deliveryRatio = ratio(deliveryFig.rate, bareDrainRate);
  const bareUs = median(bareAdds.map((b) => (b.serverCpuCores / b.rps) * 1e6));
  const apiUs = median(apiRounds.map((a) => a.cpuUsPerRequest));
  const bareDrainUs = ((bareDrain1?.workerCpuUsPerJob ?? 0) + (bareDrain2?.workerCpuUsPerJob ?? 0)) / 2;
  const floorNote = memory.heapFloorSlopeMBPerMin === null ? 'heap floor: run --memory 300 to judge' : `heap floor per 30 s ${memory.heapFloorMB.join(', ')} MB (slope ${memory.heapFloorSlopeMBPerMin.toFixed(2)} MB/min)`;
  const bareRow = (b: (typeof bareAdds)[number]): Cell[] => ['bare Koa + one Queue.add (ceiling)', `${fmt(b.rps)} req/s`, ms(b.p50), ms(b.p99), `${us((b.serverCpuCores / b.rps) * 1e6)} CPU/req, loop busy ${(b.loopBusy ?? 0).toFixed(2)}, others ${b.otherCpuCores.toFixed(2)} cores`];
  const rows: Cell[][] = [
    bareRow(bareAdds[0]!),
    ...apiRounds.flatMap((a, i): Cell[][] => [
      [`Conveyor POST /seen, api role, ${fmt(users)} callers, round ${i + 1}`, `${fmt(a.rps)} req/s`, ms(a.p50), ms(a.p99), `${pct(roundRatios[i]!)} of the bare runs around it; ${us(a.cpuUsPerRequest)} CPU/req, loop busy ${a.loopBusy.toFixed(2)}, ${a.non2xx} non-2xx, others ${a.otherCpuCores.toFixed(2)} cores`],
      bareRow(bareAdds[i + 1]!),
    ]),
    ['Conveyor POST /seen, a new token per request', `${fmt(coldFig.rps)} req/s`, ms(coldFig.p50), ms(coldFig.p99), `${us(coldFig.cpuUsPerRequest)} CPU/req, ${coldFig.non2xx} non-2xx (no cache hits: the lower bound)`],
    [`bare BullMQ no-op worker c=${CONCURRENCY} (ceiling, before)`, `${fmt(bareDrain1?.jobsPerSec ?? 0)} jobs/s`, '', '', `${us(bareDrain1?.workerCpuUsPerJob ?? 0)} CPU/job, others ${(bareDrain1?.otherCpuCores ?? 0).toFixed(2)} cores`],
    [`Conveyor delivery to an HTTP consumer, c=${CONCURRENCY}, the API's batch jobs`, `${fmt(deliveryFig.rate)} deliveries/s`, '', '', `${deliveryFig.factsPerJob.toFixed(1)} facts/job (${fmt(fill.facts)} in ${fmt(fill.jobs)}); worker ${us(deliveryFig.workerCpuUsPerJob)} + consumer ${us(deliveryFig.consumerCpuUsPerJob)} CPU/delivery; ${fmt(deliveryFig.delivered)} of ${fmt(fill.facts)} delivered, ${deliveryFig.failed} failed; redis ${(drainCores.redis ?? 0).toFixed(2)}, others ${(drainCores.others ?? 0).toFixed(2)} cores`],
    [`bare BullMQ no-op worker c=${CONCURRENCY} (ceiling, after)`, `${fmt(bareDrain2?.jobsPerSec ?? 0)} jobs/s`, '', '', `${us(bareDrain2?.workerCpuUsPerJob ?? 0)} CPU/job, others ${(bareDrain2?.otherCpuCores ?? 0).toFixed(2)} cores`],
    ['api+worker in one process, POSTs as fast as they go', `${fmt(oneProcessMax)} deliveries/s`, '', '', `API took ${fmt(saturated.rps)} req/s meanwhile; the harmonic estimate from the rows above was ${fmt(combinedMax)}/s`],
    ...[atHarmonic, atHalf].map((x, i): Cell[] => [
      `request → delivery at ${fmt(x.rate)} req/s, half the ${i === 0 ? 'estimate' : 'measured maximum'} (api+worker, ${x.seconds.toFixed(0)} s)`,
      `${fmt(x.delivered)} delivered`,
      ms(x.latency.p50),
      ms(x.latency.p99),
      `p90 ${ms(x.latency.p90)}, max ${ms(x.latency.max)}; ${x.skipped} skipped, ${x.non2xx} non-2xx; process ${(x.cores[both.name] ?? 0).toFixed(2)} cores, loop delay p99 ${ms(x.pauses.loopDelayMs.p99)} max ${ms(x.pauses.loopDelayMs.max)}, GC max ${x.pauses.gc.maxMs} ms; others ${(x.cores.others ?? 0).toFixed(2)} cores`,
    ]),
    ...clusterRows(cluster),
    ['memory of api+worker over that run', `RSS ${memory.rss.startMB.toFixed(0)} → ${memory.rss.endMB.toFixed(0)} MB`, '', '', `heap ${memory.heap.startMB.toFixed(0)} → ${memory.heap.endMB.toFixed(0)} MB; slopes RSS ${memory.rss.slopeMBPerMin.toFixed(2)}, heap ${memory.heap.slopeMBPerMin.toFixed(2)} MB/min; ${floorNote}`],
  ];
  finish({
    bench: 'seen',
    machine,
    table: { columns: ['what', 'figure', 'p50 ms', 'p99 ms', 'notes'], rows },
    figures: {
      bareKoaQueueAdd: bareAdds,
      api: { rounds: apiRounds, roundRatios, queued: apiQueued, factsPerJob: apiFactsPerJob },
      apiFreshTokens: coldFig,
      bareWorkerDrain: [bareDrain1, bareDrain2],
      delivery: deliveryFig,
      combinedMax,
      oneProcess: { deliveriesPerSec: oneProcessMax, apiRps: saturated.rps },
      endToEndAtHalfEstimate: atHarmonic,
      endToEnd: atHalf,
      memory,
      ...(cluster ? { cluster } : {}),
    },
    ratios: { apiVsBareKoaQueueAdd: apiRatio, deliveryVsBareWorker: deliveryRatio, apiCpuVsBare: ratio(bareUs, apiUs), deliveryCpuVsBare: ratio(bareDrainUs, deliveryFig.workerCpuUsPerJob) },
    params: { duration: args.duration, rounds, connections: args.connections, users, concurrency: CONCURRENCY, drainJobs: DRAIN_JOBS, warmupFacts: WARMUP_FACTS, batchMax: NOTIFY_BATCH_MAX, latencySeconds: latencyMs / 1000 },
    notes: [
      `API ${pct(apiRatio)} of the bare Koa+Queue.add route (the median of ${rounds} round${rounds === 1 ? '' : 's'}: ${roundRatios.map(pct).join(', ')}; target ≥ 100 %); per request ${us(apiUs)} of CPU against the bare route's ${us(bareUs)}, event loop busy ${median(apiRounds.map((a) => a.loopBusy)).toFixed(2)} of the time against ${median(bareAdds.map((b) => b.loopBusy ?? 0)).toFixed(2)} (medians). ${fmt(apiQueued.facts)} facts in ${fmt(apiQueued.jobs)} jobs over all rounds, ${apiFactsPerJob.toFixed(1)} per job.`,
      `Delivery ${pct(deliveryRatio)} of the bare no-op worker (the mean of before and after; target ≥ 85 %), ${deliveryFig.factsPerJob.toFixed(1)} facts per job as the API queued them; an HTTP call per fact: worker ${us(deliveryFig.workerCpuUsPerJob)} of CPU per delivery against the bare worker's ${us(bareDrainUs)} per job.`,
      `p99 request → delivery ${ms(atHalf.latency.p99)} ms at ${fmt(halfRate)} req/s, half the measured one-process maximum of ${fmt(oneProcessMax)}/s (target < 50 ms); ${ms(atHarmonic.latency.p99)} ms at ${fmt(harmonicHalf)} req/s, half the harmonic estimate of ${fmt(combinedMax)}/s used before.`,
      memory.heapFloorSlopeMBPerMin === null ? 'Run --memory 300 to judge memory over 5 minutes.' : `Memory over ${memory.seconds.toFixed(0)} s: heap floor slope ${memory.heapFloorSlopeMBPerMin.toFixed(2)} MB/min, RSS slope ${memory.rss.slopeMBPerMin.toFixed(2)} MB/min.`,
    ],
  });
} finally {
  for (const c of children) await c.stop().catch(() => undefined);
  for (const p of Object.values(prefixes)) await deletePrefix(redis, p);
  redis.disconnect();
  await dropDatabase(databaseUrl);
}

/** The cluster's rows: its figures beside the single Redis's, then each master's share of the commands. */
function clusterRows(c: ClusterFigures | undefined): Cell[][] {
  if (!c) return [];
  const total = c.spread.reduce((sum, m) => sum + m.calls, 0);
  return [
    ['Redis Cluster (3 masters): Conveyor POST /seen, api role', `${fmt(c.api.rps)} req/s`, ms(c.api.p50), ms(c.api.p99), `${c.api.non2xx} non-2xx`],
    ['Redis Cluster: delivery, the API\'s batch jobs', `${fmt(c.delivery.rate)} deliveries/s`, '', '', `${(c.delivery.facts / Math.max(1, c.delivery.jobs)).toFixed(1)} facts/job (${fmt(c.delivery.facts)} in ${fmt(c.delivery.jobs)})`],
    ['Redis Cluster: api+worker in one process, as fast as they go', `${fmt(c.oneProcessMax)} deliveries/s`, '', '', ''],
    [`Redis Cluster: request → delivery at ${fmt(c.latency.rate)} req/s`, `${fmt(c.latency.delivered)} delivered`, ms(c.latency.latency.p50), ms(c.latency.latency.p99), `p90 ${ms(c.latency.latency.p90)}, max ${ms(c.latency.latency.max)}; ${c.latency.non2xx} non-2xx`],
    ...c.spread.map((m): Cell[] => [`Redis Cluster master ${m.node}`, `${fmt(m.calls)} commands (${total > 0 ? ((m.calls / total) * 100).toFixed(0) : 0} %)`, '', '', `${fmt(m.keys)} keys; ${m.top}`]),
  ];
}
