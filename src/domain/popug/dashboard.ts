import { BadRequest } from '../../platform/errors.ts';
import { selectRows, toSafeInt, type Conn } from '../../platform/sql.ts';
import { formatMoney, findAccount } from '../ledger/index.ts';
import { addDays, daysBetween, weekStart } from './days.ts';

export interface TopTask {
  task_id: string;
  title: string | null;
  reward: string;
}

interface TopRow {
  day: string;
  top_task_id: string;
  top_reward: unknown;
  title: string | null;
}

/** The highest reward among the rows of days in [from, to]; a tie goes to the earlier day. */
function topBetween(rows: readonly TopRow[], from: string, to: string): TopTask | null {
  let best: TopRow | null = null;
  for (const row of rows) {
    if (row.day < from || row.day > to) continue;
    if (!best || toSafeInt(row.top_reward, 'reward') > toSafeInt(best.top_reward, 'reward')) best = row;
  }
  return best ? { task_id: best.top_task_id, title: best.title, reward: formatMoney(toSafeInt(best.top_reward, 'reward')) } : null;
}

export interface Dashboard {
  day: string;
  management_income: string;
  employees_in_red: number;
  most_expensive: { day: TopTask | null; week: TopTask | null; month: TopTask | null };
}

/**
 * The dashboard of one day: three indexed reads of per-day aggregates, never of entries, sent at
 * once (each on its own pooled connection) so the answer waits for the slowest, not for the sum.
 */
export async function dashboard(conn: Conn, day: string, today: string): Promise<Dashboard> {
  const week = weekStart(day);
  const weekEnd = addDays(week, 6);
  const month = `${day.slice(0, 8)}01`;
  const monthEnd = addDays(`${addDays(month, 31).slice(0, 8)}01`, -1);
  // Balances crossing zero, summed over days: now (today) or as of the day's close.
  const upTo = day >= today ? '9999-12-31' : day;
  const [rows, sum, tops] = await Promise.all([
    selectRows<{ fees: unknown; rewards: unknown; in_red_at_close: unknown }>(conn, 'SELECT fees, rewards, in_red_at_close FROM popug_days WHERE day = ?', [day]),
    selectRows<{ n: unknown }>(conn, 'SELECT COALESCE(SUM(red_delta), 0) AS n FROM popug_days WHERE day <= ?', [upTo]),
    // The days of the week and the month around `day` that have a completed task: at most 37 rows.
    selectRows<TopRow>(
      conn,
      `SELECT DATE_FORMAT(d.day, '%Y-%m-%d') AS day, d.top_task_id, d.top_reward, p.title FROM popug_days d
       LEFT JOIN popug_task_prices p ON p.task_id = d.top_task_id
       WHERE d.day BETWEEN ? AND ? AND d.top_task_id IS NOT NULL ORDER BY d.day`,
      [week < month ? week : month, weekEnd > monthEnd ? weekEnd : monthEnd],
    ),
  ]);
  const row = rows[0];
  const income = row ? toSafeInt(row.fees, 'fees') - toSafeInt(row.rewards, 'rewards') : 0;
  const inRed =
    day < today && row && row.in_red_at_close !== null
      ? toSafeInt(row.in_red_at_close, 'in red')
      : Math.max(0, toSafeInt(sum[0]?.n ?? 0, 'in red'));
  return {
    day,
    management_income: formatMoney(income),
    employees_in_red: inRed,
    most_expensive: { day: topBetween(tops, day, day), week: topBetween(tops, week, weekEnd), month: topBetween(tops, month, monthEnd) },
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
