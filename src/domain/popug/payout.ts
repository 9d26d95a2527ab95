import type { Db, Trx } from '../../platform/db.ts';
import { withTransaction } from '../../platform/db.ts';
import { eventBatchJobs, writeOutbox } from '../../../queues/outbox/writer.ts';
import { makeEnvelope } from '../../../queues/outbox/envelope.ts';
import { execute, placeholders, selectRows, toSafeInt, type Conn } from '../../platform/sql.ts';
import { formatMoney, lockAccounts, MAX_TRANSFER_BATCH, systemAccount, transferMany, type LockedAccount } from '../ledger/index.ts';
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

/** Another run moved the day's cursor past this batch first: its transaction rolls back. */
class CursorMoved extends Error {
  constructor(day: string) {
    super(`popug: the payout cursor of ${day} moved under this batch`);
  }
}

interface PaidBatch {
  paid: number;
  total: number;
  /** Employees whose closing balance is below zero (carried over, not paid). */
  red: number;
}

interface Payout {
  employee: Employee;
  amount: number;
  entryId: string;
  /** The balance now, before the payout (it may be below the closing balance: fees after the close). */
  balance: number;
}

/**
 * Pays one batch of employees (ascending account ids after `cursor`) in ONE transaction, then moves
 * the day's cursor past them in it, so no employee comes twice; should one, the ledger key
 * payout:<user>:<day> and the payout entry's id (derived from employee and day) refuse the second
 * payout and fail the whole batch. The closing balance is the balance now minus the entries counted
 * in later days. Every statement is one per batch, not per employee: the accounts are locked in one
 * SELECT ... FOR UPDATE in id order (the ledger's order, so no deadlock with a fee or a reward),
 * then the transfers (transferMany), audit entries and the day's figures go in as multi-row
 * statements, and the batch's PaymentMade events as one event batch row (the reports, inbox and
 * mail, are the listener's: reports.ts). The day row is locked last, as a fee or reward does
 * (accounts, then the day).
 */
async function payBatch(
  trx: Trx,
  day: string,
  employees: readonly Employee[],
  opts: { now: Date; companyId: number; cursor: number; finished: boolean },
): Promise<PaidBatch> {
  const outcome: PaidBatch = { paid: 0, total: 0, red: 0 };
  const payouts: Payout[] = [];
  // The batch's accounts and the company's, locked once in id order: transferMany reuses the lock.
  let locked: Map<number, LockedAccount> = new Map();
  if (employees.length > 0) {
    const ids = [...new Set([opts.companyId, ...employees.map((e) => e.accountId)])].sort((a, b) => a - b);
    locked = await lockAccounts(trx, ids);
    const users = employees.map((e) => e.userId);
    // A plain read, in READ COMMITTED (payDay): every entry is written under its employee's account
    // lock, which this batch holds now, so every entry these employees can have has committed.
    const laterRows = await selectRows<{ user_id: string; total: unknown }>(
      trx,
      `SELECT user_id, SUM(amount) AS total FROM popug_entries WHERE user_id IN (${placeholders(users.length)}) AND day > ? GROUP BY user_id`,
      [...users, day],
    );
    const later = new Map(laterRows.map((r) => [r.user_id, toSafeInt(r.total, 'later entries')]));
    for (const employee of employees) {
      const balance = locked.get(employee.accountId)?.balance;
      if (balance === undefined) throw new Error(`popug: account ${employee.accountId} vanished`);
      const closing = balance - (later.get(employee.userId) ?? 0);
      if (closing < 0) outcome.red++;
      if (closing <= 0) continue;
      payouts.push({ employee, amount: closing, entryId: entryId(['payout', employee.userId, day]), balance });
    }
  }
  let redDelta = 0;
  if (payouts.length > 0) {
    const results = await transferMany(
      trx,
      payouts.map((p) => ({ idempotencyKey: `payout:${p.employee.userId}:${day}`, fromAccountId: p.employee.accountId, toAccountId: opts.companyId, amount: p.amount, reason: 'popug_payout', reference: day })),
      locked,
    );
    const transferIds = results.map((r, i) => {
      // The cursor moves with each batch's commit, so nobody comes twice: a taken key is a broken invariant.
      if (r.status !== 'applied') throw new Error(`popug: payout ${payouts[i]!.employee.userId}:${day} transfer ${r.status}`);
      return r.transferId;
    });
    await execute(
      trx,
      `INSERT INTO popug_entries (entry_id, user_id, day, kind, task_id, amount, description, at, transfer_id) VALUES ${payouts.map(() => "(?, ?, ?, 'payout', NULL, ?, ?, ?, ?)").join(', ')}`,
      payouts.flatMap((p, i) => [p.entryId, p.employee.userId, day, -p.amount, `payout for ${day}`, opts.now, transferIds[i]!]),
    );
    // One event batch row per listener (the reports, the topic appender) for the whole batch.
    await writeOutbox(
      trx,
      eventBatchJobs(
        PaymentMade,
        payouts.map((p) => makeEnvelope(PaymentMade, { user_id: p.employee.userId, day, amount: p.amount, entry_id: p.entryId }, opts.now)),
      ),
      opts.now,
    );
    for (const p of payouts) {
      outcome.paid++;
      outcome.total += p.amount;
      // Paid the closing balance after fees of a later day: the balance goes below zero now.
      if (p.balance >= 0 && p.balance - p.amount < 0) redDelta++;
    }
  }
  const last = employees.at(-1)?.accountId ?? opts.cursor;
  const result = await execute(
    trx,
    `UPDATE popug_days SET payouts = payouts + ?, employees_paid = employees_paid + ?, red_delta = red_delta + ?,
       payout_cursor = ?, payout_in_red = payout_in_red + ?,
       in_red_at_close = IF(?, payout_in_red, in_red_at_close), status = IF(?, 'done', status), done_at = IF(?, ?, done_at)
     WHERE day = ? AND payout_cursor = ? AND status = 'closed'`,
    [outcome.total, outcome.paid, redDelta, last, outcome.red, opts.finished, opts.finished, opts.finished, opts.now, day, opts.cursor],
  );
  if (result.affectedRows !== 1) throw new CursorMoved(day);
  return outcome;
}

export interface PayoutProgress {
  day: string;
  employeesSeen: number;
  done: boolean;
}

/** Runs a batch in a transaction of the isolation asked for (Outbox.transaction). */
export type PayoutTransactor = <T>(fn: (trx: Trx) => Promise<T>, opts: { readCommitted: boolean }) => Promise<T>;

/**
 * Pays a closed day batch by batch (at most MAX_TRANSFER_BATCH employees each). A batch and the
 * move of the day's cursor past it commit together, so a killed run resumes at the first batch
 * not committed, and a second run working at once finds the cursor moved and starts again from
 * where it is. The last batch marks the day done.
 */
export async function payDay(
  db: Db,
  day: string,
  opts: { batch: number; now: () => Date; transaction: PayoutTransactor; progress?: (p: PayoutProgress) => Promise<void> },
): Promise<void> {
  const size = Math.min(opts.batch, MAX_TRANSFER_BATCH);
  // Looked up once per run, not once per batch.
  const companyId = (await withTransaction(db, (trx) => systemAccount(trx, COMPANY_ACCOUNT))).id;
  for (;;) {
    const state = await selectRows<{ status: string; payout_cursor: unknown }>(db, 'SELECT status, payout_cursor FROM popug_days WHERE day = ?', [day]);
    if (!state[0] || state[0].status === 'done') return;
    const cursor = toSafeInt(state[0].payout_cursor, 'cursor');
    const employees = await employeesAfter(db, cursor, size);
    const finished = employees.length < size;
    try {
      // Through the outbox's transaction: the PaymentMade rows go on after the commit.
      await opts.transaction((trx) => payBatch(trx, day, employees, { now: opts.now(), companyId, cursor, finished }), { readCommitted: true });
    } catch (err) {
      if (err instanceof CursorMoved) continue;
      throw err;
    }
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
