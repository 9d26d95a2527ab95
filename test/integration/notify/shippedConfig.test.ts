import { expect } from 'chai';
import { Redis } from 'ioredis';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { TEST_REDIS } from '../../helpers/db.ts';
import { waitFor } from '../../helpers/wait.ts';

describe('mark-notify with the shipped config/integrations.json (a fresh start)', function () {
  this.timeout(30_000);
  let app: TestConveyor;
  let redis: Redis;
  before(async () => {
    app = await startConveyor();
    redis = new Redis(TEST_REDIS, { protocol: 2 });
  });
  after(async () => {
    redis?.disconnect();
    await app?.stop();
  });

  it('delivers every shipped tag without any consumer running: no retry, nothing failed', async () => {
    for (const tag of ['promotions', 'banners']) expect((await app.post('/4.0/mark-notify/v1/seen', { tag, id: `fresh-${tag}` })).status).to.equal(200);
    for (const topic of ['promotions.seen', 'banners.seen']) {
      await waitFor(async () => (await redis.xlen(`${app.prefix}:topic:${topic}`)) === 1, { what: `delivery to ${topic}` });
    }
    const metrics = await app.running.services.metrics.registry.getSingleMetricAsString('conveyor_notify_deliveries_total');
    expect(metrics).not.to.match(/outcome="(retry|failed|refused)[^"]*"} [1-9]/);
    for (const name of ['notify.deliver-seen', 'notify.deliver-seen-batch']) {
      const counts = await app.running.services.queues.get(name).getJobCounts('failed', 'delayed');
      expect(counts, name).to.deep.equal({ failed: 0, delayed: 0 });
    }
  });
});
