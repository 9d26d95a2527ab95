import { actorDepsOf, applyToActor } from '../../src/domain/bonus/actor.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import { durableJob } from '../../queues/outbox/processors.ts';

/** The hold is over: the actor pays (once), waits for a link, or ignores a stale timer. */
export const holdExpiredJob = durableJob<Contracts['bonus.hold-expired']>(async (trx, { payload, services }) => {
  const result = await applyToActor(trx, actorDepsOf(services), payload.user_id, { type: 'hold_expired', listingId: payload.listing_id, seq: payload.seq });
  return { state: result.state.state, effects: result.effects.map((e) => e.type) };
});
