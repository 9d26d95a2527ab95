import { createHash, randomInt } from 'node:crypto';
import type { Trx } from '../../platform/db.ts';
import { execute, placeholders, selectRows, toSafeInt } from '../../platform/sql.ts';
import { ensureAccount, MAX_TRANSFER_BATCH, systemAccount, transferMany, type Account } from '../ledger/index.ts';
import { addToOpenDay, dayOf, type DayDelta } from './days.ts';
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

/** One balance change, as recordMovements makes a batch's: false when its entry was recorded before. */
export async function recordMovement(trx: Trx, m: Movement, tz: string): Promise<boolean> {
  return (await recordMovements(trx, [m], tz)) === 1;
}

/** A batch's task prices: fixed for the tasks new to payments (in task order), then read in one go. */
async function ensurePricesMany(trx: Trx, tasks: ReadonlyMap<string, string | null>, settings: Pick<PopugSettings, 'feeRange' | 'rewardRange'>, now: Date): Promise<Map<string, Prices>> {
  if (tasks.size === 0) return new Map();
  // Task id order: two batches pricing the same tasks wait on each other, never deadlock.
  const ids = [...tasks.keys()].sort();
  // A duplicate keeps its prices; only a title still unknown is filled in.
  await execute(
    trx,
    `INSERT INTO popug_task_prices (task_id, title, assign_fee, reward, priced_at) VALUES ${ids.map(() => '(?, ?, ?, ?, ?)').join(', ')}
     ON DUPLICATE KEY UPDATE title = COALESCE(title, VALUES(title))`,
    ids.flatMap((id) => [id, tasks.get(id) ?? null, randomInt(settings.feeRange[0], settings.feeRange[1] + 1), randomInt(settings.rewardRange[0], settings.rewardRange[1] + 1), now]),
  );
  const rows = await selectRows<{ task_id: string; assign_fee: unknown; reward: unknown }>(trx, `SELECT task_id, assign_fee, reward FROM popug_task_prices WHERE task_id IN (${placeholders(ids.length)})`, ids);
  return new Map(rows.map((r) => [r.task_id, { assignFee: toSafeInt(r.assign_fee, 'fee'), reward: toSafeInt(r.reward, 'reward') }]));
}

/** The employees' popug accounts, created on first sight: one read for the ones that exist. */
async function employeeAccounts(trx: Trx, users: readonly string[]): Promise<Map<string, number>> {
  const unique = [...new Set(users)];
  const rows = await selectRows<{ id: unknown; owner_id: string }>(
    trx,
    `SELECT id, owner_id FROM accounts WHERE owner_type = 'employee' AND kind = 'popug' AND owner_id IN (${placeholders(unique.length)})`,
    unique,
  );
  const ids = new Map(rows.map((r) => [r.owner_id, toSafeInt(r.id, 'account id')]));
  for (const user of unique) if (!ids.has(user)) ids.set(user, (await employeeAccount(trx, user)).id);
  return ids;
}

/**
 * The movements of a batch at once, in the batch's order: one transferMany (accounts locked once,
 * in id order; a ledger key already taken is a duplicate and moves nothing), the aggregates of each
 * open payout day once, one multi-row INSERT of the audit entries. Returns how many moved.
 */
async function recordMovements(trx: Trx, movements: readonly Movement[], tz: string): Promise<number> {
  if (movements.length === 0) return 0;
  const employees = await employeeAccounts(trx, movements.map((m) => m.userId));
  const company = await systemAccount(trx, COMPANY_ACCOUNT);
  const results = await transferMany(
    trx,
    movements.map((m) => {
      const employee = employees.get(m.userId)!;
      const fee = m.kind === 'fee';
      return { idempotencyKey: `popug:${m.entryId}`, fromAccountId: fee ? employee : company.id, toAccountId: fee ? company.id : employee, amount: m.amount, reason: `popug_${m.kind}`, reference: m.taskId };
    }),
  );
  // The aggregates per calendar day of the movements (nearly always one), added once each.
  const byDay = new Map<string, { delta: Required<Pick<DayDelta, 'fees' | 'rewards' | 'redDelta'>> & Pick<DayDelta, 'top'>; moved: { m: Movement; transferId: number }[] }>();
  movements.forEach((m, i) => {
    const result = results[i]!;
    if (result.status === 'duplicate') return;
    if (result.status !== 'applied') throw new Error(`popug: movement ${m.entryId} rejected by the ledger: ${result.code}`);
    const fee = m.kind === 'fee';
    const after = fee ? result.fromBalance : result.toBalance;
    const before = fee ? after + m.amount : after - m.amount;
    const day = dayOf(m.at, tz);
    const group = byDay.get(day) ?? { delta: { fees: 0, rewards: 0, redDelta: 0 }, moved: [] };
    byDay.set(day, group);
    if (fee) group.delta.fees += m.amount;
    else group.delta.rewards += m.amount;
    group.delta.redDelta += before >= 0 && after < 0 ? 1 : before < 0 && after >= 0 ? -1 : 0;
    if (m.top && (!group.delta.top || m.top.reward > group.delta.top.reward)) group.delta.top = m.top;
    group.moved.push({ m, transferId: result.transferId });
  });
  const entries: unknown[] = [];
  let moved = 0;
  // Day order, after the accounts: the lock order of a single movement and of the payout.
  for (const day of [...byDay.keys()].sort()) {
    const group = byDay.get(day)!;
    const counted = await addToOpenDay(trx, day, group.delta);
    for (const { m, transferId } of group.moved) {
      entries.push(m.entryId, m.userId, counted, m.kind, m.taskId, m.kind === 'fee' ? -m.amount : m.amount, m.description.slice(0, 255), m.at, transferId);
      moved++;
    }
  }
  if (moved > 0) {
    await execute(
      trx,
      `INSERT INTO popug_entries (entry_id, user_id, day, kind, task_id, amount, description, at, transfer_id) VALUES ${new Array<string>(moved).fill('(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      entries as (string | number | Date)[],
    );
  }
  return moved;
}

/**
 * Payments' consumer for a batch of events, in one transaction, with the effect of applying them one
 * by one in order, in a handful of statements per batch: user copies in order,
 * every task the batch names priced at once, then every fee and reward through recordMovements.
 * An event seen twice (in the batch or before) names the same entry and ledger key: it moves nothing.
 */
export async function applyPaymentsBatch(trx: Trx, envelopes: readonly PaymentsEnvelope[], settings: PopugSettings, tz: string, now: Date): Promise<{ users: number; priced: number; moved: number }> {
  const tasks = new Map<string, string | null>();
  const movements: Movement[] = [];
  const keys = new Set<string>();
  let users = 0;
  for (const envelope of envelopes) {
    switch (envelope.event_name) {
      case 'AccountCreated':
      case 'AccountRoleChanged':
        await applyUserCopy(trx, 'popug_payment_users', envelope.payload as AccountPayload);
        users++;
        break;
      case 'TaskCreated': {
        const p = envelope.event_version === 1 ? upcastTaskCreatedV1(envelope.payload as TaskCreatedV1Payload) : (envelope.payload as TaskCreatedPayload);
        tasks.set(p.task_id, p.title);
        break;
      }
      case 'TaskAssigned': {
        const p = envelope.payload as TaskAssignedPayload;
        if (!tasks.has(p.task_id)) tasks.set(p.task_id, null);
        const id = entryId([envelope.event_name, p.task_id, p.assignee, p.assignment_id, p.at]);
        if (!keys.has(id)) movements.push({ entryId: id, userId: p.assignee, kind: 'fee', taskId: p.task_id, amount: 0, description: 'task assigned: fee', at: new Date(p.at) });
        keys.add(id);
        break;
      }
      case 'TaskCompleted': {
        const p = envelope.payload as TaskCompletedPayload;
        if (!tasks.has(p.task_id)) tasks.set(p.task_id, null);
        const id = entryId([envelope.event_name, p.task_id, p.assignee, p.at]);
        if (!keys.has(id)) movements.push({ entryId: id, userId: p.assignee, kind: 'reward', taskId: p.task_id, amount: 0, description: 'task completed: reward', at: new Date(p.at) });
        keys.add(id);
        break;
      }
      default:
        throw new Error(`payments takes no ${envelope.event_name} events`);
    }
  }
  const prices = await ensurePricesMany(trx, tasks, settings, now);
  for (const m of movements) {
    const price = prices.get(m.taskId)!;
    m.amount = m.kind === 'fee' ? price.assignFee : price.reward;
    if (m.kind === 'reward') m.top = { taskId: m.taskId, reward: price.reward };
  }
  let moved = 0;
  for (let i = 0; i < movements.length; i += MAX_TRANSFER_BATCH) moved += await recordMovements(trx, movements.slice(i, i + MAX_TRANSFER_BATCH), tz);
  return { users, priced: tasks.size, moved };
}
