export interface Backoff {
  /** First retry delay; each further attempt doubles it. */
  delayMs: number;
  /** Cap on one delay, so a long outage is retried at a steady pace. */
  maxDelayMs: number;
  /** Fraction of each delay that is random, so retries from many jobs do not arrive in lockstep. */
  jitter: number;
}

/** Exponential backoff with a cap and jitter: delay = min(max, delay * 2^(n-1)) * (1 - jitter * rand). */
export function backoffDelay(backoff: Backoff, attemptsMade: number, random = Math.random()): number {
  const exponent = Math.max(0, attemptsMade - 1);
  const raw = Math.min(backoff.maxDelayMs, backoff.delayMs * 2 ** Math.min(exponent, 40));
  return Math.round(raw * (1 - backoff.jitter * random));
}
