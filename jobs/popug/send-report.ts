import { markMailGivenUp, markMailSent, reportMail } from '../../src/domain/popug/reports.ts';
import { PermanentError } from '../../src/platform/errors.ts';
import { oncePer } from '../../src/platform/oncePer.ts';
import { smtpMailer } from '../../src/platform/mailer.ts';
import type { Services } from '../../src/services.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import type { Processor } from '../../queues/processor.ts';

const mailerOf = oncePer((services: Services) => (services.config.smtpUrl ? smtpMailer(services.config.smtpUrl) : null));

/**
 * Mails the report of one payout. Money is settled: this job only reads it. The payout's mail row
 * is marked once the mail left, so a job run again sends nothing; after mail_attempts failures the
 * row is marked given up and the job goes into the failed set.
 */
export const sendReportJob: Processor<Contracts['popug.send-report']> = async ({ payload, services, attempt, log }) => {
  const mail = await reportMail(services.db, payload.entry_id, services.popug.mailFrom);
  if (mail.state === 'sent' || mail.state === 'given_up') return { duplicate: true, state: mail.state };
  if (mail.state === 'unknown') throw new PermanentError(`no report mail is recorded for payout ${payload.entry_id}`, 'unknown_report');
  if (mail.state === 'no_address') {
    log.info({ entry_id: payload.entry_id }, 'the employee has no e-mail address any more; the report stays in the inbox');
    // Marked, so the payout run's requeue of lost mails does not take it up again.
    await markMailGivenUp(services.db, payload.entry_id, new Date(services.clock.now()), 'no e-mail address');
    return { sent: false };
  }
  const mailer = mailerOf(services);
  if (!mailer) {
    log.info({ to: mail.message.to, subject: mail.message.subject }, 'SMTP_URL unset: report mail kept in the inbox only');
    return { sent: false };
  }
  try {
    await mailer.send(mail.message);
  } catch (err) {
    if (attempt < services.popug.mailAttempts) throw err;
    const reason = `report mail given up after ${attempt} attempts: ${(err as Error).message}`;
    await markMailGivenUp(services.db, payload.entry_id, new Date(services.clock.now()), reason);
    throw new PermanentError(reason, 'mail_failed');
  }
  await markMailSent(services.db, payload.entry_id, new Date(services.clock.now()));
  return { sent: true, to: mail.message.to };
};
