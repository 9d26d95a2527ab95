import { BadRequest } from '../../platform/errors.ts';
import type { Trx } from '../../platform/db.ts';
import { execute, selectRows } from '../../platform/sql.ts';

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The calendar day (YYYY-MM-DD) of an instant in a time zone: payout days follow TZ. */
export function dayOf(at: Date | number, tz: string): string {
  let f = formatters.get(tz);
  if (!f) formatters.set(tz, (f = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' })));
  return f.format(at);
}

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A YYYY-MM-DD that names a real date, else 400 bad_day. */
export function parseDay(text: string): string {
  const m = DAY_RE.exec(text);
  const date = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
  if (!date || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== text) {
    throw new BadRequest(`day must be a date YYYY-MM-DD, got "${text}"`, 'bad_day');
  }
  return text;
}

export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** Days from a to b inclusive (b >= a). */
export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000) + 1;
}

/** Monday of the ISO week containing day. */
export function weekStart(day: string): string {
  const dow = new Date(`${day}T00:00:00Z`).getUTCDay();
  return addDays(day, -((dow + 6) % 7));
}

export interface DayDelta {
  fees?: number;
  rewards?: number;
  payouts?: number;
  employeesPaid?: number;
  redDelta?: number;
  /** A completed task's reward, for the day's most expensive task. */
  top?: { taskId: string; reward: number };
}

/**
 * Adds an entry's figures to the aggregates of the first open payout day on or after `day`, and
 * returns that day. An entry of a day already closed counts in the next one (API.md). The row
 * lock taken here is what the close waits for, so an entry is never half in a closed day.
 */
export async function addToOpenDay(trx: Trx, day: string, delta: DayDelta): Promise<string> {
  for (let guard = 0; guard < 1000; guard++) {
    const top = delta.top;
    const result = await execute(
      trx,
      `UPDATE popug_days SET fees = fees + ?, rewards = rewards + ?, payouts = payouts + ?, employees_paid = employees_paid + ?,
         red_delta = red_delta + ?,
         top_task_id = IF(? IS NOT NULL AND (top_reward IS NULL OR ? > top_reward), ?, top_task_id),
         top_reward = IF(? IS NOT NULL AND (top_reward IS NULL OR ? > top_reward), ?, top_reward)
       WHERE day = ? AND status = 'open'`,
      [
        delta.fees ?? 0, delta.rewards ?? 0, delta.payouts ?? 0, delta.employeesPaid ?? 0, delta.redDelta ?? 0,
        top?.taskId ?? null, top?.reward ?? 0, top?.taskId ?? null,
        top?.taskId ?? null, top?.reward ?? 0, top?.reward ?? null,
        day,
      ],
    );
    if (result.affectedRows === 1) return day;
    const rows = await selectRows<{ status: string }>(trx, 'SELECT status FROM popug_days WHERE day = ? FOR UPDATE', [day]);
    if (!rows[0]) await execute(trx, "INSERT IGNORE INTO popug_days (day, status) VALUES (?, 'open')", [day]);
    else if (rows[0].status !== 'open') day = addDays(day, 1);
  }
  throw new Error(`popug: no open payout day found from ${day}`);
}
