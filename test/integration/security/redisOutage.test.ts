import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { startConveyor, type HttpAnswer, type TestConveyor } from '../../helpers/conveyor.ts';
import { waitFor } from '../../helpers/wait.ts';
import { RedisServer } from '../../helpers/redisServer.ts';
import { timed } from './outageKit.ts';

// The documented bound (README, Outages): a Redis-bound request answers within 2 s.
const REDIS_BOUND_MS = 2_000;

function expectUnavailable(res: HttpAnswer, ms: number, what: string): void {
  expect(res.status, `${what}: ${JSON.stringify(res.body)}`).to.equal(503);
  expect(res.body).to.deep.include({ success: false, code: 'unavailable' });
  expect(Number(res.headers.get('retry-after')), what).to.be.at.least(1);
  expect(ms, `${what} answered after ${Math.round(ms)} ms`).to.be.below(REDIS_BOUND_MS);
}

describe('security: a paused or stopped Redis gets fast 503s, and the api recovers without a restart', function () {
  this.timeout(120_000);
  let redis: RedisServer;
  let app: TestConveyor;

  before(async () => {
    redis = await RedisServer.start();
    app = await startConveyor({ roles: ['api'], env: { REDIS_URL: redis.url } });
  });
  after(async () => {
    await app?.stop();
    await redis?.stop();
  });

  const seen = () => timed(() => app.post('/4.0/mark-notify/v1/seen', { tag: 'banners', id: randomUUID() }));
  const ready = async () => (await app.get('/readyz')).status === 200;

  it('answers 503 with Retry-After within 2 s while Redis is paused, then serves again after', async () => {
    const first = await seen();
    expect(first.answer.status, JSON.stringify(first.answer.body)).to.equal(200);
    const pausedUntil = Date.now() + 8_000;
    await redis.pause(8_000);
    {
      for (let i = 0; i < 3; i++) {
        const { answer, ms } = await seen();
        expectUnavailable(answer, ms, `paused, request ${i + 1}`);
      }
      expect((await app.get('/healthz')).status).to.equal(200);
      const readiness = await app.get('/readyz');
      expect(readiness.status).to.equal(503);
      expect(readiness.headers.get('retry-after')).to.equal('1');
      expect(readiness.body).to.deep.include({ success: false, code: 'unavailable' });
      expect(readiness.body.checks.redis).to.include({ ok: false });
      expect(readiness.body.checks.redis.error).to.be.a('string');
      expect(readiness.body.checks.mysql).to.deep.equal({ ok: true });
      expect(Date.now(), 'the checks ran while Redis was paused').to.be.below(pausedUntil);
    }
    await waitFor(ready, { what: 'ready again after the pause', timeoutMs: 15_000, intervalMs: 200 });
    const after = await seen();
    expect(after.answer.status, JSON.stringify(after.answer.body)).to.equal(200);
  });

  it('answers 503 within 2 s while Redis is down, and recovers when it is back', async () => {
    await redis.kill();
    for (let i = 0; i < 3; i++) {
      const { answer, ms } = await seen();
      expectUnavailable(answer, ms, `down, request ${i + 1}`);
    }
    expect((await app.get('/healthz')).status).to.equal(200);
    const readiness = await app.get('/readyz');
    expect(readiness.status).to.equal(503);
    expect(readiness.body.checks.redis.ok).to.equal(false);
    await redis.run();
    await waitFor(ready, { what: 'ready again after Redis restarted', timeoutMs: 15_000, intervalMs: 200 });
    const after = await seen();
    expect(after.answer.status, JSON.stringify(after.answer.body)).to.equal(200);
  });
});
