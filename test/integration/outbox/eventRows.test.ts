import { expect } from 'chai';
import { Type } from '@sinclair/typebox';
import { defineEvent, envelopeSchema, makeEnvelope, type Envelope } from '../../../queues/outbox/envelope.ts';
import { eventBatchJobs, eventJobs, PAYLOAD_COLUMNS, publishEvent, recordOutboxWrites, storedRow, storedPayload, writeOutbox, type StoredPayload } from '../../../queues/outbox/writer.ts';
import { runOutboxBatch, type OutboxTransactions } from '../../../queues/outbox/runner.ts';
import type { Trace } from '../../../src/platform/trace.ts';
import { pino } from 'pino';
import { withTransaction } from '../../../src/platform/db.ts';
import { rowJobData } from '../../../queues/outbox/relay.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

const Tested = defineEvent({
  name: 'TestedSomething',
  version: 3,
  description: 'test: an event with two listeners',
  schema: Type.Object({ room: Type.String(), sum: Type.Integer() }),
  listeners: ['test.listener-a', 'test.listener-b'],
});

describe('outbox: an event\'s rows keep its envelope header in columns (real MySQL)', function () {
  this.timeout(30_000);
  let t: TestDatabase;
  before(async () => (t = await createTestDatabase('cevrows')));
  after(() => t.drop());
  afterEach(() => t.db('outbox').delete());

  const rows = async () => (await t.db('outbox').orderBy('id').select('id', 'queue', ...PAYLOAD_COLUMNS)) as (StoredPayload & { id: number; queue: string })[];

  it('stores the payload alone and gives the whole envelope back, to every listener', async () => {
    const envelope = await t.db.transaction((trx) => publishEvent(trx, Tested, { room: 'r-1', sum: 250 }, new Date('2026-11-21T10:00:00.123Z')));
    const stored = await rows();
    expect(stored.map((r) => r.queue)).to.deep.equal(['test.listener-a', 'test.listener-b']);
    for (const row of stored) {
      expect(JSON.parse(row.payload)).to.deep.equal({ room: 'r-1', sum: 250 });
      expect(row).to.deep.include({ event_id: envelope.event_id, event_name: 'TestedSomething', payload_version: 3 });
      expect(storedPayload(row)).to.deep.equal(envelope);
      // Key order too: a consumer hashing the JSON sees the envelope as it was made.
      expect(JSON.stringify(rowJobData(row).payload)).to.equal(JSON.stringify(envelope));
    }
  });

  it('keeps an envelope whole when the columns cannot hold its header exactly (a produced_at in another form)', async () => {
    const outside: Envelope<{ room: string; sum: number }> = { ...makeEnvelope(Tested, { room: 'r-2', sum: 1 }), produced_at: '2026-11-21T10:00:00Z' };
    await t.db.transaction((trx) => writeOutbox(trx, eventJobs(Tested, outside)));
    for (const row of await rows()) {
      expect(row.event_name).to.equal(null);
      expect(JSON.parse(row.payload)).to.deep.equal(outside);
      expect(storedPayload(row)).to.deep.equal(outside);
    }
  });

  it('leaves a plain job\'s payload as it is', async () => {
    await t.db.transaction((trx) => writeOutbox(trx, [{ queue: 'test.plain', payload: { n: 1 }, version: 1, eventId: 'e-1' }]));
    const [row] = await rows();
    expect(row!.event_name).to.equal(null);
    expect(storedPayload(row!)).to.deep.equal({ n: 1 });
  });

  it('writes a large event batch (a prepared statement) with the same columns and payloads as a small one (text)', async () => {
    const at = new Date('2026-11-21T23:59:59.987Z');
    const envelopes = (n: number) => Array.from({ length: n }, (_, i) => makeEnvelope(Tested, { room: `r-${i}`.padEnd(200, 'x'), sum: i + 1 }, at));
    const small = envelopes(2);
    const large = envelopes(200);
    // One withTransaction each: its statements go straight to mysql2, the large one prepared.
    await withTransaction(t.db, (trx) => writeOutbox(trx, eventBatchJobs(Tested, small), at));
    await withTransaction(t.db, (trx) => writeOutbox(trx, eventBatchJobs(Tested, large), at));
    const stored = (await t.db('outbox').orderBy('id').select('queue', 'status', 'available_at', 'created_at', 'relayed_at', 'payload_version', 'event_name', 'event_id', 'payload')) as (StoredPayload & { queue: string; status: string; available_at: Date; relayed_at: Date | null })[];
    expect(stored).to.have.length(4);
    expect(stored.reduce((n, r) => n + r.payload.length, 0)).to.be.greaterThan(40_000);
    for (const [i, row] of stored.entries()) {
      expect(row).to.deep.include({ queue: i % 2 === 0 ? 'test.listener-a' : 'test.listener-b', status: 'pending', payload_version: 3, event_name: 'TestedSomething', event_id: null, relayed_at: null });
      expect(row.available_at.toISOString()).to.equal(at.toISOString());
      expect(row.created_at.toISOString()).to.equal(at.toISOString());
      expect(storedPayload(row)).to.deep.equal(i < 2 ? small : large);
    }
  });

  it('stores a batch row\'s events as id and payload under the columns\' header, keeping whole the ones whose header differs', async () => {
    const at = new Date('2026-11-22T08:30:00.001Z');
    const same = [makeEnvelope(Tested, { room: 'r-a', sum: 1 }, at), makeEnvelope(Tested, { room: 'r-b', sum: 2 }, at)];
    const earlier = makeEnvelope(Tested, { room: 'r-c', sum: 3 }, new Date('2026-11-22T08:29:59.000Z'));
    const envelopes = [same[0]!, earlier, same[1]!];
    await withTransaction(t.db, (trx) => writeOutbox(trx, eventBatchJobs(Tested, envelopes), at));
    for (const row of await rows()) {
      expect(JSON.parse(row.payload)).to.deep.equal([{ event_id: same[0]!.event_id, payload: same[0]!.payload }, earlier, { event_id: same[1]!.event_id, payload: same[1]!.payload }]);
      expect(storedPayload(row)).to.deep.equal(envelopes);
      // Key order too: the envelopes come back as they were made.
      expect(JSON.stringify(storedPayload(row))).to.equal(JSON.stringify(envelopes));
    }
  });

  it('keeps each event\'s request in a batch row written for several (a group commit), and the runner logs each event with it', async () => {
    const at = new Date('2026-11-22T09:00:00.000Z');
    const a: Trace = { request_id: 'req-a', traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01` };
    const b: Trace = { request_id: 'req-b' };
    const envelopes = [1, 2, 3].map((sum) => makeEnvelope(Tested, { room: 'r', sum }, at));
    await withTransaction(t.db, (trx) => writeOutbox(trx, eventBatchJobs(Tested, envelopes, { traces: [a, b, a] }), at));
    const stored = await rows();
    expect(stored).to.have.length(2);
    for (const row of stored) {
      // No request is the row's: each event names its own.
      expect(row).to.deep.include({ request_id: null, traceparent: null });
      expect(JSON.parse(row.payload)).to.deep.equal(envelopes.map((e, i) => ({ event_id: e.event_id, payload: e.payload, ...(i === 1 ? { request_id: 'req-b' } : { request_id: 'req-a', traceparent: a.traceparent }) })));
      expect(storedPayload(row)).to.deep.equal(envelopes);
      expect(storedRow(row).traces).to.deep.equal([a, b, a]);
    }

    // The runner handles the row with a debug line per event, each with its event id and request.
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    // Recording as Outbox.transaction does, so the rows the effect writes take the batch's request.
    const transactions: OutboxTransactions = {
      db: t.db,
      transaction: (fn, opts) =>
        withTransaction(
          t.db,
          (trx) => {
            recordOutboxWrites(trx, () => false, opts?.trace);
            return fn(trx);
          },
          opts?.readCommitted ? { isolationLevel: 'read committed' } : {},
        ),
    };
    const written = async (queue: string) => (await rows()).filter((r) => r.queue === queue).map((r) => ({ request_id: r.request_id, traceparent: r.traceparent }));
    const effect = (queue: string) => (trx: Parameters<Parameters<OutboxTransactions['transaction']>[0]>[0]) => writeOutbox(trx, [{ queue, payload: { n: 1 }, version: 1 }], at);
    const outcome = await runOutboxBatch(transactions, { queue: 'test.listener-a', schema: envelopeSchema(Tested), max: 10, readCommitted: true, log }, null, effect('test.follow-mixed'));
    expect(outcome).to.include({ done: true, size: 3 });
    // What the batch writes is for no single request.
    expect(await written('test.follow-mixed')).to.deep.equal([{ request_id: null, traceparent: null }]);
    const handled = lines.filter((l) => l.msg === 'outbox row handled');
    expect(handled.map((l) => [l.event_id, l.request_id])).to.deep.equal(envelopes.map((e, i) => [e.event_id, i === 1 ? 'req-b' : 'req-a']));

    // A batch row whose events share one request keeps it in its columns only.
    await t.db('outbox').delete();
    await withTransaction(t.db, (trx) => writeOutbox(trx, eventBatchJobs(Tested, envelopes.slice(0, 2), { traces: [b, b] }), at));
    for (const row of await rows()) {
      expect(row).to.deep.include({ request_id: 'req-b', traceparent: null });
      expect(JSON.parse(row.payload)).to.deep.equal(envelopes.slice(0, 2).map((e) => ({ event_id: e.event_id, payload: e.payload })));
      expect(storedRow(row).traces).to.deep.equal([b, b]);
    }
    // Such a batch writes for that request.
    const shared = await runOutboxBatch(transactions, { queue: 'test.listener-a', schema: envelopeSchema(Tested), max: 10, readCommitted: true, log }, null, effect('test.follow-shared'));
    expect(shared).to.include({ done: true, size: 2 });
    expect(await written('test.follow-shared')).to.deep.equal([{ request_id: 'req-b', traceparent: null }]);
  });
});
