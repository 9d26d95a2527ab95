import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { startConveyor, type HttpAnswer, type TestConveyor } from '../../helpers/conveyor.ts';
import { actor, type Actor } from '../chat/chatApp.ts';

const LIMIT = 3;

/** Bursts stay inside one fixed window: wait out the last seconds of a minute. */
async function awayFromMinuteEdge(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 8_000) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

function expectLimited(res: HttpAnswer, what: string): void {
  expect(res.status, `${what}: ${JSON.stringify(res.body)}`).to.equal(429);
  expect(res.body).to.deep.include({ success: false, code: 'rate_limited' });
  expect(Number(res.headers.get('retry-after')), what).to.be.within(1, 60);
}

const count = async (app: TestConveyor, table: string, where: Record<string, unknown> = {}) =>
  Number(((await app.database.db(table).where(where).count({ n: '*' })) as { n: number }[])[0]!.n);

describe('security: rate limits where a caller makes the server store or send things', function () {
  this.timeout(60_000);
  let app: TestConveyor;
  let model: Actor;

  before(async () => {
    app = await startConveyor({
      roles: ['api'],
      env: {
        NOTIFY_ANONYMOUS_PER_MINUTE: String(LIMIT),
        CHAT_HISTORY_READS_PER_MINUTE: String(LIMIT),
        CHAT_CONNECTIONS_PER_MINUTE: String(LIMIT),
        CHAT_GOALS_PER_MINUTE: String(LIMIT),
      },
    });
    model = await actor(app, 'model');
  });
  after(async () => app.stop());

  it('limits anonymous mark-notify per client IP; refused facts are not recorded, signed callers are not limited by it', async () => {
    await awayFromMinuteEdge();
    const ids = Array.from({ length: LIMIT + 2 }, () => randomUUID());
    const answers: HttpAnswer[] = [];
    for (const id of ids) answers.push(await app.post('/4.0/mark-notify/v1/seen', { tag: 'banners', id }));
    expect(answers.slice(0, LIMIT).map((r) => r.status)).to.deep.equal(Array(LIMIT).fill(200));
    for (const res of answers.slice(LIMIT)) expectLimited(res, 'anonymous seen');
    for (const [i, id] of ids.entries()) {
      const seen = await app.get(`/4.0/mark-notify/v1/seen?tag=banners&id=${id}`);
      expect(seen.body.seen, `fact ${i}`).to.equal(i < LIMIT);
    }
    // X-Forwarded-For is not trusted by default: writing another address does not open a new bucket.
    expectLimited(await app.post('/4.0/mark-notify/v1/seen', { tag: 'banners', id: randomUUID() }, { 'x-forwarded-for': '203.0.113.9' }), 'spoofed XFF');
    // A signed client is another matter: its token's issuer answers for it.
    const token = await app.token({ sub: randomUUID(), role: 'client', user_id: '42' });
    for (let i = 0; i < LIMIT + 2; i++) {
      expect((await app.post('/4.0/mark-notify/v1/seen', { tag: 'banners', id: randomUUID() }, { authorization: `Bearer ${token}` })).status).to.equal(200);
    }
  });

  it('limits history reads per caller', async () => {
    await awayFromMinuteEdge();
    const ann = await actor(app, 'client');
    const bob = await actor(app, 'client');
    for (let i = 0; i < LIMIT; i++) expect((await app.get(`/chat/event/history?room=${model.uuid}`, ann.auth)).status).to.equal(200);
    expectLimited(await app.get(`/chat/event/history?room=${model.uuid}`, ann.auth), 'history');
    expect((await app.get(`/chat/event/history?room=${model.uuid}`, bob.auth)).status).to.equal(200);
  });

  it('limits POST /chat/connection/add per caller and writes nothing for the refused ones', async () => {
    await awayFromMinuteEdge();
    const ann = await actor(app, 'client');
    const outboxBefore = await count(app, 'outbox');
    const answers: HttpAnswer[] = [];
    for (let i = 0; i < LIMIT + 2; i++) answers.push(await app.post('/chat/connection/add', { connection_id: randomUUID() }, ann.auth));
    expect(answers.slice(0, LIMIT).map((r) => r.status)).to.deep.equal(Array(LIMIT).fill(201));
    for (const res of answers.slice(LIMIT)) expectLimited(res, 'connection/add');
    // One AddNewConnection event (and its listener rows) per accepted request, none for the refused.
    const accepted = answers.slice(0, LIMIT).map((r) => r.body.event_id as string);
    const rows = (await app.database.db('outbox').where('id', '>', 0).select('event_id')) as { event_id: string | null }[];
    const newRows = rows.slice(outboxBefore);
    expect(new Set(newRows.map((r) => r.event_id))).to.deep.equal(new Set(accepted));
  });

  it('limits goal creation per model and creates no goal for the refused ones', async () => {
    await awayFromMinuteEdge();
    const owner = await actor(app, 'model');
    const answers: HttpAnswer[] = [];
    for (let i = 0; i < LIMIT + 2; i++) answers.push(await app.post('/chat/goals', { name: `goal ${i}`, require_sum: 10 }, owner.auth));
    expect(answers.slice(0, LIMIT).map((r) => r.status)).to.deep.equal(Array(LIMIT).fill(201));
    for (const res of answers.slice(LIMIT)) expectLimited(res, 'goals');
    expect(await count(app, 'goals', { room: owner.uuid })).to.equal(LIMIT);
  });
});

describe('security: behind a trusted proxy the client IP is the address the proxy appended', function () {
  this.timeout(60_000);
  let app: TestConveyor;

  before(async () => {
    app = await startConveyor({ roles: ['api'], env: { NOTIFY_ANONYMOUS_PER_MINUTE: '1', TRUST_PROXY: 'true' } });
  });
  after(async () => app.stop());

  it('counts per forwarded address, and only the last entry of X-Forwarded-For', async () => {
    await awayFromMinuteEdge();
    const seen = (xff: string) => app.post('/4.0/mark-notify/v1/seen', { tag: 'banners', id: randomUUID() }, { 'x-forwarded-for': xff });
    const first = await seen('198.51.100.1');
    expect(first.status, JSON.stringify(first.body)).to.equal(200);
    expectLimited(await seen('198.51.100.1'), 'same address');
    expectLimited(await seen('10.9.9.9, 198.51.100.1'), 'a forged first entry');
    expect((await seen('198.51.100.2')).status).to.equal(200);
  });
});
