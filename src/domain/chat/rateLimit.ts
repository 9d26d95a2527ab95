import type { Redis } from 'ioredis';
import { RateLimited } from '../../platform/errors.ts';

const MINUTE = 60_000;

// One command: it rides the connection's auto-pipeline with the other requests' commands of the
// same tick, where an explicit INCR + PEXPIRE pipeline was a socket write of its own per request.
const TAKE = "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return n";

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
  const count = Number(await deps.redis.eval(TAKE, 1, key, MINUTE + 1_000));
  if (count > perMinute) throw new RateLimited(Math.max(1, Math.ceil(((window + 1) * MINUTE - now) / 1000)));
}
