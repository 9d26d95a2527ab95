import { applyUserCopy } from '../../src/domain/popug/users.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import { durableJob } from '../../queues/outbox/processors.ts';

/** Keeps the tracker's user copy; a role change takes the user out of (or into) assignment. */
export const trackerAccountsJob = durableJob<Contracts['popug.tracker-accounts']>(async (trx, { payload }) => {
  return { applied: await applyUserCopy(trx, 'popug_tracker_users', payload.payload) };
});
