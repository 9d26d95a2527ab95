import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { TEST_REDIS } from '../../helpers/db.ts';
import { waitFor } from '../../helpers/wait.ts';
import type { TestConveyor } from '../../helpers/conveyor.ts';
import { actor, quiescent, startChat, topUp } from '../chat/chatApp.ts';
import { goodListing, startBonus, type BonusApp } from '../bonus/bonusApp.ts';

type Entry = Record<string, string>;

/** Reads a topic's whole stream as a consumer group's member, acknowledging what it read. */
async function readGroup(redis: Redis, stream: string, group: string): Promise<Entry[]> {
  await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
  const read = (await redis.xreadgroup('GROUP', group, 'reader-1', 'COUNT', 10_000, 'STREAMS', stream, '>')) as [string, [string, string[]][]][] | null;
  const entries = read?.[0]?.[1] ?? [];
  if (entries.length > 0) await redis.xack(stream, group, ...entries.map(([id]) => id));
  return entries.map(([, fields]) => {
    const entry: Entry = {};
    for (let i = 0; i < fields.length; i += 2) entry[fields[i]!] = fields[i + 1]!;
    return entry;
  });
}

/** The envelope fields every topic entry carries (hiring's, chat's and bonus's alike). */
function expectEnvelope(entry: Entry): void {
  expect(entry).to.have.all.keys('event_id', 'event_name', 'event_version', 'produced_at', 'payload');
  expect(entry.event_version).to.equal('1');
  expect(new Date(entry.produced_at!).toISOString()).to.equal(entry.produced_at);
  expect(() => JSON.parse(entry.payload!) as unknown).not.to.throw();
}

const payload = (e: Entry) => JSON.parse(e.payload!) as Record<string, unknown>;

describe('topic streams: chat and bonus events reach domain.chat and domain.bonus', function () {
  this.timeout(90_000);

  describe('chat (each event appended by the listener that carries it, no outbox row of its own)', () => {
    let app: TestConveyor;
    let redis: Redis;
    before(async () => {
      app = await startChat();
      redis = new Redis(TEST_REDIS);
    });
    after(async () => {
      redis.disconnect();
      await app.stop();
    });

    it('every chat event of a room arrives once, in commit order per event, a donation before the money it moved', async () => {
      const admin = await actor(app, 'admin');
      const model = await actor(app, 'model', 'Mila');
      const ann = await actor(app, 'client', 'Ann');
      await topUp(app, admin, ann, '100.00');
      expect((await app.post('/chat/goals', { name: 'camera', require_sum: '3.00' }, model.auth)).status).to.equal(201);
      expect((await app.post('/chat/connection/add', { connection_id: `conn-${randomUUID()}` }, ann.auth)).status).to.equal(201);

      const messages: string[] = [];
      const donations: string[] = [];
      for (let i = 0; i < 6; i++) {
        const text = `message ${i}`;
        expect((await app.post('/chat/message/add', { room: model.uuid, message: text, is_public: true }, ann.auth)).status).to.equal(201);
        messages.push(text);
        const res = await app.post('/chat/donat/add', { room: model.uuid, sum: '1.00' }, ann.auth);
        expect(res.status, JSON.stringify(res.body)).to.be.oneOf([201, 202]);
        donations.push(res.body.donation_id as string);
      }
      await quiescent(app.database.db);

      const stream = `${app.prefix}:topic:domain.chat`;
      const entries = await readGroup(redis, stream, 'analytics');
      entries.forEach(expectEnvelope);
      // At least once: a retried batch may append again; a reader drops repeats by the pair.
      const seen = new Set<string>();
      const unique = entries.filter((e) => {
        const key = `${e.event_id}|${e.produced_at}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
      const mine = unique.filter((e) => payload(e).room === model.uuid || payload(e).entity_uuid === ann.uuid);
      const of = (name: string) => mine.filter((e) => e.event_name === name);

      expect(of('AddNewConnection')).to.have.length(1);
      expect(of('AddNewMessage').map((e) => payload(e).message)).to.deep.equal(messages);
      expect(of('AddNewDonate').map((e) => payload(e).donation_id)).to.deep.equal(donations);
      expect(of('ReceiveMoney').map((e) => payload(e).donation_id)).to.deep.equal(donations);
      expect(of('EndGoal')).to.have.length(1);
      expect(of('NewSponsor')).to.have.length(1);
      // Each donation's request is in the stream before the money it moved (ReceiveMoney follows its commit).
      const position = new Map(mine.map((e, i) => [`${e.event_name}:${String(payload(e).donation_id)}`, i]));
      for (const id of donations) expect(position.get(`AddNewDonate:${id}`)!).to.be.below(position.get(`ReceiveMoney:${id}`)!);
      // Read by the group: nothing is left pending for it.
      expect(((await redis.xpending(stream, 'analytics')) as [number])[0]).to.equal(0);
    });

    it('writes no outbox row for the topic: a donation still makes only its listeners\' rows', async () => {
      const admin = await actor(app, 'admin');
      const model = await actor(app, 'model');
      const bob = await actor(app, 'client');
      await topUp(app, admin, bob, '5.00');
      const res = await app.post('/chat/donat/add', { room: model.uuid, sum: '1.00' }, bob.auth);
      await quiescent(app.database.db);
      const rows = (await app.database.db('outbox').where('queue', 'events.topic-append').count({ n: '*' })) as { n: number }[];
      expect(Number(rows[0]!.n)).to.equal(0);
      const names = (await redis.xrange(`${app.prefix}:topic:domain.chat`, '-', '+'))
        .map(([, f]) => Object.fromEntries(f.flatMap((v, i) => (i % 2 ? [] : [[v, f[i + 1]!]]))) as Entry)
        .filter((e) => payload(e).donation_id === res.body.donation_id)
        .map((e) => e.event_name);
      expect([...new Set(names)]).to.deep.equal(['AddNewDonate', 'ReceiveMoney']);
    });
  });

  describe('bonus (a topic-append row per event, in outbox order)', () => {
    let app: BonusApp;
    let redis: Redis;
    before(async () => {
      app = await startBonus();
      redis = new Redis(TEST_REDIS);
    });
    after(async () => {
      redis.disconnect();
      await app.stop();
    });

    it("a user's events arrive in domain.bonus in commit order, with the envelope they were posted with", async () => {
      const users = [randomUUID(), randomUUID()];
      const sent: { user: string; event_id: string; event_name: string; produced_at: string }[] = [];
      for (let i = 0; i < 4; i++) {
        for (const u of users) {
          const name = i === 0 ? 'ListingPublished' : i === 3 ? 'AccountLinked' : 'ListingUpdated';
          const body = i === 3 ? { user_id: u, yandex_uid: `y-${u}` } : goodListing(u, 'L1', { photos_count: 4 + i });
          const res = await app.send(name, body);
          expect(res.status, JSON.stringify(res.body)).to.equal(200);
          const row = (await app.database.db('outbox').where({ event_id: res.body.event_id, queue: 'events.topic-append' }).first()) as { created_at: Date };
          sent.push({ user: u, event_id: res.body.event_id as string, event_name: name, produced_at: row.created_at.toISOString() });
        }
      }
      const stream = `${app.prefix}:topic:domain.bonus`;
      await waitFor(async () => (await redis.xlen(stream)) >= sent.length, { what: 'bonus topic entries' });
      const entries = await readGroup(redis, stream, 'ledger-audit');
      entries.forEach(expectEnvelope);
      for (const u of users) {
        const got = entries.filter((e) => payload(e).user_id === u).map((e) => ({ user: u, event_id: e.event_id, event_name: e.event_name, produced_at: e.produced_at }));
        expect(got).to.deep.equal(sent.filter((s) => s.user === u));
      }
    });
  });
});
