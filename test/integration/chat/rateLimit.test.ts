import { expect } from 'chai';
import type { TestConveyor } from '../../helpers/conveyor.ts';
import { actor, startChat, topUp, type Actor } from './chatApp.ts';

describe('chat: per-sender rate limits (real Redis)', function () {
  this.timeout(30_000);
  let app: TestConveyor;
  let model: Actor;

  before(async () => {
    app = await startChat({ CHAT_MESSAGES_PER_MINUTE: '3', CHAT_DONATIONS_PER_MINUTE: '2' });
    model = await actor(app, 'model');
  });
  after(async () => app.stop());

  it('answers 429 with Retry-After past the limit, per sender and per action', async () => {
    const ann = await actor(app, 'client');
    const bob = await actor(app, 'client');
    await topUp(app, await actor(app, 'admin'), ann, 10);
    const say = (who: Actor) => app.post('/chat/message/add', { room: model.uuid, message: 'hi', is_public: true }, who.auth);
    const give = (who: Actor) => app.post('/chat/donat/add', { room: model.uuid, sum: 1 }, who.auth);

    const said = await Promise.all([say(ann), say(ann), say(ann), say(ann), say(ann)]);
    const statuses = said.map((r) => r.status).sort();
    // A minute boundary may fall inside the burst and open a fresh window; at most one extra passes then.
    expect(statuses.filter((s) => s === 429).length).to.be.within(1, 2);
    const limited = said.find((r) => r.status === 429)!;
    expect(limited.body.code).to.equal('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).to.be.within(1, 60);
    expect((await say(bob)).status).to.equal(201);
    // Every window's counter expires on its own, a little after its minute.
    const counters = await app.running.services.redis.keys(`${app.prefix}:rate:chat:message:*`);
    expect(counters.length).to.be.within(2, 4);
    for (const key of counters) expect(await app.running.services.redis.pttl(key)).to.be.within(1, 61_000);

    const given = [await give(ann), await give(ann), await give(ann)];
    expect(given.filter((r) => r.status === 201).length).to.be.within(2, 3);
    expect(given[2]!.status === 429 || given.filter((r) => r.status === 429).length === 0).to.equal(true);
    // Rejected requests leave no donation behind.
    const rows = await app.database.db('donations').where('sender_uuid', ann.uuid).count({ n: '*' });
    expect(Number((rows[0] as { n: number }).n)).to.equal(given.filter((r) => r.status === 201).length);
  });
});
