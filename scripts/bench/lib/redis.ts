import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** A queue prefix no other run shares, so runs never see each other's jobs and cleanup is one SCAN. */
export function benchPrefix(stem = 'bench'): string {
  return `${stem}-${randomBytes(4).toString('hex')}`;
}

/**
 * A client for BullMQ. `blocking` ones (Worker, QueueEvents) must retry forever, as BullMQ
 * requires; producers fail fast so a dead Redis ends the run instead of hanging it.
 */
export function benchRedis(url = DEFAULT_REDIS_URL, blocking = false, extra: RedisOptions = {}): Redis {
  const host = new URL(url).hostname;
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) throw new Error(`benchmarks use the local Redis only, got ${host}`);
  return new Redis(url, { maxRetriesPerRequest: blocking ? null : 1, ...extra });
}

/** Deletes every key under `prefix:` (SCAN + UNLINK); returns how many. */
export async function deletePrefix(redis: Redis, prefix: string): Promise<number> {
  if (!/^[\w.-]+$/.test(prefix)) throw new Error(`refusing to delete keys for prefix "${prefix}"`);
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}
