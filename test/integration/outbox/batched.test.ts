import { expect } from 'chai';
import { Type } from '@sinclair/typebox';
import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { defineJob, WAKE_JOB, type JobContract, type JobData } from '../../../queues/contract.ts';
import { startWorker } from '../../../queues/consumer.ts';
import type { Processor } from '../../../queues/processor.ts';
import { batchedJob } from '../../../queues/outbox/processors.ts';
import { Outbox } from '../../../queues/outbox/outbox.ts';
import type { Services } from '../../../src/services.ts';
import { OutboxReconciler } from '../../../queues/outbox/reconciler.ts';
import { writeOutbox } from '../../../queues/outbox/writer.ts';
import { startConveyor, deleteKeys, type TestConveyor } from '../../helpers/conveyor.ts';
import { TEST_REDIS } from '../../helpers/db.ts';
import { waitFor } from '../../helpers/wait.ts';

// A batched durable job type used only here: an effect row per outbox row, so "exactly once" is countable.
const batchContract = defineJob({
  queue: 'test.batched',
  description: 'test: record one effect row per outbox row, many rows per job',
  schema: Type.Object({ n: Type.Integer() }, { additionalProperties: false }),
  version: 1,
  attempts: 3,
  backoff: { delayMs: 50, maxDelayMs: 200, jitter: 0 },
  concurrency: 2,
  durable: true,
  batched: true,
});

describe('outbox: batched queues get one job per relayed group of rows (real MySQL + Redis)', function () {
  this.timeout(40_000);
  let app: TestConveyor;
  let worker: Worker | undefined;
  let connection: Redis;
  const contracts = new Map<string, JobContract>([[batchContract.queue, batchContract]]);
  const ROWS_PER_JOB = 10;

  // The real batched processor; one effect row per outbox row, tagged with its transaction's batch key.
  const processor = batchedJob(batchContract, async (trx, batch) => {
    await trx('test_batch_effects').insert(batch.ids.map((id, k) => ({ outbox_id: String(id), n: batch.payloads[k]!.n, job_id: batch.key })));
  }) as unknown as Processor<JobContract>;

  // This file's outbox knows the test contract (batched-ness is read from the map it is built with).
  const newOutbox = () => {
    const { db, dbReadCommitted, queues, log } = app.running.services;
    return new Outbox({ db, dbReadCommitted }, queues, contracts, log, { pollMs: 50, batchSize: 25, rowsPerJob: ROWS_PER_JOB });
  };
  const relay = () => newOutbox().relay;
  const reconciler = () =>
    new OutboxReconciler(app.running.services.db, app.running.services.queues, contracts, app.running.services.log, { everyMs: 1000, graceMs: 0, batchSize: 50 });
  const queue = () => app.running.services.queues.get(batchContract.queue);
  let outbox: Outbox;
  let services: Services;

  const allIds = async () => ((await app.running.services.db('outbox').orderBy('id').select('id')) as { id: number }[]).map((r) => r.id);

  const jobs = (payloads: unknown[]) => payloads.map((payload) => ({ queue: batchContract.queue, payload, version: 1 }));

  /** Rows left for the relay: written in a transaction the outbox did not open. */
  async function write(payloads: unknown[]): Promise<number[]> {
    await app.running.services.db.transaction((trx) => writeOutbox(trx, jobs(payloads)));
    return allIds();
  }

  /** Rows as a module writes them, through the outbox's transaction (which wakes the queue after the commit). */
  async function commit(payloads: unknown[]): Promise<void> {
    await outbox.transaction((trx) => writeOutbox(trx, jobs(payloads)));
  }

  async function state(): Promise<{ rows: number; done: number; effects: number; maxPerRow: number }> {
    const db = app.running.services.db;
    const rows = (await db('outbox').select('status')) as { status: string }[];
    const per = (await db('test_batch_effects').select('outbox_id').count({ c: '*' }).groupBy('outbox_id')) as { c: number }[];
    return {
      rows: rows.length,
      done: rows.filter((r) => r.status === 'done').length,
      effects: per.reduce((s, p) => s + Number(p.c), 0),
      maxPerRow: Math.max(0, ...per.map((p) => Number(p.c))),
    };
  }

  /** Waits until all n rows are done, then checks each had its effect exactly once. */
  async function expectEachRowDoneOnce(n: number, timeoutMs?: number): Promise<void> {
    const settled = await waitFor(async () => ((await state()).done === n ? state() : null), timeoutMs ? { timeoutMs } : undefined);
    expect(settled).to.deep.equal({ rows: n, done: n, effects: n, maxPerRow: 1 });
  }

  before(async () => {
    app = await startConveyor({ roles: [] });
    await app.running.services.db.schema.createTable('test_batch_effects', (t) => {
      t.increments('id');
      t.string('outbox_id', 32).notNullable();
      t.integer('n').notNullable();
      t.string('job_id', 64).notNullable();
    });
    connection = new Redis(TEST_REDIS, { protocol: 2, maxRetriesPerRequest: null });
    outbox = newOutbox();
    const base = app.running.services;
    services = { ...base, outbox, config: { ...base.config, chat: { ...base.config.chat, jobBatch: ROWS_PER_JOB } } };
  });

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await app.running.services.db('outbox').delete();
    await app.running.services.db('test_batch_effects').delete();
    await deleteKeys(TEST_REDIS, app.prefix);
  });

  after(async () => {
    connection.disconnect();
    await app.stop();
  });

  const startTestWorker = () => (worker = startWorker(services, connection, batchContract, processor));

  it('writes a batched queue\'s rows straight to `relayed` and wakes the queue after the commit; one wake waits at a time; wakes claim every row once', async () => {
    await Promise.all(Array.from({ length: 6 }, (_, c) => commit(Array.from({ length: 7 }, (_, k) => ({ n: c * 7 + k })))));
    const rows = (await app.running.services.db('outbox').select('status', 'relayed_at')) as { status: string; relayed_at: Date | null }[];
    expect(rows.map((r) => r.status)).to.deep.equal(Array(42).fill('relayed'));
    expect(rows.every((r) => r.relayed_at !== null)).to.equal(true);
    // Nothing for the relay: a pass finds no pending row.
    expect(await relay().relayBatch()).to.equal(0);
    // Six commits, one waiting wake: the others found its marker and left their rows to it.
    await waitFor(async () => (await queue().getWaitingCount()) === 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const wakes = await queue().getWaiting(0, 10);
    expect(wakes.map((j) => [j.name, j.data as JobData])).to.deep.equal([[WAKE_JOB, { v: 1, payload: null }]]);

    startTestWorker();
    await expectEachRowDoneOnce(42);
    // At most ROWS_PER_JOB rows a transaction: 42 rows took at least five (each full batch woke the queue again).
    const perJob = (await app.running.services.db('test_batch_effects').select('job_id').count({ c: '*' }).groupBy('job_id')) as { c: number }[];
    expect(perJob.length).to.be.at.least(5);
    expect(Math.max(...perJob.map((p) => Number(p.c)))).to.be.at.most(ROWS_PER_JOB);
    // Completed wakes stay for Bull Board like the queue's other jobs, each with what it claimed.
    const completed = (await queue().getCompleted(0, 100)).filter((j) => j.name === WAKE_JOB);
    expect(completed.map((j) => (j.returnvalue as { batch?: number }).batch ?? 0).reduce((a, b) => a + b, 0)).to.equal(42);

    // The wake deleted its marker as it started: a later commit wakes the queue again.
    await commit([{ n: 42 }]);
    await expectEachRowDoneOnce(43);
  });

  it('loses nothing when the wake is lost (Redis wiped after the commit): the reconciler gives the rows jobs of their own', async () => {
    await commit(Array.from({ length: 12 }, (_, n) => ({ n })));
    await waitFor(async () => (await queue().getWaitingCount()) === 1);
    await deleteKeys(TEST_REDIS, app.prefix);
    expect(await reconciler().runOnce()).to.equal(12);
    startTestWorker();
    await expectEachRowDoneOnce(12);
    expect(await reconciler().runOnce()).to.equal(0);
  });

  it('a wake lost between the commit and its add (a killed process): the relay\'s poll wakes the queue', async () => {
    // Written `relayed` with no wake, as a process killed right after its COMMIT leaves them.
    const now = new Date();
    await app.running.services.db('outbox').insert(
      Array.from({ length: 7 }, (_, n) => ({ queue: batchContract.queue, job_name: batchContract.queue, payload: JSON.stringify({ n }), status: 'relayed', available_at: now, created_at: now, relayed_at: now })),
    );
    expect(await queue().getWaitingCount()).to.equal(0);
    startTestWorker();
    const polling = newOutbox();
    polling.start();
    try {
      await expectEachRowDoneOnce(7, 5_000);
    } finally {
      await polling.stop();
    }
  });

  it('a wake that finds every row taken completes with nothing to do', async () => {
    await commit([{ n: 1 }]);
    startTestWorker();
    await waitFor(async () => (await state()).done === 1);
    const extra = await queue().add(WAKE_JOB, { v: 1, payload: null });
    await waitFor(async () => (await queue().getJobState(extra.id!)) === 'completed');
    expect((await queue().getJob(extra.id!))?.returnvalue).to.deep.equal({ empty: true });
    expect(await state()).to.deep.equal({ rows: 1, done: 1, effects: 1, maxPerRow: 1 });
  });

  it('relays a pass of rows as jobs of at most rowsPerJob rows, each handled in one transaction', async () => {
    const ids = await write(Array.from({ length: 45 }, (_, n) => ({ n })));
    expect(ids).to.have.length(45);
    await relay().drain();
    // Passes of 25 rows: 10 + 10 + 5, then 10 + 10.
    const jobs = (await queue().getWaiting(0, 100)).sort((a, b) => Number(a.id!.slice(3)) - Number(b.id!.slice(3)));
    expect(jobs.map((j) => (j.data as JobData).outbox_ids?.length ?? 1)).to.deep.equal([10, 10, 5, 10, 10]);
    expect(jobs.map((j) => j.id)).to.deep.equal([0, 10, 20, 25, 35].map((k) => `ob-${ids[k]}`));
    // A job is its first row's job, carrying the others.
    expect((jobs[2]!.data as JobData).outbox_ids).to.deep.equal(ids.slice(20, 25).map(String));
    expect((jobs[2]!.data as JobData).payload).to.deep.equal({ n: 20 });

    startTestWorker();
    await expectEachRowDoneOnce(45);
    // One transaction per job, and per wake a full batch sends (it likely left rows behind, and
    // the wake may take some of a later job's rows first): at least 5, at most 5 + 4 for 45 rows.
    const perTransaction = (await app.running.services.db('test_batch_effects').select('job_id').count({ c: '*' }).groupBy('job_id')) as { c: number }[];
    expect(perTransaction.length).to.be.within(5, 9);
    expect(Math.max(...perTransaction.map((p) => Number(p.c)))).to.be.at.most(ROWS_PER_JOB);
  });

  it('loses nothing when Redis is wiped after the relay: the reconciler adds the carried rows alone', async () => {
    await write(Array.from({ length: 20 }, (_, n) => ({ n })));
    await relay().drain();
    expect(await queue().count()).to.equal(2);
    await deleteKeys(TEST_REDIS, app.prefix);
    // Every relayed row is missing from Redis: the first rows' jobs and the rows they carried.
    expect(await reconciler().runOnce()).to.equal(20);
    startTestWorker();
    await expectEachRowDoneOnce(20);
    expect(await reconciler().runOnce()).to.equal(0);
  });

  it('hands a carried row whose payload breaks the contract to a job of its own, which fails visibly', async () => {
    const ids = await write([{ n: 1 }, { n: 'two' }, { n: 3 }]);
    await relay().drain();
    startTestWorker();
    await waitFor(async () => (await state()).done === 2);
    const bad = (await app.running.services.db('outbox').where('id', ids[1]).first()) as { status: string };
    expect(bad.status).to.equal('relayed');
    // The reconciler gives the left row its own job; the contract check fails it without retry.
    expect(await reconciler().runOnce()).to.equal(1);
    await waitFor(async () => (await queue().getJobState(`ob-${ids[1]}`)) === 'failed');
    const failed = (await queue().getJob(`ob-${ids[1]}`))!;
    expect(failed.attemptsMade).to.equal(1);
    expect(failed.failedReason).to.match(/invalid payload/);
    expect(await state()).to.deep.include({ done: 2, effects: 2 });
  });

  it('runs a redelivered batch job as a duplicate: every row it carried is already done', async () => {
    await write(Array.from({ length: 5 }, (_, n) => ({ n })));
    await relay().drain();
    const [job] = await queue().getWaiting(0, 10);
    startTestWorker();
    await waitFor(async () => (await state()).done === 5);
    const again = await queue().add(batchContract.queue, job!.data, { jobId: 'again-1' });
    await waitFor(async () => (await queue().getJobState(again.id!)) === 'completed');
    expect((await queue().getJob(again.id!))!.returnvalue).to.deep.equal({ duplicate: true, sent: 0 });
    expect(await state()).to.deep.equal({ rows: 5, done: 5, effects: 5, maxPerRow: 1 });
  });
});
