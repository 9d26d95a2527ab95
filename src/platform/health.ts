import type { Cluster, Redis, RedisClient } from './redis.ts';
import type { DbWatch } from './dbWatch.ts';

export interface Check {
  ok: boolean;
  error?: string;
}

async function within(ms: number, work: Promise<unknown>): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)));
  try {
    await Promise.race([work, timeout]);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

export interface RedisCheck extends Check {
  /** Redis's maxmemory-policy as INFO reports it (CONFIG GET may be disabled); null if unknown. */
  eviction_policy?: string | null;
  /** Redis Cluster only: CLUSTER INFO's cluster_state (ok or fail) and each master the client knows. */
  cluster_state?: string;
  masters?: ({ node: string } & RedisCheck)[];
}

/**
 * Redis answers within a second and will not evict keys: any policy but noeviction lets Redis drop
 * queue keys (BullMQ's jobs), so such a Redis is not ready.
 */
async function redisCheck(redis: Pick<Redis, 'info'>): Promise<RedisCheck> {
  let policy: string | null = null;
  const answered = await within(1000, redis.info('memory').then((info) => (policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1] ?? null)));
  if (!answered.ok) return answered;
  if (policy !== null && policy !== 'noeviction') return { ok: false, error: `maxmemory-policy is ${policy}; queues need noeviction`, eviction_policy: policy };
  return { ok: true, eviction_policy: policy };
}

/**
 * A Redis Cluster is ready when it says so (cluster_state:ok: every slot served) and every master
 * that serves slots answers and keeps every key, as a single Redis must. The first node to answer
 * speaks for the cluster: one that died keeps a place in the client's pool until the slot map is
 * read again, and must not make the check wait.
 */
async function clusterCheck(cluster: Cluster): Promise<RedisCheck> {
  const pool = cluster.nodes('all');
  let view: { info: string; shards: Awaited<ReturnType<Cluster['cluster']>> } | undefined;
  const asked = await within(
    1000,
    Promise.any(pool.map(async (node) => ({ info: String(await node.cluster('INFO')), shards: await node.cluster('SLOTS') }))).then((v) => (view = v)),
  );
  if (!asked.ok || !view) return { ok: false, error: `no cluster node answers CLUSTER INFO: ${asked.error ?? 'no node known'}`, cluster_state: 'unknown', masters: [] };
  const state = /^cluster_state:(\S+)/m.exec(view.info)?.[1] ?? 'unknown';
  const addresses = [...new Set(view.shards.flatMap(([, , master]) => (master ? [`${master[0]}:${master[1]}`] : [])))].sort();
  const masters = await Promise.all(
    addresses.map(async (address) => {
      const node = pool.find((n) => `${n.options.host}:${n.options.port}` === address);
      return { node: address, ...(node ? await redisCheck(node) : { ok: false, error: 'not in the client\'s slot map yet' }) };
    }),
  );
  const bad = masters.filter((m) => !m.ok);
  const error = state !== 'ok' ? `cluster_state is ${state}` : masters.length === 0 ? 'no master serves slots' : bad.length > 0 ? bad.map((m) => `${m.node}: ${m.error}`).join('; ') : undefined;
  return { ok: error === undefined, ...(error ? { error } : {}), cluster_state: state, masters };
}

/** Whether Redis answers (and keeps every key) and MySQL answers the api's probe (src/platform/dbWatch.ts). */
export async function readiness(services: { redis: RedisClient; dbWatch: Pick<DbWatch, 'check'> }): Promise<{ redis: RedisCheck; mysql: Check }> {
  const [redis, mysql] = await Promise.all([
    services.redis.isCluster ? clusterCheck(services.redis as Cluster) : redisCheck(services.redis as Redis),
    // The probe bounds itself (DB_WATCH_TIMEOUT).
    services.dbWatch.check().then((error): Check => (error === null ? { ok: true } : { ok: false, error })),
  ]);
  return { redis, mysql };
}
