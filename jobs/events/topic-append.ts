import { eventRegistry } from '../../src/domain/events/catalog.ts';
import { topicEntry, topicStream } from '../../src/domain/events/topics.ts';
import { PermanentError } from '../../src/platform/errors.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import { durableJob } from '../../queues/outbox/processors.ts';

/**
 * Appends an event to its topic's stream, bounded (XADD MAXLEN ~). At least once: a job that
 * appended but died before its commit appends again, so stream readers drop repeats by
 * (event_id, produced_at), as every consumer does.
 */
export const topicAppendJob = durableJob<Contracts['events.topic-append']>(async (_trx, { payload, services }) => {
  const event = eventRegistry.event(payload.event_name);
  if (!event) throw new PermanentError(`no registered event ${payload.event_name}`, 'unknown_schema');
  const { redis, config } = services;
  const id = await redis.xadd(topicStream(config.queuePrefix, event.topic), 'MAXLEN', '~', String(config.topicMaxLength), '*', ...topicEntry(payload));
  return { topic: event.topic, id };
});
