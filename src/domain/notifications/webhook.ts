import { PermanentError } from '../../platform/errors.ts';
import { isRetryableStatus, RetryableDeliveryError } from '../notify/deliverSeen.ts';

export { RetryableDeliveryError };

export interface WebhookCall {
  url: string;
  body: unknown;
  /** Sent as Idempotency-Key: the receiver drops a repeat after a lost reply. */
  idempotencyKey: string;
  timeoutMs: number;
  /** Names the receiver in error messages ("push", "points service"). */
  what: string;
}

/**
 * POSTs JSON to a webhook. 2xx is success; a network error, a timeout, 408, 429 or 5xx throws
 * RetryableDeliveryError (retry with backoff); any other answer throws PermanentError.
 */
export async function postWebhook(call: WebhookCall): Promise<number> {
  let response: Response;
  try {
    response = await fetch(call.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': call.idempotencyKey },
      body: JSON.stringify(call.body),
      signal: AbortSignal.timeout(call.timeoutMs),
      redirect: 'manual',
    });
  } catch (err) {
    const reason = (err as Error).name === 'TimeoutError' ? `timed out after ${call.timeoutMs} ms` : (err as Error).message;
    throw new RetryableDeliveryError(`${call.what}: ${reason}`, null);
  }
  // Drain the body so the connection goes back to the pool.
  await response.arrayBuffer().catch(() => undefined);
  if (response.status >= 200 && response.status < 300) return response.status;
  if (isRetryableStatus(response.status)) throw new RetryableDeliveryError(`${call.what} answered ${response.status}`, response.status);
  throw new PermanentError(`${call.what} refused with ${response.status}`, 'webhook_refused');
}
