import { pruneProcessedEvents } from '../../src/domain/bonus/ingest.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import type { Processor } from '../../queues/processor.ts';

/** Forgets event ids older than the dedupe window (bonus config `dedupe_for`). */
export const pruneEventsJob: Processor<Contracts['bonus.prune-events']> = async ({ services, log }) => {
  const deleted = await pruneProcessedEvents(services.db, new Date(services.clock.now() - services.bonus.dedupeForMs));
  log.info({ deleted }, 'processed events pruned');
  return { deleted };
};
