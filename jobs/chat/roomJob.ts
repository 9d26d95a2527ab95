import type { ChatEvent } from '../../src/domain/chat/chatEvent.ts';
import { chatEventsOfOutbox } from '../../src/domain/chat/chatEventLog.ts';
import { publishChatEvents } from '../../src/domain/chat/roomFeed.ts';
import type { Trx } from '../../src/platform/db.ts';
import { PermanentError } from '../../src/platform/errors.ts';
import { runDurable } from '../../src/platform/outbox/durable.ts';
import type { JobContract, PayloadOf } from '../../queues/contract.ts';
import type { JobContext, Processor } from '../../queues/processor.ts';

/**
 * Not a job: the wrapper of the chat jobs that show something in a room. Like durableJob, the
 * effect runs once with the outbox row lock; its room events are written to chat_events in that
 * transaction and pushed to Redis (history list, then pub/sub) after the commit. A redelivery of a
 * job that already committed (its worker died before the push) pushes the stored events again, so
 * a room event is published at least once; readers drop repeats by event_id.
 */
export function roomJob<C extends JobContract>(effect: (trx: Trx, ctx: JobContext<PayloadOf<C>>) => Promise<ChatEvent[]>): Processor<C> {
  return async (ctx) => {
    const { db, redis, config, relay } = ctx.services;
    const outboxId = ctx.outboxId;
    if (!outboxId) throw new PermanentError('a durable job must come from the outbox', 'not_from_outbox');
    const outcome = await runDurable(db, outboxId, (trx) => effect(trx, ctx));
    const events = outcome.done ? outcome.result : await chatEventsOfOutbox(db, outboxId);
    if (outcome.done) relay.kick();
    await publishChatEvents({ redis, prefix: config.queuePrefix }, events);
    return { events: events.length, ...(outcome.done ? {} : { duplicate: true }) };
  };
}
