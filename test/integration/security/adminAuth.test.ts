import { expect } from 'chai';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';

const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

/** Bursts stay inside one fixed window: wait out the last seconds of a minute. */
async function awayFromMinuteEdge(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 8_000) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

describe('security: HTTP Basic failures on /admin are limited per client IP', function () {
  this.timeout(60_000);
  let app: TestConveyor;
  const right = basic('boss', 'a-long-board-password');

  // Behind a trusted proxy, so the test can speak for several client addresses.
  before(async () => {
    app = await startConveyor({ roles: ['api'], env: { ADMIN_USER: 'boss', ADMIN_PASSWORD: 'a-long-board-password', TRUST_PROXY: 'true' } });
  });
  after(async () => app.stop());

  it('answers 429 with Retry-After after 10 failures a minute, to right credentials too; other addresses are unaffected', async () => {
    await awayFromMinuteEdge();
    const from = (ip: string, headers: Record<string, string>) => app.get('/admin/queues', { ...headers, 'x-forwarded-for': ip });
    expect((await from('198.51.100.7', right)).status).to.equal(200);
    // A browser's first request carries no credentials: a prompt, not a failure.
    for (let i = 0; i < 15; i++) expect((await from('198.51.100.7', {})).status).to.equal(401);
    for (let i = 0; i < 10; i++) {
      const res = await from('198.51.100.7', basic('boss', `guess-${i}`));
      expect(res.status, `failure ${i + 1}`).to.equal(401);
    }
    const limited = await from('198.51.100.7', basic('boss', 'guess-11'));
    expect(limited.status).to.equal(429);
    expect(limited.body).to.deep.include({ success: false, code: 'rate_limited' });
    expect(Number(limited.headers.get('retry-after'))).to.be.within(1, 60);
    // The right password gets no different answer from a limited address: guessing learns nothing.
    expect((await from('198.51.100.7', right)).status).to.equal(429);
    expect((await from('198.51.100.7', {})).status).to.equal(429);
    expect((await from('198.51.100.8', right)).status).to.equal(200);
    expect((await from('198.51.100.8', basic('boss', 'wrong'))).status).to.equal(401);
  });

  it('takes the limit from ADMIN_AUTH_FAILURES_PER_MINUTE', async () => {
    const strict = await startConveyor({ roles: ['api'], env: { ADMIN_AUTH_FAILURES_PER_MINUTE: '2' } });
    try {
      await awayFromMinuteEdge();
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await strict.get('/admin/queues', basic('admin', 'nope'))).status);
      expect(statuses).to.deep.equal([401, 401, 429]);
    } finally {
      await strict.stop();
    }
  });
});
