import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { withTransaction } from '../../../src/platform/db.ts';
import { runDurable } from '../../../src/platform/outbox/durable.ts';
import type { Envelope } from '../../../src/platform/outbox/envelope.ts';
import { topUp } from '../../../src/domain/chat/accounts.ts';
import { createDonation } from '../../../src/domain/chat/donations.ts';
import type { AddNewDonatePayload } from '../../../src/domain/chat/events.ts';
import { ensureParticipantIn, type Participant } from '../../../src/domain/chat/participants.ts';
import { transferDonation } from '../../../src/domain/chat/transferDonation.ts';
import { checkLedger, isLedgerSound } from '../../../src/domain/ledger/index.ts';

describe('chat: TransferMoney settles a hot room in batches (real MySQL, no workers)', function () {
  this.timeout(20_000);
  let database: TestDatabase;
  let room: Participant;

  before(async () => {
    database = await createTestDatabase();
    room = await withTransaction(database.db, (trx) => ensureParticipantIn(trx, 'model', randomUUID()));
  });
  after(async () => database.drop());

  async function viewer(balance: number): Promise<Participant> {
    return withTransaction(database.db, async (trx) => {
      const p = await ensureParticipantIn(trx, 'client', randomUUID());
      if (balance > 0) await topUp(trx, p, balance);
      return p;
    });
  }

  async function transferRow(donationId: string): Promise<{ id: number; status: string; envelope: Envelope<AddNewDonatePayload> }> {
    const row = await database.db('outbox').where({ event_id: donationId, queue: 'chat.transfer-money' }).first();
    return { id: row.id, status: row.status, envelope: JSON.parse(row.payload) };
  }

  it('one job credits every claimable pending donation of the room, once, and their own jobs find them done', async () => {
    const rich = await viewer(10_000);
    const poor = await viewer(150);
    const ids: string[] = [];
    for (const [sender, sum] of [[rich, 500], [poor, 100], [rich, 700], [poor, 100], [rich, 300]] as const) {
      ids.push((await withTransaction(database.db, (trx) => createDonation(trx, { sender, room, sum }))).donation_id);
    }
    const first = await transferRow(ids[0]!);
    const outcome = await runDurable(database.db, String(first.id), (trx) => transferDonation(trx, first.envelope, String(first.id)));
    expect(outcome.done).to.equal(true);

    const donations = await database.db('donations').whereIn('id', ids).select('id', 'status', 'reason');
    const byId = new Map(donations.map((d: { id: string; status: string; reason: string | null }) => [d.id, d]));
    expect(ids.map((id) => byId.get(id)!.status)).to.deep.equal(['completed', 'completed', 'completed', 'rejected', 'completed']);
    expect(byId.get(ids[3]!)!.reason).to.equal('insufficient_funds');
    for (const id of ids) expect((await transferRow(id)).status).to.equal('done');
    expect(await database.db('outbox').where('queue', 'chat.update-goal').count({ n: '*' })).to.deep.equal([{ n: 4 }]);
    expect(await database.db('transfers').where('reason', 'donation').count({ n: '*' })).to.deep.equal([{ n: 4 }]);
    const rejectedEvents = await database.db('chat_events').where('type', 'donation_rejected').select('audience', 'outbox_id');
    expect(rejectedEvents).to.have.length(1);
    expect(JSON.parse(rejectedEvents[0].audience)).to.deep.equal([poor.uuid]);

    // A claimed donation's own job arrives later: its row is done, so nothing happens again.
    const third = await transferRow(ids[2]!);
    const again = await runDurable(database.db, String(third.id), (trx) => transferDonation(trx, third.envelope, String(third.id)));
    expect(again.done).to.equal(false);
    // Even run without the outbox guard, the ledger key refuses a second transfer.
    const bare = await withTransaction(database.db, (trx) => transferDonation(trx, third.envelope, null));
    expect(bare).to.deep.equal([]);
    expect(await database.db('transfers').where('reason', 'donation').count({ n: '*' })).to.deep.equal([{ n: 4 }]);
    expect(isLedgerSound(await checkLedger(database.db))).to.equal(true);
  });

  it('skips donations whose rows another job holds', async () => {
    const sender = await viewer(1_000);
    const a = (await withTransaction(database.db, (trx) => createDonation(trx, { sender, room, sum: 100 }))).donation_id;
    const b = (await withTransaction(database.db, (trx) => createDonation(trx, { sender, room, sum: 100 }))).donation_id;
    const rowA = await transferRow(a);
    const rowB = await transferRow(b);
    // Another worker holds b's row (its job is running) while a's job batches.
    const holder = await database.db.transaction();
    await holder.raw('SELECT id FROM outbox WHERE id = ? FOR UPDATE', [rowB.id]);
    try {
      await runDurable(database.db, String(rowA.id), (trx) => transferDonation(trx, rowA.envelope, String(rowA.id)));
    } finally {
      await holder.rollback();
    }
    expect((await database.db('donations').where('id', a).first()).status).to.equal('completed');
    expect((await database.db('donations').where('id', b).first()).status).to.equal('pending');
    expect((await transferRow(b)).status).to.equal('pending');
  });
});
