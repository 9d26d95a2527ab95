import { closeDaysUpTo, payDay } from '../../src/domain/popug/payout.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import type { Processor } from '../../queues/processor.ts';
import { runLong } from './longRun.ts';

/** Closes the day (and any earlier one left open), then pays each closed day in order. */
export const payoutRunJob: Processor<Contracts['popug.payout-run']> = (ctx) =>
  runLong(ctx, async () => {
    const { services, payload, log } = ctx;
    const now = () => new Date(services.clock.now());
    const days = await closeDaysUpTo(services.db, payload.day, now());
    for (const day of days) {
      await payDay(services.db, day, {
        batch: services.popug.batchSize,
        now,
        transaction: (fn) => services.outbox.transaction(fn),
        progress: async (p) => void (await ctx.updateProgress?.({ day: p.day, done: p.done })),
      });
      log.info({ day }, 'payout day done');
    }
    return { days };
  });
