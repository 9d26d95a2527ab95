import type { Services } from '../services.ts';

async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), ms)));
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface Readiness {
  redis: boolean;
  mysql: boolean;
  /** Redis's maxmemory-policy; anything but noeviction lets Redis drop queue keys (BullMQ's jobs). */
  redis_eviction_policy: string | null;
}

export const isReady = (r: Readiness) => r.redis && r.mysql && r.redis_eviction_policy === 'noeviction';

/** The policy as INFO reports it (CONFIG GET may be disabled on managed Redis); null if unknown. */
async function evictionPolicy(services: Services): Promise<string | null> {
  const info = await services.redis.info('memory');
  return /^maxmemory_policy:(\S+)/m.exec(info)?.[1] ?? null;
}

/** Whether Redis and MySQL answer within a second each, and Redis will not evict queue keys. */
export async function readiness(services: Services): Promise<Readiness> {
  const [policy, mysql] = await Promise.all([
    within(1000, evictionPolicy(services)).then((p) => ({ up: true, p }), () => ({ up: false, p: null })),
    within(1000, services.db.raw('SELECT 1')).then(() => true, () => false),
  ]);
  return { redis: policy.up, mysql, redis_eviction_policy: policy.p };
}
