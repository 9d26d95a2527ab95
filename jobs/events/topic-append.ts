import { eventsContracts } from '../../queues/contracts/events.ts';
import { appendTopics } from '../../src/domain/events/topicAppend.ts';
import { batchedJob } from '../../queues/outbox/processors.ts';
import { topicDeps } from './carry.ts';

/**
 * Appends a batch of events to their topics' streams (XADD MAXLEN ~): the rows the job claimed, in
 * outbox id order, one script per stream, each stream's appends in that order; the rows are
 * marked done in the same transaction, after the append. At least once: a batch that appended but
 * rolled back or died before its commit appends again, so stream readers drop repeats by
 * (event_id, produced_at), as every consumer does.
 */
export const topicAppendJob = batchedJob(
  eventsContracts['events.topic-append'],
  async (_trx, batch, services) => {
    await appendTopics(topicDeps(services), batch.payloads);
  },
  undefined,
  { batchSize: (services) => services.config.topicAppendBatch, inOrder: true },
);
