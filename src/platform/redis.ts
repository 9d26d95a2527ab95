import { Cluster, Redis, type ChainableCommander, type ClusterOptions, type RedisOptions } from 'ioredis';
import { keySlot } from './keySlot.ts';

export { hashTag } from './keySlot.ts';

export type { Cluster, Redis };

/** One Redis or a Redis Cluster: every connection Conveyor opens is one of these (REDIS_CLUSTER). */
export type RedisClient = Redis | Cluster;

/** Where Redis is: one URL, or (cluster) a comma-separated list of seed nodes. */
export interface RedisTarget {
  url: string;
  cluster: boolean;
}

export interface ConnectOptions extends RedisOptions {
  /** Cluster only: SSUBSCRIBE through one subscriber per master (the ws bridge's sharded pub/sub). */
  shardedSubscribers?: boolean;
}

/** The seed URLs of a REDIS_URL (one for a single Redis). */
export function redisSeeds(url: string): string[] {
  return url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** What Redis.connect would take from a URL, as a cluster node and the options every node shares. */
function clusterNode(seed: string): { host: string; port: number; shared: RedisOptions } {
  const u = new URL(seed);
  const shared: RedisOptions = {};
  if (u.username) shared.username = decodeURIComponent(u.username);
  if (u.password) shared.password = decodeURIComponent(u.password);
  if (u.protocol === 'rediss:') shared.tls = {};
  return { host: u.hostname, port: Number(u.port || 6379), shared };
}

/**
 * One ioredis connection. `role` picks the failure policy BullMQ recommends: producers (API)
 * fail fast so a request gets a 503 instead of hanging; workers and subscribers retry forever.
 * With `cluster`, an ioredis Cluster over the seed nodes, with the same policy.
 */
export function createRedis(target: string | RedisTarget, role: 'producer' | 'worker', extra: ConnectOptions = {}): RedisClient {
  const { url, cluster } = typeof target === 'string' ? { url: target, cluster: false } : target;
  const { shardedSubscribers, ...options } = extra;
  const common: RedisOptions = {
    // RESP2 keeps pub/sub on its own connection, as BullMQ and our ws bridge expect.
    protocol: 2,
    maxRetriesPerRequest: role === 'producer' ? 1 : null,
    ...options,
  };
  // Commands issued in the same tick (many requests' SETs and adds) go out in one write. Not on a
  // Cluster: an auto-pipeline mixes slots, and ioredis retries a pipeline after a failover's MOVED
  // only when every command got the same one, so the others would fail (pipelinePerNode sends those again).
  const enableAutoPipelining = !cluster && (options.enableAutoPipelining ?? role === 'producer');
  const enableOfflineQueue = options.enableOfflineQueue ?? role === 'worker';
  if (!cluster) {
    return new Redis(url, { lazyConnect: false, enableOfflineQueue, retryStrategy: (times) => Math.min(times * 200, 5_000), ...common, enableAutoPipelining });
  }
  const seeds = redisSeeds(url).map(clusterNode);
  const { enableOfflineQueue: _q, enableAutoPipelining: _p, retryStrategy: _r, lazyConnect, ...nodeOptions } = common;
  const clusterOptions: ClusterOptions = {
    redisOptions: { ...seeds[0]!.shared, ...nodeOptions },
    lazyConnect: lazyConnect ?? false,
    enableOfflineQueue,
    enableAutoPipelining,
    clusterRetryStrategy: (times) => Math.min(times * 200, 5_000),
    // A failover takes the cluster a few seconds (cluster-node-timeout, then the election): a
    // command that meets a dead master keeps being retried on the refreshed slot map meanwhile.
    retryDelayOnFailover: 300,
    retryDelayOnClusterDown: 300,
    maxRedirections: role === 'producer' ? 8 : 64,
    // ioredis re-reads the slot map only on a redirection unless told to: a connection that sends
    // nothing to the failed master's slots would keep the dead node in its pool.
    slotsRefreshInterval: 2_000,
    ...(shardedSubscribers ? { shardedSubscribers: true } : {}),
  };
  const client = new Cluster(
    seeds.map(({ host, port }) => ({ host, port })),
    clusterOptions,
  );
  // ioredis opens a node's connection on its first command, whose time bound then covers the
  // connect as well: open each as soon as the slot map names it.
  client.on('+node', (node: Redis) => {
    if (node.status === 'wait') node.connect().catch(() => undefined);
  });
  return client;
}

function groupBy<T, K>(items: readonly T[], keyOf: (item: T) => K): T[][] {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return [...groups.values()];
}

/**
 * Groups items whose keys one Lua script touches together: on a Cluster one group per hash slot
 * (a script's keys must share a slot); on one Redis a single group of everything, in order.
 */
export function bySlot<T>(redis: RedisClient, items: readonly T[], keyOf: (item: T) => string): T[][] {
  if (!redis.isCluster) return items.length > 0 ? [[...items]] : [];
  return groupBy(items, (item) => keySlot(keyOf(item)));
}

/** A pipeline may span slots, but only slots one node serves (ioredis sends it whole to that node). */
function byNode<T>(redis: RedisClient, items: readonly T[], keyOf: (item: T) => string): T[][] {
  if (!redis.isCluster) return items.length > 0 ? [[...items]] : [];
  const { slots } = redis as Cluster;
  return groupBy(items, (item) => {
    const slot = keySlot(keyOf(item));
    return slots[slot]?.join(';') ?? `slot ${slot}`;
  });
}

type Reply = [Error | null, unknown];

// The node refused the command without running it: the slot moved (a failover) or is moving.
/** A Redis Cluster reply that sends the command elsewhere or asks to wait (slots moving). */
export const REDIRECTED = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN) /;

async function execOne<T>(redis: RedisClient, group: readonly T[], add: (pipeline: ChainableCommander, item: T) => void): Promise<Reply[]> {
  const pipeline = redis.pipeline();
  for (const item of group) add(pipeline, item);
  const results = (await pipeline.exec()) ?? [];
  return group.map((_, j) => results[j] ?? [new Error('no reply from Redis'), null]);
}

/**
 * Runs one command per item as a pipeline and answers the replies in item order: one pipeline on
 * one Redis; on a Cluster one per master, all in flight together. ioredis follows a failover's
 * MOVED for a pipeline only when all its commands got the same one: a command of a mixed pipeline
 * that was redirected (and so not run) is sent again on its own, which ioredis does follow. A
 * pipeline that fails whole (a lost connection) rejects, as pipeline.exec() does.
 */
export async function pipelinePerNode<T>(redis: RedisClient, items: readonly T[], keyOf: (item: T) => string, add: (pipeline: ChainableCommander, item: T) => void): Promise<Reply[]> {
  // One Redis: one pipeline, nothing to redirect.
  if (!redis.isCluster) return items.length > 0 ? execOne(redis, items, add) : [];
  const replies: Reply[] = new Array<Reply>(items.length);
  await Promise.all(
    byNode(redis, items.map((item, i) => ({ item, i })), ({ item }) => keyOf(item)).map(async (group) => {
      const results = await execOne(redis, group, (pipeline, { item }) => add(pipeline, item));
      await Promise.all(
        group.map(async ({ item, i }, j) => {
          const [err] = results[j]!;
          replies[i] = err && REDIRECTED.test(err.message) ? (await execOne(redis, [item], add))[0]! : results[j]!;
        }),
      );
    }),
  );
  return replies;
}
