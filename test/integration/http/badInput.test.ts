import { expect } from 'chai';
import { createHmac, randomUUID } from 'node:crypto';
import { parseIntegrations } from '../../../src/domain/notify/integrations.ts';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';

const SEEN = '/4.0/mark-notify/v1/seen';

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function handMadeToken(header: Record<string, unknown>, claims: Record<string, unknown>, secret: string | null): string {
  const head = `${b64(header)}.${b64(claims)}`;
  if (secret === null) return `${head}.`;
  const alg = header.alg === 'HS512' ? 'sha512' : 'sha256';
  return `${head}.${createHmac(alg, secret).update(head).digest('base64url')}`;
}

describe('bad input over HTTP: a clear 4xx JSON error, and nothing queued or stored', function () {
  this.timeout(20_000);
  let app: TestConveyor;
  const exp = () => Math.floor(Date.now() / 1000) + 600;
  const client = () => ({ sub: randomUUID(), role: 'client', user_id: 'u-1', exp: exp() });

  before(async () => {
    app = await startConveyor({
      integrations: parseIntegrations({ banners: { delivery: 'topic', topic: 'banners.seen' } }),
    });
  });
  after(() => app.stop());

  async function nothingQueued(): Promise<void> {
    for (const name of ['notify.deliver-seen-batch', 'notify.deliver-seen']) {
      const queue = app.running.services.queues.get(name);
      expect(await queue.count()).to.equal(0);
      expect(await queue.getCompletedCount()).to.equal(0);
    }
    // Nothing remembered either.
    expect(await app.running.services.redis.keys(`${app.prefix}:seen:*`)).to.deep.equal([]);
  }

  const cases: [string, () => Promise<{ status: number; body: { success: boolean; code: string; message: string } }>, number, string][] = [
    ['malformed JSON', () => app.post(SEEN, '{"tag": "banners", "id": '), 400, 'invalid_json'],
    ['a JSON array', () => app.post(SEEN, '[1,2]'), 400, 'bad_params'],
    ['wrong types', () => app.post(SEEN, { tag: 5, id: ['x'] }), 400, 'bad_params'],
    ['a missing field', () => app.post(SEEN, { tag: 'banners' }), 400, 'bad_params'],
    ['an unknown field', () => app.post(SEEN, { tag: 'banners', id: 'x', user_id: 'someone-else' }), 400, 'bad_params'],
    ['an empty id', () => app.post(SEEN, { tag: 'banners', id: '' }), 400, 'bad_params'],
    ['an oversized body', () => app.post(SEEN, { tag: 'banners', id: 'x'.repeat(70 * 1024) }), 413, 'payload_too_large'],
    ['a body that is not JSON', () => app.post(SEEN, 'tag=banners&id=x', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type'],
    ['a token signed with another secret', () => app.post(SEEN, { tag: 'banners', id: 'x' }, { authorization: `Bearer ${handMadeToken({ alg: 'HS256', typ: 'JWT' }, client(), 'not-the-secret')}` }), 401, 'invalid_token'],
    ['an expired token', () => app.post(SEEN, { tag: 'banners', id: 'x' }, { authorization: `Bearer ${handMadeToken({ alg: 'HS256' }, { ...client(), exp: Math.floor(Date.now() / 1000) - 60 }, app.config.jwtSecret)}` }), 401, 'token_expired'],
    ['a token without exp', () => app.post(SEEN, { tag: 'banners', id: 'x' }, { authorization: `Bearer ${handMadeToken({ alg: 'HS256' }, { sub: randomUUID(), role: 'client', user_id: 'u' }, app.config.jwtSecret)}` }), 401, 'invalid_token'],
    ['an alg: none token', () => app.post(SEEN, { tag: 'banners', id: 'x' }, { authorization: `Bearer ${handMadeToken({ alg: 'none' }, client(), null)}` }), 401, 'invalid_token'],
    ['an HS512 token with the right secret', () => app.post(SEEN, { tag: 'banners', id: 'x' }, { authorization: `Bearer ${handMadeToken({ alg: 'HS512' }, client(), app.config.jwtSecret)}` }), 401, 'invalid_token'],
    ['a token with an unknown role', () => app.post(SEEN, { tag: 'banners', id: 'x' }, { authorization: `Bearer ${handMadeToken({ alg: 'HS256' }, { ...client(), role: 'root' }, app.config.jwtSecret)}` }), 401, 'invalid_token'],
    ['a malformed Authorization header', () => app.post(SEEN, { tag: 'banners', id: 'x' }, { authorization: 'Basic abc' }), 401, 'invalid_token'],
    ['a role that does not mark notifications', () => app.post(SEEN, { tag: 'banners', id: 'x' }, { authorization: `Bearer ${handMadeToken({ alg: 'HS256' }, { ...client(), role: 'model' }, app.config.jwtSecret)}` }), 403, 'forbidden_role'],
    ['a client token without user_id', () => app.post(SEEN, { tag: 'banners', id: 'x' }, { authorization: `Bearer ${handMadeToken({ alg: 'HS256' }, { sub: randomUUID(), role: 'client', exp: exp() }, app.config.jwtSecret)}` }), 401, 'invalid_token'],
    ['an unknown tag', () => app.post(SEEN, { tag: 'nope', id: 'x' }), 400, 'unknown_tag'],
    ['a GET with an unknown query field', () => app.get(`${SEEN}?tag=banners&id=x&extra=1`), 400, 'bad_params'],
  ];

  for (const [name, send, status, code] of cases) {
    it(`${name} → ${status} ${code}`, async () => {
      const res = await send();
      expect(res.status).to.equal(status);
      expect(res.body).to.include({ success: false, code });
      expect(res.body.message).to.be.a('string').with.length.greaterThan(0);
      await nothingQueued();
    });
  }

  it('answers an unknown route with a JSON 404', async () => {
    const res = await app.get('/no/such/route');
    expect(res.status).to.equal(404);
    expect(res.body).to.include({ success: false, code: 'not_found' });
  });

  it('echoes a sane X-Request-Id and makes one up otherwise', async () => {
    const given = await app.get('/healthz', { 'x-request-id': 'req-123' });
    expect(given.headers.get('x-request-id')).to.equal('req-123');
    const made = await app.get('/healthz', { 'x-request-id': 'bad id with spaces' });
    expect(made.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
  });

  it('the same valid request then succeeds, so the checks above were not blanket refusals', async () => {
    const res = await app.post(SEEN, { tag: 'banners', id: 'x' });
    expect(res.status).to.equal(200);
    expect(await app.running.services.redis.keys(`${app.prefix}:seen:*`)).to.have.length(1);
  });
});
