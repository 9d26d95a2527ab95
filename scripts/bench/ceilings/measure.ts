/**
 * Each raw ceiling as one function, so a bench script measures the ceiling it compares with in
 * the same run (`ceilings.ts` runs them all). Servers run in child processes; load runs here.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { addAtRate, measureDrain } from '../lib/bullmq.ts';
import { runHttpLoad, runHttpLoadAtRate } from '../lib/http-load.ts';
import { startCpuMeter, startLoopMeter, startNodeScript, type ChildHandle } from '../lib/processes.ts';
import { note } from '../lib/progress.ts';
import { benchRedis, DEFAULT_REDIS_URL } from '../lib/redis.ts';
import { LatencyHistogram, type HistogramJson } from '../lib/stats.ts';
import { connectWsClients, stampedMessage } from '../lib/ws-clients.ts';

export interface CeilingOptions {
  /** Measured time per phase. */
  durationMs: number;
  /** Unmeasured load before each HTTP phase. Default 1 s. */
  warmupMs?: number;
  connections?: number;
  redisUrl?: string;
  /** Queue prefix of this run (benchPrefix()); the caller deletes its keys at the end. */
  prefix: string;
  /** A client used to read Redis's own CPU (INFO cpu), so `others` excludes it. */
  monitor?: Redis;
}

export interface HttpFigure {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** Cores the server process(es) used; with rps, the CPU cost of one request. */
  serverCpuCores: number;
  /** Cores the load generator used; near 1 it may have been the limit. */
  clientCpuCores: number;
  redisCpuCores: number;
  /** Cores used by processes outside the benchmark: above ~0.2 the figure is disturbed. */
  otherCpuCores: number;
  /** The share of the run the server's event loop was busy (one server process only). */
  loopBusy?: number;
}

const CEILINGS = 'scripts/bench/ceilings';
type PortInfo = { port: number };

function httpFigure(r: { rps: number; requests: number; ok: number; errors: number; latency: { p50: number; p99: number } }, cpu: Record<string, number>): HttpFigure {
  const { parent, redis, machine: _machine, others, ...servers } = cpu;
  const serverCpuCores = Math.round(Object.values(servers).reduce((a, b) => a + b, 0) * 100) / 100;
  return {
    rps: r.rps,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors,
    non2xx: r.requests - r.ok,
    serverCpuCores,
    clientCpuCores: parent ?? 0,
    redisCpuCores: redis ?? 0,
    otherCpuCores: others ?? 0,
  };
}

async function withChild<T>(child: ChildHandle<PortInfo>, fn: (c: ChildHandle<PortInfo>) => Promise<T>): Promise<T> {
  try {
    return await fn(child);
  } finally {
    await child.stop();
  }
}

/** Koa hello world under closed-loop load. */
export async function koaHelloCeiling(o: CeilingOptions): Promise<HttpFigure> {
  const child = await startNodeScript<PortInfo>(`${CEILINGS}/koa-hello.ts`);
  return withChild(child, async (c) => {
    const cpu = await startCpuMeter([c], o.monitor);
    const r = await runHttpLoad({
      url: `http://127.0.0.1:${c.info.port}/`,
      connections: o.connections ?? 64,
      durationMs: o.durationMs,
      warmupMs: o.warmupMs ?? 1_000,
      label: 'koa hello',
    });
    return httpFigure(r, await cpu.stop());
  });
}

let seenCounter = 0;
/** A body shaped like a mark-notify `seen` request. */
export const seenBody = (): string => `{"tag":"news","id":"${++seenCounter}","user_id":"8f0c7a52-1111-4e2b-9d1f-3b6f0c2a9e10"}`;

/**
 * Koa POST /seen doing one `Queue.add`; with `drainConcurrency`, a raw worker consumes the queue
 * during the load (the realistic case: API and workers share the machine).
 */
export async function koaQueueAddCeiling(o: CeilingOptions & { queue: string; drainConcurrency?: number }): Promise<HttpFigure> {
  const redis = o.redisUrl ?? DEFAULT_REDIS_URL;
  const api = await startNodeScript<PortInfo>(`${CEILINGS}/koa-queue-add.ts`, { args: ['--queue', o.queue, '--prefix', o.prefix, '--redis', redis] });
  const worker = o.drainConcurrency
    ? await startNodeScript(`${CEILINGS}/bullmq-worker.ts`, {
        args: ['--queue', o.queue, '--prefix', o.prefix, '--concurrency', String(o.drainConcurrency), '--redis', redis],
      }).catch(async (err: unknown) => {
        await api.stop();
        throw err;
      })
    : undefined;
  try {
    return await withChild(api, async (c) => {
      const cpu = await startCpuMeter(worker ? [c, worker] : [c], o.monitor);
      const loop = await startLoopMeter(c);
      const r = await runHttpLoad({
        url: `http://127.0.0.1:${c.info.port}/seen`,
        body: seenBody,
        connections: o.connections ?? 64,
        durationMs: o.durationMs,
        warmupMs: o.warmupMs ?? 1_000,
        label: worker ? `koa + Queue.add, worker c=${o.drainConcurrency} draining` : 'koa + Queue.add',
      });
      const loopBusy = await loop.stop();
      return { ...httpFigure(r, await cpu.stop()), loopBusy };
    });
  } finally {
    await worker?.stop();
  }
}

export interface DrainFigure {
  concurrency: number;
  jobsPerSec: number;
  addBulkPerSec: number;
  left: number;
  /** CPU time of the worker process per job drained (warm-up jobs included), in µs. */
  workerCpuUsPerJob: number;
  /** Cores used outside the benchmark (and Redis) over warm-up, prefill and drain. */
  otherCpuCores: number;
}

/** A raw no-op worker (child process) draining `jobs` pre-filled jobs, once per concurrency. */
export async function workerDrainCeiling(o: CeilingOptions & { jobs: number; concurrencies: number[] }): Promise<DrainFigure[]> {
  const redisUrl = o.redisUrl ?? DEFAULT_REDIS_URL;
  const redis = benchRedis(redisUrl);
  const out: DrainFigure[] = [];
  try {
    for (const concurrency of o.concurrencies) {
      const name = `drain-c${concurrency}`;
      const queue = new Queue(name, { connection: redis, prefix: o.prefix });
      const worker = await startNodeScript(`${CEILINGS}/bullmq-worker.ts`, {
        args: ['--queue', name, '--prefix', o.prefix, '--concurrency', String(concurrency), '--redis', redisUrl],
      });
      try {
        const cpu = await startCpuMeter([worker], o.monitor);
        const cpu0 = await worker.cpuUsage();
        const warmupJobs = Math.min(5_000, Math.ceil(o.jobs / 4));
        const r = await measureDrain(queue, {
          jobs: o.jobs,
          warmupJobs,
          label: `worker drain ${o.jobs.toLocaleString('en-US')} jobs, c=${concurrency}`,
        });
        const cpu1 = await worker.cpuUsage();
        const { others } = await cpu.stop();
        const workerCpuUsPerJob = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / (warmupJobs + o.jobs - r.left);
        out.push({ concurrency, jobsPerSec: r.jobsPerSec, addBulkPerSec: r.addBulkPerSec, left: r.left, workerCpuUsPerJob, otherCpuCores: others ?? 0 });
      } finally {
        await worker.stop();
        await queue.close();
      }
    }
  } finally {
    redis.disconnect();
  }
  return out;
}

export interface LatencyFigure {
  /** Adds per second requested. */
  rate: number;
  added: number;
  /** Adds skipped because too many were in flight: the rate was more than Redis took. */
  skipped: number;
  completed: number;
  p50: number;
  p99: number;
  workerCpuCores: number;
  redisCpuCores: number;
  otherCpuCores: number;
}

/**
 * Add → completed latency through a raw worker, at each given rate: open-loop adds stamped with
 * their scheduled time, recorded by the worker when the job is completed (no QueueEvents, whose
 * parsing would cost this process more than the adds themselves).
 */
export async function addToCompletedCeiling(o: CeilingOptions & { rates: number[]; concurrency?: number }): Promise<LatencyFigure[]> {
  const redisUrl = o.redisUrl ?? DEFAULT_REDIS_URL;
  const redis = benchRedis(redisUrl);
  const queue = new Queue('latency', { connection: redis, prefix: o.prefix });
  const concurrency = o.concurrency ?? 50;
  const worker = await startNodeScript(`${CEILINGS}/bullmq-worker.ts`, {
    args: ['--queue', 'latency', '--prefix', o.prefix, '--concurrency', String(concurrency), '--redis', redisUrl],
  });
  const out: LatencyFigure[] = [];
  const settle = async (expected: number): Promise<number> => {
    const until = performance.now() + 10_000;
    let done = 0;
    while (performance.now() < until) {
      done = (await worker.request<{ completed: number }>('stats')).completed;
      if (done >= expected) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    return done;
  };
  try {
    // Unmeasured: the worker's first jobs pay for JIT compilation and connection setup.
    const warm = await addAtRate(queue, { rate: Math.min(...o.rates), durationMs: o.warmupMs ?? 1_000 });
    let expected = await settle(warm.added);
    await worker.request('latency');
    for (const rate of o.rates) {
      const rounded = Math.max(1, Math.round(rate));
      const cpu = await startCpuMeter([worker], o.monitor);
      const before = expected;
      const r = await addAtRate(queue, { rate: rounded, durationMs: o.durationMs, label: `add → completed at ${rounded.toLocaleString('en-US')}/s, c=${concurrency}` });
      expected += r.added;
      const completed = (await settle(expected)) - before;
      const cores = await cpu.stop();
      const h = LatencyHistogram.fromJSON(await worker.request<HistogramJson>('latency'));
      out.push({ rate: rounded, added: r.added, skipped: r.skipped, completed, p50: h.percentile(50), p99: h.percentile(99), workerCpuCores: cores[worker.name] ?? 0, redisCpuCores: cores.redis ?? 0, otherCpuCores: cores.others ?? 0 });
    }
  } finally {
    await worker.stop();
    await queue.close();
    redis.disconnect();
  }
  return out;
}

export interface WsFigure {
  label: string;
  /** Broadcasts per second requested (open loop) or achieved (max). */
  broadcastsPerSec: number;
  deliveriesPerSec: number;
  p50: number;
  p99: number;
  /** Deliveries expected but not seen by the end of the settle time. */
  lost: number;
  serverCpuCores: number;
  /** This process: the publisher and all the clients. */
  clientCpuCores: number;
  otherCpuCores: number;
}

export interface WsOptions extends CeilingOptions {
  clients?: number;
  rooms?: number;
  bytes?: number;
  /** Extra fixed-rate runs to all rooms at once, e.g. [25] as in CEILINGS.md. */
  allRoomsRates?: number[];
}

/**
 * The bare ws broadcast server: `clients` sockets (here) in `rooms` rooms (there). First as fast
 * as publishes go (one random room each), then open loop at half that rate, then to all rooms
 * at the given rates. Latency is publish (HTTP POST issued) to receive.
 */
export async function wsBroadcastCeiling(o: WsOptions): Promise<WsFigure[]> {
  const clientsN = o.clients ?? 1_000;
  const rooms = o.rooms ?? 10;
  const bytes = o.bytes ?? 200;
  const server = await startNodeScript<PortInfo>(`${CEILINGS}/ws-broadcast.ts`, { args: ['--rooms', String(rooms)] });
  return withChild(server, async (s) => {
    const clients = await connectWsClients({ count: clientsN, urlFor: (i) => `ws://127.0.0.1:${s.info.port}/?room=r${i % rooms}` });
    try {
      const { clients: seen } = await s.request<{ clients: number }>('stats');
      if (seen !== clientsN) throw new Error(`ws server sees ${seen} clients, expected ${clientsN}`);
      const roomSize = clientsN / rooms;
      const publishUrl = (room: string) => `http://127.0.0.1:${s.info.port}/publish?room=${room}`;
      // Random rooms per request: the server's CPU, not one room's sockets, is what is measured.
      const randomRoom = () => `/publish?room=r${Math.floor(Math.random() * rooms)}`;
      const out: WsFigure[] = [];

      // Warm-up, unmeasured: the first thousand broadcasts run before the JIT has compiled the send path.
      const warm = await runHttpLoad({ url: publishUrl('r0'), body: () => stampedMessage(bytes), connections: 4, durationMs: o.warmupMs ?? 1_000 });
      await clients.settle(warm.ok * roomSize);

      const measure = async (label: string, run: () => Promise<{ ok: number }>, perBroadcast: number, targetRate?: number): Promise<WsFigure> => {
        clients.reset();
        const cpu = await startCpuMeter([s], o.monitor);
        const t0 = performance.now();
        const r = await run();
        const inWindow = clients.delivered;
        const seconds = (performance.now() - t0) / 1000;
        const cores = await cpu.stop();
        const expected = r.ok * perBroadcast;
        await clients.settle(expected, 15_000, 1_000);
        const lost = Math.max(0, expected - clients.delivered);
        const h = clients.histogram;
        const fig: WsFigure = {
          label,
          broadcastsPerSec: targetRate ?? r.ok / seconds,
          deliveriesPerSec: inWindow / seconds,
          p50: h.percentile(50),
          p99: h.percentile(99),
          lost,
          serverCpuCores: cores[s.name] ?? 0,
          clientCpuCores: cores.parent ?? 0,
          otherCpuCores: cores.others ?? 0,
        };
        if (lost > 0) note(`${label}: ${lost} deliveries not seen within the settle time`);
        return fig;
      };

      const max = await measure(
        `ws max, ${clientsN} clients in ${rooms} rooms`,
        () => runHttpLoad({ url: publishUrl('r0'), path: randomRoom, body: () => stampedMessage(bytes), connections: 4, durationMs: o.durationMs, label: 'ws broadcast, max rate' }),
        roomSize,
      );
      out.push(max);

      const half = Math.max(1, Math.round(max.broadcastsPerSec / 2));
      out.push(
        await measure(
          `ws at half max (${half}/s)`,
          () => runHttpLoadAtRate({ url: publishUrl('r0'), path: randomRoom, body: () => stampedMessage(bytes), connections: 8, rate: half, durationMs: o.durationMs, label: `ws broadcast at ${half}/s` }),
          roomSize,
          half,
        ),
      );

      for (const rate of o.allRoomsRates ?? []) {
        out.push(
          await measure(
            `ws to all ${clientsN} at ${rate}/s`,
            () => runHttpLoadAtRate({ url: publishUrl('*'), body: () => stampedMessage(bytes), connections: 4, rate, durationMs: o.durationMs, label: `ws broadcast to all at ${rate}/s` }),
            clientsN,
            rate,
          ),
        );
      }
      return out;
    } finally {
      await clients.close();
    }
  });
}
