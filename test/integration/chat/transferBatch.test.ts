import { expect } from 'chai';
import { rowsOfEvents } from '../../../scripts/chaos/outboxState.ts';
import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { withTransaction } from '../../../src/platform/db.ts';
import type { Envelope } from '../../../queues/outbox/envelope.ts';
import { topUp } from '../../../src/domain/chat/accounts.ts';
import { createDonations, type DonateInput } from '../../../src/domain/chat/donations.ts';
import type { AddNewDonatePayload, ReceiveMoneyPayload } from '../../../src/domain/chat/events.ts';
import { runOutboxBatch, type OutboxTransactions } from '../../../queues/outbox/runner.ts';
import { PAYLOAD_COLUMNS, storedRow, storedPayload, type StoredPayload } from '../../../queues/outbox/writer.ts';
import type { Trace } from '../../../src/platform/trace.ts';
import { ensureParticipantIn, type Participant } from '../../../src/domain/chat/participants.ts';
import { transferDonations } from '../../../src/domain/chat/transferDonation.ts';
import { checkLedger, isLedgerSound } from '../../../src/domain/ledger/index.ts';
import { chatContracts } from '../../../queues/contracts/chat.ts';

const contract = chatContracts['chat.transfer-money'];

describe('chat: listener jobs take their queue backlog along (real MySQL, no workers)', function () {
  this.timeout(20_000);
  let database: TestDatabase;
  let rooms: Participant[];

  before(async () => {
    database = await createTestDatabase();
    rooms = await Promise.all([0, 1].map(() => withTransaction(database.db, (trx) => ensureParticipantIn(trx, 'model', randomUUID()))));
  });
  after(async () => database.drop());

  async function viewer(balance: number): Promise<Participant> {
    return withTransaction(database.db, async (trx) => {
      const p = await ensureParticipantIn(trx, 'client', randomUUID());
      if (balance > 0) await topUp(trx, p, balance);
      return p;
    });
  }

  /** A donation's TransferMoney row (an event batch row of one: each donation here is its own transaction). */
  async function transferRow(donationId: string): Promise<{ id: number; status: string; envelope: Envelope<AddNewDonatePayload> }> {
    const [found] = await rowsOfEvents(database.db, 'chat.transfer-money', [donationId]);
    const row = (await database.db('outbox').where('id', found!.id).select('id', 'status', ...PAYLOAD_COLUMNS).first()) as StoredPayload & { id: number; status: string };
    const [envelope] = storedPayload(row) as Envelope<AddNewDonatePayload>[];
    return { id: row.id, status: row.status, envelope: envelope! };
  }

  const donate = async (input: DonateInput) => (await withTransaction(database.db, (trx) => createDonations(trx, [input])))[0]!;

  // Transactions that hand nothing on: no Redis here, the rows they write are only counted.
  const transactions = (): OutboxTransactions => ({ db: database.db, transaction: (fn, opts) => withTransaction(database.db, fn, opts?.readCommitted ? { isolationLevel: 'read committed' } : {}) });
  const run = (row: { id: number }, max = 100) =>
    runOutboxBatch<Envelope<AddNewDonatePayload>, unknown>(transactions(), { queue: contract.queue, schema: contract.schema, max, readCommitted: true }, { outboxId: String(row.id) }, (trx, batch) =>
      transferDonations(trx, batch.payloads, batch.key, batch.traces),
    );

  it('one job settles every waiting transfer of its queue, in publication order, each once', async () => {
    const rich = await viewer(10_000);
    const poor = await viewer(150);
    const plan = [[rich, 0, 500], [poor, 0, 100], [rich, 1, 700], [poor, 1, 100], [rich, 0, 300]] as const;
    const ids: string[] = [];
    for (const [sender, room, sum] of plan) ids.push((await donate({ sender, room: rooms[room]!, sum })).donation_id);
    // The newest donation's job runs first and takes the older ones along.
    const outcome = await run(await transferRow(ids[4]!));
    expect(outcome).to.include({ done: true, size: 5 });

    const byId = new Map((await database.db('donations').whereIn('id', ids).select('id', 'status', 'reason')).map((d: { id: string; status: string; reason: string | null }) => [d.id, d]));
    // Publication order: the poor viewer's first donation is paid, the second bounces.
    expect(ids.map((id) => byId.get(id)!.status)).to.deep.equal(['completed', 'completed', 'completed', 'rejected', 'completed']);
    expect(byId.get(ids[3]!)!.reason).to.equal('insufficient_funds');
    for (const id of ids) expect((await transferRow(id)).status).to.equal('done');
    // The batch's ReceiveMoney events share one row per listener, in publication order.
    const goalRows = (await database.db('outbox').where('queue', 'chat.update-goal').select(...PAYLOAD_COLUMNS)) as StoredPayload[];
    expect(goalRows).to.have.length(1);
    expect((storedPayload(goalRows[0]!) as Envelope<ReceiveMoneyPayload>[]).map((e) => e.payload.donation_id)).to.deep.equal([ids[0], ids[1], ids[2], ids[4]]);
    expect(await database.db('transfers').where('reason', 'donation').count({ n: '*' })).to.deep.equal([{ n: 4 }]);
    const rejected = await database.db('chat_events').where('type', 'donation_rejected').select('audience');
    expect(rejected.map((e: { audience: string }) => JSON.parse(e.audience))).to.deep.equal([[poor.uuid]]);
    // The rooms' events (SendDonateToQueue) are recorded by the same transaction under its batch's
    // key (its first row), in publication order, and no ReceiveMoney row is written for a broadcast of its own.
    const filed = (await database.db('chat_events').where('outbox_id', String((await transferRow(ids[0]!)).id)).orderBy('id').select('type', 'data')) as { type: string; data: string }[];
    expect(filed.map((e) => [e.type, (JSON.parse(e.data) as { donation_id: string }).donation_id])).to.deep.equal([
      ['donate', ids[0]], ['donate', ids[1]], ['donate', ids[2]], ['donation_rejected', ids[3]], ['donate', ids[4]],
    ]);
    expect(await database.db('outbox').where('queue', 'chat.broadcast-donate').count({ n: '*' })).to.deep.equal([{ n: 0 }]);

    // A claimed row's own job comes later: its row is done, nothing happens again.
    const again = await run(await transferRow(ids[2]!));
    expect(again.done).to.equal(false);
    // Even without the outbox guard, the ledger key refuses a second transfer.
    expect(await withTransaction(database.db, async (trx) => transferDonations(trx, [(await transferRow(ids[2]!)).envelope], null))).to.deep.equal([]);
    expect(await database.db('transfers').where('reason', 'donation').count({ n: '*' })).to.deep.equal([{ n: 4 }]);
    expect(isLedgerSound(await checkLedger(database.db))).to.equal(true);
  });

  it('leaves rows another job holds, and takes no more than the batch size', async () => {
    const sender = await viewer(10_000);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await donate({ sender, room: rooms[i % 2]!, sum: 100 })).donation_id);
    const rows = await Promise.all(ids.map(transferRow));
    const holder = await database.db.transaction();
    await holder.raw('SELECT id FROM outbox WHERE id = ? FOR UPDATE', [rows[1]!.id]);
    try {
      expect(await run(rows[0]!, 2)).to.include({ done: true, size: 2 });
    } finally {
      await holder.rollback();
    }
    const statuses = await Promise.all(ids.map(async (id) => (await database.db('donations').where('id', id).first()).status as string));
    expect(statuses).to.deep.equal(['completed', 'pending', 'completed', 'pending']);
    expect(await run(rows[1]!)).to.include({ done: true, size: 2 });
    expect(await database.db('donations').whereIn('id', ids).where('status', 'completed').count({ n: '*' })).to.deep.equal([{ n: 4 }]);
  });

  it("hands each donation's request on to its ReceiveMoney, through a group commit's batch row", async () => {
    const sender = await viewer(10_000);
    const a: Trace = { request_id: `req-${randomUUID()}` };
    const b: Trace = { request_id: `req-${randomUUID()}`, traceparent: `00-${'3'.repeat(32)}-${'4'.repeat(16)}-01` };
    // Two requests' donations accepted in one transaction, as the API's group commit does.
    const [first, second] = await withTransaction(database.db, (trx) => createDonations(trx, [{ sender, room: rooms[0]!, sum: 100 }, { sender, room: rooms[1]!, sum: 200 }], [a, b]));
    const row = await transferRow(first!.donation_id);
    expect((await transferRow(second!.donation_id)).id).to.equal(row.id);
    expect(await run(row)).to.include({ done: true, size: 2 });
    const [goalRow] = (await database.db('outbox').where('queue', 'chat.update-goal').orderBy('id', 'desc').limit(1).select(...PAYLOAD_COLUMNS)) as StoredPayload[];
    const stored = storedRow(goalRow!);
    expect((stored.payload as Envelope<ReceiveMoneyPayload>[]).map((e) => e.payload.donation_id)).to.deep.equal([first!.donation_id, second!.donation_id]);
    expect(stored.traces).to.deep.equal([a, b]);
  });
});
