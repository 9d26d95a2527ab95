import type { ChatEvent } from '../../src/domain/chat/chatEvent.ts';
import { chatEventsOfOutbox } from '../../src/domain/chat/chatEventLog.ts';
import { runOutboxBatch, type BatchOutcome, type OutboxBatch } from '../../queues/outbox/batch.ts';
import { publishChatEvents } from '../../src/domain/chat/roomFeed.ts';
import type { Trx } from '../../src/platform/db.ts';
import { PermanentError } from '../../src/platform/errors.ts';
import type { Services } from '../../src/services.ts';
import type { JobContract, PayloadOf } from '../../queues/contract.ts';
import type { BatchedProcessor } from '../../queues/processor.ts';

/** What a wake job notes before its commit: the first row of its batch, which its chat events are filed under. */
interface Claimed {
  first: number;
  rows: number;
}

function isClaimed(value: unknown): value is Claimed {
  return typeof value === 'object' && value !== null && typeof (value as Claimed).first === 'number';
}

/**
 * Not a job: the wrapper every chat listener job runs in. Durable like durableJob (the effect runs
 * once, with the outbox row lock and the "done" mark). Each commit that writes a listener's rows
 * wakes its queue, and the wake job claims every waiting row up to CHAT_JOB_BATCH
 * (src/platform/outbox/batch.ts), so a backlog costs one job and one transaction per batch, not one
 * per event; a full batch wakes the queue again for the rest. Jobs made from a row (by the
 * reconciler, or the relay for rows it handles) run the same way with their own rows first.
 *
 * Room events the effect returns are already in chat_events, filed under the batch's first row; they
 * are pushed to Redis (history list, then pub/sub) after the commit. A job that committed but died
 * before the push pushes them again when it is run again (a wake job that filed events noted its
 * first row before committing, a row's job finds its row done): room events are published at least
 * once, and readers drop repeats by event_id.
 */
export function batchJob<C extends JobContract>(
  contract: C,
  effect: (trx: Trx, batch: OutboxBatch<PayloadOf<C>>, filedUnder: string) => Promise<ChatEvent[] | void>,
): BatchedProcessor<C> {
  const options = (services: Services) => ({ queue: contract.queue, schema: contract.schema, max: services.config.chat.jobBatch });
  const run = (trx: Trx, batch: OutboxBatch<PayloadOf<C>>) => effect(trx, batch, String(batch.ids[0]));

  async function finish(services: Services, outcome: BatchOutcome<ChatEvent[] | void>, again: string | null) {
    const { db, redis, config, relay, metrics } = services;
    if (!outcome.done) metrics.jobsProcessed.inc({ queue: contract.queue, outcome: 'duplicate' });
    else {
      relay.handOn(outcome.written);
      // A full batch likely left rows behind: another wake takes them, beside this job's next one.
      if (outcome.size >= config.chat.jobBatch) relay.wake([contract.queue]);
    }
    const events = outcome.done ? (outcome.result ?? []) : again ? await chatEventsOfOutbox(db, again) : [];
    await publishChatEvents({ redis, prefix: config.queuePrefix }, events);
    return outcome.done ? { batch: outcome.size, first: outcome.first, events: events.length } : { duplicate: true, events: events.length };
  }

  const processor = async (ctx: Parameters<BatchedProcessor<C>>[0]) => {
    const outboxId = ctx.outboxId;
    if (!outboxId) throw new PermanentError('a durable job must come from the outbox', 'not_from_outbox');
    const outcome = await runOutboxBatch(ctx.services.dbReadCommitted, options(ctx.services), { outboxId, payload: ctx.payload, relayedWith: ctx.outboxIds }, run);
    return finish(ctx.services, outcome, outboxId);
  };

  const wake: BatchedProcessor<C>['wake'] = async (ctx) => {
    const earlier = isClaimed(ctx.noted) ? ctx.noted : null;
    // Only a batch that filed room events has anything to push again: the others skip the round trip.
    const outcome = await runOutboxBatch(ctx.services.dbReadCommitted, options(ctx.services), null, run, async (batch, events) => {
      if (events && events.length > 0) await ctx.note({ first: batch.ids[0]!, rows: batch.ids.length } satisfies Claimed);
    });
    // A rerun after a commit whose push was lost: push what the earlier run filed.
    if (earlier && (!outcome.done || outcome.first !== earlier.first)) {
      await publishChatEvents({ redis: ctx.services.redis, prefix: ctx.services.config.queuePrefix }, await chatEventsOfOutbox(ctx.services.db, String(earlier.first)));
    }
    return finish(ctx.services, outcome, null);
  };

  return Object.assign(processor, { wake });
}
