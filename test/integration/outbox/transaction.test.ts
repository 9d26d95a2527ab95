import { expect } from 'chai';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { WAKE_JOB } from '../../../queues/contract.ts';
import { startWorker } from '../../../queues/consumer.ts';
import { Outbox } from '../../../queues/outbox/outbox.ts';
import { writeOutbox } from '../../../queues/outbox/writer.ts';
import { GroupCommit } from '../../../src/platform/groupCommit.ts';
import type { Services } from '../../../src/services.ts';
import { startConveyor, deleteKeys, type TestConveyor } from '../../helpers/conveyor.ts';
import { TEST_REDIS } from '../../helpers/db.ts';
import { contractMap, defineTestJob, testProcessor, testRows, workerConnection } from '../../helpers/outboxJob.ts';
import { waitFor } from '../../helpers/wait.ts';

const plain = defineTestJob('test.plain-row', 'test: a durable job a row at a time; n > 0 publishes a follow-up row for n - 1');

const batched = defineTestJob('test.batched-row', 'test: a batched queue (only its wake matters here)', { concurrency: 1, batched: true });

describe('outbox: a transaction hands its outbox writes on after the commit, by itself (real MySQL + Redis)', function () {
  this.timeout(30_000);
  let app: TestConveyor;
  let outbox: Outbox;
  let services: Services;
  let worker: Worker | undefined;
  let connection: Redis;
  const contracts = contractMap(plain, batched);

  const rows = async () => (await services.db('outbox').orderBy('id').select('queue', 'status', 'payload')) as { queue: string; status: string; payload: string }[];
  const row = (n: number) => testRows(plain, [n]);

  before(async () => {
    app = await startConveyor({ roles: [] });
    const base = app.running.services;
    // Built with this file's contracts; no poll started, so whatever moves was handed on by a commit.
    outbox = new Outbox({ db: base.db, dbReadCommitted: base.dbReadCommitted }, base.queues, contracts, base.log, { pollMs: 60_000, batchSize: 50 });
    services = { ...base, outbox };
    connection = workerConnection();
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
      await writeOutbox(trx, testRows(batched, [1]));
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
    await Promise.all(Array.from({ length: 25 }, (_, n) => commit.submit(n, undefined)));
    await waitFor(async () => (await rows()).filter((r) => r.status === 'relayed').length === 25);
    expect(await services.queues.get(plain.queue).getWaitingCount()).to.equal(25);
  });

  it('a durable job\'s own writes are handed on after its commit: a chain of jobs runs with no poll', async () => {
    const processor = testProcessor(async (trx, ctx) => {
      if (ctx.payload.n > 0) await writeOutbox(trx, row(ctx.payload.n - 1));
    });
    worker = startWorker(services, connection, plain, processor);
    await outbox.transaction((trx) => writeOutbox(trx, row(4)));
    await waitFor(async () => {
      const all = await rows();
      return all.length === 5 && all.every((r) => r.status === 'done');
    });
  });
});
