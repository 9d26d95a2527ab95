import { createHash, randomInt } from 'node:crypto';
import type { Trx } from '../../platform/db.ts';
import { execute, selectRows, toSafeInt } from '../../platform/sql.ts';
import { ensureAccount, systemAccount, transferMoney, type Account } from '../ledger/index.ts';
import { addToOpenDay, dayOf } from './days.ts';
import { applyUserCopy } from './users.ts';
import { upcastTaskCreatedV1, type AccountPayload, type PaymentsEnvelope, type TaskAssignedPayload, type TaskCompletedPayload, type TaskCreatedPayload, type TaskCreatedV1Payload } from './events.ts';
import type { PopugSettings } from './settings.ts';

/** The company's side of every popug transfer: fees in, rewards and payouts out. */
export const COMPANY_ACCOUNT = 'popug_company';

/** An employee's popug balance: may go negative (created so), unlike chat wallets. */
export function employeeAccount(trx: Trx, userId: string): Promise<Account> {
  return ensureAccount(trx, { ownerType: 'employee', ownerId: userId, kind: 'popug', allowNegative: true });
}

/**
 * An audit entry's id: a hash of the fields of the event that caused it, timestamp included, so
 * the same event processed twice names the same entry (and the same ledger key).
 */
export function entryId(fields: readonly (string | number)[]): string {
  return createHash('sha256').update(fields.join('\u001f')).digest('hex');
}

export interface Prices {
  assignFee: number;
  reward: number;
}

/** Fixes a task's prices the first time payments hears of it (uniform in the ranges), once. */
export async function ensurePrices(trx: Trx, taskId: string, settings: Pick<PopugSettings, 'feeRange' | 'rewardRange'>, title: string | null, now: Date): Promise<Prices> {
  const fee = randomInt(settings.feeRange[0], settings.feeRange[1] + 1);
  const reward = randomInt(settings.rewardRange[0], settings.rewardRange[1] + 1);
  await execute(trx, 'INSERT IGNORE INTO popug_task_prices (task_id, title, assign_fee, reward, priced_at) VALUES (?, ?, ?, ?, ?)', [taskId, title, fee, reward, now]);
  if (title !== null) await execute(trx, 'UPDATE popug_task_prices SET title = ? WHERE task_id = ? AND title IS NULL', [title, taskId]);
  const rows = await selectRows<{ assign_fee: unknown; reward: unknown }>(trx, 'SELECT assign_fee, reward FROM popug_task_prices WHERE task_id = ?', [taskId]);
  const row = rows[0]!;
  return { assignFee: toSafeInt(row.assign_fee, 'fee'), reward: toSafeInt(row.reward, 'reward') };
}

interface Movement {
  entryId: string;
  userId: string;
  kind: 'fee' | 'reward';
  taskId: string;
  /** Positive minor units; fees go from the employee to the company, rewards back. */
  amount: number;
  description: string;
  at: Date;
  top?: { taskId: string; reward: number };
}

/**
 * One balance change: the ledger transfer (its key is the entry id, so a repeat moves nothing),
 * the audit entry in the first open payout day, and that day's aggregates. Lock order is always
 * accounts (in the ledger) then the day row, as in the payout.
 */
export async function recordMovement(trx: Trx, m: Movement, tz: string): Promise<boolean> {
  const employee = await employeeAccount(trx, m.userId);
  const company = await systemAccount(trx, COMPANY_ACCOUNT);
  const fee = m.kind === 'fee';
  const result = await transferMoney(trx, {
    idempotencyKey: `popug:${m.entryId}`,
    fromAccountId: fee ? employee.id : company.id,
    toAccountId: fee ? company.id : employee.id,
    amount: m.amount,
    reason: `popug_${m.kind}`,
    reference: m.taskId,
  });
  if (result.status === 'duplicate') return false;
  const after = fee ? result.fromBalance : result.toBalance;
  const before = fee ? after + m.amount : after - m.amount;
  const redDelta = before >= 0 && after < 0 ? 1 : before < 0 && after >= 0 ? -1 : 0;
  const day = await addToOpenDay(trx, dayOf(m.at, tz), {
    ...(fee ? { fees: m.amount } : { rewards: m.amount }),
    redDelta,
    ...(m.top ? { top: m.top } : {}),
  });
  await execute(
    trx,
    'INSERT INTO popug_entries (entry_id, user_id, day, kind, task_id, amount, description, at, transfer_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    [m.entryId, m.userId, day, m.kind, m.taskId, fee ? -m.amount : m.amount, m.description.slice(0, 255), m.at, result.transferId],
  );
  return true;
}

/** Payments' consumer: keeps its user copy, prices tasks, debits fees, credits rewards. */
export async function applyPaymentsEvent(trx: Trx, envelope: PaymentsEnvelope, settings: PopugSettings, tz: string, now: Date): Promise<string> {
  // The envelope schema checked the payload against its event_name; the casts only name it.
  switch (envelope.event_name) {
    case 'AccountCreated':
    case 'AccountRoleChanged':
      await applyUserCopy(trx, 'popug_payment_users', envelope.payload as AccountPayload);
      return 'user';
    case 'TaskCreated': {
      const p = envelope.event_version === 1 ? upcastTaskCreatedV1(envelope.payload as TaskCreatedV1Payload) : (envelope.payload as TaskCreatedPayload);
      await ensurePrices(trx, p.task_id, settings, p.title, now);
      return 'priced';
    }
    case 'TaskAssigned': {
      const p = envelope.payload as TaskAssignedPayload;
      const prices = await ensurePrices(trx, p.task_id, settings, null, now);
      const id = entryId([envelope.event_name, p.task_id, p.assignee, p.assignment_id, p.at]);
      const moved = await recordMovement(trx, { entryId: id, userId: p.assignee, kind: 'fee', taskId: p.task_id, amount: prices.assignFee, description: 'task assigned: fee', at: new Date(p.at) }, tz);
      return moved ? 'fee' : 'duplicate';
    }
    case 'TaskCompleted': {
      const p = envelope.payload as TaskCompletedPayload;
      const prices = await ensurePrices(trx, p.task_id, settings, null, now);
      const id = entryId([envelope.event_name, p.task_id, p.assignee, p.at]);
      const moved = await recordMovement(
        trx,
        { entryId: id, userId: p.assignee, kind: 'reward', taskId: p.task_id, amount: prices.reward, description: 'task completed: reward', at: new Date(p.at), top: { taskId: p.task_id, reward: prices.reward } },
        tz,
      );
      return moved ? 'reward' : 'duplicate';
    }
    default:
      throw new Error(`payments takes no ${envelope.event_name} events`);
  }
}
