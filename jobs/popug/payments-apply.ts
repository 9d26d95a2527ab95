import { applyPaymentsBatch } from '../../src/domain/popug/payments.ts';
import { contracts } from '../../queues/contracts/index.ts';
import { batchedJob } from '../../queues/outbox/processors.ts';

/**
 * Payments' consumer: the queue's waiting events in one transaction, applied in publish order; a
 * repeat finds its entry's ledger key taken.
 */
export const paymentsApplyJob = batchedJob(contracts['popug.payments-apply'], async (trx, batch, services) => {
  await applyPaymentsBatch(trx, batch.payloads, services.popug, services.config.tz, new Date(services.clock.now()));
});
