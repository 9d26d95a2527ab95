import type { Db, Trx } from '../../platform/db.ts';
import type { Envelope } from '../../../queues/outbox/envelope.ts';
import { publishEvent } from '../../../queues/outbox/writer.ts';
import { formatMoney } from '../ledger/index.ts';
import { executeLater, placeholders, selectRows, toSafeInt } from '../../platform/sql.ts';
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
 * UpdateGoal, on ReceiveMoney, for a batch of transfers: adds each transfer to every goal of its
 * room that existed when the money moved, in one statement. Runs once per transfer (durable); a goal
 * that crosses its require_sum is marked reached and emits EndGoal, once, since only an unreached
 * goal can cross.
 */
export async function applyToGoals(trx: Trx, envelopes: readonly Envelope<ReceiveMoneyPayload>[]): Promise<number> {
  if (envelopes.length === 0) return 0;
  const rooms = [...new Set(envelopes.map((e) => e.payload.room))];
  const moved = envelopes.map(() => 'SELECT ? AS room, ? AS at, ? AS amount').join(' UNION ALL ');
  await executeLater(
    trx,
    `UPDATE goals g SET g.sum = g.sum + (SELECT COALESCE(SUM(m.amount), 0) FROM (${moved}) m WHERE m.room = g.room AND g.created_at <= m.at),
     g.updated_at = UTC_TIMESTAMP(3) WHERE g.room IN (${placeholders(rooms.length)})`,
    [...envelopes.flatMap((e) => [e.payload.room, new Date(e.produced_at), e.payload.sum]), ...rooms],
  );
  const crossed = await selectRows<GoalRow & { room: string }>(
    trx,
    `SELECT id, room, name, sum, require_sum, reached_at, created_at FROM goals
     WHERE room IN (${placeholders(rooms.length)}) AND reached_at IS NULL AND sum >= require_sum ORDER BY id FOR UPDATE`,
    rooms,
  );
  if (crossed.length === 0) return 0;
  await executeLater(trx, `UPDATE goals SET reached_at = UTC_TIMESTAMP(3) WHERE id IN (${placeholders(crossed.length)})`, crossed.map((g) => toSafeInt(g.id, 'goal id')));
  for (const goal of crossed) {
    await publishEvent(trx, EndGoal, {
      goal_id: toSafeInt(goal.id, 'goal id'),
      room: goal.room,
      name: goal.name,
      sum: toSafeInt(goal.sum, 'sum'),
      require_sum: toSafeInt(goal.require_sum, 'require_sum'),
    });
  }
  return crossed.length;
}

/** SendEndGoalToQueue: the room hears that a goal was reached. */
export async function broadcastGoalsReached(trx: Trx, envelopes: readonly Envelope<EndGoalPayload>[], outboxId: string | null): Promise<ChatEvent[]> {
  const events = envelopes.map(({ event_id, produced_at, payload: p }) =>
    chatEvent('goal_reached', event_id, p.room, produced_at, { goal_id: p.goal_id, name: p.name, sum: formatMoney(p.sum), require_sum: formatMoney(p.require_sum) }, null),
  );
  await recordChatEvents(trx, events, outboxId);
  return events;
}
