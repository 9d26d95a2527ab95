import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { startPopug, type PopugApp } from './popugApp.ts';
import { waitFor } from '../../helpers/wait.ts';
import { selectRows } from '../../../src/platform/sql.ts';
import { withTransaction } from '../../../src/platform/db.ts';
import { applyUserCopy } from '../../../src/domain/popug/users.ts';
import { randomAssignees } from '../../../src/domain/popug/assignees.ts';
import type { PopugRole } from '../../../src/domain/popug/events.ts';

describe('popug tracker', function () {
  this.timeout(60_000);
  let app: PopugApp;
  before(async () => (app = await startPopug()));
  after(() => app.stop());

  it('refuses a task while there is no employee (422 no_employees), writing nothing', async () => {
    const manager = await app.user('manager');
    const res = await app.createTask(manager.auth);
    expect(res.status).to.equal(422);
    expect(res.body.code).to.equal('no_employees');
    const rows = await selectRows(app.database.db, 'SELECT task_id FROM popug_tasks');
    expect(rows).to.have.length(0);
  });

  it('learns a user on first sight of a token, and streams them to the tracker and payments', async () => {
    const id = randomUUID();
    const auth = await app.authFor(id, 'employee', { name: 'Kesha', email: 'kesha@popug.local' });
    const res = await app.get('/popug/accounts/me', auth);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.balance).to.equal('0.00');
    await waitFor(async () => (await selectRows<{ email: string }>(app.database.db, 'SELECT email FROM popug_payment_users WHERE user_id = ?', [id]))[0]?.email === 'kesha@popug.local');
    await waitFor(async () => (await selectRows(app.database.db, "SELECT 1 FROM popug_tracker_users WHERE user_id = ? AND role = 'employee'", [id])).length === 1);
    // Demote again so the other tests know their employees exactly.
    await app.user('manager', { id });
  });

  it('assigns only current employees, uniformly enough, and never one whose role changed', async () => {
    const e1 = await app.user('employee');
    const e2 = await app.user('employee');
    const e3 = await app.user('employee');
    const manager = await app.user('manager');
    // e3 stops being an employee: the tracker learns it from AccountRoleChanged.
    await app.user('accountant', { id: e3.id });
    const counts = new Map<string, number>();
    for (let i = 0; i < 60; i++) {
      const res = await app.createTask(manager.auth, `task ${i}`);
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      counts.set(res.body.assignee, (counts.get(res.body.assignee) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).to.deep.equal([e1.id, e2.id].sort());
    // 60 fair coin flips: fewer than 12 on one side has probability < 1e-6.
    for (const n of counts.values()) expect(n).to.be.greaterThan(11);
  });

  it('keeps the assignment slots 1..n exactly the current employees through role changes, repeats and old events', async () => {
    const db = app.database.db;
    const apply = (user_id: string, role: PopugRole, version: number) =>
      withTransaction(db, (trx) => applyUserCopy(trx, 'popug_tracker_users', { user_id, role, name: null, email: null, version }));
    const users = Array.from({ length: 12 }, () => randomUUID());
    const versions = new Map(users.map((u) => [u, 0]));
    const roles: PopugRole[] = ['employee', 'manager', 'accountant', 'admin'];
    // Random role changes, some applied concurrently, some repeated, some older than what is known.
    for (let round = 0; round < 6; round++) {
      await Promise.all(
        users.map(async (u, i) => {
          const v = versions.get(u)! + 1;
          versions.set(u, v);
          await apply(u, roles[(i + round * 3 + (i % 3) * round) % roles.length]!, v);
          if (i % 4 === 0) await apply(u, 'employee', v - 1);
          if (i % 5 === 0) await apply(u, roles[(i + round * 3 + (i % 3) * round) % roles.length]!, v);
        }),
      );
      const slots = await selectRows<{ slot: number; user_id: string }>(db, 'SELECT slot, user_id FROM popug_assignees ORDER BY slot');
      const [count] = await selectRows<{ n: number }>(db, 'SELECT n FROM popug_assignee_count WHERE id = 1');
      const employees = await selectRows<{ user_id: string }>(db, "SELECT user_id FROM popug_tracker_users WHERE role = 'employee' ORDER BY user_id");
      expect(slots.map((s) => s.slot)).to.deep.equal(Array.from({ length: slots.length }, (_, k) => k + 1));
      expect(count!.n).to.equal(slots.length);
      expect(slots.map((s) => s.user_id).sort()).to.deep.equal(employees.map((e) => e.user_id));
      // A reshuffle batch's draw: current employees only, each of them drawn in 400 tries.
      const drawn = await randomAssignees(db, 400);
      expect(drawn).to.have.length(employees.length > 0 ? 400 : 0);
      expect([...new Set(drawn)].sort()).to.deep.equal(employees.map((e) => e.user_id));
    }
    for (const u of users) await apply(u, 'manager', versions.get(u)! + 1);
    // None of them is drawn once their role changed (other tests' employees may remain).
    expect((await randomAssignees(db, 400)).filter((u) => (users as string[]).includes(u))).to.deep.equal([]);
  });

  it('gets a task with its prices once payments has priced it; jira id split out of the title', async () => {
    const e = await app.user('employee');
    void e;
    const manager = await app.user('manager');
    const res = await app.post('/popug/tasks', { title: '[POPUG-12] fix the beak', description: 'd' }, manager.auth);
    expect(res.status).to.equal(201);
    await app.settle();
    const got = await app.get(`/popug/tasks/${res.body.task_id}`, manager.auth);
    expect(got.status).to.equal(200);
    expect(got.body).to.include({ title: 'fix the beak', jira_id: 'POPUG-12', status: 'open', assignee: res.body.assignee });
    const fee = Number(got.body.assign_fee);
    const reward = Number(got.body.reward);
    expect(fee).to.be.within(10, 20);
    expect(reward).to.be.within(20, 40);
  });

  it('lets only the assignee complete a task; twice is 409 already_done', async () => {
    const e = await app.user('employee');
    const manager = await app.user('manager');
    // Only e is an employee now? Others exist; find a task assigned to e.
    let taskId: string | undefined;
    for (let i = 0; i < 200 && !taskId; i++) {
      const res = await app.createTask(manager.auth);
      if (res.body.assignee === e.id) taskId = res.body.task_id;
    }
    expect(taskId).to.be.a('string');
    const other = await app.user('employee');
    const byOther = await app.post(`/popug/tasks/${taskId}/complete`, {}, other.auth);
    expect(byOther.status).to.equal(403);
    const byManager = await app.post(`/popug/tasks/${taskId}/complete`, {}, manager.auth);
    expect(byManager.status).to.equal(403);
    const first = await app.post(`/popug/tasks/${taskId}/complete`, {}, e.auth);
    expect(first.status, JSON.stringify(first.body)).to.equal(200);
    const second = await app.post(`/popug/tasks/${taskId}/complete`, {}, e.auth);
    expect(second.status).to.equal(409);
    expect(second.body.code).to.equal('already_done');
    const missing = await app.post(`/popug/tasks/${randomUUID()}/complete`, {}, e.auth);
    expect(missing.status).to.equal(404);
  });

  it('lists tasks: employees their own only, managers any, paged', async () => {
    const manager = await app.user('manager');
    const e = await app.user('employee');
    const own = await app.get('/popug/tasks?limit=100', e.auth);
    expect(own.status).to.equal(200);
    for (const t of own.body.tasks) expect(t.assignee).to.equal(e.id);
    const peek = await app.get(`/popug/tasks?assignee=${randomUUID()}`, e.auth);
    expect(peek.status).to.equal(403);
    const seen = new Set<string>();
    let after: string | null = null;
    do {
      const page = await app.get(`/popug/tasks?limit=7${after ? `&after=${after}` : ''}`, manager.auth);
      expect(page.status).to.equal(200);
      for (const t of page.body.tasks) {
        expect(seen.has(t.task_id)).to.equal(false);
        seen.add(t.task_id);
      }
      after = page.body.next;
    } while (after);
    const all = await selectRows(app.database.db, 'SELECT task_id FROM popug_tasks');
    expect(seen.size).to.equal(all.length);
  });
});
