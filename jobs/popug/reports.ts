import { storeReports, unsentMailsOfBatch, type QueuedMail } from '../../src/domain/popug/reports.ts';
import { popugContracts } from '../../queues/contracts/popug.ts';
import { REPORTS_QUEUE } from '../../src/domain/popug/events.ts';
import { batchedJob, type SendAfterCommit } from '../../queues/outbox/processors.ts';
import { queueReportMails } from './queueReportMails.ts';
import { carryingTopics } from '../events/carry.ts';

/** Mail jobs of a committed batch; a rerun whose queueing was lost finds the unsent ones again. */
const mailsAfterCommit: SendAfterCommit<QueuedMail> = {
  send: (deps, mails) => queueReportMails(deps.queues, mails, deps.trace),
  filed: (deps, key) => unsentMailsOfBatch(deps.db, key),
};

/**
 * PaymentMade, a payout batch per row: the inbox reports and the mail rows in one transaction, the
 * mail jobs after it; the events are appended to domain.popug in that transaction too (the
 * registry names this queue their carrier), so a payout batch is one outbox row, not one for the
 * reports and one for the topic. Without SMTP_URL the reports stay in the inbox only.
 */
export const reportsJob = batchedJob(
  popugContracts['popug.reports'],
  carryingTopics(REPORTS_QUEUE, async (trx, batch, services) => {
    const mail = Boolean(services.config.smtpUrl);
    const payments = batch.payloads.map((e) => e.payload);
    const queued = await storeReports(trx, payments, { batchKey: batch.key, now: new Date(services.clock.now()), mail });
    if (!mail) services.log.info({ reports: payments.length }, 'SMTP_URL unset: payout reports kept in the inbox only');
    return queued;
  }),
  mailsAfterCommit,
);
