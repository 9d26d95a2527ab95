import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { TEST_REDIS } from '../../helpers/db.ts';
import { waitFor } from '../../helpers/wait.ts';
import { start, type Running } from '../../../src/runtime.ts';
import { withTransaction } from '../../../src/platform/db.ts';
import { selectRows, toSafeInt } from '../../../src/platform/sql.ts';
import { recordMovement } from '../../../src/domain/popug/payments.ts';
import { createTask } from '../../../src/domain/popug/tasks.ts';
import { applyUserCopy } from '../../../src/domain/popug/users.ts';
import { dayOf } from '../../../src/domain/popug/days.ts';
import { checkPopugInvariants } from './invariants.ts';
import { startPopug, testSettings, type PopugApp } from './popugApp.ts';

const BATCH = 5;

/** A worker-only Conveyor in its own process, on the test's database and prefix, to kill with SIGKILL. */
function spawnWorker(app: PopugApp, configFile: string): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'start', '--role', 'worker'], {
    env: {
      ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: app.config.databaseUrl, REDIS_URL: TEST_REDIS,
      QUEUE_PREFIX: app.prefix, OUTBOX_POLL: '100ms', POPUG_CONFIG_FILE: configFile,
    },
    stdio: 'ignore',
  });
}

async function wipeRedis(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS, { protocol: 2 });
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
}

const count = async (app: PopugApp, sql: string, args: string[] = []) => toSafeInt((await selectRows<{ n: unknown }>(app.database.db, sql, args))[0]?.n ?? 0, 'n');

describe('popug chaos: a worker SIGKILLed mid-run, Redis wiped, runs fired twice', function () {
  this.timeout(180_000);
  let app: PopugApp;
  let child: ChildProcess | undefined;
  let survivor: Running | undefined;
  const configFile = join(tmpdir(), `popug-chaos-${randomUUID()}.json`);

  before(async () => {
    writeFileSync(configFile, JSON.stringify({ batch_size: BATCH, mail_attempts: 2 }));
    app = await startPopug({ roles: ['api'], settings: testSettings({ batch_size: BATCH }) });
  });
  after(async () => {
    child?.kill('SIGKILL');
    await survivor?.stop();
    await app.stop();
    rmSync(configFile, { force: true });
  });

  async function killMidway(progress: () => Promise<number>, total: number, what: string): Promise<number> {
    const reached = await waitFor(async () => {
      const n = await progress();
      return n >= 15 ? n : 0;
    }, { timeoutMs: 60_000, intervalMs: 5, what });
    child!.kill('SIGKILL');
    await new Promise((resolve) => child!.once('exit', resolve));
    child = undefined;
    const atKill = await progress();
    expect(atKill, `${what} finished before the kill: nothing was tested`).to.be.lessThan(total);
    void reached;
    return atKill;
  }

  async function recover(): Promise<void> {
    // A Redis wipe on top of the crash: the outbox row is all that says the run is unfinished.
    await wipeRedis(app.prefix);
    const config = { ...app.config, outbox: { ...app.config.outbox, reconcileMs: 300, reconcileGraceMs: 500 } };
    survivor = await start(config, ['worker'], { popug: testSettings({ batch_size: BATCH }), metricsDefaults: false });
  }

  it('pays every employee exactly once for the day', async () => {
    const employees = 300;
    const now = new Date();
    const day = dayOf(now, 'UTC');
    let expected = 0;
    for (let i = 0; i < employees; i++) {
      const amount = 100 + i;
      expected += amount;
      await withTransaction(app.database.db, (trx) =>
        recordMovement(trx, { entryId: randomUUID().replace(/-/g, ''), userId: randomUUID(), kind: 'reward', taskId: randomUUID(), amount, description: 'seed', at: now }, 'UTC'),
      );
    }
    child = spawnWorker(app, configFile);
    expect((await app.post('/popug/payouts/run', { day }, app.admin.auth)).status).to.equal(202);
    await killMidway(() => count(app, "SELECT COUNT(*) AS n FROM popug_entries WHERE kind = 'payout'"), employees, 'payouts');
    await recover();
    // A second manual run and a cron fire while it resumes.
    expect((await app.post('/popug/payouts/run', { day }, app.admin.auth)).status).to.equal(202);
    await survivor!.services.queues.get('popug.payout-cron').add('popug.payout-cron', { v: 1, payload: {} });
    await waitFor(async () => (await app.get(`/popug/payouts?day=${day}`, app.admin.auth)).body.status === 'done', { timeoutMs: 90_000 });
    await app.settle(60_000);
    const status = (await app.get(`/popug/payouts?day=${day}`, app.admin.auth)).body;
    expect(status).to.include({ employees_paid: employees, total: (expected / 100).toFixed(2) });
    expect(await count(app, "SELECT COUNT(*) AS n FROM transfers WHERE idempotency_key LIKE 'payout:%'")).to.equal(employees);
    expect(await count(app, "SELECT COUNT(*) AS n FROM popug_entries WHERE kind = 'payout'")).to.equal(employees);
    expect(await count(app, "SELECT COUNT(*) AS n FROM accounts WHERE owner_type = 'employee' AND kind = 'popug' AND balance <> 0")).to.equal(0);
    // One PaymentMade per payout (batch rows, one per listener and payout batch), each reported once.
    const reportRows = await selectRows<{ payload: string }>(app.database.db, "SELECT payload FROM outbox WHERE event_name = 'PaymentMade' AND queue = 'popug.reports'");
    const events = reportRows.flatMap((r) => JSON.parse(r.payload) as { event_id: string; payload: { user_id: string } }[]);
    expect(new Set(events.map((e) => e.event_id)).size).to.equal(employees);
    expect(new Set(events.map((e) => e.payload.user_id)).size).to.equal(employees);
    expect(await count(app, "SELECT COUNT(*) AS n FROM notifications WHERE kind = 'popug_payout'")).to.equal(employees);
    expect(await count(app, "SELECT COUNT(DISTINCT user_id) AS n FROM notifications WHERE kind = 'popug_payout'")).to.equal(employees);
    await checkPopugInvariants(app.database.db);
    await survivor!.stop();
    survivor = undefined;
  });

  it('resumes a reshuffle where it stopped: no task reassigned (or charged) twice by it', async () => {
    const db = app.database.db;
    const staff = Array.from({ length: 5 }, () => randomUUID());
    for (const id of staff) await withTransaction(db, (trx) => applyUserCopy(trx, 'popug_tracker_users', { user_id: id, role: 'employee', name: null, email: null, version: 1 }));
    const total = 250;
    for (let i = 0; i < total; i++) {
      await app.running.services.outbox.transaction((trx) => createTask(trx, { title: `t${i}`, description: '', jiraId: null, createdBy: app.admin.id }, new Date(Date.now() - 1000)));
    }
    child = spawnWorker(app, configFile);
    await app.settle(90_000);
    const res = await app.post('/popug/tasks/reshuffle', {}, app.admin.auth);
    expect(res.status).to.equal(202);
    const id: string = res.body.reshuffle_id;
    await killMidway(async () => (await app.get(`/popug/reshuffles/${id}`, app.admin.auth)).body.tasks_done as number, total, 'reshuffle');
    await recover();
    await waitFor(async () => (await app.get(`/popug/reshuffles/${id}`, app.admin.auth)).body.status === 'done', { timeoutMs: 90_000 });
    await app.settle(90_000);
    const events = await selectRows<{ payload: string }>(db, "SELECT payload FROM outbox WHERE event_name = 'TaskAssigned' AND queue = 'popug.payments-apply'");
    const perTask = new Map<string, number>();
    for (const e of events) {
      const p = JSON.parse(e.payload) as { task_id: string; assignment_id: string };
      if (p.assignment_id === id) perTask.set(p.task_id, (perTask.get(p.task_id) ?? 0) + 1);
    }
    expect(perTask.size).to.equal(total);
    expect([...perTask.values()].every((n) => n === 1)).to.equal(true);
    expect((await app.get(`/popug/reshuffles/${id}`, app.admin.auth)).body).to.include({ tasks_total: total, tasks_done: total });
    expect(await count(app, "SELECT COUNT(*) AS n FROM popug_entries WHERE kind = 'fee'")).to.equal(2 * total);
    await checkPopugInvariants(db);
  });
});
