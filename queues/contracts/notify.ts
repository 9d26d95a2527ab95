import { Type } from '@sinclair/typebox';
import { SeenFact } from '../../src/domain/notify/seenFact.ts';
import { defineJob } from '../contract.ts';

/** One fact's own job: a retry after its first delivery in a batch failed, or a failure kept for Bull Board. */
const SeenFactJob = Type.Object(
  {
    ...SeenFact.properties,
    /** Consumer calls already made for this fact (in its batch); keeps attempt numbers in metrics right. */
    attempts_before: Type.Optional(Type.Integer({ minimum: 0 })),
    /**
     * The batch's delivery failed for good: the job fails at once with this reason, without a
     * call, and drops it, so a retry from Bull Board delivers for real.
     */
    failure: Type.Optional(Type.Object({ message: Type.String(), code: Type.String() }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

export const notifyContracts = {
  /**
   * Delivers seen facts accepted together by one api process (one event-loop turn): each fact's
   * first attempt. A fact that fails is handed to `notify.deliver-seen`, one job per fact.
   */
  'notify.deliver-seen-batch': defineJob({
    queue: 'notify.deliver-seen-batch',
    description: 'First delivery of a batch of seen facts; retries and failures go on in notify.deliver-seen, one job per fact',
    schema: Type.Object({ facts: Type.Array(SeenFact, { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false }),
    version: 1,
    // A crashed, stalled or Redis-failed batch runs again; consumers dedupe by Idempotency-Key.
    attempts: 5,
    backoff: { delayMs: 500, maxDelayMs: 10_000, jitter: 0.2 },
    concurrency: 50,
    // Retry-safe and high volume: straight to Redis; production Redis runs with AOF.
    durable: false,
    keepCompleted: 1000,
  }),
  /** Delivers one "notification seen" fact to the service that owns its tag, after its batch attempt failed (seed 003). */
  'notify.deliver-seen': defineJob({
    queue: 'notify.deliver-seen',
    description: 'Retry the delivery of one seen fact by HTTP call or Redis-stream topic, per the tag integration',
    schema: SeenFactJob,
    // 2: attempts_before and failure (a v1 job, a bare fact, is still valid).
    version: 2,
    // Overridden per integration at enqueue time (attempts) and in the job data (backoff).
    attempts: 50,
    backoff: { delayMs: 1000, maxDelayMs: 600_000, jitter: 0.2 },
    concurrency: 50,
    durable: false,
    keepCompleted: 1000,
  }),
};
