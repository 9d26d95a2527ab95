import { SeenFact } from '../../src/domain/notify/seenFact.ts';
import { defineJob } from '../contract.ts';

export const notifyContracts = {
  /** Delivers one "notification seen" fact to the service that owns its tag (seed 003). */
  'notify.deliver-seen': defineJob({
    queue: 'notify.deliver-seen',
    description: 'Deliver a seen fact by HTTP call or Redis-stream topic, per the tag integration',
    schema: SeenFact,
    version: 1,
    // Overridden per integration at enqueue time (attempts) and in the job data (backoff).
    attempts: 50,
    backoff: { delayMs: 1000, maxDelayMs: 600_000, jitter: 0.2 },
    concurrency: 50,
    // Retry-safe and high volume: straight to Redis; production Redis runs with AOF (DESIGN.md).
    durable: false,
    keepCompleted: 1000,
  }),
};
