import type { ChatEvent } from '../../src/domain/chat/chatEvent.ts';
import { chatEventsOfOutbox } from '../../src/domain/chat/chatEventLog.ts';
import { runOutboxBatch, type OutboxBatch } from '../../src/platform/outbox/batch.ts';
import { publishChatEvents } from '../../src/domain/chat/roomFeed.ts';
import type { Trx } from '../../src/platform/db.ts';
import { PermanentError } from '../../src/platform/errors.ts';
import type { JobContract, PayloadOf } from '../../queues/contract.ts';
import type { Processor } from '../../queues/processor.ts';

/**
 * Not a job: the wrapper every chat listener job runs in. Durable like durableJob (the effect runs
 * once, with the outbox row lock and the "done" mark). The relay sends the rows it finds in one pass
 * as one job (up to CHAT_JOB_BATCH), and the job takes along other waiting rows of its queue up to
 * that size (src/platform/outbox/batch.ts), so a backlog costs one job and one transaction per
 * batch, not one per event. Room events the effect returns are already in
 * chat_events; they are pushed to Redis (history list, then pub/sub) after the commit. A redelivery
 * of a job that committed but died before the push pushes the stored events again: room events are
 * published at least once, and readers drop repeats by event_id.
 */
export function batchJob<C extends JobContract>(
  contract: C,
  effect: (trx: Trx, batch: OutboxBatch<PayloadOf<C>>, outboxId: string) => Promise<ChatEvent[] | void>,
): Processor<C> {
  return async (ctx) => {
    const { db, redis, config, relay, metrics } = ctx.services;
    const outboxId = ctx.outboxId;
    if (!outboxId) throw new PermanentError('a durable job must come from the outbox', 'not_from_outbox');
    const outcome = await runOutboxBatch(
      db,
      { queue: contract.queue, schema: contract.schema, max: config.chat.jobBatch },
      { outboxId, payload: ctx.payload, relayedWith: ctx.outboxIds },
      async (trx, batch) => (await effect(trx, batch, outboxId)) ?? [],
    );
    if (!outcome.done) metrics.jobsProcessed.inc({ queue: contract.queue, outcome: 'duplicate' });
    else relay.kick();
    const events = outcome.done ? outcome.result : await chatEventsOfOutbox(db, outboxId);
    await publishChatEvents({ redis, prefix: config.queuePrefix }, events);
    return outcome.done ? { batch: outcome.size, events: events.length } : { duplicate: true, events: events.length };
  };
}
