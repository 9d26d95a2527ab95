import type { Redis } from 'ioredis';
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

/** Whether Redis answers within a second and MySQL the api's probe (src/platform/dbWatch.ts). */
export async function readiness(services: { redis: Pick<Redis, 'ping'>; dbWatch: Pick<DbWatch, 'check'> }): Promise<{ redis: Check; mysql: Check }> {
  const [redis, mysql] = await Promise.all([
    within(1000, services.redis.ping()),
    // The probe bounds itself (DB_WATCH_TIMEOUT).
    services.dbWatch.check().then((error): Check => (error === null ? { ok: true } : { ok: false, error })),
  ]);
  return { redis, mysql };
}
