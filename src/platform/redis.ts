import { Redis, type RedisOptions } from 'ioredis';

export type { Redis };

/**
 * One ioredis connection. `role` picks the failure policy BullMQ recommends: producers (API)
 * fail fast so a request gets a 503 instead of hanging; workers and subscribers retry forever.
 */
export function createRedis(url: string, role: 'producer' | 'worker', extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    // RESP2 keeps pub/sub on its own connection, as BullMQ and our ws bridge expect.
    protocol: 2,
    lazyConnect: false,
    enableOfflineQueue: role === 'worker',
    maxRetriesPerRequest: role === 'producer' ? 1 : null,
    retryStrategy: (times) => Math.min(times * 200, 5_000),
    // Commands issued in the same tick (many requests' SETs and adds) go out in one write.
    enableAutoPipelining: role === 'producer',
    ...extra,
  });
}
