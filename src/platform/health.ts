import type { Redis } from 'ioredis';
import type { Db } from './db.ts';

async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), ms)));
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether Redis and MySQL answer within a second each. */
export async function readiness(services: { redis: Pick<Redis, 'ping'>; db: Db }): Promise<{ redis: boolean; mysql: boolean }> {
  const [redis, mysql] = await Promise.all([
    within(1000, services.redis.ping()).then(() => true, () => false),
    within(1000, services.db.raw('SELECT 1')).then(() => true, () => false),
  ]);
  return { redis, mysql };
}
