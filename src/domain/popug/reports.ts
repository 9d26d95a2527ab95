import type { Db, Trx } from '../../platform/db.ts';
import type { MailMessage } from '../../platform/mailer.ts';
import { execute, placeholders, selectRows, toSafeInt, type Conn } from '../../platform/sql.ts';
import { formatMoney } from '../ledger/money.ts';
import { storeNotifications, type NewNotification } from '../notifications/inbox.ts';
import type { PaymentMadePayload } from './events.ts';

/**
 * Reports of payouts, the PaymentMade listener's side: every payout gets an inbox report, and one
 * whose employee has an e-mail address a row in popug_report_mails, both written once per payout
 * batch in the listener's transaction. The mail itself is a job of its own per payout (retried,
 * then given up into the failed set), which marks the row when the mail left: a payout is mailed
 * once however often its job runs, and money never waits for a mail server.
 */

/** A mail to queue: its payout's entry id (the mail job's id and the row's key). */
export interface QueuedMail {
  entryId: string;
}

function payoutMailText(day: string, amount: number): string {
  return `Hello,\n\nyour balance for ${day} was paid out: ${formatMoney(amount)}.\nYour balance is now zero; work from after the close counts in the next day.\n\nPopug payments`;
}

function payoutNotification(p: PaymentMadePayload): NewNotification {
  return {
    userId: p.user_id,
    kind: 'popug_payout',
    title: `Payout for ${p.day}`,
    body: `${formatMoney(p.amount)} paid for ${p.day}`,
    mailSubject: mailSubject(p.day, p.amount),
    mailBody: payoutMailText(p.day, p.amount),
    data: { day: p.day, amount: formatMoney(p.amount), entry_id: p.entry_id },
  };
}

function mailSubject(day: string, amount: number): string {
  return `Popug payout for ${day}: ${formatMoney(amount)}`;
}

/**
 * Stores the inbox reports of a batch of payouts and, when mail is on, a mail row for each payout
 * whose employee has an address. Returns the mails to queue once the transaction committed.
 */
export async function storeReports(trx: Trx, payments: readonly PaymentMadePayload[], opts: { batchKey: string; now: Date; mail: boolean }): Promise<QueuedMail[]> {
  if (payments.length === 0) return [];
  await storeNotifications(trx, payments.map(payoutNotification), opts.now);
  if (!opts.mail) return [];
  const users = [...new Set(payments.map((p) => p.user_id))];
  const known = await selectRows<{ user_id: string }>(trx, `SELECT user_id FROM popug_payment_users WHERE user_id IN (${placeholders(users.length)}) AND email IS NOT NULL AND email <> ''`, users);
  const withAddress = new Set(known.map((r) => r.user_id));
  const mailed = payments.filter((p) => withAddress.has(p.user_id));
  if (mailed.length === 0) return [];
  await execute(
    trx,
    `INSERT IGNORE INTO popug_report_mails (entry_id, batch_key, user_id, day, amount, queued_at) VALUES ${mailed.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}`,
    mailed.flatMap((p) => [p.entry_id, opts.batchKey, p.user_id, p.day, p.amount, opts.now]),
  );
  return mailed.map((p) => ({ entryId: p.entry_id }));
}

/** The mails a committed batch queued and that have not left: a rerun queues them again. */
export async function unsentMailsOfBatch(conn: Conn, batchKey: string): Promise<QueuedMail[]> {
  const rows = await selectRows<{ entry_id: string }>(conn, 'SELECT entry_id FROM popug_report_mails WHERE batch_key = ? AND sent_at IS NULL AND given_up_at IS NULL', [batchKey]);
  return rows.map((r) => ({ entryId: r.entry_id }));
}

/** Mails queued before `before` that neither left nor were given up: their job was lost with Redis. */
export async function staleUnsentMails(conn: Conn, before: Date, limit: number): Promise<QueuedMail[]> {
  const rows = await selectRows<{ entry_id: string }>(conn, 'SELECT entry_id FROM popug_report_mails WHERE sent_at IS NULL AND given_up_at IS NULL AND queued_at < ? ORDER BY queued_at LIMIT ?', [before, limit]);
  return rows.map((r) => ({ entryId: r.entry_id }));
}

export type ReportMail = { state: 'unknown' } | { state: 'sent' } | { state: 'given_up' } | { state: 'no_address' } | { state: 'to_send'; message: MailMessage };

/** What the mail job of a payout has to do: its message, or why there is nothing to send. */
export async function reportMail(conn: Conn, entryId: string, from: string): Promise<ReportMail> {
  const rows = await selectRows<{ day: string; amount: unknown; sent_at: Date | null; given_up_at: Date | null; email: string | null }>(
    conn,
    `SELECT DATE_FORMAT(m.day, '%Y-%m-%d') AS day, m.amount, m.sent_at, m.given_up_at, u.email
       FROM popug_report_mails m LEFT JOIN popug_payment_users u ON u.user_id = m.user_id WHERE m.entry_id = ?`,
    [entryId],
  );
  const row = rows[0];
  if (!row) return { state: 'unknown' };
  if (row.sent_at) return { state: 'sent' };
  if (row.given_up_at) return { state: 'given_up' };
  if (!row.email) return { state: 'no_address' };
  const amount = toSafeInt(row.amount, 'amount');
  return {
    state: 'to_send',
    message: { from, to: row.email, subject: mailSubject(row.day, amount), text: payoutMailText(row.day, amount), messageId: `<payout-${entryId}@popug.local>` },
  };
}

export async function markMailSent(db: Db, entryId: string, at: Date): Promise<void> {
  await execute(db, 'UPDATE popug_report_mails SET sent_at = ? WHERE entry_id = ? AND sent_at IS NULL', [at, entryId]);
}

export async function markMailGivenUp(db: Db, entryId: string, at: Date, error: string): Promise<void> {
  await execute(db, 'UPDATE popug_report_mails SET given_up_at = ?, last_error = ? WHERE entry_id = ? AND sent_at IS NULL', [at, error.slice(0, 500), entryId]);
}
