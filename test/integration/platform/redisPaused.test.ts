import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { RedisServer } from '../../helpers/redisServer.ts';
import { waitFor } from '../../helpers/wait.ts';

// A Redis of this test's own: CLIENT PAUSE on the shared one would stall everyone's tests.
describe('a paused Redis (CLIENT PAUSE) answers 503 fast, not a hang (found by npm run chaos, redis-pause)', function () {
  this.timeout(40_000);
  let server: RedisServer;
  let redis: Redis;
  let app: TestConveyor;

  before(async () => {
    server = await RedisServer.start();
    redis = server.client();
    app = await startConveyor({ roles: ['api', 'worker'], env: { REDIS_URL: server.url, REDIS_COMMAND_TIMEOUT: '1s' } });
  });

  after(async () => {
    await redis?.call('CLIENT', 'UNPAUSE').catch(() => undefined);
    await app?.running.stop();
    await app?.database.drop();
    redis?.disconnect();
    await server?.stop();
  });

  it('a Redis-bound request during a 6 s pause is refused within the command timeout, and works after', async () => {
    expect((await app.post('/4.0/mark-notify/v1/seen', { tag: 'banners', id: 'before' })).status).to.equal(200);
    await redis.call('CLIENT', 'PAUSE', '6000', 'ALL');
    const started = Date.now();
    const during = await app.post('/4.0/mark-notify/v1/seen', { tag: 'banners', id: 'during' });
    const took = Date.now() - started;
    expect(during.status, JSON.stringify(during.body)).to.equal(503);
    expect(during.body.code).to.equal('unavailable');
    expect(took).to.be.below(4000);
    // Redis runs the paused SET once it resumes; the refused fact must not stay remembered as seen.
    await redis.call('CLIENT', 'UNPAUSE');
    const retried = await waitFor(async () => { const r = await app.post('/4.0/mark-notify/v1/seen', { tag: 'banners', id: 'during' }); return r.status === 200 ? r : null; }, { what: 'recovery after the pause', timeoutMs: 10_000, intervalMs: 200 });
    expect(retried.body.deduplicated, 'the retry of a refused fact is queued, not deduplicated').to.equal(false);
    await waitFor(async () => (await redis.xrange(`${app.prefix}:topic:banners.seen`, '-', '+')).some(([, fields]) => fields.join(' ').includes('during')), { what: 'the retried fact delivered', timeoutMs: 15_000, intervalMs: 200 });
  });
});
