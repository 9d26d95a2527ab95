import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { get } from 'node:http';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { loadConfig } from '../../../src/config.ts';
import { verifyToken } from '../../../src/http/auth/jwt.ts';

describe('chat page files and dev tokens over HTTP', function () {
  this.timeout(30_000);
  let app: TestConveyor;

  before(async () => {
    app = await startConveyor({ roles: ['api'] });
  });
  after(async () => app.stop());

  it('serves public/chat under /chat/ with a strict CSP, and revalidates by ETag', async () => {
    const redirect = await fetch(`${app.url}/chat`, { redirect: 'manual' });
    expect(redirect.status).to.equal(302);
    expect(redirect.headers.get('location')).to.equal('/chat/');
    const page = await fetch(`${app.url}/chat/`);
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    expect(page.headers.get('content-security-policy')).to.include("default-src 'self'");
    expect(page.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(await page.text()).to.include('<script type="module" src="app.js">');
    const script = await fetch(`${app.url}/chat/app.js`);
    expect(script.headers.get('content-type')).to.match(/^text\/javascript/);
    // fetch() adds Cache-Control: no-cache to conditional requests, which forbids a 304: use node:http.
    const again = await new Promise<number>((resolve, reject) =>
      get(`${app.url}/chat/app.js`, { headers: { 'if-none-match': script.headers.get('etag')! } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject),
    );
    expect(again).to.equal(304);
    expect((await fetch(`${app.url}/chat/style.css`)).headers.get('content-type')).to.match(/^text\/css/);
  });

  it('serves nothing else from disk, and leaves the chat API alone', async () => {
    for (const path of ['/chat/%2e%2e%2fpackage.json', '/chat/..%2F..%2Fpackage.json', '/chat/missing.js', '/chat/index.html/']) {
      expect((await fetch(`${app.url}${path}`)).status, path).to.equal(404);
    }
    const history = await app.get(`/chat/event/history?room=${randomUUID()}`);
    expect(history.status).to.equal(401);
    expect(history.body.code).to.equal('unauthorized');
  });

  it('mints a verifiable token for a role and sub in dev mode', async () => {
    const sub = randomUUID();
    const res = await app.post('/dev/token', { role: 'model', sub, name: 'Model' });
    expect(res.status).to.equal(201);
    expect(res.body).to.include({ success: true, sub, role: 'model' });
    const claims = await verifyToken(app.config.jwtSecret, res.body.token as string);
    expect(claims).to.include({ sub, role: 'model', name: 'Model' });
    const fresh = await app.post('/dev/token', { role: 'client' });
    expect(fresh.body.sub).to.match(/^[0-9a-f-]{36}$/);
    expect((await app.post('/dev/token', { role: 'emperor' })).status).to.equal(400);
  });

  it('has no /dev/token when dev tokens are off, and production never has them', async () => {
    const off = await startConveyor({ roles: ['api'], env: { DEV_TOKENS: 'false' } });
    try {
      expect((await off.post('/dev/token', { role: 'client' })).status).to.equal(404);
    } finally {
      await off.stop();
    }
    const production = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), ADMIN_USER: 'ops', ADMIN_PASSWORD: 'long-password', WS_ORIGINS: 'https://chat.example', DEV_TOKENS: 'true' });
    expect(production.devTokens).to.equal(false);
  });
});
