import type { Db, Trx } from '../../platform/db.ts';
import type { Envelope } from '../../platform/outbox/envelope.ts';
import { publishEvent } from '../../platform/outbox/writer.ts';
import { formatMoney } from '../ledger/index.ts';
import { selectRows, toSafeInt } from '../ledger/sql.ts';
import type { ChatEvent } from './chatEvent.ts';
import { chatEvent, recordChatEvents } from './chatEventLog.ts';
import { EndGoal, type EndGoalPayload, type ReceiveMoneyPayload } from './events.ts';

export interface GoalView {
  goal_id: number;
  name: string;
  sum: string;
  require_sum: string;
  reached: boolean;
  reached_at: string | null;
  created_at: string;
}

export async function createGoal(trx: Trx, room: string, name: string, requireSum: number): Promise<{ goal_id: number }> {
  const [result] = (await trx.raw(
    'INSERT INTO goals (room, name, sum, require_sum, created_at, updated_at) VALUES (?, ?, 0, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))',
    [room, name, requireSum],
  )) as [{ insertId: number }];
  return { goal_id: result.insertId };
}

interface GoalRow {
  id: unknown;
  name: string;
  sum: unknown;
  require_sum: unknown;
  reached_at: Date | null;
  created_at: Date;
}

export async function listGoals(db: Db, room: string): Promise<GoalView[]> {
  const rows = await selectRows<GoalRow>(db, 'SELECT id, name, sum, require_sum, reached_at, created_at FROM goals WHERE room = ? ORDER BY id', [room]);
  return rows.map((r) => ({
    goal_id: toSafeInt(r.id, 'goal id'),
    name: r.name,
    sum: formatMoney(toSafeInt(r.sum, 'sum')),
    require_sum: formatMoney(toSafeInt(r.require_sum, 'require_sum')),
    reached: r.reached_at !== null,
    reached_at: r.reached_at?.toISOString() ?? null,
    created_at: r.created_at.toISOString(),
  }));
}

/**
 * UpdateGoal, on ReceiveMoney: adds the transfer to every goal of the room that existed when the
 * money moved. Runs once per transfer (a durable job); a goal that crosses its require_sum is
 * marked reached and emits EndGoal, once, since only an unreached goal can cross.
 */
export async function applyToGoals(trx: Trx, envelope: Envelope<ReceiveMoneyPayload>): Promise<number> {
  const p = envelope.payload;
  const movedAt = new Date(envelope.produced_at);
  await trx.raw('UPDATE goals SET sum = sum + ?, updated_at = UTC_TIMESTAMP(3) WHERE room = ? AND created_at <= ?', [p.sum, p.room, movedAt]);
  const crossed = await selectRows<GoalRow>(
    trx,
    'SELECT id, name, sum, require_sum, reached_at, created_at FROM goals WHERE room = ? AND reached_at IS NULL AND sum >= require_sum FOR UPDATE',
    [p.room],
  );
  if (crossed.length === 0) return 0;
  await trx.raw(`UPDATE goals SET reached_at = UTC_TIMESTAMP(3) WHERE id IN (${crossed.map(() => '?').join(', ')})`, crossed.map((g) => g.id as number));
  for (const goal of crossed) {
    await publishEvent(trx, EndGoal, {
      goal_id: toSafeInt(goal.id, 'goal id'),
      room: p.room,
      name: goal.name,
      sum: toSafeInt(goal.sum, 'sum'),
      require_sum: toSafeInt(goal.require_sum, 'require_sum'),
    });
  }
  return crossed.length;
}

/** SendEndGoalToQueue: the room hears that a goal was reached. */
export async function broadcastGoalReached(trx: Trx, envelope: Envelope<EndGoalPayload>, outboxId: string | null): Promise<ChatEvent[]> {
  const p = envelope.payload;
  const event = chatEvent(
    'goal_reached',
    envelope.event_id,
    p.room,
    envelope.produced_at,
    { goal_id: p.goal_id, name: p.name, sum: formatMoney(p.sum), require_sum: formatMoney(p.require_sum) },
    null,
  );
  await recordChatEvents(trx, [event], outboxId);
  return [event];
}
