import { actorDepsOf, actorEvent, applyToActor } from '../../src/domain/bonus/actor.ts';
import { takeOnce } from '../../src/domain/events/consumed.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import { durableJob } from '../../queues/outbox/processors.ts';

/**
 * Applies an upstream event to its user's actor, exactly once: the outbox row lock covers a job
 * delivered twice, and the (event_id, produced_at) pair a second row carrying the same event (a
 * replayed dead letter, a resend that got past the door's event_id check).
 */
export const applyEventJob = durableJob<Contracts['bonus.apply-event']>(async (trx, { payload, services, queue, log }) => {
  if (!(await takeOnce(trx, queue, payload))) {
    log.info({ event_id: payload.event_id }, 'event taken before; skipped');
    return { skipped: 'already_taken' };
  }
  const { userId, event } = actorEvent(payload);
  const result = await applyToActor(trx, actorDepsOf(services), userId, event);
  return { state: result.state.state };
});
