import { backoffDelay } from '../../src/platform/backoff.ts';
import { continuedBackoff, deliverSeenBatch, type FactOutcome } from '../../src/domain/notify/deliverSeenBatch.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import { notifyContracts } from '../../queues/contracts/notify.ts';
import type { PayloadOf } from '../../queues/contract.ts';
import type { Processor } from '../../queues/processor.ts';
import { countDelivery, failureOutcome } from '../../src/domain/notify/deliveryMetrics.ts';
import type { EnqueueOptions } from '../../queues/producer.ts';

const single = notifyContracts['notify.deliver-seen'];

/**
 * The fact's own job after its batch call: the first attempt is spent, so it has one attempt
 * fewer, waits the integration's first backoff (less the time its batch took to finish) and
 * continues the schedule from the second delay on: the gaps between consumer calls are those of
 * a fact delivered alone.
 */
function factJob(o: Extract<FactOutcome, { ok: false }>, final: boolean, requestId: string | null | undefined) {
  const { integration } = o;
  const eventId = o.fact.event_id;
  const backoff = integration ? continuedBackoff(integration.backoff, 1) : single.backoff;
  const delayMs = final || !integration ? 0 : backoffDelay(integration.backoff, 1) - (performance.now() - o.endedAt);
  const opts: EnqueueOptions = { jobId: eventId, eventId, attempts: Math.max(1, (integration?.maxAttempts ?? 1) - 1), backoff, delayMs: Math.max(0, Math.round(delayMs)), ...(requestId ? { trace: { request_id: requestId } } : {}) };
  const payload: PayloadOf<typeof single> = { ...o.fact, attempts_before: 1, ...(final ? { failure: { message: o.message, code: o.code } } : {}) };
  return { payload, opts };
}

/**
 * First delivery of the seen facts one api process accepted together. Each fact that fails gets
 * a notify.deliver-seen job of its own (all in one addBulk): a retry, or, when the failure is
 * final, a job that fails at once with the consumer's reason and stays in the failed set.
 *
 * If this throws (Redis down while adding those jobs, a crash), the whole batch runs again and
 * facts already delivered are delivered again: consumers get Idempotency-Key = event_id and
 * deduplicate, and a fact's own job keeps its jobId = event_id, so it is not added twice.
 */
export const deliverSeenBatchJob: Processor<Contracts['notify.deliver-seen-batch']> = async ({ payload, services, requestIds, log }) => {
  const { metrics, notify, redis, config } = services;
  // A batch holds several requests' facts: each fact's line names its own request.
  if (log.isLevelEnabled('debug')) payload.facts.forEach((fact, i) => log.debug({ fact_event_id: fact.event_id, request_id: requestIds?.[i] ?? null }, 'seen fact handled'));
  const requestOf = new Map(payload.facts.map((fact, i) => [fact.event_id, requestIds?.[i]]));
  const outcomes = await deliverSeenBatch({ redis, prefix: config.queuePrefix }, notify.integrations, payload.facts);
  const follow = [];
  for (const o of outcomes) {
    const consumer = o.fact.tag;
    if (o.integration) metrics.deliveryLatency.observe({ consumer }, o.seconds);
    if (o.ok) {
      countDelivery(metrics, consumer, 'delivered', 1);
      continue;
    }
    const retry = o.retryable && o.integration !== null && o.integration.maxAttempts > 1;
    if (o.integration) countDelivery(metrics, consumer, failureOutcome(o.retryable, retry), 1);
    follow.push(factJob(o, !retry, requestOf.get(o.fact.event_id)));
  }
  await services.queues.enqueueMany(single, follow);
  return { facts: outcomes.length, followUps: follow.length };
};
