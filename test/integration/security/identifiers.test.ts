import { expect } from 'chai';
import { Redis } from 'ioredis';
import { findParticipant } from '../../../src/domain/chat/participants.ts';
import { binaryCollation } from '../../../src/platform/collation.ts';
import { replayIfSeen, saveIdempotent } from '../../../src/http/idempotency.ts';
import { wsExtension } from '../../../src/ws/extension.ts';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { TEST_REDIS } from '../../helpers/db.ts';
import { actor, topUp, type Actor } from '../chat/chatApp.ts';
import { refusal, wsUrl } from '../ws/clients.ts';

const count = async (app: TestConveyor, table: string) => Number(((await app.database.db(table).count({ n: '*' })) as { n: number }[])[0]!.n);

async function redisKeys(prefix: string): Promise<string[]> {
  const redis = new Redis(TEST_REDIS, { protocol: 2 });
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return keys;
  } finally {
    redis.disconnect();
  }
}

describe('security: identifiers compare exactly (collation, canonical uuids, idempotency keys)', function () {
  this.timeout(60_000);
  let app: TestConveyor;
  let admin: Actor;
  let model: Actor;
  let ann: Actor;

  before(async () => {
    app = await startConveyor({ roles: ['api', 'ws'], extensions: [wsExtension()] });
    admin = await actor(app, 'admin');
    model = await actor(app, 'model');
    ann = await actor(app, 'client');
    await topUp(app, admin, ann, 100);
  });
  after(async () => app.stop());

  it('gives every table and text column the binary NO PAD collation, and so tables created later', async () => {
    const db = app.database.db;
    const collation = await binaryCollation(db);
    expect(collation).to.be.oneOf(['utf8mb4_nopad_bin', 'utf8mb4_0900_bin']);
    // A table an engineer adds in a later migration, written the ordinary knex way.
    await db.schema.createTable('later_table', (t) => {
      t.string('key', 64).primary();
      t.text('note');
    });
    const [columns] = (await db.raw(
      "SELECT table_name AS t, column_name AS c, collation_name AS coll FROM information_schema.columns WHERE table_schema = DATABASE() AND collation_name IS NOT NULL AND table_name NOT LIKE 'knex\\_migrations%'",
    )) as [{ t: string; c: string; coll: string }[]];
    expect(columns.length).to.be.greaterThan(20);
    expect(columns.filter((c) => c.coll !== collation).map((c) => `${c.t}.${c.c} ${c.coll}`)).to.deep.equal([]);
    expect(columns.some((c) => c.t === 'later_table' && c.c === 'key')).to.equal(true);
    await db('later_table').insert([{ key: 'ABC' }, { key: 'abc' }, { key: 'k' }, { key: 'k ' }]);
    expect(await db('later_table').where('key', 'k').count({ n: '*' })).to.deep.equal([{ n: 1 }]);
    await db.schema.dropTable('later_table');
  });

  it('migration 0010 converts a table created with the old loose collation', async () => {
    const db = app.database.db;
    // Back to before 0010 (whatever came after it stays): the loose default returns.
    await db.migrate.down({ name: '0010_identifiers_bin' });
    await db.raw('CREATE TABLE loose_ids (id VARCHAR(36) PRIMARY KEY) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci');
    await db('loose_ids').insert({ id: 'abc' });
    // Under the loose collation an upper-case id with a trailing space finds the row.
    expect(await db('loose_ids').where('id', 'ABC ')).to.have.length(1);
    await db.migrate.up({ name: '0010_identifiers_bin' });
    expect(await db('loose_ids').where('id', 'ABC ')).to.have.length(0);
    expect(await db('loose_ids').where('id', 'abc')).to.have.length(1);
    await db.schema.dropTable('loose_ids');
  });

  it("keeps a user's rows apart from another spelling of the same uuid", async () => {
    const db = app.database.db;
    for (const spelled of [ann.uuid.toUpperCase(), `${ann.uuid} `, `${ann.uuid.toUpperCase()} `]) {
      expect(await findParticipant(db, 'client', spelled), spelled).to.equal(null);
    }
    expect((await findParticipant(db, 'client', ann.uuid))?.uuid).to.equal(ann.uuid);
  });

  it('compares Idempotency-Keys byte for byte: ABC and abc are two requests, k and "k " two rows', async () => {
    const before = await count(app, 'transfers');
    const upper = await app.post('/accounts/top-up', { user: ann.uuid, sum: 1 }, { ...admin.auth, 'idempotency-key': 'ABC' });
    const lower = await app.post('/accounts/top-up', { user: ann.uuid, sum: 1 }, { ...admin.auth, 'idempotency-key': 'abc' });
    const again = await app.post('/accounts/top-up', { user: ann.uuid, sum: 1 }, { ...admin.auth, 'idempotency-key': 'abc' });
    expect([upper.status, lower.status, again.status]).to.deep.equal([201, 201, 201]);
    expect(upper.headers.get('idempotent-replayed')).to.equal(null);
    expect(lower.headers.get('idempotent-replayed')).to.equal(null);
    expect(again.headers.get('idempotent-replayed')).to.equal('true');
    expect(lower.body.transfer_id).to.not.equal(upper.body.transfer_id);
    expect(again.body.transfer_id).to.equal(lower.body.transfer_id);
    expect(await count(app, 'transfers')).to.equal(before + 2);

    // HTTP trims header values, so a trailing space is checked where keys are stored and looked up.
    const db = app.database.db;
    const req = (key: string, hash: string) => ({ caller: ann.uuid, scope: 'post /test', key, requestHash: hash });
    await db.transaction((trx) => saveIdempotent(trx, req('k', 'h1'), 201, { n: 1 }));
    await db.transaction((trx) => saveIdempotent(trx, req('k ', 'h2'), 201, { n: 2 }));
    expect((await replayIfSeen(db, req('k', 'h1')))?.body).to.deep.equal({ success: true, n: 1 });
    expect((await replayIfSeen(db, req('k ', 'h2')))?.body).to.deep.equal({ success: true, n: 2 });
    expect(await replayIfSeen(db, req('K', 'h1'))).to.equal(null);
  });

  it('refuses room and user ids that are not lowercase uuids with 400 bad_params, writing nothing', async () => {
    const before = { outbox: await count(app, 'outbox'), clients: await count(app, 'clients'), transfers: await count(app, 'transfers'), goals: await count(app, 'goals') };
    for (const room of [model.uuid.toUpperCase(), `${model.uuid} `, `${model.uuid.slice(0, 35)}A`, 'lobby', `{${model.uuid}}`]) {
      const answers = [
        await app.post('/chat/message/add', { room, message: 'hi', is_public: true }, ann.auth),
        await app.post('/chat/donat/add', { room, sum: 1 }, ann.auth),
        await app.get(`/chat/event/history?room=${encodeURIComponent(room)}`, ann.auth),
        await app.get(`/chat/goals?room=${encodeURIComponent(room)}`, ann.auth),
        await app.get(`/chat/sponsor?room=${encodeURIComponent(room)}`, ann.auth),
      ];
      for (const res of answers) {
        expect(res.status, `${room}: ${JSON.stringify(res.body)}`).to.equal(400);
        expect(res.body).to.include({ success: false, code: 'bad_params' });
      }
      const refused = await refusal(wsUrl(app.url, { room, token: await app.token({ sub: ann.uuid, role: 'client' }) }));
      expect(refused.status, room).to.equal(400);
      expect(refused.body.code).to.equal('bad_params');
    }
    const topUpUpper = await app.post('/accounts/top-up', { user: ann.uuid.toUpperCase(), sum: 1 }, admin.auth);
    expect(topUpUpper.status).to.equal(400);
    expect(topUpUpper.body.code).to.equal('bad_params');
    const after = { outbox: await count(app, 'outbox'), clients: await count(app, 'clients'), transfers: await count(app, 'transfers'), goals: await count(app, 'goals') };
    expect(after).to.deep.equal(before);
    // No Redis key was built from another spelling (no second history copy, no channel).
    const spellings = [model.uuid.toUpperCase(), model.uuid.slice(0, 35), 'lobby'];
    expect((await redisKeys(app.prefix)).filter((k) => spellings.some((s) => k.includes(s)) && !k.includes(model.uuid))).to.deep.equal([]);
  });

  it('still serves the canonical spelling', async () => {
    expect((await app.get(`/chat/event/history?room=${model.uuid}`, ann.auth)).status).to.equal(200);
    expect((await app.post('/chat/message/add', { room: model.uuid, message: 'hi', is_public: true }, ann.auth)).status).to.equal(201);
  });
});
