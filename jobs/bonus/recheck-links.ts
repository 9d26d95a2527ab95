import { recheckLinks } from '../../src/domain/bonus/recheck.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import type { Processor } from '../../queues/processor.ts';

/** The re-check cron; AccountsDown makes the job retry with its contract's backoff. */
export const recheckLinksJob: Processor<Contracts['bonus.recheck-links']> = async ({ services, log, trace }) => {
  const report = await recheckLinks({
    db: services.db,
    settings: services.bonus,
    now: () => services.clock.now(),
    channels: [...services.notifications.channels.keys()],
    transaction: (fn) => services.outbox.transaction(fn, { trace }),
    log,
  });
  return report;
};
