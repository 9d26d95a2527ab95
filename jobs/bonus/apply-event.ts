import { actorDepsOf, actorEvent, applyToActor } from '../../src/domain/bonus/actor.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import { durableJob } from '../../queues/outbox/processors.ts';

/** Applies an upstream event to its user's actor, exactly once (outbox row lock). */
export const applyEventJob = durableJob<Contracts['bonus.apply-event']>(async (trx, { payload, services }) => {
  const { userId, event } = actorEvent(payload);
  const result = await applyToActor(trx, actorDepsOf(services), userId, event);
  return { state: result.state.state };
});
