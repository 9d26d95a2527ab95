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

/** How many attempts retry for about windowMs: enough that their mean delays add up to it. */
export function attemptsWithin(backoff: Backoff, windowMs: number): number {
  let total = 0;
  let attempts = 1;
  while (total < windowMs && attempts < 10_000) {
    total += Math.min(backoff.maxDelayMs, backoff.delayMs * 2 ** Math.min(attempts - 1, 40)) * (1 - backoff.jitter / 2);
    attempts++;
  }
  return attempts;
}
