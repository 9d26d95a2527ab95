import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { waitFor } from '../../helpers/wait.ts';

// A Redis of this test's own: its eviction policy is changed, which must never happen to the shared one.
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('readiness: a Redis that may evict keys is not ready (found by npm run chaos, redis-full)', function () {
  this.timeout(30_000);
  let child: ChildProcess;
  let redis: Redis;
  let app: TestConveyor;

  before(async () => {
    const port = await freePort();
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory', '256mb', '--maxmemory-policy', 'allkeys-lru'], { stdio: 'ignore' });
    redis = new Redis(`redis://127.0.0.1:${port}`, { protocol: 2, lazyConnect: true });
    redis.on('error', () => undefined); // refused until the server is up
    await waitFor(async () => (await redis.connect().then(() => redis.ping(), () => '')) === 'PONG' || redis.status === 'ready', { what: 'own redis-server' });
    app = await startConveyor({ roles: ['api'], env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
  });

  after(async () => {
    await app?.running.stop();
    await app?.database.drop();
    redis?.disconnect();
    child?.kill('SIGKILL');
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
