import { expect } from 'chai';
import { startPopug, testSettings, type PopugApp } from './popugApp.ts';
import { checkPopugInvariants } from './invariants.ts';
import { selectRows, toSafeInt } from '../../../src/platform/sql.ts';
import { waitFor } from '../../helpers/wait.ts';
import { start, type Running } from '../../../src/runtime.ts';

describe('popug reshuffle', function () {
  this.timeout(120_000);

  describe('with workers', () => {
    let app: PopugApp;
    before(async () => (app = await startPopug()));
    after(() => app.stop());

    it('reassigns every open task once to a current employee, charging one fee each, in batches', async () => {
      const employees = [await app.user('employee'), await app.user('employee'), await app.user('employee')];
      const manager = await app.user('manager');
      const tasks = [];
      for (let i = 0; i < 30; i++) tasks.push((await app.createTask(manager.auth, `t${i}`)).body);
      const doneOne = tasks[0]!;
      expect((await app.post(`/popug/tasks/${doneOne.task_id}/complete`, {}, employees.find((e) => e.id === doneOne.assignee)!.auth)).status).to.equal(200);
      await app.settle();
      // One employee leaves: a reshuffle never gives them a task.
      const gone = employees[2]!;
      await app.user('manager', { id: gone.id });

      const res = await app.post('/popug/tasks/reshuffle', {}, manager.auth);
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      const id = res.body.reshuffle_id;
      const done = await waitFor(async () => {
        const r = await app.get(`/popug/reshuffles/${id}`, manager.auth);
        return r.body.status === 'done' ? r.body : null;
      }, { timeoutMs: 30_000 });
      expect(done).to.include({ tasks_total: 29, tasks_done: 29 });
      await app.settle();
      const open = await selectRows<{ assignee: string }>(app.database.db, "SELECT assignee FROM popug_tasks WHERE status = 'open'");
      for (const t of open) expect(t.assignee).to.not.equal(gone.id);
      const fees = await selectRows<{ task_id: string; n: unknown }>(app.database.db, "SELECT task_id, COUNT(*) AS n FROM popug_entries WHERE kind = 'fee' GROUP BY task_id");
      const byTask = new Map(fees.map((f) => [f.task_id, toSafeInt(f.n, 'n')]));
      for (const t of tasks) expect(byTask.get(t.task_id), t.task_id).to.equal(t.task_id === doneOne.task_id ? 1 : 2);
      await checkPopugInvariants(app.database.db);
    });

    it('refuses employees and accountants (403)', async () => {
      for (const role of ['employee', 'accountant'] as const) {
        const u = await app.user(role);
        expect((await app.post('/popug/tasks/reshuffle', {}, u.auth)).status).to.equal(403);
      }
    });
  });

  describe('one at a time', () => {
    let app: PopugApp;
    let worker: Running | undefined;
    // API only: the reshuffle stays running until a worker is started below.
    before(async () => (app = await startPopug({ roles: ['api'] })));
    after(async () => {
      await worker?.stop();
      await app.stop();
    });

    it('answers concurrent requests with the one running reshuffle; MySQL holds a single running row', async () => {
      const manager = await app.authFor(app.admin.id, 'admin');
      const answers = await Promise.all(Array.from({ length: 8 }, () => app.post('/popug/tasks/reshuffle', {}, manager)));
      for (const a of answers) expect(a.status, JSON.stringify(a.body)).to.equal(202);
      const ids = new Set(answers.map((a) => a.body.reshuffle_id));
      expect(ids.size).to.equal(1);
      const rows = await selectRows(app.database.db, 'SELECT reshuffle_id FROM popug_reshuffles');
      expect(rows).to.have.length(1);
      // Once it is done, a new request starts a new one.
      worker = await start(app.config, ['worker'], { popug: testSettings(), metricsDefaults: false });
      const [id] = [...ids];
      await waitFor(async () => (await app.get(`/popug/reshuffles/${id}`, manager)).body.status === 'done');
      const next = await app.post('/popug/tasks/reshuffle', {}, manager);
      expect(next.body.reshuffle_id).to.not.equal(id);
    });
  });
});
