import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { waitFor } from '../../helpers/wait.ts';
import { buildSchedules } from '../../../queues/schedules.ts';

describe('platform.prune forgets consumed_events pairs older than CONSUMED_EVENTS_RETENTION', function () {
  this.timeout(30_000);
  let app: TestConveyor;
  before(async () => {
    app = await startConveyor({ env: { CONSUMED_EVENTS_RETENTION: '10d', OUTBOX_RETENTION: '7d' } });
  });
  after(async () => {
    await app.stop();
  });

  it('the scheduled prune deletes the pairs taken before the retention and keeps the rest', async () => {
    const db = app.database.db;
    const day = 86_400_000;
    const row = (ageDays: number) => ({ consumer: 'bonus.apply-event', event_id: randomUUID(), produced_at: new Date().toISOString(), taken_at: new Date(Date.now() - ageDays * day) });
    const old = [row(11), row(30), row(400)];
    const kept = [row(9), row(0)];
    await db('consumed_events').insert([...old, ...kept]);

    const services = app.running.services;
    const prune = buildSchedules(services).find((s) => s.id === 'platform.prune')!;
    expect(prune.payload).to.deep.include({ consumed_retention_ms: 10 * day });
    const job = await services.queues.get('platform.prune')!.add('platform.prune', { v: prune.contract.version, payload: prune.payload }, { jobId: `prune-${randomUUID()}` });
    await waitFor(async () => ((await job.getState()) === 'completed' ? true : null), { what: 'the prune job' });
    const done = (await services.queues.get('platform.prune')!.getJob(job.id!))!;
    expect(done.returnvalue).to.deep.include({ consumed: 3 });

    const left = ((await db('consumed_events').select('event_id')) as { event_id: string }[]).map((r) => r.event_id).sort();
    expect(left).to.deep.equal(kept.map((r) => r.event_id).sort());
  });
});
