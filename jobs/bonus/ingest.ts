import { acceptEvent, checkEnvelope } from '../../src/domain/bonus/ingest.ts';
import { upstreamEvents } from '../../src/domain/events/catalog.ts';
import { withTransaction } from '../../src/platform/db.ts';
import { AppError, PermanentError } from '../../src/platform/errors.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import type { Processor } from '../../queues/processor.ts';

/** The queue twin of POST /events: a bad event fails for good with its code in the failed reason. */
export const ingestJob: Processor<Contracts['bonus.ingest']> = async ({ payload, services }) => {
  try {
    const { def, envelope } = checkEnvelope(upstreamEvents, payload);
    const result = await withTransaction(services.db, (trx) => acceptEvent(trx, def, envelope, new Date(services.clock.now())));
    if (!result.duplicate) services.relay.kick();
    return result;
  } catch (err) {
    if (err instanceof AppError && err.status < 500) throw new PermanentError(`${err.code}: ${err.message}`, err.code);
    throw err;
  }
};
