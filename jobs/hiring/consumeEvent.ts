import { eventRegistry } from '../../src/domain/events/catalog.ts';
import { takeOnce } from '../../src/domain/events/consumed.ts';
import type { Trx } from '../../src/platform/db.ts';
import { PermanentError } from '../../src/platform/errors.ts';
import type { Envelope } from '../../queues/outbox/envelope.ts';
import { compileSchema } from '../../src/platform/validation.ts';
import type { JobContract } from '../../queues/contract.ts';
import { durableJob } from '../../queues/outbox/processors.ts';
import type { JobContext, Processor } from '../../queues/processor.ts';

/** What a consumer's handler gets: the event carried up to its newest version. */
export interface Taken {
  name: string;
  /** The version it was published in (the payload is already upcast from it). */
  publishedVersion: number;
  eventId: string;
  producedAt: string;
  payload: unknown;
}

/**
 * A durable consumer of registered events: checks the envelope against the registry's document of
 * its version, skips an event whose (event_id, produced_at) this consumer took before, upcasts the
 * payload to the newest version and checks it against that, then runs the handler in the
 * transaction that marks the outbox row done. A check that fails is permanent: the job fails
 * without retry (UnrecoverableError), left for manual review.
 */
export function eventConsumer<C extends JobContract>(consumer: string, handler: (trx: Trx, event: Taken, ctx: JobContext<unknown>) => Promise<unknown>): Processor<C> {
  return durableJob<C>(async (trx, ctx) => {
    const envelope = ctx.payload as Envelope;
    const { event_name: name, event_version: version } = envelope;
    const verdict = eventRegistry.validate(name, version, envelope);
    if (!verdict.valid) throw new PermanentError(`invalid ${name} v${version}: ${verdict.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, 'invalid_event');
    if (!(await takeOnce(trx, consumer, envelope))) {
      ctx.log.info({ event_id: envelope.event_id }, 'event taken before; skipped');
      return { skipped: 'already_taken' };
    }
    const newest = eventRegistry.newest(name);
    const { payload } = eventRegistry.upcast(name, version, envelope.payload);
    const check = compileSchema(newest.schema);
    if (!check(payload)) throw new PermanentError(`${name} v${version} upcast to v${newest.version} is invalid: ${check.errors().join('; ')}`, 'invalid_event');
    try {
      return (await handler(trx, { name, publishedVersion: version, eventId: envelope.event_id, producedAt: envelope.produced_at, payload }, ctx)) ?? null;
    } catch (err) {
      // Valid by its schema but not storable (an outside id longer than the column): no retry helps.
      if (UNSTORABLE.has((err as { code?: string }).code ?? '')) throw new PermanentError(`${name} v${version} cannot be stored: ${(err as Error).message}`, 'unstorable_event');
      throw err;
    }
  });
}

const UNSTORABLE = new Set(['ER_DATA_TOO_LONG', 'ER_TRUNCATED_WRONG_VALUE', 'ER_WARN_DATA_OUT_OF_RANGE']);
