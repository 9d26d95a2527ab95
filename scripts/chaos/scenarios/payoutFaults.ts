/** Scenario 13: the popug payout run killed mid-way (both workers), resumed, and asked for again. */
import { randomUUID } from 'node:crypto';
import { actor, type Actor } from '../traffic.ts';
import { sleep, until } from '../infra.ts';
import type { Ctx, Scenario } from '../context.ts';

const EMPLOYEES = 200;
const TASKS = 260;

/** Runs `work` over `items`, `width` at a time. */
async function each<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

async function must(ctx: Ctx, method: string, path: string, who: Actor, body: unknown, ok: (status: number) => boolean): Promise<Record<string, unknown>> {
  for (let i = 0; i < 20; i++) {
    const res = await ctx.traffic.call(method, path, who, body, { 'idempotency-key': randomUUID() }, i);
    if (ok(res.status)) return res.body ?? {};
    if (res.status >= 400 && res.status < 500) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
    await sleep(300);
  }
  throw new Error(`${method} ${path}: no answer`);
}

const rows = async <T>(ctx: Ctx, sql: string, bindings: unknown[] = []): Promise<T[]> => ((await ctx.db().raw(sql, bindings as never)) as unknown as [T[]])[0];

/** Employees with tasks assigned (fees) and most of them done (rewards): many balances above zero. */
async function seedPopug(ctx: Ctx): Promise<Actor[]> {
  const admin = ctx.traffic.admin;
  const employees = await Promise.all(Array.from({ length: EMPLOYEES }, () => actor('employee')));
  await each(employees, 12, async (e) => void (await must(ctx, 'POST', '/popug/users', admin, { user: e.uuid, role: 'employee' }, (s) => s === 200 || s === 201)));
  // The tracker learns employees from events: tasks go only to the ones it knows.
  const uuids = employees.map((e) => e.uuid);
  await until('the tracker to know every employee', async () => (await rows<{ n: number }>(ctx, "SELECT COUNT(*) AS n FROM popug_tracker_users WHERE role = 'employee' AND user_id IN (?)", [uuids]))[0]!.n === EMPLOYEES, 60_000, 300);
  const byUuid = new Map(employees.map((e) => [e.uuid, e]));
  const tasks: { id: string; assignee: string }[] = [];
  await each(Array.from({ length: TASKS }, (_, i) => i), 12, async (i) => {
    const body = await must(ctx, 'POST', '/popug/tasks', admin, { title: `chaos task ${i}`, description: 'payout scenario' }, (s) => s === 201);
    tasks.push({ id: String(body.task_id), assignee: String(body.assignee) });
  });
  const done = tasks.filter((_, i) => i % 10 < 8);
  await each(done, 12, async (t) => void (await must(ctx, 'POST', `/popug/tasks/${t.id}/complete`, byUuid.get(t.assignee)!, undefined, (s) => s === 200)));
  // Payments prices and books each task from events: wait until every fee and reward is an entry.
  const taskIds = tasks.map((t) => t.id);
  await until(
    'payments to book every fee and reward',
    async () => {
      const [row] = await rows<{ fees: number; rewards: number }>(ctx, "SELECT SUM(kind = 'fee') AS fees, SUM(kind = 'reward') AS rewards FROM popug_entries WHERE task_id IN (?)", [taskIds]);
      return Number(row!.fees) >= TASKS && Number(row!.rewards) === done.length;
    },
    90_000,
    500,
  );
  return employees;
}

export const payoutKill: Scenario = {
  name: 'payout-kill',
  n: 13,
  quick: true,
  async run(ctx) {
    const employees = await seedPopug(ctx);
    const uuids = employees.map((e) => e.uuid);
    const balances = new Map(
      (await rows<{ owner_id: string; balance: unknown }>(ctx, "SELECT owner_id, balance FROM accounts WHERE owner_type = 'employee' AND kind = 'popug' AND owner_id IN (?)", [uuids])).map((r) => [r.owner_id, Number(r.balance)]),
    );
    const positive = [...balances.values()].filter((b) => b > 0).length;
    const day = new Date().toISOString().slice(0, 10);
    const paid = async () => Number((await rows<{ n: number }>(ctx, "SELECT COUNT(*) AS n FROM popug_entries WHERE kind = 'payout' AND day = ? AND user_id IN (?)", [day, uuids]))[0]!.n);

    // Slower MySQL round trips (through the proxy) so the run is surely mid-way when both workers die.
    ctx.mysqlProxy.latencyMs = 3;
    const load = ctx.traffic.run(6000, 10);
    await must(ctx, 'POST', '/popug/payouts/run', ctx.traffic.admin, { day }, (s) => s === 202);
    let atKill = 0;
    try {
      await until('the payout run to start paying', async () => (atKill = await paid()) >= Math.max(1, Math.floor(positive / 5)), 60_000, 20);
      await Promise.all([ctx.deployment.kill9('worker1'), ctx.deployment.kill9('worker2')]);
      atKill = await paid();
    } finally {
      ctx.mysqlProxy.latencyMs = 0;
    }
    await sleep(1000);
    await Promise.all([ctx.deployment.spawn('worker1', 'worker'), ctx.deployment.spawn('worker2', 'worker')]);
    // A second request for the same day (as a second cron fire or an impatient admin would make).
    await must(ctx, 'POST', '/popug/payouts/run', ctx.traffic.admin, { day }, (s) => s === 202);
    await load;
    const finished = await until('the payout day to be done', async () => (await rows<{ status: string }>(ctx, 'SELECT status FROM popug_days WHERE day = ?', [day]))[0]?.status === 'done', 90_000, 300).then(
      (ms) => ({ ok: true, ms }),
      () => ({ ok: false, ms: -1 }),
    );

    // PAYONCE: each employee with a positive balance paid exactly it, once (transfer, entry);
    // nobody else paid; every paid balance now zero.
    const payouts = await rows<{ user_id: string; amount: unknown }>(ctx, "SELECT user_id, -amount AS amount FROM popug_entries WHERE kind = 'payout' AND day = ? AND user_id IN (?)", [day, uuids]);
    const transfers = await rows<{ k: string; n: number }>(ctx, "SELECT idempotency_key AS k, COUNT(*) AS n FROM transfers WHERE reason = 'popug_payout' AND reference = ? GROUP BY idempotency_key", [day]);
    const entries = await rows<{ user_id: string; n: number }>(ctx, "SELECT user_id, COUNT(*) AS n FROM popug_entries WHERE kind = 'payout' AND day = ? AND user_id IN (?) GROUP BY user_id", [day, uuids]);
    const now = new Map((await rows<{ owner_id: string; balance: unknown }>(ctx, "SELECT owner_id, balance FROM accounts WHERE owner_type = 'employee' AND kind = 'popug' AND owner_id IN (?)", [uuids])).map((r) => [r.owner_id, Number(r.balance)]));
    const paidBy = new Map(payouts.map((p) => [p.user_id, Number(p.amount)]));
    const entryCount = new Map(entries.map((e) => [e.user_id, Number(e.n)]));
    const problems: string[] = [];
    for (const [user, before] of balances) {
      const got = paidBy.get(user);
      if (before > 0 && got !== before) problems.push(`${user} had ${before}, paid ${got ?? 'nothing'}`);
      if (before <= 0 && got !== undefined) problems.push(`${user} had ${before}, paid ${got}`);
      if (before > 0 && (entryCount.get(user) ?? 0) !== 1) problems.push(`${user}: ${entryCount.get(user) ?? 0} payout entries`);
      const left = now.get(user) ?? 0;
      if (left !== (before > 0 ? 0 : before)) problems.push(`${user} balance ${before} → ${left}`);
    }
    const mine = transfers.filter((t) => uuids.some((u) => t.k === `payout:${u}:${day}`));
    const doubleTransfers = mine.filter((t) => Number(t.n) !== 1).length;
    if (mine.length !== payouts.length) problems.push(`${mine.length} payout transfers for ${payouts.length} payouts`);
    return {
      fault: `payout of ${positive} positive balances (of ${EMPLOYEES}); kill -9 of both workers after ${atKill} paid; restarted, run asked for again`,
      checks: [
        { name: 'PAYDONE', ok: finished.ok, detail: finished.ok ? `day done ${finished.ms} ms after the second request` : 'the payout day did not finish within 90 s' },
        { name: 'PAYONCE', ok: problems.length === 0 && doubleTransfers === 0 && atKill < positive, detail: `${payouts.length} paid of ${positive}, ${atKill} before the kill, double transfers ${doubleTransfers}${problems.length ? `; ${problems.slice(0, 3).join('; ')}` : ''}` },
      ],
    };
  },
};
