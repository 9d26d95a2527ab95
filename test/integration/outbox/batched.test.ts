import { expect } from 'chai';
import { Type } from '@sinclair/typebox';
import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { defineJob, type JobContract, type JobData } from '../../../queues/contract.ts';
import { startWorker } from '../../../queues/consumer.ts';
import type { Processor } from '../../../queues/processor.ts';
import { runOutboxBatch } from '../../../src/platform/outbox/batch.ts';
import { OutboxRelay } from '../../../src/platform/outbox/relay.ts';
import { OutboxReconciler } from '../../../src/platform/outbox/reconciler.ts';
import { writeOutbox } from '../../../src/platform/outbox/writer.ts';
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

  const processor = (async (ctx) => {
    const outcome = await runOutboxBatch(
      ctx.services.db,
      { queue: batchContract.queue, schema: batchContract.schema, max: ROWS_PER_JOB },
      { outboxId: ctx.outboxId!, payload: ctx.payload, relayedWith: ctx.outboxIds },
      async (trx, batch) => {
        await trx('test_batch_effects').insert(batch.ids.map((id, k) => ({ outbox_id: String(id), n: batch.payloads[k]!.n, job_id: ctx.jobId })));
        return batch.ids.length;
      },
    );
    return outcome.done ? { batch: outcome.size } : { duplicate: true };
  }) as Processor<typeof batchContract> as unknown as Processor<JobContract>;

  const relay = () =>
    new OutboxRelay(app.running.services.db, app.running.services.queues, contracts, app.running.services.log, { pollMs: 50, batchSize: 25, rowsPerJob: ROWS_PER_JOB });
  const reconciler = () =>
    new OutboxReconciler(app.running.services.db, app.running.services.queues, contracts, app.running.services.log, { everyMs: 1000, graceMs: 0, batchSize: 50 });
  const queue = () => app.running.services.queues.get(batchContract.queue);

  async function write(payloads: unknown[]): Promise<number[]> {
    await app.running.services.db.transaction((trx) => writeOutbox(trx, payloads.map((payload) => ({ queue: batchContract.queue, payload, version: 1 }))));
    return ((await app.running.services.db('outbox').orderBy('id').select('id')) as { id: number }[]).map((r) => r.id);
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

  before(async () => {
    app = await startConveyor({ roles: [] });
    await app.running.services.db.schema.createTable('test_batch_effects', (t) => {
      t.increments('id');
      t.string('outbox_id', 32).notNullable();
      t.integer('n').notNullable();
      t.string('job_id', 64).notNullable();
    });
    connection = new Redis(TEST_REDIS, { protocol: 2, maxRetriesPerRequest: null });
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

  const startTestWorker = () => (worker = startWorker(app.running.services, connection, batchContract, processor));

  it('relays a pass of rows as jobs of at most rowsPerJob rows, each handled in one transaction', async () => {
    const ids = await write(Array.from({ length: 45 }, (_, n) => ({ n })));
    await relay().drain();
    // Passes of 25 rows: 10 + 10 + 5, then 10 + 10.
    const jobs = (await queue().getWaiting(0, 100)).sort((a, b) => Number(a.id!.slice(3)) - Number(b.id!.slice(3)));
    expect(jobs.map((j) => (j.data as JobData).outbox_ids?.length ?? 1)).to.deep.equal([10, 10, 5, 10, 10]);
    expect(jobs.map((j) => j.id)).to.deep.equal([0, 10, 20, 25, 35].map((k) => `ob-${ids[k]}`));
    // A job is its first row's job, carrying the others.
    expect((jobs[2]!.data as JobData).outbox_ids).to.deep.equal(ids.slice(20, 25).map(String));
    expect((jobs[2]!.data as JobData).payload).to.deep.equal({ n: 20 });

    startTestWorker();
    expect(await waitFor(async () => ((await state()).done === 45 ? state() : null))).to.deep.equal({ rows: 45, done: 45, effects: 45, maxPerRow: 1 });
    const jobsPerRow = (await app.running.services.db('test_batch_effects').countDistinct({ n: 'job_id' })) as { n: number }[];
    expect(Number(jobsPerRow[0]!.n)).to.be.at.most(5);
  });

  it('loses nothing when Redis is wiped after the relay: the reconciler adds the carried rows alone', async () => {
    await write(Array.from({ length: 20 }, (_, n) => ({ n })));
    await relay().drain();
    expect(await queue().count()).to.equal(2);
    await deleteKeys(TEST_REDIS, app.prefix);
    // Every relayed row is missing from Redis: the first rows' jobs and the rows they carried.
    expect(await reconciler().runOnce()).to.equal(20);
    startTestWorker();
    expect(await waitFor(async () => ((await state()).done === 20 ? state() : null))).to.deep.equal({ rows: 20, done: 20, effects: 20, maxPerRow: 1 });
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
    expect((await queue().getJob(again.id!))!.returnvalue).to.deep.equal({ duplicate: true });
    expect(await state()).to.deep.equal({ rows: 5, done: 5, effects: 5, maxPerRow: 1 });
  });
});
