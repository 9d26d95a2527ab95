import { expect } from 'chai';
import { Type } from '@sinclair/typebox';
import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { defineJob, WAKE_JOB, type JobContract } from '../../../queues/contract.ts';
import { startWorker } from '../../../queues/consumer.ts';
import { Outbox } from '../../../queues/outbox/outbox.ts';
import { durableJob } from '../../../queues/outbox/processors.ts';
import { writeOutbox } from '../../../queues/outbox/writer.ts';
import type { Processor } from '../../../queues/processor.ts';
import { GroupCommit } from '../../../src/platform/groupCommit.ts';
import type { Services } from '../../../src/services.ts';
import { startConveyor, deleteKeys, type TestConveyor } from '../../helpers/conveyor.ts';
import { TEST_REDIS } from '../../helpers/db.ts';
import { waitFor } from '../../helpers/wait.ts';

const plain = defineJob({
  queue: 'test.plain-row',
  description: 'test: a durable job a row at a time; n > 0 publishes a follow-up row for n - 1',
  schema: Type.Object({ n: Type.Integer() }, { additionalProperties: false }),
  version: 1,
  attempts: 3,
  backoff: { delayMs: 20, maxDelayMs: 50, jitter: 0 },
  concurrency: 2,
  durable: true,
});

const batched = defineJob({
  queue: 'test.batched-row',
  description: 'test: a batched queue (only its wake matters here)',
  schema: Type.Object({ n: Type.Integer() }, { additionalProperties: false }),
  version: 1,
  attempts: 3,
  backoff: { delayMs: 20, maxDelayMs: 50, jitter: 0 },
  concurrency: 1,
  durable: true,
  batched: true,
});

describe('outbox: a transaction hands its outbox writes on after the commit, by itself (real MySQL + Redis)', function () {
  this.timeout(30_000);
  let app: TestConveyor;
  let outbox: Outbox;
  let services: Services;
  let worker: Worker | undefined;
  let connection: Redis;
  const contracts = new Map<string, JobContract>([[plain.queue, plain], [batched.queue, batched]]);

  const rows = async () => (await services.db('outbox').orderBy('id').select('queue', 'status', 'payload')) as { queue: string; status: string; payload: string }[];
  const row = (n: number) => [{ queue: plain.queue, payload: { n }, version: 1 }];

  before(async () => {
    app = await startConveyor({ roles: [] });
    const base = app.running.services;
    // Built with this file's contracts; no poll started, so whatever moves was handed on by a commit.
    outbox = new Outbox({ db: base.db, dbReadCommitted: base.dbReadCommitted }, base.queues, contracts, base.log, { pollMs: 60_000, batchSize: 50 });
    services = { ...base, outbox };
    connection = new Redis(TEST_REDIS, { protocol: 2, maxRetriesPerRequest: null });
  });

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await services.db('outbox').delete();
    await deleteKeys(TEST_REDIS, app.prefix);
  });

  after(async () => {
    await outbox.stop();
    connection.disconnect();
    await app.stop();
  });

  it('relays a plain queue\'s rows right after the commit, and a batched queue\'s get a wake instead', async () => {
    await outbox.transaction(async (trx) => {
      await writeOutbox(trx, row(1));
      await writeOutbox(trx, [{ queue: batched.queue, payload: { n: 1 }, version: 1 }]);
    });
    await waitFor(async () => (await rows()).every((r) => r.status === 'relayed'));
    expect((await rows()).map((r) => r.queue)).to.deep.equal([plain.queue, batched.queue]);
    const plainJobs = await services.queues.get(plain.queue).getWaiting();
    expect(plainJobs.map((j) => j.id)).to.have.length(1);
    await waitFor(async () => (await services.queues.get(batched.queue).getWaitingCount()) === 1);
    expect((await services.queues.get(batched.queue).getWaiting()).map((j) => j.name)).to.deep.equal([WAKE_JOB]);
  });

  it('hands nothing on for a rolled-back transaction, and hands on the attempt that committed after a retry', async () => {
    await outbox.transaction(async (trx) => {
      await writeOutbox(trx, row(1));
      throw new Error('roll back');
    }).catch(() => undefined);
    expect(await rows()).to.deep.equal([]);
    let attempt = 0;
    await outbox.transaction(async (trx) => {
      await writeOutbox(trx, row(++attempt));
      if (attempt === 1) throw Object.assign(new Error('Deadlock found when trying to get lock'), { code: 'ER_LOCK_DEADLOCK', errno: 1213 });
    });
    await waitFor(async () => (await rows()).some((r) => r.status === 'relayed'));
    expect(await rows()).to.deep.equal([{ queue: plain.queue, status: 'relayed', payload: '{"n":2}' }]);
  });

  it('a group commit through it hands on every batch it commits', async () => {
    const commit = new GroupCommit<number, number>((fn) => outbox.transaction(fn), async (trx, items) => {
      await writeOutbox(trx, items.flatMap(row));
      return [...items];
    }, { concurrency: 1, maxBatch: 10 });
    await Promise.all(Array.from({ length: 25 }, (_, n) => commit.submit(n)));
    await waitFor(async () => (await rows()).filter((r) => r.status === 'relayed').length === 25);
    expect(await services.queues.get(plain.queue).getWaitingCount()).to.equal(25);
  });

  it('a durable job\'s own writes are handed on after its commit: a chain of jobs runs with no poll', async () => {
    const processor = durableJob<typeof plain>(async (trx, ctx) => {
      if (ctx.payload.n > 0) await writeOutbox(trx, row(ctx.payload.n - 1));
    }) as unknown as Processor<JobContract>;
    worker = startWorker(services, connection, plain, processor);
    await outbox.transaction((trx) => writeOutbox(trx, row(4)));
    await waitFor(async () => {
      const all = await rows();
      return all.length === 5 && all.every((r) => r.status === 'done');
    });
  });
});
