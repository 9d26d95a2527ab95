import type { Metrics } from '../../platform/metrics.ts';

export type DeliveryOutcome = 'delivered' | 'retry' | 'gave_up' | 'refused';

/** A failed call's outcome: retried, given up after retryable failures, or refused (other 4xx, bad tag). */
export function failureOutcome(retryable: boolean, willRetry: boolean): DeliveryOutcome {
  return willRetry ? 'retry' : retryable ? 'gave_up' : 'refused';
}

/**
 * Per-consumer delivery metrics, shared by a batch's first calls and a fact's own retries: every
 * call counted by outcome; the attempts a fact took recorded once, when it is settled.
 */
export function countDelivery(metrics: Metrics, consumer: string, outcome: DeliveryOutcome, attempts: number): void {
  metrics.deliveries.inc({ consumer, outcome });
  if (outcome !== 'retry') metrics.deliveryAttempts.observe({ consumer, outcome }, attempts);
}
