import { PermanentError } from '../src/platform/errors.ts';
import { runDurable } from './outbox/durable.ts';
import type { Trx } from '../src/platform/db.ts';
import type { JobContract, PayloadOf } from './contract.ts';
import type { JobContext, Processor } from './processor.ts';

/**
 * A durable job's processor: its effect runs in one transaction with the outbox row lock and the
 * "done" mark, so it happens exactly once however often the job is delivered. Outbox rows the
 * effect writes (further events) are relayed right after the commit.
 */
export function durableJob<C extends JobContract>(effect: (trx: Trx, ctx: JobContext<PayloadOf<C>>) => Promise<unknown>): Processor<C> {
  return async (ctx) => {
    if (!ctx.outboxId) throw new PermanentError('a durable job must come from the outbox', 'not_from_outbox');
    const outcome = await runDurable(ctx.services.db, ctx.outboxId, (trx) => effect(trx, ctx));
    if (!outcome.done) {
      ctx.log.info('already done; skipping the duplicate delivery');
      ctx.services.metrics.jobsProcessed.inc({ queue: ctx.queue, outcome: 'duplicate' });
      return { duplicate: true };
    }
    ctx.services.relay.kick();
    return outcome.result ?? null;
  };
}
