import { BadRequest } from '../../platform/errors.ts';
import { selectRows, toSafeInt, type Conn } from '../../platform/sql.ts';
import { formatMoney, findAccount } from '../ledger/index.ts';
import { addDays, daysBetween, weekStart } from './days.ts';

export interface TopTask {
  task_id: string;
  title: string | null;
  reward: string;
}

/** The highest reward among tasks completed in [from, to], from the days' aggregates. */
async function topBetween(conn: Conn, from: string, to: string): Promise<TopTask | null> {
  const rows = await selectRows<{ top_task_id: string; top_reward: unknown; title: string | null }>(
    conn,
    `SELECT d.top_task_id, d.top_reward, p.title FROM popug_days d LEFT JOIN popug_task_prices p ON p.task_id = d.top_task_id
     WHERE d.day BETWEEN ? AND ? AND d.top_task_id IS NOT NULL ORDER BY d.top_reward DESC, d.day LIMIT 1`,
    [from, to],
  );
  const row = rows[0];
  return row ? { task_id: row.top_task_id, title: row.title, reward: formatMoney(toSafeInt(row.top_reward, 'reward')) } : null;
}

export interface Dashboard {
  day: string;
  management_income: string;
  employees_in_red: number;
  most_expensive: { day: TopTask | null; week: TopTask | null; month: TopTask | null };
}

/** The dashboard of one day: a handful of indexed reads of per-day aggregates, never of entries. */
export async function dashboard(conn: Conn, day: string, today: string): Promise<Dashboard> {
  const rows = await selectRows<{ fees: unknown; rewards: unknown; in_red_at_close: unknown }>(conn, 'SELECT fees, rewards, in_red_at_close FROM popug_days WHERE day = ?', [day]);
  const row = rows[0];
  const income = row ? toSafeInt(row.fees, 'fees') - toSafeInt(row.rewards, 'rewards') : 0;
  let inRed: number;
  if (day < today && row && row.in_red_at_close !== null) inRed = toSafeInt(row.in_red_at_close, 'in red');
  else {
    // Balances crossing zero, summed over days: now (today) or as of the day's close.
    const upTo = day >= today ? '9999-12-31' : day;
    const sum = await selectRows<{ n: unknown }>(conn, 'SELECT COALESCE(SUM(red_delta), 0) AS n FROM popug_days WHERE day <= ?', [upTo]);
    inRed = Math.max(0, toSafeInt(sum[0]?.n ?? 0, 'in red'));
  }
  const week = weekStart(day);
  const month = `${day.slice(0, 8)}01`;
  const monthEnd = addDays(`${addDays(month, 31).slice(0, 8)}01`, -1);
  return {
    day,
    management_income: formatMoney(income),
    employees_in_red: inRed,
    most_expensive: { day: await topBetween(conn, day, day), week: await topBetween(conn, week, addDays(week, 6)), month: await topBetween(conn, month, monthEnd) },
  };
}

export const MAX_CHART_DAYS = 366;

export interface ChartDay {
  day: string;
  management_income: string;
  fees: string;
  rewards: string;
  payouts: string;
}

/** Per-day figures for a chart; days with no activity are zeros. */
export async function dashboardDays(conn: Conn, from: string, to: string): Promise<ChartDay[]> {
  if (to < from) throw new BadRequest('to must not be before from', 'bad_range');
  const count = daysBetween(from, to);
  if (count > MAX_CHART_DAYS) throw new BadRequest(`at most ${MAX_CHART_DAYS} days`, 'bad_range');
  const rows = await selectRows<{ day: string; fees: unknown; rewards: unknown; payouts: unknown }>(
    conn,
    "SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day, fees, rewards, payouts FROM popug_days WHERE day BETWEEN ? AND ?",
    [from, to],
  );
  const byDay = new Map(rows.map((r) => [r.day, r]));
  const out: ChartDay[] = [];
  for (let i = 0; i < count; i++) {
    const day = addDays(from, i);
    const r = byDay.get(day);
    const fees = r ? toSafeInt(r.fees, 'fees') : 0;
    const rewards = r ? toSafeInt(r.rewards, 'rewards') : 0;
    out.push({ day, management_income: formatMoney(fees - rewards), fees: formatMoney(fees), rewards: formatMoney(rewards), payouts: formatMoney(r ? toSafeInt(r.payouts, 'payouts') : 0) });
  }
  return out;
}

export interface AccountEntry {
  entry_id: string;
  at: string;
  kind: 'fee' | 'reward' | 'payout';
  task_id?: string;
  amount: string;
  description: string;
}

/** An employee's balance and one day's audit log, newest first. */
export async function accountDay(conn: Conn, userId: string, day: string): Promise<{ balance: string; day: string; entries: AccountEntry[] }> {
  const account = await findAccount(conn, { ownerType: 'employee', ownerId: userId, kind: 'popug' });
  const rows = await selectRows<{ entry_id: string; at: Date; kind: AccountEntry['kind']; task_id: string | null; amount: unknown; description: string }>(
    conn,
    'SELECT entry_id, at, kind, task_id, amount, description FROM popug_entries WHERE user_id = ? AND day = ? ORDER BY at DESC, entry_id DESC',
    [userId, day],
  );
  return {
    balance: formatMoney(account?.balance ?? 0),
    day,
    entries: rows.map((r) => ({
      entry_id: r.entry_id,
      at: r.at.toISOString(),
      kind: r.kind,
      ...(r.task_id ? { task_id: r.task_id } : {}),
      amount: formatMoney(toSafeInt(r.amount, 'amount')),
      description: r.description,
    })),
  };
}
