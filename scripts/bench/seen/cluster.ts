/**
 * bench:seen --redis-cluster: Conveyor's phases again, on a Redis Cluster of three masters the
 * bench starts on loopback (test/helpers/redisCluster.ts), and how Redis commands spread over the
 * masters (INFO commandstats per node, reset before the phases).
 */
import type { Cluster } from 'ioredis';
import type { ClusterNode, RedisCluster } from '../../../test/helpers/redisCluster.ts';
import { runHttpLoad, runHttpLoadAtRate } from '../lib/http-load.ts';
import type { ChildHandle } from '../lib/processes.ts';
import type { LatencySummary } from '../lib/stats.ts';
import { fmt } from '../lib/table.ts';

type Child = ChildHandle<{ port: number }>;

export interface ClusterPhaseOptions {
  cluster: RedisCluster;
  /** Starts Conveyor's roles as a child on the cluster, under `prefix`. */
  start: (roles: string, prefix: string) => Promise<Child>;
  stop: (c: Child) => Promise<void>;
  consumer: ChildHandle<{ port: number }>;
  url: (c: Child) => string;
  body: () => string;
  headersFor: () => Record<string, string>;
  durationMs: number;
  connections: number;
  facts: number;
  warmupFacts: number;
  prefix: (stem: string) => string;
}

export interface MasterSpread {
  node: string;
  calls: number;
  keys: number;
  top: string;
}

export interface ClusterFigures {
  api: { rps: number; p50: number; p99: number; non2xx: number };
  delivery: { rate: number; facts: number; jobs: number };
  oneProcessMax: number;
  latency: { rate: number; delivered: number; latency: LatencySummary; non2xx: number };
  spread: MasterSpread[];
}

/** Seen keys (one per fact) on every master, and the batch jobs waiting in the delivery queue. */
async function queued(cluster: RedisCluster, client: Cluster, prefix: string): Promise<{ facts: number; jobs: number }> {
  let facts = 0;
  for (const node of await cluster.masters()) {
    let cursor = '0';
    do {
      const [next, keys] = (await node.call('SCAN', cursor, 'MATCH', `${prefix}:seen:*`, 'COUNT', 1000)) as [string, string[]];
      cursor = next;
      facts += keys.length;
    } while (cursor !== '0');
  }
  return { facts, jobs: await client.llen(`${prefix}:{notify.deliver-seen-batch}:wait`) };
}

async function commandCalls(node: ClusterNode): Promise<{ calls: number; byCommand: Map<string, number> }> {
  const byCommand = new Map<string, number>();
  for (const [, name, calls] of (await node.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) byCommand.set(name!, Number(calls));
  // The bench's own probes (INFO, SCAN, CONFIG) and the cluster's gossip helpers are not Conveyor's.
  for (const own of ['info', 'scan', 'config|resetstat', 'cluster|info', 'cluster|slots', 'cluster|nodes', 'cluster|myid', 'ping', 'dbsize', 'llen', 'flushall', 'command|docs', 'client|setname', 'client|setinfo', 'cluster|shards']) byCommand.delete(own);
  return { calls: [...byCommand.values()].reduce((a, b) => a + b, 0), byCommand };
}

export async function resetCommandStats(cluster: RedisCluster): Promise<void> {
  for (const node of await cluster.masters()) await node.call('CONFIG', 'RESETSTAT');
}

export async function commandSpread(cluster: RedisCluster): Promise<MasterSpread[]> {
  return Promise.all(
    (await cluster.masters()).map(async (node) => {
      const { calls, byCommand } = await commandCalls(node);
      const top = [...byCommand].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([name, n]) => `${name} ${n.toLocaleString('en-US')}`).join(', ');
      return { node: `:${node.port}`, calls, keys: Number(await node.call('DBSIZE')), top };
    }),
  );
}

/** The api role alone, the workers draining what it queued, then both in one process (max, and latency at half). */
export async function clusterPhases(o: ClusterPhaseOptions): Promise<ClusterFigures> {
  const client = o.cluster.client();
  try {
    const load = (url: string, label: string, durationMs = o.durationMs) =>
      runHttpLoad({ url, method: 'POST', headers: { 'content-type': 'application/json' }, headersFor: o.headersFor, body: o.body, connections: o.connections, durationMs, warmupMs: 1000, label });

    const apiPrefix = o.prefix('bench-seen-capi');
    const api = await o.start('api', apiPrefix);
    const a = await load(o.url(api), 'cluster: conveyor POST /seen, api role');
    await o.stop(api);

    // Delivery: the api role queues facts (no worker), then the worker role drains them.
    const drainPrefix = o.prefix('bench-seen-cdrain');
    const filler = await o.start('api', drainPrefix);
    let q = await queued(o.cluster, client, drainPrefix);
    while (q.facts < o.facts + o.warmupFacts) {
      const r = await load(o.url(filler), `cluster: queueing facts ${q.facts} of ${o.facts + o.warmupFacts}`, 1000);
      if (r.ok === 0) throw new Error(`filling through the API on the cluster failed: ${JSON.stringify(r.statusCounts)}`);
      q = await queued(o.cluster, client, drainPrefix);
    }
    await o.stop(filler);
    await o.consumer.request('reset');
    const delivered = async () => ((await o.consumer.request('stats')) as { count: number }).count;
    const worker = await o.start('worker', drainPrefix);
    while ((await delivered()) < o.warmupFacts) await new Promise((r) => setTimeout(r, 10));
    const [d0, t0] = [await delivered(), performance.now()];
    let d1 = d0;
    while (d1 < q.facts && performance.now() < t0 + 120_000) {
      await new Promise((r) => setTimeout(r, 10));
      d1 = await delivered();
    }
    const delivery = { rate: (d1 - d0) / ((performance.now() - t0) / 1000), facts: q.facts, jobs: q.jobs };
    await o.stop(worker);

    // api+worker in one process: the most it delivers, then the latency at half that.
    const both = await o.start('api,worker', o.prefix('bench-seen-ce2e'));
    await o.consumer.request('reset');
    const satStart = performance.now();
    await load(o.url(both), 'cluster: api+worker, POSTs as fast as they go');
    const oneProcessMax = (await delivered()) / ((performance.now() - satStart) / 1000);
    await new Promise((r) => setTimeout(r, 3_000));
    const rate = Math.max(50, Math.floor(oneProcessMax / 2));
    await o.consumer.request('reset');
    const open = await runHttpLoadAtRate({ url: o.url(both), method: 'POST', headers: { 'content-type': 'application/json' }, headersFor: o.headersFor, body: o.body, rate, connections: o.connections, durationMs: o.durationMs, label: `cluster: api+worker at ${fmt(rate)} req/s` });
    const deadline = performance.now() + 30_000;
    let e2e: { count: number; latency: LatencySummary };
    for (;;) {
      e2e = (await o.consumer.request('stats')) as { count: number; latency: LatencySummary };
      if (e2e.count >= open.ok || performance.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await o.stop(both);
    return {
      api: { rps: a.rps, p50: a.latency.p50, p99: a.latency.p99, non2xx: a.requests - a.ok },
      delivery,
      oneProcessMax,
      latency: { rate, delivered: e2e.count, latency: e2e.latency, non2xx: open.requests - open.ok },
      spread: await commandSpread(o.cluster),
    };
  } finally {
    client.disconnect();
  }
}
