import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { RedisServer } from '../../helpers/redisServer.ts';

// A Redis of this test's own: its eviction policy is changed, which must never happen to the shared one.
describe('readiness: a Redis that may evict keys is not ready (found by npm run chaos, redis-full)', function () {
  this.timeout(30_000);
  let server: RedisServer;
  let redis: Redis;
  let app: TestConveyor;

  before(async () => {
    server = await RedisServer.start(['--maxmemory', '256mb', '--maxmemory-policy', 'allkeys-lru']);
    redis = server.client();
    app = await startConveyor({ roles: ['api'], env: { REDIS_URL: server.url } });
  });

  after(async () => {
    await app?.running.stop();
    await app?.database.drop();
    redis?.disconnect();
    await server?.stop();
  });

  it('answers 503 naming the policy under allkeys-lru, and 200 once it is noeviction', async () => {
    const evicting = await app.get('/readyz');
    expect(evicting.status).to.equal(503);
    expect(evicting.body.code).to.equal('unavailable');
    expect(evicting.body.message).to.include('allkeys-lru').and.include('noeviction');

    await redis.config('SET', 'maxmemory-policy', 'noeviction');
    const safe = await app.get('/readyz');
    expect(safe.status).to.equal(200);
    expect(safe.body.checks).to.deep.equal({ redis: { ok: true, eviction_policy: 'noeviction' }, mysql: { ok: true } });
  });
});
