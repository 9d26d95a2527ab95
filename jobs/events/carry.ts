import type { Trx } from '../../src/platform/db.ts';
import type { Services } from '../../src/services.ts';
import { appendCarried, type TopicDeps } from '../../src/domain/events/topicAppend.ts';
import type { Envelope } from '../../queues/outbox/envelope.ts';
import type { OutboxBatch } from '../../queues/outbox/runner.ts';

/**
 * A batched listener's effect that also appends the batch's events it carries (the registry's
 * `appendedBy`) to their topics, after the effect and before the rows are marked done: an append
 * that fails rolls the batch back for a retry, so each event is appended at least once.
 */
export function carryingTopics<P extends Envelope, R>(queue: string, effect: (trx: Trx, batch: OutboxBatch<P>, services: Services) => Promise<R>) {
  return async (trx: Trx, batch: OutboxBatch<P>, services: Services): Promise<R> => {
    const result = await effect(trx, batch, services);
    await appendCarried(topicDeps(services), queue, batch.payloads);
    return result;
  };
}

/** What a topic append needs, from the process's services. */
export function topicDeps(services: Services): TopicDeps {
  return { redis: services.redis, prefix: services.config.queuePrefix, maxLength: services.config.topicMaxLength };
}
