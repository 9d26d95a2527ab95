import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { ensureParticipant, registerConnection } from '../../../src/domain/chat/connections.ts';
import { ensureParticipantIn } from '../../../src/domain/chat/participants.ts';
import { withTransaction } from '../../../src/platform/db.ts';

describe('chat participants and connections (real MySQL)', function () {
  this.timeout(20_000);
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => database.drop());

  it('creates a client or model with a wallet on first sight, once, even when raced', async () => {
    const sub = randomUUID();
    const all = await Promise.all([1, 2, 3, 4].map(() => ensureParticipant(database.db, { sub, role: 'client', name: 'Ann' })));
    expect(new Set(all.map((p) => p.id)).size).to.equal(1);
    expect(await database.db('clients').where('uuid', sub).count({ n: '*' })).to.deep.equal([{ n: 1 }]);
    const wallet = await database.db('accounts').where({ owner_type: 'client', owner_id: sub, kind: 'wallet' }).first();
    expect(wallet.id).to.equal(all[0]!.accountId);
    const model = await ensureParticipant(database.db, { sub, role: 'model' });
    expect(model.type).to.equal('model');
    expect(model.accountId).to.not.equal(all[0]!.accountId);
  });

  it('a participant first created without a name (an admin top-up) takes the name of its first named token, and keeps it', async () => {
    const sub = randomUUID();
    await withTransaction(database.db, (trx) => ensureParticipantIn(trx, 'client', sub));
    // Seen once without a name: remembered nameless, which must not hide the later name.
    expect((await ensureParticipant(database.db, { sub, role: 'client' })).name).to.equal(null);
    expect((await ensureParticipant(database.db, { sub, role: 'client', name: 'Zoe' })).name).to.equal('Zoe');
    expect((await database.db('clients').where('uuid', sub).first()).name).to.equal('Zoe');
    expect((await ensureParticipant(database.db, { sub, role: 'client', name: 'Someone Else' })).name).to.equal('Zoe');
    expect((await ensureParticipant(database.db, { sub, role: 'client' })).name).to.equal('Zoe');
  });

  it('refuses roles that take no part in chat', async () => {
    let error: unknown;
    await ensureParticipant(database.db, { sub: randomUUID(), role: 'admin' }).catch((err: unknown) => (error = err));
    expect(error).to.have.property('status', 403);
  });

  it('registers a connection idempotently', async () => {
    const input = { connectionId: randomUUID(), entityUuid: randomUUID(), type: 'client' as const };
    await registerConnection(database.db, input);
    await registerConnection(database.db, input);
    const rows = await database.db('connections').where('connection_uuid', input.connectionId);
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ type: 'client', entity_uuid: input.entityUuid });
  });
});
