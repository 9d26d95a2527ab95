import { expect } from 'chai';
import { rowsOfEvents } from '../../../scripts/chaos/outboxState.ts';
import { randomUUID } from 'node:crypto';
import type { TestConveyor } from '../../helpers/conveyor.ts';
import { actor, quiescent, startChat, topUp, type Actor } from './chatApp.ts';

const count = async (app: TestConveyor, table: string) => Number(((await app.database.db(table).count({ n: '*' })) as { n: number }[])[0]!.n);

describe('chat: bad input, authorization and idempotency (real MySQL and Redis)', function () {
  this.timeout(40_000);
  let app: TestConveyor;
  let admin: Actor;
  let model: Actor;
  let ann: Actor;
  let bob: Actor;

  before(async () => {
    // One accept transaction at a time, so concurrent donations are written together (group commit).
    app = await startChat({ CHAT_MESSAGE_MAX_LENGTH: '50', CHAT_DONATIONS_PER_MINUTE: '1000', CHAT_ACCEPT_TRANSACTIONS: '1' });
    admin = await actor(app, 'admin');
    model = await actor(app, 'model');
    ann = await actor(app, 'client');
    bob = await actor(app, 'client');
    await topUp(app, admin, ann, 100);
    await quiescent(app.database.db);
  });
  after(async () => app.stop());

  const badSums: unknown[] = [-1, 0, '0', '0.00', '15.555', 15.555, 1e308, '1e308', '1e2', '1E2', 'NaN', 'Infinity', '0x10', '0x1A', ' 15', '15 ', '+15', '-1', '', '.5', '5.', '1,5', '01', '1000000.01', 1000000.01, 0.1 + 0.2, true, false, null, [], {}, [15]];

  it('refuses every malformed amount with 400 and writes nothing (no donation, no outbox row, no transfer)', async () => {
    const before = { donations: await count(app, 'donations'), outbox: await count(app, 'outbox'), transfers: await count(app, 'transfers'), keys: await count(app, 'idempotency_keys') };
    for (const sum of badSums) {
      const res = await app.post('/chat/donat/add', { room: model.uuid, sum }, { ...ann.auth, 'idempotency-key': randomUUID() });
      expect(res.status, `sum ${JSON.stringify(sum)}`).to.equal(400);
      expect(res.body).to.include({ success: false });
      expect(['bad_amount', 'bad_params'], JSON.stringify(res.body)).to.include(res.body.code);
      const topup = await app.post('/accounts/top-up', { user: ann.uuid, sum }, admin.auth);
      expect(topup.status, `top-up ${JSON.stringify(sum)}`).to.equal(400);
    }
    // A body that is not JSON, or not an object, or has no sum at all.
    expect((await app.post('/chat/donat/add', 'sum=15', ann.auth)).status).to.equal(400);
    expect((await app.post('/chat/donat/add', { room: model.uuid }, ann.auth)).status).to.equal(400);
    expect((await app.post('/chat/donat/add', [model.uuid, 15], ann.auth)).status).to.equal(400);
    const after = { donations: await count(app, 'donations'), outbox: await count(app, 'outbox'), transfers: await count(app, 'transfers'), keys: await count(app, 'idempotency_keys') };
    expect(after).to.deep.equal(before);
  });

  it('accepts the money forms the contract allows', async () => {
    for (const sum of [15.5, '15.50', '15.5', 15, '0.01', 1000000, '1000000.00']) {
      const res = await app.post('/chat/donat/add', { room: model.uuid, sum }, ann.auth);
      expect(res.status, `sum ${JSON.stringify(sum)}`).to.equal(201);
    }
  });

  it('takes the sender from the token: a body naming another sender is refused, and rows carry the token subject', async () => {
    for (const extra of [{ sender: bob.uuid }, { sender_uuid: bob.uuid }, { user: bob.uuid }]) {
      expect((await app.post('/chat/donat/add', { room: model.uuid, sum: 1, ...extra }, ann.auth)).status).to.equal(400);
      expect((await app.post('/chat/message/add', { room: model.uuid, message: 'x', is_public: true, ...extra }, ann.auth)).status).to.equal(400);
    }
    const res = await app.post('/chat/donat/add', { room: model.uuid, sum: 1 }, ann.auth);
    expect((await app.database.db('donations').where('id', res.body.donation_id).first()).sender_uuid).to.equal(ann.uuid);
    // A token signed with another secret, none at all, or an expired one.
    expect((await app.post('/chat/donat/add', { room: model.uuid, sum: 1 })).status).to.equal(401);
    expect((await app.post('/chat/donat/add', { room: model.uuid, sum: 1 }, { authorization: 'Bearer abc.def.ghi' })).status).to.equal(401);
    const expired = await app.token({ sub: ann.uuid, role: 'client' }, -10);
    expect((await app.post('/chat/donat/add', { room: model.uuid, sum: 1 }, { authorization: `Bearer ${expired}` })).status).to.equal(401);
  });

  it("lets only the sender and the room owner read a donation", async () => {
    const res = await app.post('/chat/donat/add', { room: model.uuid, sum: 2 }, ann.auth);
    const id = res.body.donation_id as string;
    expect((await app.get(`/chat/donations/${id}`, ann.auth)).status).to.equal(200);
    expect((await app.get(`/chat/donations/${id}`, model.auth)).status).to.equal(200);
    const otherModel = await actor(app, 'model');
    expect((await app.get(`/chat/donations/${id}`, bob.auth)).status).to.equal(403);
    expect((await app.get(`/chat/donations/${id}`, otherModel.auth)).status).to.equal(403);
    expect((await app.get(`/chat/donations/${randomUUID()}`, ann.auth)).status).to.equal(404);
    expect((await app.get(`/chat/donations/${id}`, admin.auth)).status).to.equal(403);
  });

  it('refuses donations to oneself, to unknown rooms and from models; refuses top-ups from non-admins', async () => {
    const both = randomUUID();
    const asModel = { authorization: `Bearer ${await app.token({ sub: both, role: 'model' })}` };
    const asClient = { authorization: `Bearer ${await app.token({ sub: both, role: 'client' })}` };
    expect((await app.get('/accounts/me', asModel)).status).to.equal(200);
    const self = await app.post('/chat/donat/add', { room: both, sum: 1 }, asClient);
    expect(self.status).to.equal(422);
    expect(self.body.code).to.equal('self_donation');
    const unknown = await app.post('/chat/donat/add', { room: randomUUID(), sum: 1 }, ann.auth);
    expect(unknown.status).to.equal(404);
    expect(unknown.body.code).to.equal('room_not_found');
    expect((await app.post('/chat/donat/add', { room: model.uuid, sum: 1 }, asModel)).status).to.equal(403);
    expect((await app.post('/accounts/top-up', { user: ann.uuid, sum: 1 }, ann.auth)).status).to.equal(403);
    expect((await app.post('/chat/goals', { name: 'g', require_sum: 1 }, ann.auth)).status).to.equal(403);
    expect((await app.post('/chat/message/add', { room: randomUUID(), message: 'x', is_public: true }, ann.auth)).status).to.equal(404);
  });

  it('limits message length and refuses empty messages', async () => {
    const ok = await app.post('/chat/message/add', { room: model.uuid, message: 'é'.repeat(50), is_public: true }, ann.auth);
    expect(ok.status).to.equal(201);
    const long = await app.post('/chat/message/add', { room: model.uuid, message: 'x'.repeat(51), is_public: true }, ann.auth);
    expect(long.status).to.equal(400);
    expect(long.body.code).to.equal('message_too_long');
    expect((await app.post('/chat/message/add', { room: model.uuid, message: '   ', is_public: true }, ann.auth)).status).to.equal(400);
    expect((await app.post('/chat/message/add', { room: model.uuid, message: 'x', is_public: 'maybe' }, ann.auth)).status).to.equal(400);
    const attached = await app.post('/chat/donat/add', { room: model.uuid, sum: 1, message: { message: 'y'.repeat(51), is_public: true } }, ann.auth);
    expect(attached.status).to.equal(400);
  });

  it('replays the first answer for the same Idempotency-Key and body, and answers 409 for another body', async () => {
    const key = randomUUID();
    const body = { room: model.uuid, sum: '3.00' };
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => app.post('/chat/donat/add', body, { ...ann.auth, 'idempotency-key': key })));
    expect(answers.map((a) => a.status)).to.deep.equal([201, 201, 201, 201, 201]);
    expect(new Set(answers.map((a) => a.body.donation_id)).size).to.equal(1);
    // The same body with its keys in another order is the same body.
    const again = await app.post('/chat/donat/add', { sum: '3.00', room: model.uuid }, { ...ann.auth, 'idempotency-key': key });
    expect(again.status).to.equal(201);
    expect(again.body.donation_id).to.equal(answers[0]!.body.donation_id);
    expect(again.headers.get('idempotent-replayed')).to.equal('true');
    const conflict = await app.post('/chat/donat/add', { room: model.uuid, sum: '4.00' }, { ...ann.auth, 'idempotency-key': key });
    expect(conflict.status).to.equal(409);
    expect(conflict.body.code).to.equal('idempotency_conflict');
    // Another caller may use the same key for their own donation.
    await topUp(app, admin, bob, 10);
    const bobs = await app.post('/chat/donat/add', body, { ...bob.auth, 'idempotency-key': key });
    expect(bobs.status).to.equal(201);
    expect(bobs.body.donation_id).to.not.equal(answers[0]!.body.donation_id);
    expect(await app.database.db('donations').where('sender_uuid', ann.uuid).andWhere('sum', 300).count({ n: '*' })).to.deep.equal([{ n: 1 }]);
    // Top-ups are idempotent too.
    const topKey = randomUUID();
    const t1 = await app.post('/accounts/top-up', { user: bob.uuid, sum: 5 }, { ...admin.auth, 'idempotency-key': topKey });
    const t2 = await app.post('/accounts/top-up', { user: bob.uuid, sum: 5 }, { ...admin.auth, 'idempotency-key': topKey });
    expect(t2.body).to.deep.equal(t1.body);
    expect((await app.post('/accounts/top-up', { user: bob.uuid, sum: 6 }, { ...admin.auth, 'idempotency-key': topKey })).status).to.equal(409);
    await quiescent(app.database.db);
    expect((await app.get('/accounts/me', bob.auth)).body.balance).to.equal('12.00');
  });

  it('writes donations accepted together in one transaction, and a repeated key in that batch still answers once', async () => {
    const key = randomUUID();
    const before = await count(app, 'donations');
    const posts = [
      ...Array.from({ length: 12 }, (_, i) => app.post('/chat/donat/add', { room: model.uuid, sum: `0.0${(i % 9) + 1}` }, (i % 2 ? ann : bob).auth)),
      ...Array.from({ length: 4 }, () => app.post('/chat/donat/add', { room: model.uuid, sum: '0.10' }, { ...ann.auth, 'idempotency-key': key })),
    ];
    const answers = await Promise.all(posts);
    expect(answers.map((a) => a.status)).to.deep.equal(answers.map(() => 201));
    expect(new Set(answers.slice(12).map((a) => a.body.donation_id)).size).to.equal(1);
    expect(new Set(answers.map((a) => a.body.donation_id)).size).to.equal(13);
    expect(await count(app, 'donations')).to.equal(before + 13);
    // A transaction stamps its donations with one time: fewer times than donations means they shared.
    const stamps = (await app.database.db('donations').whereIn('id', answers.map((a) => a.body.donation_id as string)).countDistinct({ n: 'created_at' })) as { n: number }[];
    expect(Number(stamps[0]!.n)).to.be.lessThan(13);
    // Every accepted donation has its TransferMoney row, once.
    const ids = [...new Set(answers.map((a) => a.body.donation_id as string))];
    const rows = await rowsOfEvents(app.database.db, 'chat.transfer-money', ids);
    expect(rows.map((r) => r.event_id).sort()).to.deep.equal(ids.sort());
    await quiescent(app.database.db);
    const statuses = (await app.database.db('donations').whereIn('id', ids).distinct('status')) as { status: string }[];
    expect(statuses).to.deep.equal([{ status: 'completed' }]);
  });

  it('serves the seed path /chat/donate/add as well', async () => {
    const res = await app.post('/chat/donate/add', { room: model.uuid, sum: 1 }, ann.auth);
    expect(res.status).to.equal(201);
    expect(res.body.donation_id).to.be.a('string');
  });
});
