import type { RedisClient } from '../../platform/redis.ts';
import { PermanentError } from '../../platform/errors.ts';
import { postJson } from '../../platform/httpClient.ts';
import type { Integration } from './integrations.ts';
import type { SeenFact } from './seenFact.ts';

/** A delivery that may succeed later: a network error, a timeout, 408, 429 or 5xx. */
export class RetryableDeliveryError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
    this.name = 'RetryableDeliveryError';
  }
}

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export async function deliverHttp(integration: Integration, fact: SeenFact): Promise<number> {
  let status: number;
  try {
    ({ status } = await postJson(integration.url!, JSON.stringify(fact), { 'idempotency-key': fact.event_id }, integration.timeoutMs));
  } catch (err) {
    throw new RetryableDeliveryError(`${integration.tag}: ${(err as Error).message}`, null);
  }
  if (status >= 200 && status < 300) return status;
  if (isRetryableStatus(status)) throw new RetryableDeliveryError(`${integration.tag}: consumer answered ${status}`, status);
  throw new PermanentError(`${integration.tag}: consumer refused with ${status}`, 'consumer_refused');
}

/** A topic entry's fields: the same as an HTTP consumer's body. */
export function topicEntry(fact: SeenFact): string[] {
  return ['event_id', fact.event_id, 'tag', fact.tag, 'id', fact.id, 'kind', fact.kind, 'identity', JSON.stringify(fact.identity), 'seen_at', fact.seen_at];
}

export function topicStream(prefix: string, integration: Integration): string {
  return `${prefix}:topic:${integration.topic!}`;
}

async function deliverTopic(redis: RedisClient, prefix: string, integration: Integration, fact: SeenFact): Promise<void> {
  // Consumers of the stream deduplicate by event_id: a retry after a lost reply may append twice.
  await redis.xadd(topicStream(prefix, integration), 'MAXLEN', '~', '1000000', '*', ...topicEntry(fact));
}

/** Delivers one seen fact to the service that owns its tag. Throws Retryable or Permanent errors. */
export async function deliverSeen(deps: { redis: RedisClient; prefix: string }, integration: Integration, fact: SeenFact): Promise<void> {
  if (integration.delivery === 'http') await deliverHttp(integration, fact);
  else await deliverTopic(deps.redis, deps.prefix, integration, fact);
}
