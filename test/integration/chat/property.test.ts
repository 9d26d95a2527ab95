import { expect } from 'chai';
import fc from 'fast-check';
import type { TestConveyor } from '../../helpers/conveyor.ts';
import { processors } from '../../../jobs/index.ts';
import { chatContracts } from '../../../queues/contracts/chat.ts';
import type { BatchedProcessor } from '../../../queues/processor.ts';
import type { JobContract } from '../../../queues/contract.ts';
import { formatMoney } from '../../../src/domain/ledger/index.ts';
import { actor, checkChatInvariants, quiescent, startChat, type Actor } from './chatApp.ts';

type ChatQueue = keyof typeof chatContracts;
type Fault = 'before' | 'after';

/** Faults armed per queue: the next job of that queue fails before its effect, or after its commit. */
const faults = new Map<string, Fault[]>();
const originals = new Map<string, unknown>();

/** Wraps a run of the queue's job (a row's job or a wake) with the next armed fault. */
function faulty<A>(queue: string, run: (arg: A) => Promise<unknown>): (arg: A) => Promise<unknown> {
  return async (arg) => {
    const fault = faults.get(queue)?.shift();
    if (fault === 'before') throw new Error(`injected failure before ${queue}`);
    const result = await run(arg);
    if (fault === 'after') throw new Error(`injected failure after ${queue} committed`);
    return result;
  };
}

function injectFaults(): void {
  const table = processors as unknown as Record<string, BatchedProcessor<JobContract>>;
  for (const queue of Object.keys(chatContracts)) {
    const original = table[queue]!;
    originals.set(queue, original);
    table[queue] = Object.assign(faulty(queue, original), { wake: faulty(queue, original.wake) });
  }
}

function restoreProcessors(): void {
  const table = processors as unknown as Record<string, unknown>;
  for (const [queue, original] of originals) table[queue] = original;
}

type Op =
  | { kind: 'top-up'; client: number; cents: number }
  | { kind: 'donate'; client: number; room: number; cents: number; message: 'none' | 'public' | 'private' }
  | { kind: 'bad'; client: number; room: number; sum: unknown }
  | { kind: 'fault'; queue: ChatQueue; fault: Fault };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('top-up' as const), client: fc.nat(3), cents: fc.integer({ min: 1, max: 5_000 }) }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('donate' as const), client: fc.nat(3), room: fc.nat(2), cents: fc.integer({ min: 1, max: 3_000 }),
      message: fc.constantFrom('none' as const, 'public' as const, 'private' as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bad' as const), client: fc.nat(3), room: fc.nat(2), sum: fc.constantFrom(-1, 0, '15.555', 1e308, 'NaN', true, null, '1e3', '0x10') }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('fault' as const), queue: fc.constantFrom(...(Object.keys(chatContracts) as ChatQueue[])), fault: fc.constantFrom('before' as const, 'after' as const) }) },
);

describe('chat: property — random donations, top-ups and failures keep every invariant (real MySQL and Redis)', function () {
  this.timeout(60_000);
  let app: TestConveyor;
  let admin: Actor;
  let clients: Actor[];
  let rooms: Actor[];
  const toppedUp = new Map<string, number>();

  before(async () => {
    injectFaults();
    app = await startChat();
    admin = await actor(app, 'admin');
    clients = await Promise.all([0, 1, 2, 3].map((i) => actor(app, 'client', `viewer ${i}`)));
    rooms = await Promise.all([0, 1, 2].map((i) => actor(app, 'model', `model ${i}`)));
    // Goals exist before any donation, so each must end up holding its room's whole completed sum.
    for (const [i, room] of rooms.entries()) {
      for (const require of ['10.00', `${50 * (i + 1)}.00`, '100000.00']) {
        expect((await app.post('/chat/goals', { name: `goal ${require}`, require_sum: require }, room.auth)).status).to.equal(201);
      }
    }
  });

  after(async () => {
    restoreProcessors();
    await app.stop();
  });

  async function run(op: Op): Promise<void> {
    if (op.kind === 'fault') {
      faults.set(op.queue, [...(faults.get(op.queue) ?? []), op.fault]);
      return;
    }
    const client = clients[op.client]!;
    if (op.kind === 'top-up') {
      const res = await app.post('/accounts/top-up', { user: client.uuid, sum: formatMoney(op.cents) }, admin.auth);
      expect(res.status).to.equal(201);
      toppedUp.set(client.uuid, (toppedUp.get(client.uuid) ?? 0) + op.cents);
      return;
    }
    const room = rooms[op.room]!.uuid;
    if (op.kind === 'bad') {
      expect((await app.post('/chat/donat/add', { room, sum: op.sum }, client.auth)).status).to.equal(400);
      return;
    }
    const message = op.message === 'none' ? {} : { message: { message: `m ${op.cents}`, is_public: op.message === 'public' } };
    const res = await app.post('/chat/donat/add', { room, sum: formatMoney(op.cents), ...message }, client.auth);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
  }

  it('after quiescence: balances sum to zero, no wallet below zero, one transfer per completed donation, goals and sponsors as the transfers imply', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 40 }), async (ops) => {
        // Run in small concurrent bursts so that donations race one another and the top-ups.
        for (let i = 0; i < ops.length; i += 6) await Promise.all(ops.slice(i, i + 6).map(run));
        await quiescent(app.database.db, 30_000);
        faults.clear();
        await checkChatInvariants(app.database.db);

        const { db } = app.database;
        for (const client of clients) {
          const [spent] = (await db('donations').where({ sender_uuid: client.uuid, status: 'completed' }).sum({ s: 'sum' })) as { s: number | null }[];
          const expected = (toppedUp.get(client.uuid) ?? 0) - Number(spent!.s ?? 0);
          expect((await app.get('/accounts/me', client.auth)).body.balance).to.equal(formatMoney(expected));
        }
        for (const room of rooms) {
          const [received] = (await db('donations').where({ room: room.uuid, status: 'completed' }).sum({ s: 'sum' })) as { s: number | null }[];
          expect((await app.get('/accounts/me', room.auth)).body.balance).to.equal(formatMoney(Number(received!.s ?? 0)));
          // History answers from Redis match what MySQL holds, once repeats are dropped.
          const history = (await app.get(`/chat/event/history?room=${room.uuid}`, room.auth)).body.events as { event_id: string; at: string }[];
          const stored = (await db('chat_events').where('room', room.uuid).andWhere('type', '<>', 'donation_rejected').orderBy([{ column: 'at' }, { column: 'id' }]).select('event_id')) as { event_id: string }[];
          expect(history.length).to.equal(Math.min(20, stored.length));
          expect(new Set(history.map((e) => e.event_id)).size).to.equal(history.length);
          expect(stored.map((e) => e.event_id)).to.include.members(history.map((e) => e.event_id));
          if (stored.length > 0) expect(history.map((e) => e.event_id)).to.include(stored[stored.length - 1]!.event_id);
        }
      }),
      { numRuns: 15, endOnFailure: true },
    );
  });
});
