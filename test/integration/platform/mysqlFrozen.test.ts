import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { createDb, ensureDatabase, migrate } from '../../../src/platform/db.ts';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { MariaDbServer } from '../../helpers/mariadbServer.ts';
import { waitFor } from '../../helpers/wait.ts';

// chaos mysql-freeze asks for an answer within 15 s; the api's probe should make it a few seconds.
const BOUND_MS = 8_000;

// A MariaDB of this test's own, frozen with SIGSTOP (found by npm run chaos, mysql-freeze: a write
// hung > 30 s on a connection that was open when the server froze).
describe('a frozen MariaDB (SIGSTOP): writes in flight and new ones answer 503 within bounds, and it recovers', function () {
  this.timeout(90_000);
  let mariadb: MariaDbServer;
  let app: TestConveyor;
  let admin: Record<string, string>;

  before(async () => {
    mariadb = await MariaDbServer.start();
    const url = `${mariadb.url}/frozen`;
    await ensureDatabase(url);
    const db = createDb(url, 1);
    await migrate(db);
    await db.destroy();
    // A small pool, so requests also wait for a connection when the server freezes.
    app = await startConveyor({ roles: ['api'], env: { DATABASE_URL: url, DB_POOL_MAX: '3' } });
    admin = { authorization: `Bearer ${await app.token({ sub: randomUUID(), role: 'admin' })}` };
  });
  after(async () => {
    mariadb?.thaw();
    // The helper's stop, not running.stop(): it also deletes the queues' keys on the shared Redis.
    await app?.stop();
    await mariadb?.stop();
  });

  const topUp = async () => {
    const started = Date.now();
    const res = await app.post('/accounts/top-up', { user: randomUUID(), sum: 1 }, { ...admin, 'idempotency-key': randomUUID() });
    return { status: res.status, ms: Date.now() - started };
  };

  it('answers every write started before or during the freeze within the bound', async () => {
    expect((await topUp()).status).to.equal(201);
    // Writes in flight on every connection of the pool, and more waiting for one, as the server stops.
    const inFlight: Promise<{ status: number; ms: number }>[] = [];
    const load = setInterval(() => inFlight.push(topUp()), 20);
    await new Promise((resolve) => setTimeout(resolve, 300));
    mariadb.freeze();
    try {
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      clearInterval(load);
      const answers = await Promise.all(inFlight);
      const slowest = Math.max(...answers.map((a) => a.ms));
      expect(slowest, `slowest of ${answers.length}: ${slowest} ms`).to.be.below(BOUND_MS);
      expect(answers.filter((a) => a.status !== 201 && a.status !== 503), 'only 201 or 503').to.deep.equal([]);
      expect(answers.some((a) => a.status === 503)).to.equal(true);
      const later = await topUp();
      expect(later.status).to.equal(503);
      expect(later.ms).to.be.below(BOUND_MS);
    } finally {
      clearInterval(load);
      mariadb.thaw();
    }
    await waitFor(async () => (await app.get('/readyz')).status === 200, { what: 'ready after the thaw', timeoutMs: 20_000, intervalMs: 200 });
    expect((await topUp()).status).to.equal(201);
  });
});
