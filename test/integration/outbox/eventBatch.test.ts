import { expect } from 'chai';
import { Type } from '@sinclair/typebox';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { defineJob, type JobContract } from '../../../queues/contract.ts';
import { startWorker } from '../../../queues/consumer.ts';
import { defineEvent, envelopeSchema, makeEnvelope, type Envelope } from '../../../queues/outbox/envelope.ts';
import { Outbox } from '../../../queues/outbox/outbox.ts';
import { batchedJob } from '../../../queues/outbox/processors.ts';
import { OutboxReconciler } from '../../../queues/outbox/reconciler.ts';
import { eventBatchJobs, PAYLOAD_COLUMNS, storedPayload, writeOutbox, type StoredPayload } from '../../../queues/outbox/writer.ts';
import type { Processor } from '../../../queues/processor.ts';
import type { Services } from '../../../src/services.ts';
import { startConveyor, deleteKeys, type TestConveyor } from '../../helpers/conveyor.ts';
import { TEST_REDIS } from '../../helpers/db.ts';
import { contractMap, defineTestJob, testRows, workerConnection } from '../../helpers/outboxJob.ts';
import { waitFor } from '../../helpers/wait.ts';

// An event with two batched listeners; the second wants even n only.
const Counted = defineEvent({
  name: 'TestCounted',
  version: 1,
  description: 'test: an event whose listeners record it',
  schema: Type.Object({ n: Type.Integer() }, { additionalProperties: false }),
  listeners: ['test.batch-all', 'test.batch-even'],
  wants: (queue, payload) => queue !== 'test.batch-even' || payload.n % 2 === 0,
});
const listener = (queue: string) =>
  defineJob({ queue, description: 'test: record each event', schema: envelopeSchema(Counted), version: 1, attempts: 3, backoff: { delayMs: 20, maxDelayMs: 50, jitter: 0 }, concurrency: 1, durable: true, batched: true });
const all = listener('test.batch-all');
const even = listener('test.batch-even');
const plain = defineTestJob('test.batch-plain', 'test: a row-at-a-time queue');

const JOB_BATCH = 5;

describe('outbox: event batch rows, one row per listener for many events (real MySQL + Redis)', function () {
  this.timeout(40_000);
  let app: TestConveyor;
  let outbox: Outbox;
  let services: Services;
  let connection: Redis;
  let workers: Worker[] = [];
  const contracts = contractMap(all, even, plain);

  const processor = (contract: JobContract) =>
    batchedJob(contract, async (trx, batch) => {
      const events = batch.payloads as Envelope<{ n: number }>[];
      await trx('test_batch_events').insert(events.map((e) => ({ queue: contract.queue, n: e.payload.n, job_key: batch.key, size: events.length })));
    }) as unknown as Processor<JobContract>;

  const publish = (ns: number[]) => outbox.transaction((trx) => writeOutbox(trx, eventBatchJobs(Counted, ns.map((n) => makeEnvelope(Counted, { n })))));
  const effects = async (queue: string) => ((await services.db('test_batch_events').where('queue', queue).orderBy('id').select('n')) as { n: number }[]).map((e) => e.n);
  const rowsOf = async (queue: string) => (await services.db('outbox').where('queue', queue).orderBy('id').select('id', 'status', ...PAYLOAD_COLUMNS)) as ({ id: number; status: string } & StoredPayload)[];
  const startWorkers = () => (workers = [all, even].map((c) => startWorker(services, connection, c, processor(c))));

  before(async () => {
    app = await startConveyor({ roles: [] });
    await app.running.services.db.schema.createTable('test_batch_events', (t) => {
      t.increments('id');
      t.string('queue', 64).notNullable();
      t.integer('n').notNullable();
      t.string('job_key', 32).notNullable();
      t.integer('size').notNullable();
    });
    const base = app.running.services;
    outbox = new Outbox({ db: base.db, dbReadCommitted: base.dbReadCommitted }, base.queues, contracts, base.log, { pollMs: 50, batchSize: 50 });
    services = { ...base, outbox, config: { ...base.config, chat: { ...base.config.chat, jobBatch: JOB_BATCH } } };
    connection = workerConnection();
  });

  afterEach(async () => {
    await Promise.all(workers.map((w) => w.close()));
    workers = [];
    await services.db('outbox').delete();
    await services.db('test_batch_events').delete();
    await deleteKeys(TEST_REDIS, app.prefix);
  });

  after(async () => {
    await outbox.stop();
    connection.disconnect();
    await app.stop();
  });

  it('writes one row per listener holding the events it wants, in order; each listener takes each event once', async () => {
    await publish([1, 2, 3, 4]);
    const [allRow] = await rowsOf(all.queue);
    const [evenRow] = await rowsOf(even.queue);
    expect((storedPayload(allRow!) as Envelope<{ n: number }>[]).map((e) => e.payload.n)).to.deep.equal([1, 2, 3, 4]);
    expect((storedPayload(evenRow!) as Envelope<{ n: number }>[]).map((e) => e.payload.n)).to.deep.equal([2, 4]);
    expect([allRow!.event_id, allRow!.event_name]).to.deep.equal([null, 'TestCounted']);
    startWorkers();
    await waitFor(async () => (await services.db('outbox').whereNot('status', 'done').count({ n: '*' }))[0]!.n === 0);
    expect(await effects(all.queue)).to.deep.equal([1, 2, 3, 4]);
    expect(await effects(even.queue)).to.deep.equal([2, 4]);
  });

  it('counts a batch in events and never splits a row: rows are taken until the batch holds CHAT_JOB_BATCH events', async () => {
    for (let r = 0; r < 4; r++) await publish([r * 3 + 1, r * 3 + 2, r * 3 + 3]);
    startWorkers();
    await waitFor(async () => (await services.db('outbox').where('queue', all.queue).whereNot('status', 'done').count({ n: '*' }))[0]!.n === 0);
    expect(await effects(all.queue)).to.deep.equal(Array.from({ length: 12 }, (_, k) => k + 1));
    const sizes = (await services.db('test_batch_events').where('queue', all.queue).distinct('job_key', 'size')) as { size: number }[];
    // Two rows of three events fill a batch of five and more; a batch never holds part of a row.
    for (const { size } of sizes) expect(size % 3).to.equal(0);
    expect(Math.max(...sizes.map((s) => s.size))).to.be.at.most(6);
  });

  it('runs a row\'s own job (the reconciler\'s, after a Redis wipe) with every event of the row, once', async () => {
    await publish([5, 6, 7]);
    await deleteKeys(TEST_REDIS, app.prefix);
    const reconciler = new OutboxReconciler(services.db, services.queues, contracts, services.log, { everyMs: 1000, graceMs: 0, batchSize: 50 });
    expect(await reconciler.runOnce()).to.equal(2);
    startWorkers();
    await waitFor(async () => (await services.db('outbox').whereNot('status', 'done').count({ n: '*' }))[0]!.n === 0);
    expect(await effects(all.queue)).to.deep.equal([5, 6, 7]);
    expect(await effects(even.queue)).to.deep.equal([6]);
    // A second delivery of a done row is a duplicate: nothing runs again.
    const [row] = await rowsOf(all.queue);
    await services.queues.get(all.queue).add(all.queue, { v: 1, payload: storedPayload(row!), outbox_id: String(row!.id) }, { jobId: 'again-1' });
    await waitFor(async () => (await services.queues.get(all.queue).getJobState('again-1')) === 'completed');
    expect(await effects(all.queue)).to.deep.equal([5, 6, 7]);
  });

  it('refuses an event batch row for a queue that takes its rows one at a time', async () => {
    const rows = testRows(plain, [1]).map((job) => ({ ...job, payload: [makeEnvelope(Counted, { n: 1 })], events: true }));
    let failure: unknown;
    await outbox.transaction((trx) => writeOutbox(trx, rows)).catch((err: unknown) => (failure = err));
    expect(String(failure)).to.match(/takes its rows one at a time/);
    expect(await services.db('outbox').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
  });
});
