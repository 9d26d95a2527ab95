import { acceptEvent, checkEnvelope } from '../../src/domain/bonus/ingest.ts';
import { bonusEvents } from '../../src/domain/bonus/events.ts';
import { AppError, PermanentError } from '../../src/platform/errors.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import type { Processor } from '../../queues/processor.ts';

/**
 * The queue twin of POST /events for the bonus events: a bad event fails for good with its code in
 * the failed reason. Exercise events come through POST /events only, so an event still waiting here
 * never holds back a contract migration unseen (src/db/pendingEvents.ts counts outbox rows).
 */
export const ingestJob: Processor<Contracts['bonus.ingest']> = async ({ payload, services, trace }) => {
  try {
    const { def, envelope } = checkEnvelope(bonusEvents, payload);
    return await services.outbox.transaction((trx) => acceptEvent(trx, def, envelope, new Date(services.clock.now())), { trace });
  } catch (err) {
    if (err instanceof AppError && err.status < 500) throw new PermanentError(`${err.code}: ${err.message}`, err.code);
    throw err;
  }
};
