import { expect } from 'chai';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { startWorker } from '../../../queues/consumer.ts';
import { OutboxRelay, addRowsToQueues, type OutboxRow } from '../../../queues/outbox/relay.ts';
import { OutboxReconciler } from '../../../queues/outbox/reconciler.ts';
import { writeOutbox } from '../../../queues/outbox/writer.ts';
import { startConveyor, deleteKeys, type TestConveyor } from '../../helpers/conveyor.ts';
import { TEST_REDIS } from '../../helpers/db.ts';
import { contractMap, createEffectsTable, defineTestJob, testProcessor, testRows, workerConnection } from '../../helpers/outboxJob.ts';
import { sleep, waitFor } from '../../helpers/wait.ts';

// A real durable job type used only here: its effect is a row per run, so "exactly once" is countable.
const effectContract = defineTestJob('test.effect', 'test: record one effect row', { attempts: 5, delayMs: 50, maxDelayMs: 200, concurrency: 4 });

describe('transactional outbox (real MySQL + Redis)', function () {
  this.timeout(40_000);
  let app: TestConveyor;
  let worker: Worker | undefined;
  let connection: Redis;
  const contracts = contractMap(effectContract);
  let slowMs = 0;

  const processor = testProcessor(async (trx, ctx) => {
    if (slowMs) await sleep(slowMs);
    await trx('test_effects').insert({ outbox_id: ctx.outboxId, n: ctx.payload.n });
  });

  const relay = () => new OutboxRelay(app.running.services.db, app.running.services.queues, contracts, app.running.services.log, { batchSize: 37 });
  const reconciler = () =>
    new OutboxReconciler(app.running.services.db, app.running.services.queues, contracts, app.running.services.log, { everyMs: 1000, graceMs: 0, batchSize: 50 });

  async function write(count: number, availableAt?: Date): Promise<void> {
    await app.running.services.db.transaction((trx) =>
      writeOutbox(trx, testRows(effectContract, Array.from({ length: count }, (_, n) => n), availableAt)),
    );
  }

  async function effectsPerRow(): Promise<{ rows: number; done: number; maxPerRow: number; effects: number }> {
    const db = app.running.services.db;
    const [{ rows, done }] = (await db('outbox').select(db.raw('COUNT(*) AS `rows`'), db.raw("SUM(status = 'done') AS done"))) as { rows: number; done: number }[] as [{ rows: number; done: number }];
    const per = (await db('test_effects').select('outbox_id').count({ c: '*' }).groupBy('outbox_id')) as { c: number }[];
    return { rows: Number(rows), done: Number(done ?? 0), maxPerRow: Math.max(0, ...per.map((p) => Number(p.c))), effects: per.reduce((s, p) => s + Number(p.c), 0) };
  }

  before(async () => {
    // No roles: this test drives the relay, reconciler and worker by hand.
    app = await startConveyor({ roles: [] });
    await createEffectsTable(app.running.services.db, 'test_effects');
    connection = workerConnection();
  });

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    slowMs = 0;
    await app.running.services.db('outbox').delete();
    await app.running.services.db('test_effects').delete();
    await deleteKeys(TEST_REDIS, app.prefix);
  });

  after(async () => {
    connection.disconnect();
    await app.stop();
  });

  const startTestWorker = () => (worker = startWorker(app.running.services, connection, effectContract, processor));

  it('never relays rows of a rolled-back transaction', async () => {
    await app.running.services.db
      .transaction(async (trx) => {
        await writeOutbox(trx, testRows(effectContract, [1]));
        throw new Error('roll back');
      })
      .catch(() => undefined);
    await relay().drain();
    expect(await app.running.services.queues.get(effectContract.queue).count()).to.equal(0);
  });

  it('applies every row exactly once when the relay dies between adding jobs and marking rows', async () => {
    await write(100);
    // The crash: half the rows reached Redis, but the transaction that marks them never committed.
    const [rows] = (await app.running.services.db.raw("SELECT * FROM outbox WHERE status = 'pending' ORDER BY id LIMIT 50")) as [OutboxRow[]];
    await addRowsToQueues(app.running.services.queues, contracts, rows);
    // A restarted relay adds all 100 again; the jobIds make the first 50 no-ops.
    await relay().drain();
    const relayed = await app.running.services.db('outbox').where('status', 'relayed').count({ n: '*' });
    expect(Number(relayed[0]!.n)).to.equal(100);
    startTestWorker();
    const state = await waitFor(async () => {
      const s = await effectsPerRow();
      return s.done === 100 ? s : null;
    }, { timeoutMs: 20_000 });
    expect(state).to.deep.equal({ rows: 100, done: 100, maxPerRow: 1, effects: 100 });
  });

  it('two relays racing over one backlog relay each row once (SKIP LOCKED)', async () => {
    await write(300);
    await Promise.all([relay().drain(), relay().drain(), relay().drain()]);
    const counts = (await app.running.services.db('outbox').select('relay_count').count({ n: '*' }).groupBy('relay_count')) as { relay_count: number; n: number }[];
    expect(counts.map((c) => [Number(c.relay_count), Number(c.n)])).to.deep.equal([[1, 300]]);
    expect(await app.running.services.queues.get(effectContract.queue).count()).to.equal(300);
  });

  it('loses nothing when Redis is wiped with rows in flight: the reconciler re-adds, effects stay exactly once', async () => {
    await write(200);
    await relay().drain();
    slowMs = 10;
    startTestWorker();
    await waitFor(async () => (await effectsPerRow()).done >= 40, { timeoutMs: 20_000 });
    await deleteKeys(TEST_REDIS, app.prefix);
    const partial = await effectsPerRow();
    expect(partial.done).to.be.lessThan(200);
    // Rows that were done stay done; the rest are gone from Redis until the reconciler runs.
    const restored = await reconciler().runOnce();
    expect(restored).to.be.greaterThan(0).and.at.most(200 - partial.done + 8);
    const state = await waitFor(async () => {
      const s = await effectsPerRow();
      return s.done === 200 ? s : null;
    }, { timeoutMs: 30_000 }).catch(async (err: unknown) => {
      const left = (await app.running.services.db('outbox').whereNot('status', 'done').select('id', 'status')) as { id: number; status: string }[];
      const q = app.running.services.queues.get(effectContract.queue);
      const states = await Promise.all(left.slice(0, 5).map(async (r) => [r.id, r.status, await q.getJobState(`ob-${r.id}`), JSON.stringify(await app.running.services.redis.hgetall(q.toKey(`ob-${r.id}`))).slice(0, 300)]));
      throw new Error(`${(err as Error).message}; ${left.length} left: ${JSON.stringify(states)}`);
    });
    expect(state).to.deep.equal({ rows: 200, done: 200, maxPerRow: 1, effects: 200 });
    // A second pass finds nothing to restore.
    expect(await reconciler().runOnce()).to.equal(0);
  });

  it('skips a duplicate delivery of a row that is already done', async () => {
    await write(1);
    await relay().drain();
    startTestWorker();
    await waitFor(async () => (await effectsPerRow()).done === 1);
    const [rows] = (await app.running.services.db.raw('SELECT * FROM outbox')) as [OutboxRow[]];
    const row = rows[0]!;
    // The same outbox row, delivered again under another job id (as after a manual re-add).
    const queue = app.running.services.queues.get(effectContract.queue);
    const dup = await queue.add(effectContract.queue, { v: 1, payload: JSON.parse(row.payload) as unknown, outbox_id: String(row.id) }, { jobId: 'dup-1' });
    await waitFor(async () => (await queue.getJobState(dup.id!)) === 'completed');
    expect((await queue.getJob(dup.id!))!.returnvalue).to.deep.equal({ duplicate: true });
    expect((await effectsPerRow()).effects).to.equal(1);
  });

  it('keeps a durable delay across a Redis wipe: re-added with the time left, not early', async () => {
    const due = Date.now() + 2500;
    await write(3, new Date(due));
    await relay().drain();
    const queue = app.running.services.queues.get(effectContract.queue);
    expect(await queue.getDelayedCount()).to.equal(3);
    await deleteKeys(TEST_REDIS, app.prefix);
    await reconciler().runOnce();
    expect(await queue.getDelayedCount()).to.equal(3);
    startTestWorker();
    await sleep(Math.max(0, due - Date.now() - 500));
    expect((await effectsPerRow()).effects, 'nothing before the due time').to.equal(0);
    await waitFor(async () => (await effectsPerRow()).done === 3, { timeoutMs: 10_000 });
    const firstEffect = Date.now();
    expect(firstEffect).to.be.at.least(due);
  });

  it('restores a durable job whose Redis data was lost from its outbox row', async () => {
    await write(1);
    const [rows] = (await app.running.services.db.raw('SELECT * FROM outbox')) as [OutboxRow[]];
    const row = rows[0]!;
    // What a wipe racing a worker can leave: the job's hash without its data.
    const queue = app.running.services.queues.get(effectContract.queue);
    await queue.add(effectContract.queue, {}, { jobId: `ob-${row.id}` });
    startTestWorker();
    await waitFor(async () => (await effectsPerRow()).done === 1);
    const effects = (await app.running.services.db('test_effects').select('outbox_id', 'n')) as { outbox_id: string; n: number }[];
    expect(effects).to.deep.equal([{ outbox_id: String(row.id), n: 0 }]);
  });

  it('fails a job whose payload breaks its contract at once, without retry', async () => {
    startTestWorker();
    const queue = app.running.services.queues.get(effectContract.queue);
    const job = await queue.add(effectContract.queue, { v: 1, payload: { n: 'not a number' }, outbox_id: '1' }, { attempts: 5, jobId: 'bad-1' });
    await waitFor(async () => (await queue.getJobState(job.id!)) === 'failed');
    const failed = (await queue.getJob(job.id!))!;
    expect(failed.attemptsMade).to.equal(1);
    expect(failed.failedReason).to.match(/invalid payload: n: must be integer/);
  });
});
