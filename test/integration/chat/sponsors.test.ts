import { expect } from 'chai';
import { PAYLOAD_COLUMNS, storedPayload, type StoredPayload } from '../../../queues/outbox/writer.ts';
import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { makeEnvelope } from '../../../queues/outbox/envelope.ts';
import { ReceiveMoney, type NewSponsorPayload } from '../../../src/domain/chat/events.ts';
import { calculateSponsors } from '../../../src/domain/chat/sponsors.ts';

describe('chat: CalculateNewSponsor replays a batch in order (real MySQL)', function () {
  this.timeout(20_000);
  let database: TestDatabase;
  const room = randomUUID();
  const [s, x, y, z, w] = ['S', 'X', 'Y', 'Z', 'W'];

  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => database.drop());

  async function batch(...gifts: [string, number][]): Promise<{ client: string; total: number; seq: number }[]> {
    const before = Number(((await database.db('outbox').where('queue', 'chat.save-sponsor').count({ n: '*' })) as { n: number }[])[0]!.n);
    const envelopes = gifts.map(([donor, sum]) =>
      makeEnvelope(ReceiveMoney, { donation_id: randomUUID(), transfer_id: 1, room, sender_uuid: donor, sender_name: `name ${donor}`, sum }),
    );
    await database.db.transaction((trx) => calculateSponsors(trx, envelopes), { isolationLevel: 'read committed' });
    const rows = (await database.db('outbox').where('queue', 'chat.save-sponsor').orderBy('id').offset(before).select(...PAYLOAD_COLUMNS)) as StoredPayload[];
    // A batch's crowns share one row per listener, in order.
    expect(rows.length).to.be.at.most(1);
    return rows.flatMap((r) => (storedPayload(r) as { payload: NewSponsorPayload }[]).map(({ payload: p }) => ({ client: p.client_uuid, total: p.total, seq: p.seq })));
  }

  it('crowns whoever passes the sponsor, each time, and lets ties keep the sponsor', async () => {
    expect(await batch([s, 10])).to.deep.equal([{ client: s, total: 10, seq: 1 }]);
    // X passes S (15 > 10); then S reaches 15, a tie: X stays.
    expect(await batch([x, 15], [s, 5])).to.deep.equal([{ client: x, total: 15, seq: 2 }]);
    // Two take-overs inside one batch are two NewSponsor events, in order.
    expect(await batch([y, 20], [z, 25])).to.deep.equal([
      { client: y, total: 20, seq: 3 },
      { client: z, total: 25, seq: 4 },
    ]);
    expect(await batch([w, 25])).to.deep.equal([]);
    expect(await batch([w, 1], [z, 1])).to.deep.equal([{ client: w, total: 26, seq: 5 }]);
    expect(await database.db('room_sponsor').where('room', room).first()).to.include({ client_uuid: w, total: 26, seq: 5 });
    const totals = await database.db('donor_totals').where('room', room).orderBy('client_uuid').select('client_uuid', 'total');
    expect(totals.map((t: { client_uuid: string; total: number }) => [t.client_uuid, Number(t.total)])).to.deep.equal([[s, 15], [w, 26], [x, 15], [y, 20], [z, 26]]);
  });

  it('lets the index decide when the stored sponsor lost its place', async () => {
    // A sponsor state that disagrees with the totals (as after a restore) heals on the next donation.
    await database.db('room_sponsor').where('room', room).update({ client_uuid: s, total: 15 });
    // X passes the stored sponsor (16 > 15), then the index hands the place to the top donor.
    expect(await batch([x, 1])).to.deep.equal([
      { client: x, total: 16, seq: 6 },
      { client: w, total: 26, seq: 7 },
    ]);
    expect(await database.db('room_sponsor').where('room', room).first()).to.include({ client_uuid: w, seq: 7 });
  });
});
