import type { RedisClient } from './redis.ts';
import { RateLimited } from './errors.ts';

const MINUTE = 60_000;

// One command: it rides the connection's auto-pipeline with the other requests' commands of the
// same tick, where an explicit INCR + PEXPIRE pipeline was a socket write of its own per request.
const TAKE = "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return n";

/**
 * The limits every api process shares: a fixed one-minute window per bucket (what is limited:
 * `chat:message`, `notify:anonymous`, `admin:auth-failure`...) and caller (a user id, a client IP),
 * counted in Redis. Every take counts, refused ones too, so a caller hammering past the limit
 * stays refused until the window turns.
 */
export interface RateLimitDeps {
  redis: RedisClient;
  prefix: string;
}

function windowKey(deps: RateLimitDeps, bucket: string, who: string, now: number): { key: string; retryAfter: number } {
  const window = Math.floor(now / MINUTE);
  return {
    key: `${deps.prefix}:rate:${bucket}:${who}:${window}`,
    retryAfter: Math.max(1, Math.ceil(((window + 1) * MINUTE - now) / 1000)),
  };
}

/** Counts one request; throws RateLimited (429, Retry-After = seconds to the next window) past `perMinute`. */
export async function takeRateToken(deps: RateLimitDeps, bucket: string, who: string, perMinute: number, now = Date.now()): Promise<void> {
  const { key, retryAfter } = windowKey(deps, bucket, who, now);
  const count = Number(await deps.redis.eval(TAKE, 1, key, MINUTE + 1_000));
  if (count > perMinute) throw new RateLimited(retryAfter);
}

/** Throws RateLimited if this window already counted more than `perMinute`, without counting (one GET). */
export async function refuseIfOverLimit(deps: RateLimitDeps, bucket: string, who: string, perMinute: number, now = Date.now()): Promise<void> {
  const { key, retryAfter } = windowKey(deps, bucket, who, now);
  if (Number((await deps.redis.get(key)) ?? 0) >= perMinute) throw new RateLimited(retryAfter);
}
