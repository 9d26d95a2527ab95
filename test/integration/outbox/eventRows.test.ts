import { expect } from 'chai';
import { Type } from '@sinclair/typebox';
import { defineEvent, makeEnvelope, type Envelope } from '../../../queues/outbox/envelope.ts';
import { eventJobs, PAYLOAD_COLUMNS, publishEvent, storedPayload, writeOutbox, type StoredPayload } from '../../../queues/outbox/writer.ts';
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
});
