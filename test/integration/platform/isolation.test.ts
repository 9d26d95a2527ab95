import { expect } from 'chai';
import { createDb, withTransaction, type Db } from '../../../src/platform/db.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

describe('database pools: transaction isolation (real MySQL)', function () {
  this.timeout(20_000);
  let t: TestDatabase;
  let readCommitted: Db;
  before(async () => {
    t = await createTestDatabase('ciso');
    readCommitted = createDb(t.url, 2, { readCommitted: true });
    await t.db.schema.createTable('isolation_probe', (table) => {
      table.integer('id').primary();
      table.string('v', 8).notNullable();
    });
  });
  after(async () => {
    await readCommitted.destroy();
    await t.drop();
  });

  /**
   * The isolation a transaction really ran at, seen in its behaviour (MariaDB's @@tx_isolation shows
   * the session's level, not the next transaction's): it reads a row, another connection changes it
   * and commits, it reads again. READ COMMITTED sees the change; REPEATABLE READ its first snapshot.
   */
  let probe = 0;
  const isolationIn = async (db: Db, level?: 'read committed' | 'repeatable read') => {
    const id = ++probe;
    await t.db('isolation_probe').insert({ id, v: 'a' });
    return withTransaction(
      db,
      async (trx) => {
        const read = async () => ((await trx('isolation_probe').where({ id }).first()) as { v: string }).v;
        await read();
        await t.db('isolation_probe').where({ id }).update({ v: 'b' });
        return (await read()) === 'b' ? 'READ-COMMITTED' : 'REPEATABLE-READ';
      },
      level ? { isolationLevel: level } : {},
    );
  };

  it('runs what a transaction asks for on either pool, and the read-committed pool\'s default is READ COMMITTED', async () => {
    expect(await isolationIn(t.db)).to.equal('REPEATABLE-READ');
    expect(await isolationIn(t.db, 'read committed')).to.equal('READ-COMMITTED');
    // The next transaction on the plain pool is back to its default.
    expect(await isolationIn(t.db)).to.equal('REPEATABLE-READ');
    expect(await isolationIn(readCommitted)).to.equal('READ-COMMITTED');
    expect(await isolationIn(readCommitted, 'read committed')).to.equal('READ-COMMITTED');
    expect(await isolationIn(readCommitted, 'repeatable read')).to.equal('REPEATABLE-READ');
    expect(await isolationIn(readCommitted)).to.equal('READ-COMMITTED');
  });
});
