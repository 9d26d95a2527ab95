import type { Db, Transactor, Trx } from '../../platform/db.ts';
import { withTransaction } from '../../platform/db.ts';
import { publishEvent, writeOutbox } from '../../../queues/outbox/writer.ts';
import { execute, selectRows, toSafeInt, type Conn } from '../../platform/sql.ts';
import { createNotification } from '../notifications/inbox.ts';
import { formatMoney, systemAccount, transferMoney } from '../ledger/index.ts';
import { addPayoutToDay } from './days.ts';
import { PaymentMade } from './events.ts';
import { COMPANY_ACCOUNT, entryId } from './payments.ts';

export const PAYOUT_RUN_QUEUE = 'popug.payout-run';

/** Queues a run (or a resumption) of a day's payout: a durable job, so a Redis loss keeps it. */
export async function requestPayout(trx: Trx, day: string, now: Date): Promise<void> {
  await writeOutbox(trx, [{ queue: PAYOUT_RUN_QUEUE, payload: { day }, version: 1 }], now);
}

/**
 * Closes every open payout day up to `day`: from the commit on, entries go to a later day.
 * Returns the closed days whose payout is not done, oldest first: they are paid in that order,
 * because a day's closing balance is read as "balance now minus entries of later days".
 */
export async function closeDaysUpTo(db: Db, day: string, now: Date): Promise<string[]> {
  return withTransaction(db, async (trx) => {
    await execute(trx, "INSERT IGNORE INTO popug_days (day, status) VALUES (?, 'open')", [day]);
    await execute(trx, "UPDATE popug_days SET status = 'closed', closed_at = ? WHERE day <= ? AND status = 'open'", [now, day]);
    const rows = await selectRows<{ day: string }>(trx, "SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day FROM popug_days WHERE day <= ? AND status = 'closed' ORDER BY day", [day]);
    return rows.map((r) => r.day);
  });
}

interface Employee {
  accountId: number;
  userId: string;
}

/** The next employee popug accounts after an account id, in id order. */
async function employeesAfter(conn: Conn, afterId: number, limit: number): Promise<Employee[]> {
  const rows = await selectRows<{ id: unknown; owner_id: string }>(
    conn,
    "SELECT id, owner_id FROM accounts WHERE id > ? AND owner_type = 'employee' AND kind = 'popug' ORDER BY id LIMIT ?",
    [afterId, limit],
  );
  return rows.map((r) => ({ accountId: toSafeInt(r.id, 'account id'), userId: r.owner_id }));
}

export type PayOutcome = { paid: number } | { carried: number } | { already: true };

/**
 * Pays one employee's closing balance of a closed day, in one transaction: the closing balance is
 * the balance now minus the entries counted in later days; if positive it moves to the company
 * (ledger key payout:<user>:<day>), with a payout entry, the popug_payouts row (its primary key
 * refuses a second payout for the day), the day's aggregates, a PaymentMade event and the report
 * in the user's inbox.
 */
export async function payOne(trx: Trx, day: string, employee: Employee, opts: { now: Date; companyId?: number }): Promise<PayOutcome> {
  const company = { id: opts.companyId ?? (await systemAccount(trx, COMPANY_ACCOUNT)).id };
  const ids = [employee.accountId, company.id].sort((a, b) => a - b);
  // The ledger's lock order (ids ascending), so this never deadlocks with a fee or a reward.
  const locked = await selectRows<{ id: unknown; balance: unknown }>(trx, 'SELECT id, balance FROM accounts WHERE id IN (?, ?) ORDER BY id FOR UPDATE', ids);
  const already = await selectRows<{ one: number }>(trx, 'SELECT 1 AS one FROM popug_payouts WHERE user_id = ? AND day = ? LOCK IN SHARE MODE', [employee.userId, day]);
  if (already.length > 0) return { already: true };
  const balance = toSafeInt(locked.find((r) => toSafeInt(r.id, 'id') === employee.accountId)?.balance, 'balance');
  // A locking read: entries committed after this transaction's snapshot must count.
  const later = await selectRows<{ total: unknown }>(trx, 'SELECT COALESCE(SUM(amount), 0) AS total FROM popug_entries WHERE user_id = ? AND day > ? LOCK IN SHARE MODE', [employee.userId, day]);
  const closing = balance - toSafeInt(later[0]?.total ?? 0, 'later entries');
  if (closing <= 0) return { carried: closing };

  const id = entryId(['payout', employee.userId, day]);
  const result = await transferMoney(trx, {
    idempotencyKey: `payout:${employee.userId}:${day}`,
    fromAccountId: employee.accountId,
    toAccountId: company.id,
    amount: closing,
    reason: 'popug_payout',
    reference: day,
  });
  await execute(trx, 'INSERT INTO popug_payouts (user_id, day, amount, entry_id, paid_at) VALUES (?, ?, ?, ?, ?)', [employee.userId, day, closing, id, opts.now]);
  await execute(
    trx,
    "INSERT INTO popug_entries (entry_id, user_id, day, kind, task_id, amount, description, at, transfer_id) VALUES (?, ?, ?, 'payout', NULL, ?, ?, ?, ?)",
    [id, employee.userId, day, -closing, `payout for ${day}`, opts.now, result.transferId],
  );
  await addPayoutToDay(trx, day, closing);
  await publishEvent(trx, PaymentMade, { user_id: employee.userId, day, amount: closing, entry_id: id }, opts.now);
  await createNotification(
    trx,
    {
      userId: employee.userId,
      kind: 'popug_payout',
      title: `Payout for ${day}`,
      body: `${formatMoney(closing)} paid for ${day}`,
      mailSubject: `Popug payout for ${day}: ${formatMoney(closing)}`,
      mailBody: payoutMailText(day, closing),
      data: { day, amount: formatMoney(closing), entry_id: id },
    },
    // Inbox only: the report mail itself is the PaymentMade listener's (popug.send-report).
    { channels: [], now: opts.now.getTime() },
  );
  return { paid: closing };
}

export function payoutMailText(day: string, amount: number): string {
  return `Hello,\n\nyour balance for ${day} was paid out: ${formatMoney(amount)}.\nYour balance is now zero; work from after the close counts in the next day.\n\nPopug payments`;
}

export interface PayoutProgress {
  day: string;
  employeesSeen: number;
  done: boolean;
}

/**
 * Pays a closed day in batches of employees; each payout is its own transaction and the batch's
 * position (and its count of balances below zero) is saved after it, so a killed run resumes where
 * it stopped and a repeated payout is refused by popug_payouts. Ends by marking the day done.
 */
export async function payDay(
  db: Db,
  day: string,
  opts: { batch: number; now: () => Date; transaction: Transactor; progress?: (p: PayoutProgress) => Promise<void> },
): Promise<void> {
  // Looked up once per run, not once per employee.
  const companyId = (await withTransaction(db, (trx) => systemAccount(trx, COMPANY_ACCOUNT))).id;
  for (;;) {
    const state = await selectRows<{ status: string; payout_cursor: unknown }>(db, 'SELECT status, payout_cursor FROM popug_days WHERE day = ?', [day]);
    if (!state[0] || state[0].status === 'done') return;
    const cursor = toSafeInt(state[0].payout_cursor, 'cursor');
    const employees = await employeesAfter(db, cursor, opts.batch);
    let red = 0;
    for (const employee of employees) {
      // Through the outbox's transaction: the PaymentMade and report rows go on after the commit.
      const outcome = await opts.transaction((trx) => payOne(trx, day, employee, { now: opts.now(), companyId }));
      if ('carried' in outcome && outcome.carried < 0) red++;
    }
    const finished = employees.length < opts.batch;
    const moved = await withTransaction(db, async (trx) => {
      const result = await execute(
        trx,
        `UPDATE popug_days SET payout_cursor = ?, payout_in_red = payout_in_red + ?,
           in_red_at_close = IF(?, payout_in_red, in_red_at_close), status = IF(?, 'done', status), done_at = IF(?, ?, done_at)
         WHERE day = ? AND payout_cursor = ? AND status = 'closed'`,
        [employees.at(-1)?.accountId ?? cursor, red, finished, finished, finished, opts.now(), day, cursor],
      );
      return result.affectedRows === 1;
    });
    // Another run moved the cursor first: start again from where it is now.
    if (!moved) continue;
    await opts.progress?.({ day, employeesSeen: employees.length, done: finished });
    if (finished) return;
  }
}

export interface PayoutStatus {
  day: string;
  status: 'pending' | 'running' | 'done';
  employees_paid: number;
  total: string;
}

export async function payoutStatus(conn: Conn, day: string): Promise<PayoutStatus> {
  const rows = await selectRows<{ status: string; employees_paid: unknown; payouts: unknown }>(conn, 'SELECT status, employees_paid, payouts FROM popug_days WHERE day = ?', [day]);
  const row = rows[0];
  const status = !row || row.status === 'open' ? 'pending' : row.status === 'done' ? 'done' : 'running';
  return { day, status, employees_paid: row ? toSafeInt(row.employees_paid, 'paid') : 0, total: formatMoney(row ? toSafeInt(row.payouts, 'total') : 0) };
}
