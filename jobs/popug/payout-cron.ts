import { dayOf } from '../../src/domain/popug/days.ts';
import { requestPayout } from '../../src/domain/popug/payout.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import type { Processor } from '../../queues/processor.ts';

/** payout_cron fired: today's run goes into the outbox (a second fire only queues a no-op resume). */
export const payoutCronJob: Processor<Contracts['popug.payout-cron']> = async ({ services, trace }) => {
  const now = new Date(services.clock.now());
  const day = dayOf(now, services.config.tz);
  await services.outbox.transaction((trx) => requestPayout(trx, day, now), { trace });
  return { day };
};
