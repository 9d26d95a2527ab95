import { applyPaymentsEvent } from '../../src/domain/popug/payments.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import { durableJob } from '../../queues/outbox/processors.ts';

/** Payments' consumer: one event, one transaction; a repeat finds its entry's ledger key taken. */
export const paymentsApplyJob = durableJob<Contracts['popug.payments-apply']>(async (trx, { payload, services }) => {
  const outcome = await applyPaymentsEvent(trx, payload, services.popug, services.config.tz, new Date(services.clock.now()));
  return { outcome };
});
