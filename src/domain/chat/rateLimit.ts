import type { Redis } from 'ioredis';
import { RateLimited } from '../../platform/errors.ts';

const MINUTE = 60_000;

/**
 * A fixed one-minute window per sender and action, counted in Redis so every api process shares
 * it. Throws RateLimited (429, Retry-After = seconds to the next window) past `perMinute`.
 */
export async function takeRateToken(
  deps: { redis: Redis; prefix: string },
  action: 'message' | 'donation',
  sender: string,
  perMinute: number,
  now = Date.now(),
): Promise<void> {
  const window = Math.floor(now / MINUTE);
  const key = `${deps.prefix}:chat:rate:${action}:${sender}:${window}`;
  const results = await deps.redis.pipeline().incr(key).pexpire(key, MINUTE + 1_000).exec();
  const count = Number(results?.[0]?.[1] ?? 0);
  if (count > perMinute) throw new RateLimited(Math.max(1, Math.ceil(((window + 1) * MINUTE - now) / 1000)));
}
