import { expect } from 'chai';
import fc from 'fast-check';
import { startPopug, type PopugApp } from './popugApp.ts';
import { checkPopugInvariants } from './invariants.ts';
import { selectRows, toSafeInt } from '../../../src/platform/sql.ts';
import { storedPayload, type StoredPayload } from '../../../queues/outbox/writer.ts';
import { applyPaymentsBatch } from '../../../src/domain/popug/payments.ts';
import { withTransaction } from '../../../src/platform/db.ts';
import type { PaymentsEnvelope } from '../../../src/domain/popug/events.ts';
import { waitFor } from '../../helpers/wait.ts';

describe('popug payments', function () {
  this.timeout(180_000);
  let app: PopugApp;
  let employees: { id: string; auth: Record<string, string> }[];
  let manager: { id: string; auth: Record<string, string> };
  before(async () => {
    app = await startPopug();
    employees = [];
    for (let i = 0; i < 4; i++) employees.push(await app.user('employee'));
    manager = await app.user('manager');
  });
  after(() => app.stop());

  async function priceOf(taskId: string): Promise<{ fee: number; reward: number }> {
    const rows = await selectRows<{ assign_fee: unknown; reward: unknown }>(app.database.db, 'SELECT assign_fee, reward FROM popug_task_prices WHERE task_id = ?', [taskId]);
    return { fee: toSafeInt(rows[0]!.assign_fee, 'fee'), reward: toSafeInt(rows[0]!.reward, 'reward') };
  }

  it('debits the fee on assignment and credits the reward on completion, exactly, with audit entries', async () => {
    const res = await app.createTask(manager.auth);
    const assignee = employees.find((e) => e.id === res.body.assignee)!;
    const before = await app.balanceOf(assignee.id);
    await app.settle();
    const { fee, reward } = await priceOf(res.body.task_id);
    expect(fee).to.be.within(1000, 2000);
    expect(reward).to.be.within(2000, 4000);
    expect(await app.balanceOf(assignee.id)).to.equal(before - fee);
    expect((await app.post(`/popug/tasks/${res.body.task_id}/complete`, {}, assignee.auth)).status).to.equal(200);
    await app.settle();
    expect(await app.balanceOf(assignee.id)).to.equal(before - fee + reward);
    const me = await app.get('/popug/accounts/me', assignee.auth);
    expect(me.status).to.equal(200);
    const mine = me.body.entries.filter((e: { task_id?: string }) => e.task_id === res.body.task_id);
    expect(mine.map((e: { kind: string; amount: string }) => [e.kind, e.amount])).to.deep.equal([
      ['reward', (reward / 100).toFixed(2)],
      ['fee', (-fee / 100).toFixed(2)],
    ]);
    await checkPopugInvariants(app.database.db);
  });

  it('changes nothing when an event is processed twice (entry id from the event, ledger key from the entry)', async () => {
    const res = await app.createTask(manager.auth);
    await app.settle();
    const balance = await app.balanceOf(res.body.assignee);
    const [row] = await selectRows<StoredPayload & { id: number }>(
      app.database.db,
      "SELECT id, payload, event_id, event_name, payload_version, created_at FROM outbox WHERE queue = 'popug.payments-apply' AND event_name = 'TaskAssigned' ORDER BY id DESC LIMIT 1",
    );
    const envelope = storedPayload(row!) as PaymentsEnvelope;
    const again = await withTransaction(app.database.db, (trx) => applyPaymentsBatch(trx, [envelope], app.running.services.popug, 'UTC', new Date()));
    expect(again.moved).to.equal(0);
    // And through the queue again: the finished job removed and the row sent back to the relay.
    await app.running.services.queues.get('popug.payments-apply').remove(`ob-${row!.id}`);
    await app.database.db('outbox').where('id', row!.id).update({ status: 'pending', relayed_at: null });
    await waitFor(async () => (await app.database.db('outbox').where('id', row!.id).first())?.status === 'done');
    expect(await app.balanceOf(res.body.assignee)).to.equal(balance);
    await checkPopugInvariants(app.database.db);
  });

  it('keeps every balance exact under random create/complete sequences (property)', async () => {
    type Op = { kind: 'create' } | { kind: 'complete'; pick: number } | { kind: 'replay'; pick: number };
    const op = fc.oneof(
      { weight: 3, arbitrary: fc.constant<Op>({ kind: 'create' }) },
      { weight: 2, arbitrary: fc.nat(1000).map<Op>((pick) => ({ kind: 'complete', pick })) },
      { weight: 1, arbitrary: fc.nat(1000).map<Op>((pick) => ({ kind: 'replay', pick })) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
        for (const o of ops) {
          if (o.kind === 'create') expect((await app.createTask(manager.auth)).status).to.equal(201);
          else if (o.kind === 'complete') {
            const open = await selectRows<{ task_id: string; assignee: string }>(app.database.db, "SELECT task_id, assignee FROM popug_tasks WHERE status = 'open' ORDER BY task_id");
            if (open.length === 0) continue;
            const t = open[o.pick % open.length]!;
            const who = employees.find((e) => e.id === t.assignee)!;
            expect((await app.post(`/popug/tasks/${t.task_id}/complete`, {}, who.auth)).status).to.equal(200);
          } else {
            await app.settle();
            const rows = await selectRows<StoredPayload>(app.database.db, "SELECT payload, event_id, event_name, payload_version, created_at FROM outbox WHERE queue = 'popug.payments-apply' ORDER BY id");
            const envelope = storedPayload(rows[o.pick % rows.length]!) as PaymentsEnvelope;
            await withTransaction(app.database.db, (trx) => applyPaymentsBatch(trx, [envelope], app.running.services.popug, 'UTC', new Date()));
          }
        }
        await app.settle();
        await checkPopugInvariants(app.database.db);
        // Each assignment charged once, each completion credited once.
        const fees = await selectRows<{ n: unknown }>(app.database.db, "SELECT COUNT(*) AS n FROM popug_entries WHERE kind = 'fee'");
        const tasks = await selectRows<{ n: unknown }>(app.database.db, 'SELECT COUNT(*) AS n FROM popug_tasks');
        expect(toSafeInt(fees[0]!.n, 'n')).to.equal(toSafeInt(tasks[0]!.n, 'n'));
        const rewards = await selectRows<{ n: unknown }>(app.database.db, "SELECT COUNT(*) AS n FROM popug_entries WHERE kind = 'reward'");
        const done = await selectRows<{ n: unknown }>(app.database.db, "SELECT COUNT(*) AS n FROM popug_tasks WHERE status = 'done'");
        expect(toSafeInt(rewards[0]!.n, 'n')).to.equal(toSafeInt(done[0]!.n, 'n'));
      }),
      { numRuns: 15 },
    );
  });

  it('stays exact under a concurrent hammer of creations and completions', async () => {
    const created = await Promise.all(Array.from({ length: 40 }, (_, i) => app.createTask(manager.auth, `hammer ${i}`)));
    for (const c of created) expect(c.status).to.equal(201);
    const completions = await Promise.all(
      created.map((c) => app.post(`/popug/tasks/${c.body.task_id}/complete`, {}, employees.find((e) => e.id === c.body.assignee)!.auth)),
    );
    for (const c of completions) expect(c.status).to.equal(200);
    // Racing completions of one task: exactly one wins.
    const one = await app.createTask(manager.auth);
    const owner = employees.find((e) => e.id === one.body.assignee)!;
    const race = await Promise.all(Array.from({ length: 8 }, () => app.post(`/popug/tasks/${one.body.task_id}/complete`, {}, owner.auth)));
    expect(race.map((r) => r.status).sort()).to.deep.equal([200, 409, 409, 409, 409, 409, 409, 409]);
    await app.settle(60_000);
    await checkPopugInvariants(app.database.db);
  });
});
