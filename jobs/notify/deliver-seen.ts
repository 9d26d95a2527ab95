import { deliverSeen, RetryableDeliveryError } from '../../src/domain/notify/deliverSeen.ts';
import { PermanentError } from '../../src/platform/errors.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import type { Processor } from '../../queues/processor.ts';
import { countDelivery, failureOutcome } from '../../src/domain/notify/deliveryMetrics.ts';

/**
 * Delivers one seen fact after its first attempt, in a notify.deliver-seen-batch job, failed;
 * per-consumer metrics record every outcome and how many attempts (the batch's included) it took.
 */
export const deliverSeenJob: Processor<Contracts['notify.deliver-seen']> = async ({ payload, services, attempt, maxAttempts, queue, jobId }) => {
  const { metrics, notify, redis, config } = services;
  const { attempts_before: before = 0, failure, ...fact } = payload;
  if (failure) {
    // The batch's call failed for good and was counted there. Fail now with its reason, without
    // a call, so the fact waits in the failed set; dropping the failure first makes a retry
    // from Bull Board deliver for real.
    const job = await services.queues.get(queue).getJob(jobId);
    await job?.updateData({ ...(job.data as object), payload: { ...fact, attempts_before: before } });
    throw new PermanentError(failure.message, failure.code);
  }
  const integration = notify.integrations.get(fact.tag);
  if (!integration) throw new PermanentError(`no integration for tag "${fact.tag}"`, 'unknown_tag');
  const consumer = fact.tag;
  const overall = before + attempt;
  const stop = metrics.deliveryLatency.startTimer({ consumer });
  try {
    await deliverSeen({ redis, prefix: config.queuePrefix }, integration, fact);
    countDelivery(metrics, consumer, 'delivered', overall);
  } catch (err) {
    const retryable = err instanceof RetryableDeliveryError;
    countDelivery(metrics, consumer, failureOutcome(retryable, retryable && attempt < maxAttempts), overall);
    throw err;
  } finally {
    stop();
  }
};
