import { closeDaysUpTo, payDay } from '../../src/domain/popug/payout.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import type { Processor } from '../../queues/processor.ts';
import { staleUnsentMails } from '../../src/domain/popug/reports.ts';
import { queueReportMails } from './queueReportMails.ts';
import { runLong } from './longRun.ts';

/** A mail queued this long ago and neither sent nor given up has lost its job (its retries end sooner). */
const MAIL_REQUEUE_AFTER_MS = 24 * 3600_000;
const MAIL_REQUEUE_MAX = 10_000;

/** Closes the day (and any earlier one left open), then pays each closed day in order. */
export const payoutRunJob: Processor<Contracts['popug.payout-run']> = (ctx) =>
  runLong(ctx, async () => {
    const { services, payload, log, trace } = ctx;
    const now = () => new Date(services.clock.now());
    const days = await closeDaysUpTo(services.db, payload.day, now());
    for (const day of days) {
      await payDay(services.db, day, {
        batch: services.popug.batchSize,
        now,
        transaction: (fn, opts) => services.outbox.transaction(fn, { ...opts, trace }),
        progress: async (p) => void (await ctx.updateProgress?.({ day: p.day, done: p.done })),
      });
      log.info({ day }, 'payout day done');
    }
    // Report mails whose job Redis lost (a wipe): queued again, once a day with the run.
    const lost = services.config.smtpUrl ? await staleUnsentMails(services.db, new Date(services.clock.now() - MAIL_REQUEUE_AFTER_MS), MAIL_REQUEUE_MAX) : [];
    await queueReportMails(services.queues, lost, trace);
    return { days, mails_requeued: lost.length };
  });
