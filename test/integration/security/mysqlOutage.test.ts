import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { startConveyor, type HttpAnswer, type TestConveyor } from '../../helpers/conveyor.ts';
import { TEST_MYSQL } from '../../helpers/db.ts';
import { waitFor } from '../../helpers/wait.ts';
import { BlackholeProxy, timed } from './outageKit.ts';

// The documented bound (README, Outages): a MySQL-bound request answers within 3 s.
const MYSQL_BOUND_MS = 3_000;

function expectUnavailable(res: HttpAnswer, ms: number, what: string): void {
  expect(res.status, `${what}: ${JSON.stringify(res.body)}`).to.equal(503);
  expect(res.body).to.deep.include({ success: false, code: 'unavailable' });
  expect(Number(res.headers.get('retry-after')), what).to.be.at.least(1);
  expect(ms, `${what} answered after ${Math.round(ms)} ms`).to.be.below(MYSQL_BOUND_MS);
}

describe('security: an unreachable MySQL gets fast 503s, and the api recovers without a restart', function () {
  this.timeout(120_000);
  let proxy: BlackholeProxy;
  let app: TestConveyor;
  let auth: Record<string, string>;

  before(async () => {
    const mysql = new URL(TEST_MYSQL);
    proxy = await BlackholeProxy.start(mysql.hostname, Number(mysql.port || 3306));
    // The test database is made and migrated directly; the app reaches it only through the proxy.
    app = await startConveyor({
      roles: ['api'],
      databaseVia: (url) => {
        const proxied = new URL(url);
        proxied.port = String(proxy.port);
        return proxied.toString();
      },
    });
    auth = { authorization: `Bearer ${await app.token({ sub: randomUUID(), role: 'client' })}` };
  });
  after(async () => {
    proxy?.resume();
    await app?.stop();
    await proxy?.close();
  });

  const me = () => timed(() => app.get('/accounts/me', auth));
  const ready = async () => (await app.get('/readyz')).status === 200;

  it('answers 503 with Retry-After within 3 s while MySQL does not answer, then serves again after', async () => {
    // Several requests at once first, so the pool holds idle connections that the partition will strand.
    const warm = await Promise.all(Array.from({ length: 5 }, () => me()));
    expect(warm.map((r) => r.answer.status)).to.deep.equal([200, 200, 200, 200, 200]);

    proxy.blackhole();
    try {
      // The first ones find idle connections and wait on them; the later ones are refused at once.
      const during = await Promise.all(Array.from({ length: 3 }, () => me()));
      for (const [i, { answer, ms }] of during.entries()) expectUnavailable(answer, ms, `request ${i + 1} at the start`);
      for (let i = 0; i < 3; i++) {
        const { answer, ms } = await me();
        expectUnavailable(answer, ms, `request ${i + 1} later`);
      }
      // A transaction (money) is refused the same way, and the process itself is up.
      const admin = { authorization: `Bearer ${await app.token({ sub: randomUUID(), role: 'admin' })}` };
      const topUp = await timed(() => app.post('/accounts/top-up', { user: randomUUID(), sum: 1 }, admin));
      expectUnavailable(topUp.answer, topUp.ms, 'top-up');
      expect((await app.get('/healthz')).status).to.equal(200);
      const readiness = await timed(() => app.get('/readyz'));
      expect(readiness.answer.status).to.equal(503);
      expect(readiness.ms).to.be.below(MYSQL_BOUND_MS);
      expect(readiness.answer.headers.get('retry-after')).to.equal('1');
      expect(readiness.answer.body.checks.mysql.ok).to.equal(false);
      expect(readiness.answer.body.checks.mysql.error).to.be.a('string');
      expect(readiness.answer.body.checks.redis.ok).to.equal(true);
    } finally {
      proxy.resume();
    }
    await waitFor(ready, { what: 'ready again after the partition healed', timeoutMs: 15_000, intervalMs: 200 });
    const after = await me();
    expect(after.answer.status, JSON.stringify(after.answer.body)).to.equal(200);
  });
});
