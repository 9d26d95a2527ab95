import { pruneConnections } from '../../src/domain/chat/connections.ts';
import { pruneConsumed } from '../../src/domain/events/consumed.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import type { Processor } from '../../queues/processor.ts';

/** Deletes in small batches so the prune never holds long locks on the hot outbox table. Connection rows a closed socket left (its process crashed) or an external gateway registered go by age. */
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
  const connections = payload.connection_retention_ms === undefined ? 0 : await pruneConnections(db, new Date(clock.now() - payload.connection_retention_ms));
  const consumed = payload.consumed_retention_ms === undefined ? 0 : await pruneConsumed(db, new Date(clock.now() - payload.consumed_retention_ms));
  log.info({ outbox, keys, connections, consumed }, 'pruned');
  return { outbox, keys, connections, consumed };
};
