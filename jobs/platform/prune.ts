import type { Contracts } from '../../queues/contracts/index.ts';
import type { Processor } from '../../queues/processor.ts';

/** Deletes in small batches so the prune never holds long locks on the hot outbox table. */
export const pruneJob: Processor<Contracts['platform.prune']> = async ({ payload, services, log }) => {
  const { db, clock } = services;
  const outboxBefore = new Date(clock.now() - payload.outbox_retention_ms);
  const keysBefore = new Date(clock.now() - payload.idempotency_retention_ms);
  let outbox = 0;
  for (let n = -1; n !== 0; outbox += n) {
    n = await db('outbox').where('status', 'done').andWhere('done_at', '<', outboxBefore).limit(1000).delete();
  }
  let keys = 0;
  for (let n = -1; n !== 0; keys += n) {
    n = await db('idempotency_keys').where('created_at', '<', keysBefore).limit(1000).delete();
  }
  log.info({ outbox, keys }, 'pruned');
  return { outbox, keys };
};
