import { reportMail } from '../../src/domain/popug/reportMail.ts';
import { PermanentError } from '../../src/platform/errors.ts';
import { oncePer } from '../../src/platform/oncePer.ts';
import { smtpMailer } from '../../src/platform/mailer.ts';
import type { Services } from '../../src/services.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import { durableJob } from '../../queues/outbox/processors.ts';

const mailerOf = oncePer((services: Services) => (services.config.smtpUrl ? smtpMailer(services.config.smtpUrl) : null));

/**
 * Mails the report of one payout. Money is already settled: this job only reads. It is done
 * (outbox row) in the transaction that follows the send, so a redelivery after success sends
 * nothing; after mail_attempts failures it gives up into the failed set.
 */
export const sendReportJob = durableJob<Contracts['popug.send-report']>(async (trx, { payload, services, attempt, log }) => {
  const mail = await reportMail(trx, payload.payload, services.popug.mailFrom);
  if (!mail) {
    log.info({ user: payload.payload.user_id }, 'no e-mail address known; the report stays in the inbox');
    return { sent: false };
  }
  const mailer = mailerOf(services);
  if (!mailer) {
    log.info({ to: mail.to, subject: mail.subject }, 'SMTP_URL unset: report mail kept in the inbox only');
    return { sent: false };
  }
  try {
    await mailer.send(mail);
  } catch (err) {
    if (attempt >= services.popug.mailAttempts) throw new PermanentError(`report mail given up after ${attempt} attempts: ${(err as Error).message}`, 'mail_failed');
    throw err;
  }
  return { sent: true, to: mail.to };
});
