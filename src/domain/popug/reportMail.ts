import { selectRows, type Conn } from '../../platform/sql.ts';
import type { MailMessage } from '../../platform/mailer.ts';
import type { PaymentMadePayload } from './events.ts';
import { payoutMailText } from './payout.ts';
import { formatMoney } from '../ledger/money.ts';

/**
 * The report mail of one payout, or null when payments knows no address for the employee (the
 * report then lives in their inbox only).
 */
export async function reportMail(conn: Conn, p: PaymentMadePayload, from: string): Promise<MailMessage | null> {
  const rows = await selectRows<{ email: string | null; name: string | null }>(conn, 'SELECT email, name FROM popug_payment_users WHERE user_id = ?', [p.user_id]);
  const email = rows[0]?.email;
  if (!email) return null;
  return {
    from,
    to: email,
    subject: `Popug payout for ${p.day}: ${formatMoney(p.amount)}`,
    text: payoutMailText(p.day, p.amount),
    messageId: `<payout-${p.entry_id}@popug.local>`,
  };
}
