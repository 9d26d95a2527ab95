import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { TestConveyor } from '../../helpers/conveyor.ts';
import { withTransaction } from '../../../src/platform/db.ts';
import { makeEnvelope } from '../../../queues/outbox/envelope.ts';
import { AddNewDonate } from '../../../src/domain/chat/events.ts';
import { transferDonations } from '../../../src/domain/chat/transferDonation.ts';
import { ensureParticipant } from '../../../src/domain/chat/participants.ts';
import { actor, balance, checkChatInvariants, quiescent, startChat, topUp, type Actor } from './chatApp.ts';

describe('chat: concurrent donations (real MySQL and Redis)', function () {
  this.timeout(40_000);
  let app: TestConveyor;
  let admin: Actor;

  before(async () => {
    app = await startChat();
    admin = await actor(app, 'admin');
  });
  after(async () => app.stop());

  it('50 concurrent donations of 10 from a balance of 100: exactly 10 complete, 40 are rejected, balance 0', async () => {
    const model = await actor(app, 'model');
    const viewer = await actor(app, 'client');
    await topUp(app, admin, viewer, '100');
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => app.post('/chat/donat/add', { room: model.uuid, sum: 10 }, viewer.auth)),
    );
    expect(answers.map((a) => a.status)).to.deep.equal(new Array(50).fill(201));
    await quiescent(app.database.db);
    const statuses = await Promise.all(answers.map(async (a) => (await app.get(`/chat/donations/${a.body.donation_id}`, viewer.auth)).body));
    expect(statuses.filter((s) => s.status === 'completed')).to.have.length(10);
    const rejected = statuses.filter((s) => s.status === 'rejected');
    expect(rejected).to.have.length(40);
    expect(rejected.every((s) => s.reason === 'insufficient_funds')).to.equal(true);
    expect(await balance(app, viewer)).to.equal('0.00');
    expect(await balance(app, model)).to.equal('100.00');
    const sponsor = (await app.get(`/chat/sponsor?room=${model.uuid}`, viewer.auth)).body.sponsor;
    expect(sponsor).to.include({ uuid: viewer.uuid, total: '100.00' });
    const events = await app.database.db('chat_events').where({ room: model.uuid }).select('type');
    expect(events.filter((e: { type: string }) => e.type === 'donation_rejected')).to.have.length(40);
    expect(events.filter((e: { type: string }) => e.type === 'donate')).to.have.length(10);
    await checkChatInvariants(app.database.db);
  });

  it('donations A→B and B→A in parallel all complete (people who are both viewer and model)', async () => {
    const a = randomUUID();
    const b = randomUUID();
    const token = async (sub: string, role: 'client' | 'model') => ({ authorization: `Bearer ${await app.token({ sub, role })}` });
    const [aClient, bClient, aModel, bModel] = await Promise.all([token(a, 'client'), token(b, 'client'), token(a, 'model'), token(b, 'model')]);
    for (const auth of [aModel, bModel, aClient, bClient]) expect((await app.get('/accounts/me', auth)).status).to.equal(200);
    for (const user of [a, b]) expect((await app.post('/accounts/top-up', { user, sum: 100, role: 'client' }, admin.auth)).status).to.equal(201);
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? app.post('/chat/donat/add', { room: b, sum: '1.25' }, aClient) : app.post('/chat/donat/add', { room: a, sum: '1.25' }, bClient))),
    );
    expect(answers.every((r) => r.status === 201)).to.equal(true);
    await quiescent(app.database.db);
    const rows = await app.database.db('donations').whereIn('id', answers.map((r) => r.body.donation_id as string)).select('status');
    expect(rows.map((r: { status: string }) => r.status)).to.deep.equal(new Array(40).fill('completed'));
    expect((await app.get('/accounts/me', aClient)).body.balance).to.equal('75.00');
    expect((await app.get('/accounts/me', aModel)).body.balance).to.equal('25.00');
    await checkChatInvariants(app.database.db);
  });

  it('the transfer itself, between the same two wallets in both directions at once, never deadlocks for good', async () => {
    const { db } = app.database;
    const x = await ensureParticipant(db, { sub: randomUUID(), role: 'client' });
    const y = await ensureParticipant(db, { sub: randomUUID(), role: 'client' });
    for (const who of [x, y]) await topUp(app, admin, { uuid: who.uuid, role: 'client', auth: {} }, 50);
    const runs = Array.from({ length: 60 }, (_, i) => {
      const [from, to] = i % 2 === 0 ? [x, y] : [y, x];
      const envelope = makeEnvelope(AddNewDonate, {
        donation_id: randomUUID(), room: to.uuid, sender_uuid: from.uuid, sender_name: null, sum: 100, from_account_id: from.accountId, to_account_id: to.accountId,
      });
      return withTransaction(db, (trx) => transferDonations(trx, [envelope], null));
    });
    const outcomes = await Promise.allSettled(runs);
    expect(outcomes.filter((o) => o.status === 'rejected')).to.deep.equal([]);
    const balances = await db('accounts').whereIn('id', [x.accountId, y.accountId]).orderBy('id').select('balance');
    expect(balances.map((r: { balance: number }) => Number(r.balance))).to.deep.equal([5000, 5000]);
    expect(await db('transfers').where('reason', 'donation').whereIn('from_account_id', [x.accountId, y.accountId]).count({ n: '*' })).to.deep.equal([{ n: 60 }]);
  });
});
