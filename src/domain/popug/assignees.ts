import { randomInt } from 'node:crypto';
import type { Trx } from '../../platform/db.ts';
import { execute, placeholders, selectRows, toSafeInt, type Conn } from '../../platform/sql.ts';

/**
 * The tracker's current employees as slots 1..n without gaps, so a uniformly random one costs two
 * key lookups whatever n is. Membership follows the tracker's user copy (syncAssignee, in the
 * transaction that changes a role); every change locks the count row, so they run one at a time.
 */

/** A uniformly random current employee (crypto-random), or null when there is none. */
export async function randomAssignee(conn: Conn): Promise<string | null> {
  return (await randomAssignees(conn, 1))[0] ?? null;
}

/**
 * `count` uniformly random current employees, drawn independently (crypto-random; one may come
 * more than once), in one read of the count and one of the slots: a reshuffle batch's assignees.
 * Empty when there is nobody to assign.
 */
export async function randomAssignees(conn: Conn, count: number): Promise<string[]> {
  if (count === 0) return [];
  for (let draw = 0; draw < 8; draw++) {
    const [row] = await selectRows<{ n: unknown }>(conn, 'SELECT n FROM popug_assignee_count WHERE id = 1');
    const n = toSafeInt(row?.n ?? 0, 'assignees');
    if (n === 0) return [];
    const slots = Array.from({ length: count }, () => randomInt(n) + 1);
    const wanted = [...new Set(slots)];
    const found = await selectRows<{ slot: unknown; user_id: string }>(conn, `SELECT slot, user_id FROM popug_assignees WHERE slot IN (${placeholders(wanted.length)})`, wanted);
    const bySlot = new Map(found.map((f) => [toSafeInt(f.slot, 'slot'), f.user_id]));
    // Under READ COMMITTED the two reads may see different commits: a slot emptied in between is
    // drawn again. Slots missing for good would be a broken invariant, and fail loudly.
    if (bySlot.size === wanted.length) return slots.map((s) => bySlot.get(s)!);
  }
  throw new Error('popug: the assignment slots have gaps (popug_assignees against popug_assignee_count)');
}

/** Puts the user in the slots or takes them out, as their role in the tracker's copy says. */
export async function syncAssignee(trx: Trx, userId: string): Promise<void> {
  const [count] = await selectRows<{ n: unknown }>(trx, 'SELECT n FROM popug_assignee_count WHERE id = 1 FOR UPDATE');
  const n = toSafeInt(count?.n ?? 0, 'assignees');
  const [user] = await selectRows<{ role: string }>(trx, 'SELECT role FROM popug_tracker_users WHERE user_id = ?', [userId]);
  const [own] = await selectRows<{ slot: unknown }>(trx, 'SELECT slot FROM popug_assignees WHERE user_id = ?', [userId]);
  const employee = user?.role === 'employee';
  if (employee && !own) {
    await execute(trx, 'INSERT INTO popug_assignees (slot, user_id) VALUES (?, ?)', [n + 1, userId]);
    await execute(trx, 'UPDATE popug_assignee_count SET n = ? WHERE id = 1', [n + 1]);
  } else if (!employee && own) {
    // The last slot's employee moves into the freed slot: the slots stay 1..n-1.
    const slot = toSafeInt(own.slot, 'slot');
    const [last] = await selectRows<{ user_id: string }>(trx, 'SELECT user_id FROM popug_assignees WHERE slot = ?', [n]);
    await execute(trx, 'DELETE FROM popug_assignees WHERE slot = ?', [n]);
    if (slot !== n && last) await execute(trx, 'UPDATE popug_assignees SET user_id = ? WHERE slot = ?', [last.user_id, slot]);
    await execute(trx, 'UPDATE popug_assignee_count SET n = ? WHERE id = 1', [n - 1]);
  }
}
