import { deliverSeen, RetryableDeliveryError } from '../../src/domain/notify/deliverSeen.ts';
import { PermanentError } from '../../src/platform/errors.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import type { Processor } from '../../queues/processor.ts';

/** Delivers a seen fact; per-consumer metrics record every outcome and how many attempts it took. */
export const deliverSeenJob: Processor<Contracts['notify.deliver-seen']> = async ({ payload, services, attempt, maxAttempts }) => {
  const { metrics, notify, redis, config } = services;
  const integration = notify.integrations.get(payload.tag);
  if (!integration) throw new PermanentError(`no integration for tag "${payload.tag}"`, 'unknown_tag');
  const consumer = payload.tag;
  const stop = metrics.deliveryLatency.startTimer({ consumer });
  try {
    await deliverSeen({ redis, prefix: config.queuePrefix }, integration, payload);
    metrics.deliveries.inc({ consumer, outcome: 'delivered' });
    metrics.deliveryAttempts.observe({ consumer, outcome: 'delivered' }, attempt);
  } catch (err) {
    const retryable = err instanceof RetryableDeliveryError && attempt < maxAttempts;
    const outcome = retryable ? 'retry' : err instanceof RetryableDeliveryError ? 'gave_up' : 'refused';
    metrics.deliveries.inc({ consumer, outcome });
    if (!retryable) metrics.deliveryAttempts.observe({ consumer, outcome }, attempt);
    throw err;
  } finally {
    stop();
  }
};
