import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { withTransaction } from '../../../src/platform/db.ts';
import { ensureAccount, findAccount, getBalance, systemAccount } from '../../../src/domain/ledger/index.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

describe('ledger accounts (MySQL)', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase('ledger_accounts');
  });
  after(async () => {
    await t?.drop();
  });

  it('creates a wallet once and finds it again', async () => {
    const key = { ownerType: 'client', ownerId: randomUUID(), kind: 'wallet' } as const;
    expect(await findAccount(t.db, key)).to.equal(null);
    const created = await withTransaction(t.db, (trx) => ensureAccount(trx, key));
    const again = await withTransaction(t.db, (trx) => ensureAccount(trx, key));
    expect(again).to.deep.equal(created);
    expect(created).to.include({ ...key, allowNegative: false });
    expect(await findAccount(t.db, key)).to.deep.equal({ ...created, balance: 0 });
    expect(await getBalance(t.db, created.id)).to.equal(0);
    // Another kind for the same owner is another account.
    const points = await withTransaction(t.db, (trx) => ensureAccount(trx, { ...key, kind: 'points' }));
    expect(points.id).to.not.equal(created.id);
  });

  it('creates exactly one row when 20 transactions race for the same new owner', async () => {
    const key = { ownerType: 'model', ownerId: randomUUID(), kind: 'wallet' } as const;
    const accounts = await Promise.all(
      Array.from({ length: 20 }, () => withTransaction(t.db, (trx) => ensureAccount(trx, key))),
    );
    expect(new Set(accounts.map((a) => a.id)).size).to.equal(1);
    const rows = await t.db('accounts').where({ owner_type: 'model', owner_id: key.ownerId }).count({ n: '*' });
    expect(Number(rows[0]?.n)).to.equal(1);
  });

  it('sees an account another transaction committed after its snapshot was taken', async () => {
    const key = { ownerType: 'client', ownerId: randomUUID(), kind: 'wallet' } as const;
    const account = await withTransaction(t.db, async (trx) => {
      await trx.raw('SELECT COUNT(*) FROM accounts'); // takes this transaction's read view
      const other = await withTransaction(t.db, (trx2) => ensureAccount(trx2, key));
      const mine = await ensureAccount(trx, key); // plain read misses it; the insert is ignored
      expect(mine.id).to.equal(other.id);
      return mine;
    });
    expect(account.id).to.be.a('number');
  });

  it('gives system accounts an overdraft and wallets none, down to the database', async () => {
    const system = await withTransaction(t.db, (trx) => systemAccount(trx, 'test_issuer'));
    expect(system).to.include({ ownerType: 'system', ownerId: 'test_issuer', kind: 'system', allowNegative: true });
    const wallet = await withTransaction(t.db, (trx) => ensureAccount(trx, { ownerType: 'client', ownerId: randomUUID(), kind: 'wallet' }));
    await t.db('accounts').where({ id: system.id }).update({ balance: -5 });
    expect(await getBalance(t.db, system.id)).to.equal(-5);
    await t.db('accounts').where({ id: system.id }).update({ balance: 0 });
    let error: unknown;
    try {
      await t.db('accounts').where({ id: wallet.id }).update({ balance: -1 });
    } catch (err) {
      error = err;
    }
    expect((error as { errno?: number }).errno).to.equal(4025); // ER_CONSTRAINT_FAILED in MariaDB
    expect(await getBalance(t.db, wallet.id)).to.equal(0);
  });

  it('refuses an owner id longer than its column rather than truncating it', async () => {
    let error: unknown;
    try {
      await withTransaction(t.db, (trx) => ensureAccount(trx, { ownerType: 'client', ownerId: 'x'.repeat(65), kind: 'wallet' }));
    } catch (err) {
      error = err;
    }
    expect((error as { code?: string }).code).to.equal('bad_account');
  });
});
