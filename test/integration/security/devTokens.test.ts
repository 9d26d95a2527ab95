import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { ConfigError, loadConfig } from '../../../src/config.ts';
import { verifyToken, tokenRules } from '../../../src/http/auth/jwt.ts';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { runCli, STACK_LINE } from './cli.ts';

const PAGE_ROLES = ['client', 'model', 'employee', 'manager', 'accountant', 'author', 'candidate', 'driver'];
const PROD = { NODE_ENV: 'production', JWT_SECRET: 'p'.repeat(40), ADMIN_USER: 'ops', ADMIN_PASSWORD: 'twelve-chars', WS_ORIGINS: 'https://chat.example' };

describe('security: POST /dev/token is opt-in and never mints admin or service', function () {
  this.timeout(60_000);

  describe('when DEV_TOKENS=true', () => {
    let app: TestConveyor;
    before(async () => {
      app = await startConveyor({ roles: ['api'], env: { DEV_TOKENS: 'true' } });
    });
    after(async () => app.stop());

    it('mints verifiable tokens for the page roles, with a lowercase uuid sub', async () => {
      for (const role of PAGE_ROLES) {
        const res = await app.post('/dev/token', { role });
        expect(res.status, role).to.equal(201);
        expect(res.body.sub).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        expect(await verifyToken(tokenRules(app.config), res.body.token as string)).to.include({ role, sub: res.body.sub });
      }
    });

    it('refuses admin and service with 403 role_not_mintable, and a non-canonical sub with 400', async () => {
      for (const role of ['admin', 'service']) {
        const res = await app.post('/dev/token', { role, sub: randomUUID() });
        expect(res.status, role).to.equal(403);
        expect(res.body).to.include({ success: false, code: 'role_not_mintable' });
        expect(res.body).not.to.have.property('token');
      }
      for (const sub of [randomUUID().toUpperCase(), `${randomUUID()} `, 'alice']) {
        const res = await app.post('/dev/token', { role: 'client', sub });
        expect(res.status, sub).to.equal(400);
        expect(res.body.code).to.equal('bad_params');
      }
      expect((await app.post('/dev/token', { role: 'emperor' })).body.code).to.equal('bad_params');
    });

    it("tops up the caller's own wallet without an admin token", async () => {
      const minted = await app.post('/dev/token', { role: 'client' });
      const auth = { authorization: `Bearer ${minted.body.token}` };
      const res = await app.post('/dev/top-up', undefined, auth);
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect((await app.get('/accounts/me', auth)).body.balance).to.equal('100.00');
      expect((await app.post('/dev/top-up', undefined)).status).to.equal(401);
      // An admin token from elsewhere still cannot be had from the dev routes.
      expect((await app.post('/accounts/top-up', { user: minted.body.sub, sum: '5.00' }, auth)).status).to.equal(403);
    });
  });

  it('answers 404 when not enabled: test mode, development with a real secret, DEV_TOKENS=false', async () => {
    const dev = { NODE_ENV: 'development', JWT_SECRET: 'a-real-secret-that-is-not-the-default' };
    const envs: Record<string, string>[] = [{}, dev, { DEV_TOKENS: 'false' }];
    for (const env of envs) {
      const app = await startConveyor({ roles: ['api'], env });
      try {
        expect(app.config.devTokens, JSON.stringify(env)).to.equal(false);
        for (const path of ['/dev/token', '/dev/top-up']) expect((await app.post(path, { role: 'client' })).status, path).to.equal(404);
        const doc = await app.get('/openapi.json');
        expect(Object.keys(doc.body.paths as object)).not.to.include('/dev/token');
      } finally {
        await app.stop();
      }
    }
  });

  it('is on by default only in development on the built-in secret', () => {
    expect(loadConfig({ NODE_ENV: 'development' }).devTokens).to.equal(true);
    expect(loadConfig({}).devTokens).to.equal(true);
    expect(loadConfig({ NODE_ENV: 'development', JWT_SECRET: 'x'.repeat(40) }).devTokens).to.equal(false);
    expect(loadConfig({ NODE_ENV: 'development', JWT_SECRET: 'x'.repeat(40), DEV_TOKENS: 'true' }).devTokens).to.equal(true);
    expect(loadConfig({ NODE_ENV: 'test' }).devTokens).to.equal(false);
    expect(loadConfig(PROD).devTokens).to.equal(false);
    expect(() => loadConfig({ ...PROD, DEV_TOKENS: 'true' })).to.throw(ConfigError, /DEV_TOKENS=true is refused in production/);
  });

  it('the real CLI refuses to start with NODE_ENV=prod-typo or with DEV_TOKENS=true in production', async () => {
    const unreachable = { DATABASE_URL: 'mysql://root@127.0.0.1:1/never', REDIS_URL: 'redis://127.0.0.1:1' };
    const typo = await runCli(['start'], { ...unreachable, NODE_ENV: 'prod-typo' });
    expect(typo.code).to.equal(1);
    expect(typo.stderr).to.match(/NODE_ENV must be one of development, test, production, got "prod-typo"/);
    expect(typo.stderr).not.to.match(STACK_LINE);
    const prod = await runCli(['start'], { ...unreachable, ...PROD, DEV_TOKENS: 'true' });
    expect(prod.code).to.equal(1);
    expect(prod.stderr).to.include('DEV_TOKENS=true is refused in production');
    expect(prod.stderr).not.to.match(STACK_LINE);
  });
});
