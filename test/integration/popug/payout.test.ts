import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { withTransaction } from '../../../src/platform/db.ts';
import { recordMovement } from '../../../src/domain/popug/payments.ts';
import { closeDaysUpTo } from '../../../src/domain/popug/payout.ts';
import { dayOf } from '../../../src/domain/popug/days.ts';
import { ManualClock } from '../../../src/platform/clock.ts';
import { jobData } from '../../../queues/producer.ts';
import { contracts } from '../../../queues/contracts/index.ts';
import { selectRows } from '../../../src/platform/sql.ts';
import { waitFor } from '../../helpers/wait.ts';
import { checkPopugInvariants } from './invariants.ts';
import { startPopug, testSettings, type PopugApp } from './popugApp.ts';

const D = '2030-03-10';
const D1 = '2030-03-11';
const HOUR = 3_600_000;

describe('popug payout', function () {
  this.timeout(120_000);
  let app: PopugApp;
  const clock = new ManualClock(Date.parse(`${D}T12:00:00Z`));
  let a: { id: string; auth: Record<string, string> };
  let b: { id: string; auth: Record<string, string> };
  let finance: Record<string, string>;
  const aTasks: string[] = [];
  const bTasks: string[] = [];

  before(async () => {
    app = await startPopug({ clock, settings: testSettings({ fee_range: ['10.00', '10.00'], reward_range: ['30.00', '30.00'] }) });
    finance = app.admin.auth;
  });
  after(() => app.stop());

  /** Creates tasks (a and b are the only employees) until each has at least one. */
  async function tasksForBoth(): Promise<void> {
    while (aTasks.length === 0 || bTasks.length === 0) {
      const res = await app.createTask(finance);
      (res.body.assignee === a.id ? aTasks : bTasks).push(res.body.task_id);
    }
  }

  async function waitDone(day: string) {
    return waitFor(async () => {
      const r = await app.get(`/popug/payouts?day=${day}`, finance);
      return r.body.status === 'done' ? r.body : null;
    }, { timeoutMs: 30_000, what: `payout of ${day}` });
  }

  it('pays positive balances once at the close; negative and zero carry over', async () => {
    a = await app.user('employee');
    b = await app.user('employee');
    await tasksForBoth();
    for (const t of aTasks) expect((await app.post(`/popug/tasks/${t}/complete`, {}, a.auth)).status).to.equal(200);
    await app.settle();
    expect(await app.balanceOf(a.id)).to.equal(2000 * aTasks.length);
    expect(await app.balanceOf(b.id)).to.equal(-1000 * bTasks.length);
    expect((await app.get(`/popug/payouts?day=${D}`, finance)).body.status).to.equal('pending');

    clock.advance(HOUR);
    const run = await app.post('/popug/payouts/run', { day: D }, finance);
    expect(run.status, JSON.stringify(run.body)).to.equal(202);
    const status = await waitDone(D);
    const paid = await selectRows<{ user_id: string; amount: number }>(app.database.db, "SELECT user_id, -amount AS amount FROM popug_entries WHERE kind = 'payout'");
    expect(status.employees_paid).to.equal(paid.length);
    expect(paid.map((p) => [p.user_id, p.amount])).to.deep.equal([[a.id, 2000 * aTasks.length]]);
    expect(await app.balanceOf(a.id)).to.equal(0);
    expect(await app.balanceOf(b.id)).to.equal(-1000 * bTasks.length);
    const me = await app.get(`/popug/accounts/me?day=${D}`, a.auth);
    expect(me.body.entries[0]).to.include({ kind: 'payout', amount: `-${(20 * aTasks.length).toFixed(2)}` });
    await app.settle();
    const inbox = await app.get('/notifications', a.auth);
    expect(inbox.body.notifications.map((n: { kind: string }) => n.kind)).to.include('popug_payout');
    await checkPopugInvariants(app.database.db);
  });

  it('counts an entry made after the close in the next day, and pays nobody twice (manual rerun, cron fire)', async () => {
    // Still the 10th by the clock, but the 10th is closed: the reward counts on the 11th.
    for (const t of bTasks) expect((await app.post(`/popug/tasks/${t}/complete`, {}, b.auth)).status).to.equal(200);
    await app.settle();
    const late = await app.get(`/popug/accounts/me?day=${D1}`, b.auth);
    expect(late.body.entries.map((e: { kind: string }) => e.kind)).to.deep.equal(bTasks.map(() => 'reward'));
    const before = (await app.get(`/popug/payouts?day=${D}`, finance)).body;

    expect((await app.post('/popug/payouts/run', { day: D }, finance)).status).to.equal(202);
    await app.running.services.queues.get('popug.payout-cron').add('popug.payout-cron', jobData(contracts['popug.payout-cron'], {}));
    await app.settle();
    await waitFor(async () => (await app.running.services.queues.get('popug.payout-cron').getCompletedCount()) === 1);
    await app.settle();
    expect((await app.get(`/popug/payouts?day=${D}`, finance)).body).to.deep.equal(before);
    expect(await app.balanceOf(b.id)).to.equal(2000 * bTasks.length);

    clock.advance(24 * HOUR);
    expect((await app.post('/popug/payouts/run', { day: D1 }, finance)).status).to.equal(202);
    const next = await waitDone(D1);
    expect(next).to.include({ employees_paid: 1, total: (20 * bTasks.length).toFixed(2) });
    expect(await app.balanceOf(b.id)).to.equal(0);
    await checkPopugInvariants(app.database.db);
  });

  it('shows the dashboard from the day aggregates, matching a recomputation from entries', async () => {
    const dash = await app.get(`/popug/dashboard?day=${D}`, finance);
    expect(dash.status).to.equal(200);
    const fees = await selectRows<{ day: string; fees: number; rewards: number; payouts: number }>(
      app.database.db,
      `SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day, -SUM(IF(kind = 'fee', amount, 0)) AS fees, SUM(IF(kind = 'reward', amount, 0)) AS rewards,
         -SUM(IF(kind = 'payout', amount, 0)) AS payouts FROM popug_entries GROUP BY day ORDER BY day`,
    );
    const d0 = fees.find((f) => f.day === D)!;
    expect(dash.body.management_income).to.equal(((Number(d0.fees) - Number(d0.rewards)) / 100).toFixed(2));
    expect(dash.body.employees_in_red).to.equal(1);
    expect(dash.body.most_expensive.day).to.include({ reward: '30.00', title: 'peck the seeds' });
    expect(aTasks).to.include(dash.body.most_expensive.day.task_id);
    expect(dash.body.most_expensive.week).to.include({ reward: '30.00' });
    const days = await app.get(`/popug/dashboard/days?from=${D}&to=${D1}`, finance);
    expect(days.status).to.equal(200);
    expect(days.body.days).to.deep.equal(
      [D, D1].map((day) => {
        const f = fees.find((x) => x.day === day)!;
        const m = (n: number) => (n / 100).toFixed(2);
        return { day, management_income: m(Number(f.fees) - Number(f.rewards)), fees: m(Number(f.fees)), rewards: m(Number(f.rewards)), payouts: m(Number(f.payouts)) };
      }),
    );
    const today = await app.get('/popug/dashboard', finance);
    expect(today.body.day).to.equal(D1);
    expect(today.body.employees_in_red).to.equal(0);
  });

  it('pays the closing balance even when fees after the close take the balance below zero, and counts that employee in the red', async () => {
    clock.advance(24 * HOUR);
    const day = dayOf(clock.now(), 'UTC');
    const c = randomUUID();
    const move = (kind: 'fee' | 'reward', amount: number) =>
      withTransaction(app.database.db, (trx) =>
        recordMovement(trx, { entryId: randomUUID().replace(/-/g, ''), userId: c, kind, taskId: randomUUID(), amount, description: kind, at: new Date(clock.now()) }, 'UTC'),
      );
    await move('reward', 5000);
    await closeDaysUpTo(app.database.db, day, new Date(clock.now()));
    // After the close: counts in the next day, so the closing balance stays 50.00.
    await move('fee', 2000);
    expect((await app.post('/popug/payouts/run', { day }, finance)).status).to.equal(202);
    expect(await waitDone(day)).to.include({ employees_paid: 1, total: '50.00' });
    expect(await app.balanceOf(c)).to.equal(-2000);
    expect((await app.get('/popug/dashboard', finance)).body.employees_in_red).to.equal(1);
    await checkPopugInvariants(app.database.db);
  });

  it('refuses bad input with 400 and future days with 422, writing nothing', async () => {
    const before = await selectRows(app.database.db, 'SELECT id FROM outbox');
    for (const body of [{}, { day: '2030-02-30' }, { day: 'yesterday' }, { day: D, extra: 1 }]) {
      const res = await app.post('/popug/payouts/run', body, finance);
      expect(res.status, JSON.stringify(body)).to.equal(400);
    }
    expect((await app.post('/popug/payouts/run', { day: '2031-01-01' }, finance)).status).to.equal(422);
    expect((await app.get('/popug/dashboard/days?from=2030-01-01&to=2031-01-03', finance)).status).to.equal(400);
    expect((await app.get('/popug/dashboard/days?from=2030-01-02&to=2030-01-01', finance)).status).to.equal(400);
    expect((await app.get('/popug/dashboard?day=2030-13-01', finance)).status).to.equal(400);
    expect(await selectRows(app.database.db, 'SELECT id FROM outbox')).to.have.length(before.length);
  });
});
