import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { waitFor } from '../../helpers/wait.ts';
import { receiveMoneyDeliveriesNotOnce } from '../../../scripts/chaos/outboxState.ts';
import type { Db } from '../../../src/platform/db.ts';
import type { Role } from '../../../src/config.ts';
import { checkLedger, isLedgerSound } from '../../../src/domain/ledger/index.ts';

/** Shared by the chat integration tests: a Conveyor with generous rate limits, and actors. */
export const GENEROUS_LIMITS = { CHAT_MESSAGES_PER_MINUTE: '100000', CHAT_DONATIONS_PER_MINUTE: '100000' };

export async function startChat(env: Record<string, string> = {}, roles?: Role[]): Promise<TestConveyor> {
  return startConveyor({ env: { ...GENEROUS_LIMITS, ...env }, ...(roles ? { roles } : {}) });
}

export interface Actor {
  uuid: string;
  role: 'client' | 'model' | 'admin';
  auth: Record<string, string>;
}

export async function actor(app: TestConveyor, role: Actor['role'], name?: string): Promise<Actor> {
  const uuid = randomUUID();
  const token = await app.token({ sub: uuid, role, ...(name ? { name } : {}) });
  const auth = { authorization: `Bearer ${token}` };
  if (role !== 'admin') expect((await app.get('/accounts/me', auth)).status).to.equal(200);
  return { uuid, role, auth };
}

export async function topUp(app: TestConveyor, admin: Actor, user: Actor, sum: string | number): Promise<void> {
  const res = await app.post('/accounts/top-up', { user: user.uuid, sum }, admin.auth);
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
}

export async function balance(app: TestConveyor, who: Actor): Promise<string> {
  return (await app.get('/accounts/me', who.auth)).body.balance as string;
}

/** Every outbox row is done: all listeners (and the listeners of what they published) have run. */
export async function quiescent(db: Db, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    async () => {
      const [row] = (await db('outbox').whereNot('status', 'done').count({ n: '*' })) as { n: number }[];
      return Number(row!.n) === 0;
    },
    { timeoutMs, intervalMs: 100, what: 'every outbox row done' },
  );
}

export interface InvariantReport {
  completed: number;
  rejected: number;
  pending: number;
}

/**
 * After quiescence: the ledger is sound (sum zero, no overdraft, entries match), every completed
 * donation has exactly one transfer of its sum and every other donation none, goals hold the sum
 * of their room's completed donations, donor totals match, and each room's sponsor is a top donor.
 */
export async function checkChatInvariants(db: Db): Promise<InvariantReport> {
  const ledger = await checkLedger(db);
  expect(isLedgerSound(ledger), JSON.stringify(ledger)).to.equal(true);
  const [negative] = (await db('accounts').where('kind', 'wallet').andWhere('balance', '<', 0).count({ n: '*' })) as { n: number }[];
  expect(Number(negative!.n)).to.equal(0);

  const donations = (await db('donations').select('id', 'room', 'sender_uuid', 'sum', 'status', 'reason', 'transfer_id', 'created_at')) as {
    id: string; room: string; sender_uuid: string; sum: number; status: string; reason: string | null; transfer_id: number | null; created_at: Date;
  }[];
  const transfers = (await db('transfers').where('reason', 'donation').select('id', 'reference', 'amount', 'idempotency_key')) as { id: number; reference: string; amount: number; idempotency_key: string }[];
  const byDonation = new Map<string, typeof transfers>();
  for (const t of transfers) byDonation.set(t.reference, [...(byDonation.get(t.reference) ?? []), t]);
  const report = { completed: 0, rejected: 0, pending: 0 };
  const roomTotals = new Map<string, number>();
  const donorTotals = new Map<string, number>();
  for (const d of donations) {
    const own = byDonation.get(d.id) ?? [];
    report[d.status as keyof InvariantReport]++;
    if (d.status === 'completed') {
      expect(own, `donation ${d.id}`).to.have.length(1);
      expect(Number(own[0]!.amount)).to.equal(Number(d.sum));
      expect(Number(d.transfer_id)).to.equal(Number(own[0]!.id));
      roomTotals.set(d.room, (roomTotals.get(d.room) ?? 0) + Number(d.sum));
      donorTotals.set(`${d.room}/${d.sender_uuid}`, (donorTotals.get(`${d.room}/${d.sender_uuid}`) ?? 0) + Number(d.sum));
    } else {
      expect(own, `donation ${d.id} is ${d.status}`).to.have.length(0);
      if (d.status === 'rejected') expect(d.reason).to.equal('insufficient_funds');
    }
  }
  expect(byDonation.size).to.equal(report.completed);

  // Every completed donation published ReceiveMoney once: each listener got it once (a row, or an event batch row).
  expect(await receiveMoneyDeliveriesNotOnce(db), 'ReceiveMoney deliveries per donation').to.deep.equal([]);
  const totals = (await db('donor_totals').select('room', 'client_uuid', 'total')) as { room: string; client_uuid: string; total: number }[];
  const entries = (m: Map<string, number>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`);
  expect(entries(new Map(totals.map((t) => [`${t.room}/${t.client_uuid}`, Number(t.total)]))), 'donor totals').to.deep.equal(entries(donorTotals));

  // Goals created before any donation of their room hold the room's whole completed sum.
  const goals = (await db('goals').select('id', 'room', 'sum', 'require_sum', 'reached_at', 'created_at')) as { id: number; room: string; sum: number; require_sum: number; reached_at: Date | null; created_at: Date }[];
  for (const g of goals) {
    const first = donations.filter((d) => d.room === g.room).reduce((min, d) => Math.min(min, d.created_at.getTime()), Infinity);
    if (g.created_at.getTime() < first) expect(Number(g.sum), `goal ${g.id}`).to.equal(roomTotals.get(g.room) ?? 0);
    expect(g.reached_at !== null, `goal ${g.id} reached`).to.equal(Number(g.sum) >= Number(g.require_sum));
  }
  const reachedEvents = (await db('chat_events').where('type', 'goal_reached').select('data')) as { data: string }[];
  const reachedIds = reachedEvents.map((e) => (JSON.parse(e.data) as { goal_id: number }).goal_id).sort();
  expect(reachedIds).to.deep.equal(goals.filter((g) => g.reached_at !== null).map((g) => g.id).sort());

  // The sponsor is a donor with the room's top total; its history has no gaps in seq.
  for (const [room] of roomTotals) {
    const max = Math.max(...totals.filter((t) => t.room === room).map((t) => Number(t.total)));
    const history = (await db('sponsors').where('room', room).orderBy('seq')) as { client_uuid: string; seq: number }[];
    expect(history.map((h) => h.seq)).to.deep.equal(history.map((_, i) => i + 1));
    const sponsor = history[history.length - 1]!;
    expect(donorTotals.get(`${room}/${sponsor.client_uuid}`), `sponsor of ${room}`).to.equal(max);
    const changes = await db('chat_events').where({ room, type: 'change_sponsor' }).count({ n: '*' });
    expect(Number((changes[0] as { n: number }).n)).to.equal(history.length);
  }
  return report;
}
