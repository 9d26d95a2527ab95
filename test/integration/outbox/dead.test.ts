import { expect } from 'chai';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { startWorker } from '../../../queues/consumer.ts';
import { listDeadRows, markDead, reviveDeadRow, LAST_ERROR_MAX } from '../../../queues/outbox/dead.ts';
import type { Processor } from '../../../queues/processor.ts';
import type { JobContract } from '../../../queues/contract.ts';
import { OutboxReconciler } from '../../../queues/outbox/reconciler.ts';
import { Outbox } from '../../../queues/outbox/outbox.ts';
import { collectScrapeGauges } from '../../../queues/scrape.ts';
import { writeOutbox } from '../../../queues/outbox/writer.ts';
import { PermanentError } from '../../../src/platform/errors.ts';
import { startConveyor, deleteKeys, type TestConveyor } from '../../helpers/conveyor.ts';
import { TEST_REDIS } from '../../helpers/db.ts';
import { contractMap, createEffectsTable, defineTestJob, testProcessor, testRows, workerConnection } from '../../helpers/outboxJob.ts';
import { waitFor } from '../../helpers/wait.ts';

// A durable job type that fails on demand; its effect is a row per run, so "exactly once" is countable.
const flakyContract = defineTestJob('test.flaky', 'test: record one effect row, or fail as told');

describe('outbox: a row whose job fails for good is dead, and comes back once (real MySQL + Redis)', function () {
  this.timeout(40_000);
  let app: TestConveyor;
  let worker: Worker | undefined;
  let connection: Redis;
  const contracts = contractMap(flakyContract);
  /** What the effect does: succeed, throw (retried), or throw a permanent error. */
  let mode: 'ok' | 'fail' | 'permanent' = 'ok';

  const processor = testProcessor(async (trx, ctx) => {
    if (mode === 'fail') throw new Error(`boom ${ctx.payload.n} ${'x'.repeat(3000)}`);
    if (mode === 'permanent') throw new PermanentError('no such listing', 'listing_missing');
    await trx('test_dead_effects').insert({ outbox_id: ctx.outboxId, n: ctx.payload.n });
  });

  const services = () => app.running.services;
  const queue = () => services().queues.get(flakyContract.queue);
  const reviveDeps = () => ({ db: services().db, queues: services().queues, contracts });
  // A relay that knows this file's contract (its attempts go on the jobs it adds).
  const relay = () => new Outbox({ db: services().db }, services().queues, contracts, services().log, { pollMs: 50, batchSize: 50 }).relay.drain();
  const startTestWorker = () => (worker = startWorker(services(), connection, flakyContract, processor));

  /** Rows for the relay, relayed at once: the jobs `ob-<id>` wait in Redis. */
  async function relayed(ns: number[]): Promise<number[]> {
    await services().db.transaction((trx) => writeOutbox(trx, testRows(flakyContract, ns)));
    await relay();
    return ((await services().db('outbox').orderBy('id').select('id')) as { id: number }[]).map((r) => Number(r.id));
  }

  const rowOf = async (id: number) =>
    (await services().db('outbox').where('id', id).first()) as { status: string; attempts: number; last_error: string | null; dead_at: Date | null };
  /** Waits for the rows' jobs in the failed set: a job marks its row dead before BullMQ's move there lands. */
  const filedAsFailed = (ids: readonly number[]) =>
    waitFor(async () => (await Promise.all(ids.map((id) => queue().getJobState(`ob-${id}`)))).every((state) => state === 'failed'), { what: 'the jobs in the failed set' });
  const effects = async () => ((await services().db('test_dead_effects').select('outbox_id')) as { outbox_id: string }[]).map((e) => Number(e.outbox_id));

  before(async () => {
    app = await startConveyor({ roles: [] });
    await createEffectsTable(services().db, 'test_dead_effects');
    connection = workerConnection();
  });

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    mode = 'ok';
    await services().db('outbox').delete();
    await services().db('test_dead_effects').delete();
    await deleteKeys(TEST_REDIS, app.prefix);
  });

  after(async () => {
    connection.disconnect();
    await app.stop();
  });

  it('marks the row dead when its attempts are spent, with the attempts, the last error (truncated) and the time', async () => {
    mode = 'fail';
    const [id] = await relayed([1]);
    startTestWorker();
    await waitFor(async () => (await rowOf(id!)).status === 'dead');
    const row = await rowOf(id!);
    expect(row.attempts).to.equal(3);
    expect(row.last_error).to.match(/^Error: boom 1 x+/);
    expect(row.last_error!.length).to.equal(LAST_ERROR_MAX);
    expect(row.dead_at).to.be.instanceOf(Date);
    await filedAsFailed([id!]);
    expect(await effects()).to.deep.equal([]);
    // The reconciler leaves it alone: its job is in the failed set, waiting for an operator.
    const reconciler = new OutboxReconciler(services().db, services().queues, contracts, services().log, { everyMs: 1000, graceMs: 0, batchSize: 50 });
    expect(await reconciler.runOnce()).to.equal(0);
  });

  it('marks the row dead at once on a permanent error, and counts dead rows in the metrics', async () => {
    mode = 'permanent';
    const ids = await relayed([1, 2]);
    startTestWorker();
    await waitFor(async () => (await services().db('outbox').where('status', 'dead').count({ n: '*' }))[0]!.n === 2);
    for (const id of ids) expect(await rowOf(id)).to.include({ status: 'dead', attempts: 1, last_error: 'PermanentError (listing_missing): no such listing' });
    await collectScrapeGauges(services(), [flakyContract.queue]);
    const metric = await services().metrics.outboxBacklog.get();
    expect(metric.values.find((v) => v.labels.status === 'dead')?.value).to.equal(2);
  });

  it('a row whose payload breaks its contract dies with the validation error', async () => {
    await services().db('outbox').insert({ queue: flakyContract.queue, job_name: flakyContract.queue, payload: JSON.stringify({ n: 'one' }), status: 'pending', available_at: new Date(), created_at: new Date() });
    await relay();
    const [{ id }] = (await services().db('outbox').select('id')) as [{ id: number }];
    startTestWorker();
    await waitFor(async () => (await rowOf(id)).status === 'dead');
    expect((await rowOf(id)).last_error).to.match(/^UnrecoverableError: invalid payload: n: must be integer/);
  });

  it('a retry of the failed job (as Bull Board does) brings the row back: done, its effect once', async () => {
    mode = 'fail';
    const [id] = await relayed([7]);
    startTestWorker();
    await waitFor(async () => (await rowOf(id!)).status === 'dead');
    // Bull Board offers a retry only for a job in the failed set.
    await filedAsFailed([id!]);
    mode = 'ok';
    await (await queue().getJob(`ob-${id}`))!.retry('failed');
    await waitFor(async () => (await rowOf(id!)).status === 'done');
    expect(await effects()).to.deep.equal([id]);
    // A second delivery of the same row (a copy under another id) finds it done.
    const copy = await queue().add(flakyContract.queue, { v: 1, payload: { n: 7 }, outbox_id: String(id) }, { jobId: 'copy-1' });
    await waitFor(async () => (await queue().getJobState(copy.id!)) === 'completed');
    expect(await effects()).to.deep.equal([id]);
  });

  it('lists dead rows by queue and limit, and revives one by id: re-run once, even when revived twice', async () => {
    mode = 'fail';
    const ids = await relayed([1, 2, 3]);
    await services().db('outbox').insert({ queue: 'test.other', job_name: 'test.other', payload: '{}', status: 'dead', attempts: 1, last_error: 'x', dead_at: new Date(), available_at: new Date(), created_at: new Date() });
    startTestWorker();
    await waitFor(async () => (await services().db('outbox').where({ status: 'dead', queue: flakyContract.queue }).count({ n: '*' }))[0]!.n === 3);
    // A revive before that is refused (the next test).
    await filedAsFailed(ids);

    const dead = await listDeadRows(services().db, { queue: flakyContract.queue });
    expect(dead.map((d) => [d.id, d.queue, d.payload, d.attempts])).to.deep.equal(ids.map((id, k) => [id, flakyContract.queue, { n: k + 1 }, 3]));
    expect(dead[0]!.last_error).to.match(/^Error: boom 1/);
    expect((await listDeadRows(services().db, { queue: flakyContract.queue, limit: 2 })).map((d) => d.id)).to.deep.equal(ids.slice(0, 2));
    expect((await listDeadRows(services().db, { limit: 10 })).map((d) => d.queue)).to.include('test.other');
    expect((await listDeadRows(services().db, { queue: flakyContract.queue, afterId: ids[1]! })).map((d) => d.id)).to.deep.equal([ids[2]]);

    mode = 'ok';
    const [first, second] = await Promise.all([reviveDeadRow(reviveDeps(), ids[0]!), reviveDeadRow(reviveDeps(), ids[0]!)]);
    expect([first, second].sort()).to.deep.equal(['not_dead', 'revived']);
    await waitFor(async () => (await rowOf(ids[0]!)).status === 'done');
    expect(await reviveDeadRow(reviveDeps(), ids[0]!)).to.equal('not_dead');
    expect(await effects()).to.deep.equal([ids[0]]);
    expect((await listDeadRows(services().db, { queue: flakyContract.queue })).map((d) => d.id)).to.deep.equal(ids.slice(1));
  });

  it('refuses to revive a dead row while its job is still active, and leaves the row dead; revives it once the job is done', async () => {
    const [id] = await relayed([9]);
    // A job held active, its row marked dead meanwhile, as a failing run marks it before BullMQ files the failure.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const hold = (async () => {
      await released;
      return {};
    }) as unknown as Processor<JobContract>;
    worker = startWorker(services(), connection, flakyContract, hold);
    await waitFor(async () => (await queue().getJobState(`ob-${id}`)) === 'active', { what: 'the job active' });
    expect(await markDead(services().db, id!, { attempts: 3, error: new Error('boom') })).to.equal(true);
    expect(await reviveDeadRow(reviveDeps(), id!)).to.equal('job_running');
    expect((await rowOf(id!)).status).to.equal('dead');
    release();
    await waitFor(async () => (await queue().getJobState(`ob-${id}`)) === 'completed', { what: 'the held job completed' });
    await worker.close();
    expect(await reviveDeadRow(reviveDeps(), id!)).to.equal('revived');
    startTestWorker();
    await waitFor(async () => (await rowOf(id!)).status === 'done');
    expect(await effects()).to.deep.equal([id]);
  });

  it('revives a dead row whose job Redis lost: added again from the row, its effect once', async () => {
    mode = 'permanent';
    const [id] = await relayed([5]);
    startTestWorker();
    await waitFor(async () => (await rowOf(id!)).status === 'dead');
    await worker!.close();
    await deleteKeys(TEST_REDIS, app.prefix);
    mode = 'ok';
    expect(await reviveDeadRow(reviveDeps(), id!)).to.equal('revived');
    expect(await queue().getJobState(`ob-${id}`)).to.equal('waiting');
    startTestWorker();
    await waitFor(async () => (await rowOf(id!)).status === 'done');
    expect(await effects()).to.deep.equal([id]);
  });
});
