import { expect } from 'chai';
import { rowsOfEvents } from '../../../scripts/chaos/outboxState.ts';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { TestConveyor } from '../../helpers/conveyor.ts';
import { TEST_REDIS } from '../../helpers/db.ts';
import { waitFor } from '../../helpers/wait.ts';
import { roomChannel } from '../../../src/domain/chat/chatEvent.ts';
import { actor, balance, checkChatInvariants, quiescent, startChat, topUp, type Actor } from './chatApp.ts';
import { makeEnvelope } from '../../../queues/outbox/envelope.ts';
import { eventBatchJobs, writeOutbox } from '../../../queues/outbox/writer.ts';
import { ReceiveMoney } from '../../../src/domain/chat/events.ts';
import { topicStream } from '../../../src/domain/events/topics.ts';

describe('chat: donation flow end to end (real MySQL and Redis)', function () {
  this.timeout(40_000);
  let app: TestConveyor;
  let admin: Actor;
  let model: Actor;
  let subscriber: Redis;
  const published: Record<string, unknown>[] = [];

  before(async () => {
    app = await startChat();
    admin = await actor(app, 'admin');
    model = await actor(app, 'model', 'Mila');
    subscriber = new Redis(TEST_REDIS, { protocol: 2 });
    subscriber.on('message', (_channel: string, message: string) => published.push(JSON.parse(message) as Record<string, unknown>));
    await subscriber.subscribe(roomChannel(app.prefix, model.uuid));
  });

  after(async () => {
    subscriber.disconnect();
    await app.stop();
  });

  const donate = (who: Actor, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    app.post('/chat/donat/add', { room: model.uuid, ...body }, { ...who.auth, ...headers });
  const statusOf = async (who: Actor, id: string) => (await app.get(`/chat/donations/${id}`, who.auth)).body;
  const settled = (who: Actor, id: string) => waitFor(async () => ((await statusOf(who, id)).status !== 'pending' ? statusOf(who, id) : null), { what: `donation ${id} settled` });

  it('a viewer first created by an admin top-up shows the name of their later token', async () => {
    // A room of its own: the next test reads its room's whole history.
    const room = (await actor(app, 'model', 'Rae')).uuid;
    const uuid = randomUUID();
    expect((await app.post('/accounts/top-up', { user: uuid, sum: '20.00' }, admin.auth)).status).to.equal(201);
    const auth = { authorization: `Bearer ${await app.token({ sub: uuid, role: 'client', name: 'Zed' })}` };
    expect((await app.post('/chat/message/add', { room, message: 'hello from Zed', is_public: true }, auth)).status).to.equal(201);
    const message = await waitFor(async () => {
      const events = (await app.get(`/chat/event/history?room=${room}`, auth)).body.events as { type: string; data: Record<string, unknown> }[];
      return events.find((e) => e.type === 'message' && e.data.message === 'hello from Zed') ?? null;
    }, { what: 'the message in history' });
    expect(message.data.sender).to.include({ uuid, name: 'Zed' });
  });

  it('moves money, advances the goal, crowns the sponsor and shows it all in history and pub/sub', async () => {
    const ann = await actor(app, 'client', 'Ann');
    const bob = await actor(app, 'client', 'Bob');
    await topUp(app, admin, ann, '100.00');
    await topUp(app, admin, bob, 50);
    const goal = await app.post('/chat/goals', { name: 'new camera', require_sum: '40.00' }, model.auth);
    expect(goal.status).to.equal(201);

    const first = await donate(ann, { sum: 15.5, message: { message: 'hi from Ann', is_public: true } });
    expect(first.status, JSON.stringify(first.body)).to.equal(201);
    expect(first.body).to.have.keys('success', 'donation_id');
    expect(await settled(ann, first.body.donation_id)).to.include({ status: 'completed', sum: '15.50' });
    await quiescent(app.database.db);
    expect(await balance(app, ann)).to.equal('84.50');
    expect(await balance(app, model)).to.equal('15.50');
    let sponsor = (await app.get(`/chat/sponsor?room=${model.uuid}`, bob.auth)).body.sponsor;
    expect(sponsor).to.include({ uuid: ann.uuid, name: 'Ann', total: '15.50' });

    // Bob overtakes Ann and the goal crosses 40.00 with his donation; a private message rides along.
    const second = await donate(bob, { sum: '30', message: { message: 'for your eyes only', is_public: false } });
    expect((await settled(bob, second.body.donation_id)).status).to.equal('completed');
    await quiescent(app.database.db);
    sponsor = (await app.get(`/chat/sponsor?room=${model.uuid}`, ann.auth)).body.sponsor;
    expect(sponsor).to.include({ uuid: bob.uuid, name: 'Bob', total: '30.00' });
    const goals = (await app.get(`/chat/goals?room=${model.uuid}`, ann.auth)).body.goals;
    expect(goals).to.have.length(1);
    expect(goals[0]).to.include({ goal_id: goal.body.goal_id, name: 'new camera', sum: '45.50', require_sum: '40.00', reached: true });

    // Ann's equal total later does not take the sponsorship (ties keep the sponsor).
    const third = await donate(ann, { sum: '14.50' });
    expect((await settled(ann, third.body.donation_id)).status).to.equal('completed');
    await quiescent(app.database.db);
    sponsor = (await app.get(`/chat/sponsor?room=${model.uuid}`, ann.auth)).body.sponsor;
    expect(sponsor).to.include({ uuid: bob.uuid, total: '30.00' });

    const historyFor = async (who: Actor) => (await app.get(`/chat/event/history?room=${model.uuid}`, who.auth)).body.events as { type: string; data: Record<string, unknown> }[];
    const seenByAnn = await historyFor(ann);
    const types = seenByAnn.map((e) => e.type);
    // Sponsor and goal react to the same ReceiveMoney in parallel jobs: their order is free.
    expect(types.slice(0, 3)).to.deep.equal(['donate', 'change_sponsor', 'donate']);
    expect(types.slice(3, 5)).to.have.members(['change_sponsor', 'goal_reached']);
    expect(types[5]).to.equal('donate');
    expect(seenByAnn[0]!.data).to.deep.include({ sum: '15.50', message: 'hi from Ann', sender: { uuid: ann.uuid, name: 'Ann' } });
    expect(JSON.stringify(seenByAnn)).to.not.include('for your eyes only');
    expect(seenByAnn.every((e) => !('audience' in e))).to.equal(true);
    const seenByModel = await historyFor(model);
    const secret = seenByModel.filter((e) => e.type === 'message');
    expect(secret).to.have.length(1);
    expect(secret[0]!.data).to.include({ message: 'for your eyes only', is_public: false, donation_id: second.body.donation_id });
    expect((await historyFor(bob)).filter((e) => e.type === 'message')).to.have.length(1);

    await waitFor(() => published.length >= 7, { what: 'published room events' });
    expect(published.map((e) => e.event_id).sort()).to.deep.equal(seenByModel.map((e) => (e as unknown as { event_id: string }).event_id).sort());
    expect(published.find((e) => e.type === 'message')).to.have.deep.property('audience', [bob.uuid, model.uuid]);

    // SaveDonate only hears of donations that carry a message: the third had none, so no row for it.
    const saveRows = await rowsOfEvents(app.database.db, 'chat.save-donate', [first, second, third].map((d) => d.body.donation_id as string));
    expect(saveRows.map((r) => r.event_id).sort()).to.deep.equal([first, second].map((d) => d.body.donation_id as string).sort());
    expect(saveRows.every((r) => r.status === 'done')).to.equal(true);
    const linked = (await app.database.db('donations').whereIn('id', [first, second, third].map((d) => d.body.donation_id)).whereNotNull('message_id').count({ n: '*' })) as { n: number }[];
    expect(Number(linked[0]!.n)).to.equal(2);

    const report = await checkChatInvariants(app.database.db);
    expect(report).to.deep.equal({ completed: 3, rejected: 0, pending: 0 });
  });

  it('rejects a donation that lacks funds and tells only its sender', async () => {
    const poor = await actor(app, 'client');
    const other = await actor(app, 'client');
    await topUp(app, admin, poor, '5.00');
    const res = await donate(poor, { sum: '5.01' });
    expect(res.status).to.equal(201);
    expect(await settled(poor, res.body.donation_id)).to.include({ status: 'rejected', reason: 'insufficient_funds' });
    expect(await statusOf(model, res.body.donation_id)).to.include({ status: 'rejected' });
    expect(await balance(app, poor)).to.equal('5.00');
    await quiescent(app.database.db);
    const own = (await app.get(`/chat/event/history?room=${model.uuid}`, poor.auth)).body.events as { type: string; data: Record<string, unknown> }[];
    expect(own.filter((e) => e.type === 'donation_rejected').map((e) => e.data)).to.deep.equal([{ donation_id: res.body.donation_id, sum: '5.01', reason: 'insufficient_funds' }]);
    for (const who of [other, model]) {
      const events = (await app.get(`/chat/event/history?room=${model.uuid}`, who.auth)).body.events as { type: string }[];
      expect(events.map((e) => e.type)).to.not.include('donation_rejected');
    }
    await checkChatInvariants(app.database.db);
  });

  it('saves public and private messages and shows private ones to the sender and the owner only', async () => {
    const ann = await actor(app, 'client', 'Ann');
    const eve = await actor(app, 'client', 'Eve');
    const pub = await app.post('/chat/message/add', { room: model.uuid, message: 'hello all', is_public: true }, ann.auth);
    const priv = await app.post('/chat/message/add', { room: model.uuid, message: 'psst', is_public: 'false' }, ann.auth);
    expect(pub.status).to.equal(201);
    expect(priv.status).to.equal(201);
    await quiescent(app.database.db);
    const rows = await app.database.db('messages').whereIn('event_id', [pub.body.event_id, priv.body.event_id]).orderBy('id');
    expect(rows.map((r: { value: string; is_public: number }) => [r.value, Boolean(r.is_public)])).to.deep.equal([['hello all', true], ['psst', false]]);
    const ids = async (who: Actor) => ((await app.get(`/chat/event/history?room=${model.uuid}`, who.auth)).body.events as { event_id: string }[]).map((e) => e.event_id);
    expect(await ids(ann)).to.include.members([pub.body.event_id, priv.body.event_id]);
    expect(await ids(model)).to.include.members([pub.body.event_id, priv.body.event_id]);
    expect(await ids(eve)).to.include(pub.body.event_id).and.not.include(priv.body.event_id);
  });

  it('registers a connection through AddNewConnection → SaveConnection', async () => {
    const ann = await actor(app, 'client');
    const res = await app.post('/chat/connection/add', { connection_id: 'conn-123' }, ann.auth);
    expect(res.status).to.equal(201);
    await waitFor(async () => (await app.database.db('connections').where('connection_uuid', 'conn-123').first()) as unknown, { what: 'connection row' });
    expect(await app.database.db('connections').where('connection_uuid', 'conn-123').first()).to.include({ entity_uuid: ann.uuid, type: 'client' });
  });
  it('drains a ReceiveMoney row written for the retired SendDonateToQueue queue: the room hears it once', async () => {
    // As an upgrade finds it: a row for chat.broadcast-donate, written before TransferMoney told the room itself.
    const sender = await actor(app, 'client', 'Old');
    const received = makeEnvelope(ReceiveMoney, { donation_id: randomUUID(), transfer_id: 1, room: model.uuid, sender_uuid: sender.uuid, sender_name: 'Old', sum: 700 });
    const [job] = eventBatchJobs(ReceiveMoney, [received]);
    await app.running.services.outbox.transaction((trx) => writeOutbox(trx, [{ ...job!, queue: 'chat.broadcast-donate' }]));
    const frame = await waitFor(() => published.find((e) => e.event_id === received.event_id), { what: 'the donate event of the old row' });
    expect(frame).to.deep.include({ type: 'donate', room: model.uuid, data: { donation_id: received.payload.donation_id, sender: { uuid: sender.uuid, name: 'Old' }, sum: '7.00' } });
    await quiescent(app.database.db);
    expect(await app.database.db('chat_events').where('event_id', received.event_id).count({ n: '*' })).to.deep.equal([{ n: 1 }]);
    expect(published.filter((e) => e.event_id === received.event_id)).to.have.length(1);
    // This queue carried ReceiveMoney to domain.chat when the row was written: it still reaches the topic.
    const reader = subscriber.duplicate();
    try {
      const topic = await reader.xrange(topicStream(app.prefix, 'domain.chat'), '-', '+');
      expect(topic.filter(([, fields]) => fields.includes(received.event_id))).to.have.length(1);
    } finally {
      reader.disconnect();
    }
  });
});
