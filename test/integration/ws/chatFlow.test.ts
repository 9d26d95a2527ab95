import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { waitFor } from '../../helpers/wait.ts';
import { wsExtension } from '../../../src/ws/extension.ts';
import { TestSocket, wsUrl, type Frame } from './clients.ts';

interface Person {
  sub: string;
  auth: Record<string, string>;
  socket: TestSocket;
}

describe('ws end to end: HTTP chat requests become frames on the right sockets', function () {
  this.timeout(60_000);
  let app: TestConveyor;
  let admin: Record<string, string>;
  const room = randomUUID();
  let owner: Person;
  let alice: Person;
  let bob: Person;
  let elsewhere: Person;

  const join = async (role: 'client' | 'model', sub: string, inRoom = room, name?: string): Promise<Person> => {
    const token = await app.token({ sub, role, ...(name ? { name } : {}) });
    return { sub, auth: { authorization: `Bearer ${token}` }, socket: await TestSocket.open(wsUrl(app.url, { room: inRoom }), [`bearer.${token}`]) };
  };
  const frameOf = (p: Person, eventId: string): Frame | undefined => p.socket.events.find((f) => f.event_id === eventId);
  const say = async (p: Person, message: string, isPublic: boolean): Promise<string> => {
    const res = await app.post('/chat/message/add', { room, message, is_public: isPublic }, p.auth);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body.event_id as string;
  };

  before(async () => {
    app = await startConveyor({ extensions: [wsExtension()], env: { CHAT_MESSAGES_PER_MINUTE: '100000', CHAT_DONATIONS_PER_MINUTE: '100000' } });
    admin = { authorization: `Bearer ${await app.token({ sub: randomUUID(), role: 'admin' })}` };
    // The owner's connection registers the model, which makes the room exist.
    owner = await join('model', room, room, 'Model');
    alice = await join('client', randomUUID(), room, 'Alice');
    bob = await join('client', randomUUID(), room, 'Bob');
    elsewhere = await join('client', randomUUID(), randomUUID());
  });
  after(async () => {
    for (const p of [owner, alice, bob, elsewhere]) await p?.socket.close();
    await app.stop();
  });

  it('fans a public message out to everyone in the room, with the event id POST answered', async () => {
    const id = await say(alice, 'hello room', true);
    await waitFor(() => [owner, alice, bob].every((p) => frameOf(p, id)), { what: 'the message on every socket' });
    const frame = frameOf(bob, id)!;
    expect(frame).to.deep.include({ type: 'message', room });
    expect(frame.data).to.deep.include({ message: 'hello room', is_public: true });
    expect((frame.data as { sender: { uuid: string } }).sender.uuid).to.equal(alice.sub);
    expect(elsewhere.socket.events).to.have.length(0);
  });

  it('shows a private message to its sender and the owner only', async () => {
    const secret = await say(alice, 'for the model only', false);
    const marker = await say(bob, 'marker', true);
    await waitFor(() => [owner, alice, bob].every((p) => frameOf(p, marker)));
    expect(frameOf(alice, secret), 'sender').to.not.equal(undefined);
    expect(frameOf(owner, secret), 'owner').to.not.equal(undefined);
    expect(frameOf(bob, secret), 'another viewer').to.equal(undefined);
    // Order holds across sockets: the private message came before the marker.
    expect(owner.socket.events.findIndex((f) => f.event_id === secret)).to.be.lessThan(owner.socket.events.findIndex((f) => f.event_id === marker));
  });

  it('shows a donation, the new sponsor and the reached goal live; a bounced donation only to its sender', async () => {
    expect((await app.post('/chat/goals', { name: 'New camera', require_sum: '10.00' }, owner.auth)).status).to.equal(201);
    expect((await app.post('/accounts/top-up', { user: alice.sub, sum: '50.00' }, admin)).status).to.equal(201);
    const donated = await app.post('/chat/donat/add', { room, sum: '15.50', message: { message: 'for the camera', is_public: true } }, alice.auth);
    expect(donated.status, JSON.stringify(donated.body)).to.equal(201);
    const typesSeen = (p: Person) => new Set(p.socket.events.map((f) => f.type));
    await waitFor(() => [owner, alice, bob].every((p) => ['donate', 'change_sponsor', 'goal_reached'].every((t) => typesSeen(p).has(t))), { what: 'donate, sponsor and goal frames', timeoutMs: 20_000 });
    const donate = bob.socket.events.find((f) => f.type === 'donate')!;
    expect(donate.data).to.deep.include({ donation_id: donated.body.donation_id, sum: '15.50', message: 'for the camera' });
    const sponsor = bob.socket.events.find((f) => f.type === 'change_sponsor')!;
    expect((sponsor.data as { sponsor: { uuid: string } }).sponsor.uuid).to.equal(alice.sub);
    expect(bob.socket.events.find((f) => f.type === 'goal_reached')!.data).to.deep.include({ name: 'New camera' });

    // Bob has no money: only Bob hears that his donation bounced.
    const bounced = await app.post('/chat/donat/add', { room, sum: '5.00' }, bob.auth);
    expect(bounced.status).to.equal(201);
    await waitFor(() => bob.socket.events.some((f) => f.type === 'donation_rejected'), { what: 'donation_rejected to its sender' });
    const marker = await say(alice, 'after the bounce', true);
    await waitFor(() => [owner, alice, bob].every((p) => frameOf(p, marker)));
    expect(bob.socket.events.find((f) => f.type === 'donation_rejected')!.data).to.deep.include({ donation_id: bounced.body.donation_id, reason: 'insufficient_funds' });
    expect(alice.socket.events.filter((f) => f.type === 'donation_rejected')).to.have.length(0);
    expect(owner.socket.events.filter((f) => f.type === 'donation_rejected')).to.have.length(0);
    expect(elsewhere.socket.events).to.have.length(0);
  });

  it('sends a reconnecting socket what it missed, the same objects GET /chat/event/history shows', async () => {
    const last = bob.socket.events.at(-1)!.event_id!;
    await bob.socket.close();
    const missed = [await say(alice, 'while bob was away', true), await say(alice, 'private, not for bob', false), await say(owner, 'welcome back', true)];
    const token = bob.auth.authorization!.slice('Bearer '.length);
    bob.socket = await TestSocket.open(wsUrl(app.url, { room, token, since: last }));
    await waitFor(() => bob.socket.events.length >= 2, { what: 'the replay' });
    expect(bob.socket.events.map((f) => f.event_id)).to.deep.equal([missed[0], missed[2]]);
    const history = await app.get(`/chat/event/history?room=${room}`, bob.auth);
    const fromHistory = (history.body.events as Frame[]).filter((e) => e.event_id === missed[0] || e.event_id === missed[2]);
    expect(fromHistory).to.deep.equal(bob.socket.events);
  });

  it('registers each connection as POST /chat/connection/add would', async () => {
    const rows = await app.database.db('connections').whereIn('connection_uuid', [owner, alice].map((p) => p.socket.connectionId)).orderBy('id');
    expect(rows.map((r: { entity_uuid: string; type: string }) => [r.entity_uuid, r.type])).to.have.deep.members([[room, 'model'], [alice.sub, 'client']]);
  });
});
